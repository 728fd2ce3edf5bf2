/**
 * Fan-out, engine side. A segment is rendered by the ordinary Renderer with `frames` set (see
 * core/segments.ts for where the cuts go); every segment is its own encode with the same encoder
 * settings (renderer.ts ffmpegArgs), so each starts with an IDR frame and has identical SPS/PPS.
 * `joinSegments` glues them with FFmpeg's concat demuxer and stream copy: no re-encoding, no pixel
 * touched, so the join costs seconds of I/O whatever the video length.
 *
 * Safety: FFmpeg reads only the list file we write and the segment files we rendered ourselves
 * (`-safe 0` allows absolute paths; `-protocol_whitelist file` keeps every nested open on local files).
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CodedError } from '../core/ports.ts';
import { startFfmpeg } from './ffmpeg.ts';
import { resolveFfmpegPath } from './ffmpeg-path.ts';

export interface JoinOptions {
  /**
   * Exact length of each segment in seconds (frames / fps). When given, the list pins each segment's
   * duration so the next one starts exactly there, whatever the muxer reported.
   */
  durations?: readonly number[];
  /** @default 120000 */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface JoinResult {
  path: string;
  bytes: number;
}

/** One `file '…'` line: single quotes escaped the ffconcat way; control characters refused. */
function quoteForList(path: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw new CodedError('internal_error', 'a segment path contains a control character');
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The ffconcat list for `paths` (absolute), with optional exact durations. */
export function concatList(paths: readonly string[], durations?: readonly number[]): string {
  const lines = ['ffconcat version 1.0'];
  paths.forEach((p, i) => {
    if (!isAbsolute(p)) throw new CodedError('internal_error', `segment path must be absolute: ${p}`);
    lines.push(`file ${quoteForList(p)}`);
    const d = durations?.[i];
    if (d !== undefined) lines.push(`duration ${d.toFixed(6)}`);
  });
  return lines.join('\n') + '\n';
}

/** FFmpeg arguments of the join (exported for tests and docs). */
export function joinArgs(listPath: string, outPath: string): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel', 'error',
    '-f', 'concat',
    '-safe', '0',
    '-protocol_whitelist', 'file',
    '-i', listPath,
    '-map', '0:v:0',
    '-an', '-sn', '-dn',
    '-c', 'copy',
    '-movflags', '+faststart',
    '-f', 'mp4',
    '-y',
    `file:${resolve(outPath)}`,
  ];
}

/**
 * Join MP4 segments rendered with the same settings into `outPath` (stream copy, +faststart).
 * Failures are CodedErrors (`render_failed`, `render_timeout`, `out_of_disk`).
 */
export async function joinSegments(paths: readonly string[], outPath: string, ffmpegPath: string = resolveFfmpegPath(), options: JoinOptions = {}): Promise<JoinResult> {
  if (paths.length === 0) throw new CodedError('internal_error', 'nothing to join');
  if (options.durations && options.durations.length !== paths.length) throw new CodedError('internal_error', 'one duration per segment');
  const abs = paths.map((p) => resolve(p));
  const listDir = await mkdtemp(join(dirname(resolve(outPath)), 'concat-'));
  try {
    const listPath = join(listDir, 'list.ffconcat');
    await writeFile(listPath, concatList(abs, options.durations), { mode: 0o600 });
    const ff = startFfmpeg({ path: ffmpegPath, args: joinArgs(listPath, outPath), timeoutMs: options.timeoutMs ?? 120_000, signal: options.signal });
    ff.stdin.end();
    await ff.done;
  } finally {
    await rm(listDir, { recursive: true, force: true });
  }
  const { size } = await stat(outPath);
  return { path: outPath, bytes: size };
}
