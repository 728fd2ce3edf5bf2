/**
 * `npm run render -- [flags] -o out.mp4 a.jpg b.png ...`: the render engine from the shell, with the
 * same option schema as the API. Progress goes to stderr, a JSON summary of the result to stdout
 * (the poster lands beside the video as `<name>.jpg`). Bad input exits 2, a failed render exits 1;
 * both print `{"error":{"code","message"}}` on stdout and the code on stderr.
 */
import { mkdtemp, readFile, rename, copyFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_LIMITS, imageDurations, parseOptions } from '../../../contracts/index.ts';
import type { RenderOptionsInput } from '../../../contracts/index.ts';
import { CodedError } from '../core/ports.ts';
import type { RenderInput } from '../core/ports.ts';
import { createRenderer } from '../engine/index.ts';

const USAGE = `usage: npm run render -- [--preset 720p] [--fps 30] [--seconds-per-image 3] [--durations 2,3.5,...]
  [--fit contain|cover] [--background '#000000'] [--transition none|crossfade] [--transition-seconds 0.5]
  [--frame-rate-mode constant|still] [--max-image-pixels N] [--timeout-seconds N] -o out.mp4 image...`;

class UsageError extends CodedError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid_options', message, details);
  }
}

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${v}"`);
  return n;
}

async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch {
    await copyFile(from, to);
  }
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        preset: { type: 'string' },
        fps: { type: 'string' },
        'seconds-per-image': { type: 'string' },
        durations: { type: 'string' },
        fit: { type: 'string' },
        background: { type: 'string' },
        transition: { type: 'string' },
        'transition-seconds': { type: 'string' },
        'frame-rate-mode': { type: 'string' },
        'max-image-pixels': { type: 'string' },
        'timeout-seconds': { type: 'string' },
        output: { type: 'string', short: 'o' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  const files = parsed.positionals;
  if (!v.output) throw new UsageError(`-o out.mp4 is required\n${USAGE}`);
  if (files.length === 0) throw new CodedError('no_images', `give at least one image\n${USAGE}`);

  const input: RenderOptionsInput = {};
  if (v.preset !== undefined) input.preset = v.preset as RenderOptionsInput['preset'];
  if (v.fps !== undefined) input.fps = num('--fps', v.fps) as RenderOptionsInput['fps'];
  if (v['seconds-per-image'] !== undefined) input.secondsPerImage = num('--seconds-per-image', v['seconds-per-image']);
  if (v.durations !== undefined) input.durations = v.durations.split(',').map((d) => num('--durations', d)!);
  if (v.fit !== undefined) input.fit = v.fit as RenderOptionsInput['fit'];
  if (v.background !== undefined) input.background = v.background;
  if (v.transition !== undefined) input.transition = v.transition as RenderOptionsInput['transition'];
  if (v['transition-seconds'] !== undefined) input.transitionSeconds = num('--transition-seconds', v['transition-seconds']);
  if (v['frame-rate-mode'] !== undefined) input.frameRateMode = v['frame-rate-mode'] as RenderOptionsInput['frameRateMode'];
  const result = parseOptions(input, files.length);
  if (!result.ok) {
    throw new UsageError(result.issues.map((i) => `${i.field}: ${i.message}`).join('; '), { issues: result.issues });
  }
  const options = result.options;
  const maxImagePixels = num('--max-image-pixels', v['max-image-pixels']) ?? DEFAULT_LIMITS.maxImagePixels;
  const timeoutSeconds = num('--timeout-seconds', v['timeout-seconds']);

  for (const f of files) {
    const s = await stat(f).catch(() => null);
    if (!s?.isFile()) throw new CodedError('image_unreadable', `${f}: no such file`);
  }
  const durations = imageDurations(options, files.length);
  const images: RenderInput[] = files.map((f, i) => ({ label: f, durationSeconds: durations[i]!, load: () => readFile(f) }));

  const out = resolve(v.output);
  const workDir = await mkdtemp(join(dirname(out), `.${basename(out)}.render-`));
  const controller = new AbortController();
  const onSignal = () => controller.abort(new CodedError('render_failed', 'interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = process.stderr.isTTY;
  let lastShown = -1;
  try {
    const renderer = createRenderer(timeoutSeconds ? { timeoutMs: timeoutSeconds * 1000 } : {});
    const r = await renderer.render({
      images,
      options,
      maxImagePixels,
      workDir,
      signal: controller.signal,
      onProgress: (p) => {
        const pct = Math.floor(p.fraction * 100);
        if (tty) process.stderr.write(`\rrendering ${pct}% (${p.outSeconds.toFixed(1)} s)`);
        else if (pct >= lastShown + 10 || pct === 100) {
          lastShown = pct;
          process.stderr.write(`rendering ${pct}% (${p.outSeconds.toFixed(1)} s)\n`);
        }
      },
    });
    if (tty) process.stderr.write('\n');
    const posterOut = join(dirname(out), `${basename(out, extname(out))}.jpg`);
    await moveFile(r.videoPath, out);
    await moveFile(r.posterPath, posterOut);
    const summary = { ...r, videoPath: out, posterPath: posterOut, images: files.length, options };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(workDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const coded = err instanceof CodedError ? err : new CodedError('internal_error', err instanceof Error ? err.message : String(err));
    process.stderr.write(`render: ${coded.code}: ${coded.message}\n`);
    process.stdout.write(`${JSON.stringify({ error: { code: coded.code, message: coded.message } })}\n`);
    process.exitCode = err instanceof UsageError || coded.code === 'no_images' ? 2 : 1;
  },
);
