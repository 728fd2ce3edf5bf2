/**
 * Engine probe: the measurements behind the render engine's design choices (docs/architecture.md,
 * "Render engine"). Not the benchmark (that is `npm run bench`); this compares ways of doing the same
 * render so the choice is a number, not a guess.
 *
 *   npx tsx bench/engine-probe.ts [--images 30] [--runs 2] [--crf 21,23,25,28]
 *
 * Rows (30 generated 4000x3000 photo-like JPEGs → 720p30, 3 s each, 90 s of video by default):
 *   one-liner         the usual FFmpeg one-liner on the originals (scale first), x264 defaults
 *   every-frame       decode+fit once, then x264 encodes all fps × seconds frames (FFmpeg duplicates the
 *                     still at -r; the engine's x264 settings): the "encode every frame" approach and,
 *                     with decoding excluded, the issue's floor (c)
 *   engine constant   `npm run render` (unique pictures encoded once, skip pictures spliced in)
 *   engine still      `npm run render -- --frame-rate-mode still`
 *   ... crossfade     the same with a 0.5 s crossfade
 * Then a CRF sweep (size and SSIM against the one-liner) for the engine's constant mode.
 * Wall/CPU/RSS come from bench/measure.ts (GNU time + /proc sampling of the whole process tree).
 */
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_OPTIONS } from '../contracts/index.ts';
import { createRenderer, encoderArgs, x264Params, DEFAULT_CRF, DEFAULT_X264_PRESET } from '../lambdas/src/engine/index.ts';
import { fitImage } from '../lambdas/src/engine/image.ts';
import { planRender } from '../lambdas/src/core/render-plan.ts';
import { FFMPEG, REPO_ROOT, engineArgs, oneLinerArgs, ssim } from './commands.ts';
import type { Workload } from './commands.ts';
import { generateImages } from './generate.ts';
import { measure } from './measure.ts';
import type { Measurement } from './measure.ts';
import { mkvFrameHeader, mkvHeader } from '../lambdas/src/engine/mkv.ts';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '30' },
    runs: { type: 'string', default: '2' },
    crf: { type: 'string', default: '21,23,25,28' },
    out: { type: 'string', default: join(REPO_ROOT, 'bench', 'out', 'engine-probe') },
  },
});
const N = Number(values.images);
const RUNS = Number(values.runs);
const OUT = values.out!;
const IMAGES_DIR = join(REPO_ROOT, 'bench', 'out', 'images');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const mb = (b: number) => (b / 1048576).toFixed(0);

async function main() {
  await mkdir(OUT, { recursive: true });
  const images = (await generateImages({ dir: IMAGES_DIR, count: N })).slice(0, N);
  // The one-liner's img%03d.jpg pattern reads a whole folder: give it one holding just these N.
  const linkDir = join(OUT, `images-${N}`);
  await rm(linkDir, { recursive: true, force: true });
  await mkdir(linkDir, { recursive: true });
  for (const f of images) await symlink(f, join(linkDir, basename(f)));
  const w = (transition: 'none' | 'crossfade'): Workload => ({
    id: `probe-${transition}`,
    preset: '720p',
    images: N,
    fps: 30,
    secondsPerImage: 3,
    transition,
    transitionSeconds: 0.5,
  });
  const plan = planRender({ ...DEFAULT_OPTIONS }, images.map(() => 3));

  // every-frame: one Matroska file holding one fitted picture per image (prepared untimed), encoded
  // at -vsync cfr so x264 sees all 2700 frames; timed separately from the decode it needs.
  const everyMkv = join(OUT, 'stills.mkv');
  {
    const parts: Buffer[] = [mkvHeader(plan.width, plan.height)];
    let last: Buffer | undefined;
    for (const [i, f] of images.entries()) {
      const frame = await fitImage(await readFile(f), f, { width: plan.width, height: plan.height, fit: 'contain', background: '#000000', maxImagePixels: 1e9 });
      parts.push(mkvFrameHeader(i * 3, frame.yuv.length), frame.yuv);
      last = frame.yuv;
    }
    parts.push(mkvFrameHeader((plan.totalFrames - 1) / 30, last!.length), last!);
    await writeFile(everyMkv, Buffer.concat(parts));
  }
  const everyFrameArgs = (out: string) => {
    const args = encoderArgs(plan, 'constant', out);
    // same encoder, but read the file, keep every frame, write an MP4
    const i = args.indexOf('pipe:0');
    args[i] = everyMkv;
    args.splice(args.indexOf('-protocol_whitelist'), 2);
    args.splice(args.indexOf('-vsync') + 1, 1, 'cfr');
    return [...args.slice(0, args.indexOf('-f', i + 1)), '-frames:v', String(plan.totalFrames), '-movflags', '+faststart', '-y', out];
  };

  type Row = { name: string; run: (out: string) => Promise<Measurement> };
  const npm = (args: string[]) => measure('npm', args, { cwd: REPO_ROOT, workDir: OUT });
  const rows: Row[] = [
    { name: 'one-liner', run: async (out) => measure(FFMPEG, oneLinerArgs(w('none'), linkDir, out, 'scale-first'), { workDir: OUT }) },
    { name: 'every-frame (encode only)', run: async (out) => measure(FFMPEG, everyFrameArgs(out), { workDir: OUT }) },
    { name: 'engine constant', run: async (out) => npm(engineArgs(w('none'), images, out, 'constant')) },
    { name: 'engine still', run: async (out) => npm(engineArgs(w('none'), images, out, 'still')) },
    { name: 'engine constant crossfade', run: async (out) => npm(engineArgs(w('crossfade'), images, out, 'constant')) },
    { name: 'engine still crossfade', run: async (out) => npm(engineArgs(w('crossfade'), images, out, 'still')) },
  ];
  const results = new Map<string, { m: Measurement[]; out: string }>();
  for (let r = 0; r < RUNS; r++) {
    for (const row of rows) {
      const out = join(OUT, `${row.name.replace(/\W+/g, '-')}.mp4`);
      await rm(out, { force: true });
      const m = await row.run(out);
      if (m.exitCode !== 0) throw new Error(`${row.name} failed: ${m.stderrTail}`);
      const entry = results.get(row.name) ?? { m: [], out };
      entry.m.push(m);
      results.set(row.name, entry);
      process.stderr.write(`run ${r + 1} ${row.name}: ${m.wallSeconds.toFixed(2)} s\n`);
    }
  }
  const ref = results.get('one-liner')?.out;
  console.log(`\n${N} images 4000x3000 → 720p30, 3 s each; medians of ${RUNS} runs; x264 ${DEFAULT_X264_PRESET} crf ${DEFAULT_CRF} ${x264Params(30)}\n`);
  console.log('| row | wall s | CPU s | peak RSS (work processes) MB | by program MB | file MB | SSIM vs one-liner |');
  console.log('| --- | ---: | ---: | ---: | --- | ---: | ---: |');
  for (const [name, { m, out }] of results) {
    const bytes = (await stat(out)).size;
    const s = ref && name !== 'one-liner' ? (await ssim(out, ref, 30)).toFixed(4) : '';
    console.log(
      `| ${name} | ${median(m.map((x) => x.wallSeconds)).toFixed(2)} | ${median(m.map((x) => x.cpuSeconds)).toFixed(2)} | ${mb(median(m.map((x) => x.peakWorkRssBytes)))} | ${Object.entries(m[0]!.peakRssByProgram).map(([k, v]) => `${k} ${mb(v)}`).join(', ')} | ${(bytes / 1e6).toFixed(2)} | ${s} |`,
    );
  }

  if (ref) {
    console.log('\nCRF sweep, engine constant mode (in-process render): size and SSIM against the one-liner\n');
    console.log('| crf | file MB | SSIM |');
    console.log('| ---: | ---: | ---: |');
    for (const crf of values.crf!.split(',').map(Number)) {
      const dir = join(OUT, `crf-${crf}`);
      await mkdir(dir, { recursive: true });
      const r = await createRenderer({ crf }).render({
        images: images.map((f) => ({ label: f, durationSeconds: 3, load: () => readFile(f) })),
        options: { ...DEFAULT_OPTIONS },
        maxImagePixels: 1e9,
        workDir: dir,
      });
      console.log(`| ${crf} | ${(r.bytes / 1e6).toFixed(2)} | ${(await ssim(r.videoPath, ref, 30)).toFixed(4)} |`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
