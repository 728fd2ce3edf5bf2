/**
 * Stand-in FFmpeg binaries for fault injection (issue 6): small shell scripts the engine runs through
 * `ffmpegPath`, exactly as it runs the real one (argument array, no shell of ours).
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveFfmpegPath } from '../../lambdas/src/engine/index.ts';

export const REAL_FFMPEG = resolveFfmpegPath();

export type FakeKind =
  /** Prints an FFmpeg-like error and exits 1 without reading a frame. */
  | 'exit-1'
  /** Reads ~200 KB of frames, then SIGKILLs itself (an OOM kill, a crash). */
  | 'killed'
  /** Never reads, never exits (until killed). */
  | 'hang'
  /** Really runs out of space: writes to /dev/full (ENOSPC from the kernel), then fails like FFmpeg would. */
  | 'enospc'
  /** Killed mid-render the first `failures` times, the real FFmpeg after that. */
  | 'flaky'
  /** Appends its argv to `<dir>/argv.txt` ("--- <pid>" then one per line), saves stdin as `<dir>/stdin-<pid>.bin`, then runs the real FFmpeg on it. */
  | 'record';

/** Write the script into `dir` and answer its path. */
export async function fakeFfmpeg(dir: string, kind: FakeKind, opts: { failures?: number } = {}): Promise<string> {
  const path = join(dir, `ffmpeg-${kind}`);
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const body: Record<FakeKind, string> = {
    'exit-1': `echo "pipe:0: Invalid data found when processing input" >&2\nexit 1`,
    killed: `head -c 200000 >/dev/null\nkill -KILL $$`,
    hang: `exec sleep 600`,
    enospc: `head -c 65536 /dev/zero > /dev/full\necho "av_interleaved_write_frame(): No space left on device" >&2\nexit 1`,
    flaky: [
      `counter=${q(join(dir, 'flaky-count'))}`,
      `n=$(cat "$counter" 2>/dev/null || echo 0)`,
      `echo $((n + 1)) > "$counter"`,
      `if [ "$n" -lt ${opts.failures ?? 1} ]; then head -c 200000 >/dev/null; kill -KILL $$; fi`,
      `exec ${q(REAL_FFMPEG)} "$@"`,
    ].join('\n'),
    record: [
      `printf '%s\\n' "--- $$" "$@" >> ${q(join(dir, 'argv.txt'))}`,
      `cat > ${q(join(dir, 'stdin-'))}$$.bin`,
      `exec ${q(REAL_FFMPEG)} "$@" < ${q(join(dir, 'stdin-'))}$$.bin`,
    ].join('\n'),
  };
  await writeFile(path, `#!/bin/sh\n${body[kind]}\n`);
  await chmod(path, 0o755);
  return path;
}
