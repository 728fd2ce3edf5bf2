/**
 * `npm run bench:fanout [-- --images 300 --workers 1,2,4 --runs 1 --preset 720p --seconds-per-image 3
 *   --transitions none,crossfade --no-docs]`
 *
 * Fan-out on this machine: the same job (the main benchmark's generated 4000x3000 JPEGs, reused from
 * bench/out/images) rendered with 1 worker (the ordinary single render) and split into 2 and 4
 * segments rendered in parallel worker threads (as the local stack does), then joined by stream copy.
 * Each configuration runs in its own child process, measured like the main benchmark (bench/measure.ts:
 * wall time, CPU seconds of the whole process tree, peak RSS of the tree), interleaved over the runs.
 * Storage I/O is not part of it (images are read from local files): it measures the render and the join.
 *
 * Writes bench/fanout-results.json (raw figures) and the "Fan-out" section of docs/benchmarks.md
 * (between its markers; the rest of that file belongs to `npm run bench`).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { parseOptions, type RenderOptions } from '../contracts/index.ts';
import { WorkerRenderer } from '../lambdas/src/adapters/local/worker-renderer.ts';
import type { RenderInput, RenderResult } from '../lambdas/src/core/ports.ts';
import { planRender } from '../lambdas/src/core/render-plan.ts';
import { planSegments } from '../lambdas/src/core/segments.ts';
import { joinSegments } from '../lambdas/src/engine/segments.ts';
import { FFMPEG, probe, REPO_ROOT } from './commands.ts';
import { withFanOutSection } from './fanout-section.ts';
import { DEFAULT_IMAGE, generateImages } from './generate.ts';
import { machineInfo, type MachineInfo } from './machine.ts';
import { measure, type Measurement } from './measure.ts';
import { median } from './stats.ts';

const OUT = join(REPO_ROOT, 'bench/out');
const IMAGES = join(OUT, 'images');
const RESULTS_JSON = join(REPO_ROOT, 'bench/fanout-results.json');
const DOC = join(REPO_ROOT, 'docs/benchmarks.md');
const SELF = join(REPO_ROOT, 'bench/fanout.ts');

/** What the child process reports on its last stdout line. */
interface ChildReport {
  workers: number;
  sequential: boolean;
  segments: { start: number; end: number; images: number; renderSeconds: number }[];
  /** Parallel render phase (all segments), wall seconds. */
  renderWall: number;
  /** Stream-copy join, wall seconds (0 for one worker). */
  joinWall: number;
  totalWall: number;
  durationSeconds: number;
  frames: number;
  bytes: number;
}

interface RunRecord {
  transition: RenderOptions['transition'];
  workers: number;
  /** Segments rendered one after another (each alone on the machine): the per-invocation view. */
  sequential: boolean;
  run: number;
  load1Before: number;
  measurement: Omit<Measurement, 'stdout' | 'stderrTail'>;
  report: ChildReport;
  probed: { durationSeconds: number; frames: number };
}

export interface FanOutResults {
  date: string;
  command: string;
  machine: MachineInfo;
  /** One job per transition measured. */
  jobs: { images: number; imageSize: string; options: RenderOptions; frames: number; durationSeconds: number }[];
  runs: RunRecord[];
}

function log(line: string): void {
  process.stderr.write(`[bench:fanout ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function jobOptions(v: Record<string, string | boolean | undefined>, count: number, transition: string): RenderOptions {
  const parsed = parseOptions(
    {
      preset: v.preset ?? '720p',
      secondsPerImage: Number(v['seconds-per-image'] ?? 3),
      transition,
      ...(transition === 'crossfade' ? { transitionSeconds: 0.5 } : {}),
    },
    count,
  );
  if (!parsed.ok) throw new Error(parsed.issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  return parsed.options;
}

/** Child: render the job with `workers` parallel segments (1 = the ordinary render), print a ChildReport. */
async function child(paths: string[], options: RenderOptions, workers: number, workDir: string, sequential: boolean): Promise<void> {
  const images: RenderInput[] = paths.map((p, i) => ({ label: `image ${i + 1}`, durationSeconds: options.secondsPerImage, load: () => readFile(p) }));
  const renderer = new WorkerRenderer({ maxWorkers: workers, ffmpegPath: FFMPEG });
  const plan = planRender(options, images.map((i) => i.durationSeconds));
  const t0 = performance.now();
  try {
    if (workers === 1) {
      const r = await renderer.render({ images, options, maxImagePixels: 100_000_000, workDir });
      const wall = (performance.now() - t0) / 1000;
      const report: ChildReport = {
        workers,
        sequential,
        segments: [{ start: 0, end: plan.totalFrames, images: paths.length, renderSeconds: r.renderSeconds }],
        renderWall: wall,
        joinWall: 0,
        totalWall: wall,
        durationSeconds: r.durationSeconds,
        frames: plan.totalFrames,
        bytes: r.bytes,
      };
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const segs = planSegments(plan, { count: workers });
    const renderOne = (s: (typeof segs)[number]) => {
      const dir = join(workDir, `segment-${s.index}`);
      mkdirSync(dir, { recursive: true });
      return renderer.render({ images, options, maxImagePixels: 100_000_000, workDir: dir, frames: s.frames });
    };
    // Sequential: each segment alone on the machine, as each Lambda invocation would have its own vCPUs.
    const results: RenderResult[] = [];
    if (sequential) for (const s of segs) results.push(await renderOne(s));
    else results.push(...(await Promise.all(segs.map(renderOne))));
    const t1 = performance.now();
    const out = join(workDir, 'video.mp4');
    const joined = await joinSegments(
      results.map((r) => r.videoPath),
      out,
      FFMPEG,
      { durations: segs.map((s) => s.durationSeconds) },
    );
    const t2 = performance.now();
    const report: ChildReport = {
      workers,
      sequential,
      segments: segs.map((s, i) => ({ start: s.frames.start, end: s.frames.end, images: s.images.length, renderSeconds: results[i]!.renderSeconds })),
      renderWall: (t1 - t0) / 1000,
      joinWall: (t2 - t1) / 1000,
      totalWall: (t2 - t0) / 1000,
      durationSeconds: plan.durationSeconds,
      frames: plan.totalFrames,
      bytes: joined.bytes,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await renderer.close();
  }
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const mb = (b: number) => `${(b / 1e6).toFixed(b < 1e8 ? 1 : 0)} MB`;

function renderJob(r: FanOutResults, job: FanOutResults['jobs'][number], L: string[]): void {
  const mine = r.runs.filter((x) => x.transition === job.options.transition);
  const byWorkers = new Map<number, RunRecord[]>();
  for (const run of mine.filter((x) => !x.sequential)) byWorkers.set(run.workers, [...(byWorkers.get(run.workers) ?? []), run]);
  const seqByWorkers = new Map<number, RunRecord[]>();
  for (const run of mine.filter((x) => x.sequential)) seqByWorkers.set(run.workers, [...(seqByWorkers.get(run.workers) ?? []), run]);
  const base = byWorkers.get(1);
  const baseWall = base ? median(base.map((x) => x.measurement.wallSeconds)) : NaN;
  const baseCpu = base ? median(base.map((x) => x.measurement.cpuSeconds)) : NaN;
  const o = job.options;
  L.push(`### Transition: ${o.transition}`);
  L.push('');
  L.push(
    `${job.images} generated ${job.imageSize} JPEGs → ${o.preset} ${o.fps} fps, ${o.secondsPerImage} s per image, transition ${o.transition}` +
      `${o.transition === 'crossfade' ? ` (${o.transitionSeconds} s)` : ''}, ${o.frameRateMode} frame rate: ${job.frames} frames, ${fmt(job.durationSeconds, 0)} s of video. ` +
      `Medians of ${Math.max(0, ...[...byWorkers.values()].map((v) => v.length))} run(s).`,
  );
  L.push('');
  L.push('| workers | segments | wall | vs 1 worker | CPU s | CPU vs 1 worker | peak RSS (tree) | slowest segment | join | output | duration (ffprobe) | load before |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [w, runs] of [...byWorkers.entries()].sort((x, y) => x[0] - y[0])) {
    const wall = median(runs.map((x) => x.measurement.wallSeconds));
    const cpu = median(runs.map((x) => x.measurement.cpuSeconds));
    const rss = median(runs.map((x) => x.measurement.peakTreeRssBytes));
    const slowest = median(runs.map((x) => Math.max(...x.report.segments.map((s) => s.renderSeconds))));
    const join = median(runs.map((x) => x.report.joinWall));
    const bytes = median(runs.map((x) => x.report.bytes));
    const dur = median(runs.map((x) => x.probed.durationSeconds));
    const load = median(runs.map((x) => x.load1Before));
    L.push(
      `| ${w} | ${runs[0]!.report.segments.length} | ${fmt(wall)} s | ${fmt(baseWall / wall, 2)}x | ${fmt(cpu)} | ${fmt(cpu / baseCpu, 2)}x | ${mb(rss)} | ${fmt(slowest)} s | ${fmt(join, 2)} s | ${mb(bytes)} | ${fmt(dur, 3)} s | ${fmt(load, 1)} |`,
    );
  }
  if (seqByWorkers.size && base) {
    const baseSeg = median(base.map((x) => x.report.segments[0]!.renderSeconds));
    L.push('');
    L.push('Per invocation (the same segments rendered one at a time, each alone on the machine):');
    L.push('');
    L.push('| workers | slowest segment | all segments (sum) | vs single render | projected wall | projected speed-up | peak RSS (one segment at a time) |');
    L.push('|---|---|---|---|---|---|---|');
    L.push(`| 1 | ${fmt(baseSeg)} s | ${fmt(baseSeg)} s | 1.00x | ${fmt(baseSeg)} s | 1.00x | ${mb(median(base.map((x) => x.measurement.peakTreeRssBytes)))} |`);
    for (const [w, runs] of [...seqByWorkers.entries()].sort((x, y) => x[0] - y[0])) {
      const slowest = median(runs.map((x) => Math.max(...x.report.segments.map((s) => s.renderSeconds))));
      const sum = median(runs.map((x) => x.report.segments.reduce((acc, s) => acc + s.renderSeconds, 0)));
      const join = median(runs.map((x) => x.report.joinWall));
      const rss = median(runs.map((x) => x.measurement.peakTreeRssBytes));
      L.push(`| ${w} | ${fmt(slowest)} s | ${fmt(sum)} s | ${fmt(sum / baseSeg, 2)}x | ${fmt(slowest + join)} s | ${fmt(baseSeg / (slowest + join), 2)}x | ${mb(rss)} |`);
    }
  }
  L.push('');
}

export function renderSection(r: FanOutResults): string {
  const L: string[] = [];
  L.push(`Measured ${r.date.slice(0, 10)} with \`${r.command}\` on ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.ffmpeg.split(' ').slice(0, 3).join(' ')}.`);
  L.push(
    '1 worker is the ordinary single render; 2 and 4 split the timeline into that many segments rendered at once in worker threads ' +
      '(as the local stack does) and joined by stream copy. Each configuration runs in its own process, interleaved with the others; ' +
      'images are read from local disk (no storage I/O). The second table of each job renders the same segments one at a time, each alone ' +
      'on the machine, as each Lambda invocation has its own vCPUs: projected wall = slowest segment + join (downloading the segments and ' +
      'the invoke round trip not included).',
  );
  L.push('');
  for (const job of r.jobs) renderJob(r, job, L);
  L.push(
    'Reading it: on one machine the workers share its cores, so the wall time can only drop while there are idle cores (this one has ' +
      `${r.machine.cores}, and "load before", the 1-minute load average when a run started, shows how much other work shared them). ` +
      'On AWS each segment is its own invocation, so the wall time is about the slowest segment plus the join and the downloads. ' +
      'The CPU column is the price of splitting: start-up per segment, the image after each border decoded twice when a crossfade ' +
      'crosses it, one more IDR frame per segment, and the join (a stream copy: no pixels touched). Peak RSS grows with the workers on ' +
      'one machine (one engine and one FFmpeg each); per invocation it stays that of a single render.',
  );
  L.push('');
  L.push(`Raw figures: \`${relative(REPO_ROOT, RESULTS_JSON)}\`. Design: docs/architecture.md "Long jobs: fan-out".`);
  return L.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      images: { type: 'string' },
      workers: { type: 'string' },
      runs: { type: 'string' },
      preset: { type: 'string' },
      'seconds-per-image': { type: 'string' },
      transition: { type: 'string' },
      transitions: { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
      child: { type: 'string' },
      sequential: { type: 'boolean', default: false },
      'work-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench:fanout [-- --images 300 --workers 1,2,4 --runs 1 --preset 720p --seconds-per-image 3 --transitions none,crossfade --no-docs]\n',
    );
    return;
  }
  const count = Number(values.images ?? 300);
  if (!Number.isSafeInteger(count) || count < 2) throw new Error('--images must be a whole number ≥ 2');
  const paths = await generateImages({ dir: IMAGES, count, log: (l) => log(l) });

  if (values.child !== undefined) {
    await child(paths, jobOptions(values, count, values.transition ?? 'none'), Number(values.child), values['work-dir']!, values.sequential === true);
    return;
  }
  const transitions = (values.transitions ?? 'none,crossfade').split(',');
  const jobs = transitions.map((t) => jobOptions(values, count, t));

  const workers = (values.workers ?? '1,2,4').split(',').map(Number);
  if (!workers.every((w) => Number.isSafeInteger(w) && w >= 1 && w <= 16)) throw new Error('--workers must list whole numbers from 1 to 16');
  const runs = Number(values.runs ?? 1);
  const command = `npm run bench:fanout -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, '');
  const results: FanOutResults = {
    date: new Date().toISOString(),
    command,
    machine: await machineInfo(),
    jobs: jobs.map((options) => {
      const plan = planRender(options, paths.map(() => options.secondsPerImage));
      return { images: count, imageSize: `${DEFAULT_IMAGE.width}x${DEFAULT_IMAGE.height}`, options, frames: plan.totalFrames, durationSeconds: plan.durationSeconds };
    }),
    runs: [],
  };
  const configs = [...workers.map((w) => ({ w, sequential: false })), ...workers.filter((w) => w > 1).map((w) => ({ w, sequential: true }))];
  for (let run = 1; run <= runs; run++) {
    for (const [j, options] of jobs.entries()) {
      const plannedSeconds = results.jobs[j]!.durationSeconds;
      for (const { w, sequential } of configs) {
        const label = `${options.transition}, ${w} worker(s)${sequential ? ', segments one at a time' : ''}`;
        const workDir = join(OUT, 'work', 'fanout', `${options.transition}-w${w}${sequential ? 's' : ''}-r${run}`);
        rmSync(workDir, { recursive: true, force: true });
        mkdirSync(workDir, { recursive: true });
        const load1Before = loadavg()[0]!;
        log(`run ${run}/${runs}: ${label} (load ${load1Before.toFixed(1)})`);
        const args = ['--import', 'tsx', SELF, '--child', String(w), '--work-dir', workDir, '--images', String(count), '--preset', options.preset, '--seconds-per-image', String(options.secondsPerImage), '--transition', options.transition];
        if (sequential) args.push('--sequential');
        const m = await measure(process.execPath, args, { cwd: REPO_ROOT, workDir });
        if (m.exitCode !== 0) throw new Error(`${label} failed (exit ${m.exitCode}): ${m.stderrTail}`);
        const report = JSON.parse(m.stdout.trim().split('\n').pop()!) as ChildReport;
        const info = await probe(join(workDir, 'video.mp4'));
        const { stdout: _o, stderrTail: _e, ...measurement } = m;
        results.runs.push({ transition: options.transition, workers: w, sequential, run, load1Before, measurement, report, probed: { durationSeconds: info.durationSeconds, frames: info.frames } });
        log(
          `  wall ${m.wallSeconds.toFixed(1)} s, CPU ${m.cpuSeconds.toFixed(1)} s, peak RSS ${mb(m.peakTreeRssBytes)}, slowest segment ` +
            `${Math.max(...report.segments.map((x) => x.renderSeconds)).toFixed(1)} s, join ${report.joinWall.toFixed(2)} s, duration ${info.durationSeconds.toFixed(3)} s (${plannedSeconds} planned)`,
        );
        rmSync(workDir, { recursive: true, force: true });
      }
    }
  }
  writeFileSync(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`);
  const section = renderSection(results);
  process.stdout.write(`${section}\n`);
  if (!values['no-docs']) {
    let doc: string;
    try {
      doc = readFileSync(DOC, 'utf8');
    } catch {
      doc = '# Benchmarks\n';
    }
    writeFileSync(DOC, withFanOutSection(doc, section));
    log(`wrote the Fan-out section of ${relative(REPO_ROOT, DOC)} and ${relative(REPO_ROOT, RESULTS_JSON)}`);
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
