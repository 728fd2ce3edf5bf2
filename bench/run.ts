/**
 * `npm run bench [-- --quick] [--sizes 10,30,100,300] [--hd-sizes 30] [--runs 3] [--runs-large 1]`
 *
 * Generates deterministic photo-like JPEGs, then runs, interleaved in one session,
 *   (a) the usual FFmpeg one-liner on the originals,
 *   (b) our engine through `npm run render` (constant and still frame-rate modes),
 *   (c) the floor: decode each original once + encode the same number of frames of one still
 *       with the engine's own x264 settings,
 * measuring wall time, CPU seconds, peak RSS and temp-disk use; then writes bench/results.json and
 * docs/benchmarks.md (with SVG plots in docs/img/). See docs/benchmarks.md "Rerun it".
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm, symlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import {
  engineArgs,
  FFMPEG,
  floorDecodeArgs,
  floorEncodeArgs,
  floorStillArgs,
  oneLinerArgs,
  outputFrames,
  probe,
  REPO_ROOT,
  RENDER_CLI,
  run,
  SMALL_INPUT,
  ssim,
  workloadId,
  x264Differences,
  x264Options,
  x264ParamsFromOptions,
  type OneLinerOrder,
  type VideoInfo,
  type Workload,
} from './commands.ts';
import { DEFAULT_IMAGE, downscaleImages, generateImages, imageName } from './generate.ts';
import { cpuCounters, gitInfo, load1, machineInfo } from './machine.ts';
import { GNU_TIME, hasGnuTime, measure, type Measurement } from './measure.ts';
import { writeReport } from './report.ts';
import { median } from './stats.ts';
import type { BenchResults, MethodId, RunRecord, WorkloadResult } from './results.ts';
import { METHOD_IDS, summarise } from './results.ts';

const OUT = join(REPO_ROOT, 'bench/out');
const IMAGES = join(OUT, 'images');
const IMAGES_SMALL = join(OUT, 'images-1600');
const RESULTS_JSON = join(REPO_ROOT, 'bench/results.json');

interface Settings {
  quick: boolean;
  sizes: number[];
  hdSizes: number[];
  runs: number;
  /** Runs for workloads of `largeFrom` images or more (they take minutes each). */
  runsLarge: number;
  largeFrom: number;
  crossfade: boolean;
  /** 720p cut workloads where the fps-before-scale form of the one-liner also runs. */
  fpsFirstAt: number[];
  engine: boolean;
  smallInputs: boolean;
  writeDocs: boolean;
  reportOnly: boolean;
  results?: string;
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      'hd-sizes': { type: 'string' },
      runs: { type: 'string' },
      'runs-large': { type: 'string' },
      'no-crossfade': { type: 'boolean', default: false },
      'fps-first-at': { type: 'string' },
      'no-engine': { type: 'boolean', default: false },
      'no-small-inputs': { type: 'boolean', default: false },
      'write-docs': { type: 'boolean' },
      'report-only': { type: 'boolean', default: false },
      results: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`npm run bench -- [options]
  --quick              short subset: 10 and 30 images at 720p, 1 run (≈2-3 min); writes bench/out/ only
  --sizes LIST         image counts at 720p            (default 10,30,100,300)
  --hd-sizes LIST      image counts at 1080p           (default 30; "" for none)
  --runs N             runs per workload, median taken (default 3)
  --runs-large N       runs for workloads of 300+ images (default 1)
  --no-crossfade       skip the crossfade workloads
  --fps-first-at LIST  720p sizes where the fps-before-scale one-liner also runs (default 30)
  --no-engine          skip (b) (e.g. before the render CLI exists)
  --no-small-inputs    skip the 30-image run on 1600x1200 inputs (input-resolution check)
  --write-docs         write docs/benchmarks.md and bench/results.json (default: on unless --quick/--sizes/--runs)
  --report-only        rewrite docs/benchmarks.md from bench/results.json, run nothing
                       (--results bench/out/results.json: from a subset run, into bench/out/benchmarks.md)
`);
    process.exit(0);
  }
  const list = (s: string | undefined, d: number[]): number[] =>
    s === undefined ? d : s.trim() === '' ? [] : s.split(',').map((x) => {
      const n = Number(x.trim());
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Error(`bad image count "${x}" (1..1000)`);
      return n;
    });
  const quick = values.quick === true;
  const custom = values.sizes !== undefined || values['hd-sizes'] !== undefined || values.runs !== undefined || values['runs-large'] !== undefined;
  const runs = Number(values.runs ?? (quick ? 1 : 3));
  const runsLarge = Number(values['runs-large'] ?? (quick ? 1 : Math.min(1, runs)));
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(runsLarge) || runsLarge < 1) throw new Error('--runs and --runs-large must be positive integers');
  return {
    quick,
    sizes: list(values.sizes, quick ? [10, 30] : [10, 30, 100, 300]),
    hdSizes: list(values['hd-sizes'], quick ? [] : [30]),
    runs,
    runsLarge,
    largeFrom: 300,
    crossfade: !values['no-crossfade'],
    fpsFirstAt: list(values['fps-first-at'], [30]),
    engine: !values['no-engine'],
    smallInputs: !values['no-small-inputs'] && !quick,
    writeDocs: values['write-docs'] ?? !(quick || custom),
    reportOnly: values['report-only'] === true,
    results: values.results,
  };
}

function workloads(s: Settings): Workload[] {
  const list: Workload[] = [];
  const add = (images: number, preset: '720p' | '1080p', transition: 'none' | 'crossfade'): void => {
    const w = { images, preset, fps: 30, secondsPerImage: 3, transition, transitionSeconds: 0.5 };
    list.push({ ...w, id: workloadId(w) });
  };
  for (const n of s.sizes) {
    add(n, '720p', 'none');
    if (s.crossfade && !s.quick) add(n, '720p', 'crossfade');
  }
  if (s.quick && s.crossfade && s.sizes.length) add(s.sizes[0]!, '720p', 'crossfade');
  // Same count with 1600x1200 inputs: our time should not follow input resolution (the one-liner's does).
  if (s.smallInputs && s.sizes.includes(30)) {
    const w = { images: 30, preset: '720p' as const, fps: 30, secondsPerImage: 3, transition: 'none' as const, transitionSeconds: 0.5, smallInputs: true };
    list.push({ ...w, id: workloadId(w) });
  }
  for (const n of s.hdSizes) {
    add(n, '1080p', 'none');
    if (s.crossfade) add(n, '1080p', 'crossfade');
  }
  return list;
}

/** A folder holding exactly the first `n` images (symlinks), for the one-liner's `img%03d.jpg` pattern. */
async function imageSet(n: number, small = false): Promise<string> {
  const dir = join(OUT, 'sets', `n${n}${small ? '-1600' : ''}`);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < n; i++) {
    const link = join(dir, imageName(i));
    if (!existsSync(link)) await symlink(join('..', '..', small ? 'images-1600' : 'images', imageName(i)), link);
  }
  return dir;
}

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** Methods a workload runs: (a) and (c) do not change with crossfade, so crossfade rows reuse the cut row's. */
function methodsFor(w: Workload, s: Settings): MethodId[] {
  if (w.smallInputs) return s.engine ? ['oneliner', 'engine-constant'] : ['oneliner'];
  const m: MethodId[] = [];
  if (w.transition === 'none') m.push('oneliner');
  if (s.engine) m.push('engine-constant', 'engine-still');
  if (w.transition === 'none') m.push('floor');
  if (w.transition === 'none' && w.preset === '720p' && s.fpsFirstAt.includes(w.images)) m.push('oneliner-fps-first');
  return m;
}

const FALLBACK_ENCODER = ['-preset', 'veryfast'];

async function main(): Promise<void> {
  const s = parseSettings(process.argv.slice(2));
  if (s.reportOnly) {
    const from = s.results ? join(process.cwd(), s.results) : RESULTS_JSON;
    const results = JSON.parse(readFileSync(from, 'utf8')) as BenchResults;
    if (from === RESULTS_JSON) {
      await writeReport(results, REPO_ROOT);
      log(`wrote docs/benchmarks.md from ${relative(REPO_ROOT, RESULTS_JSON)}`);
    } else {
      await writeReport(results, REPO_ROOT, { docPath: join(OUT, 'benchmarks.md'), imgDir: join(OUT, 'img'), imgRel: 'img' });
      log(`wrote bench/out/benchmarks.md from ${relative(REPO_ROOT, from)}`);
    }
    return;
  }
  if (!hasGnuTime()) {
    log(`${GNU_TIME} not found: CPU seconds will be sampled from /proc (less exact). Install it with: apt-get install -y time`);
  }
  if (s.engine && !existsSync(RENDER_CLI)) {
    log(`${relative(REPO_ROOT, RENDER_CLI)} does not exist yet: skipping (b), the engine`);
    s.engine = false;
  }
  const list = workloads(s);
  const maxImages = Math.max(...list.filter((w) => !w.smallInputs).map((w) => w.images));
  const started = Date.now();
  log(`generating ${maxImages} images (${DEFAULT_IMAGE.width}x${DEFAULT_IMAGE.height}, seed ${DEFAULT_IMAGE.seed}) into ${relative(REPO_ROOT, IMAGES)} (reused when present)`);
  let generated = 0;
  await generateImages({ dir: IMAGES, count: maxImages, log: (l) => ((generated += 1), generated % 25 === 0 && log(l)) });
  const smallCount = Math.max(0, ...list.filter((w) => w.smallInputs).map((w) => w.images));
  if (smallCount) {
    const from = Array.from({ length: smallCount }, (_, i) => join(IMAGES, imageName(i)));
    await downscaleImages({ from, dir: IMAGES_SMALL, ...SMALL_INPUT });
  }
  const imageBytes = median(
    Array.from({ length: Math.min(maxImages, 30) }, (_, i) => {
      try {
        return readFileSync(join(IMAGES, imageName(i))).length;
      } catch {
        return NaN;
      }
    }),
  );
  const genSeconds = (Date.now() - started) / 1000;
  log(`images ready in ${genSeconds.toFixed(0)} s (median ${(imageBytes / 1e6).toFixed(2)} MB each)`);

  const machine = await machineInfo();
  const git = await gitInfo(REPO_ROOT);
  if (git.engineCommit) log(`engine: ${git.engineCommit}${git.dirtyEngine ? ' (with uncommitted changes in the work tree)' : ''}`);
  const benchStart = Date.now();
  const loadStart = load1();
  const results: WorkloadResult[] = list.map((w) => ({
    workload: w,
    frames: outputFrames(w),
    runs: Object.fromEntries(METHOD_IDS.map((m) => [m, [] as RunRecord[]])) as Record<MethodId, RunRecord[]>,
    ssim: {},
    notes: [],
  }));
  const encoderFor = new Map<string, { args: string[]; source: string; differences?: string[] }>();
  const firstOutputs = new Map<string, string>(); // `${workloadId}/${method}` → mp4 of run 1

  const maxRuns = Math.max(s.runs, s.runsLarge);
  /** Write results.json and the doc: after every round (so a stopped run still leaves its figures) and at the end. */
  const save = async (completedRuns: number): Promise<BenchResults> => {
    const all: BenchResults = {
      version: 1,
      generatedAt: new Date().toISOString(),
      quick: s.quick,
      settings: { runs: s.runs, runsLarge: s.runsLarge, largeFrom: s.largeFrom, sizes: s.sizes, hdSizes: s.hdSizes, crossfade: s.crossfade, fpsFirstAt: s.fpsFirstAt, engine: s.engine },
      completedRuns,
      machine,
      git,
      inputs: { width: DEFAULT_IMAGE.width, height: DEFAULT_IMAGE.height, seed: DEFAULT_IMAGE.seed, quality: DEFAULT_IMAGE.quality, medianBytes: imageBytes, generateSeconds: genSeconds },
      benchSeconds: (Date.now() - benchStart) / 1000,
      load: { start: loadStart, end: load1() },
      gnuTime: hasGnuTime(),
      workloads: results.map((r) => summarise(r, results)),
    };
    const partial = completedRuns < maxRuns ? ` (after run ${completedRuns} of ${maxRuns})` : '';
    if (s.writeDocs) {
      writeFileSync(RESULTS_JSON, JSON.stringify(all, null, 2) + '\n');
      await writeReport(all, REPO_ROOT);
      log(`wrote bench/results.json, docs/benchmarks.md and docs/img/bench-*.svg${partial}`);
    } else {
      const p = join(OUT, s.quick ? 'quick-results.json' : 'results.json');
      writeFileSync(p, JSON.stringify(all, null, 2) + '\n');
      await writeReport(all, REPO_ROOT, { docPath: join(OUT, 'benchmarks.md'), imgDir: join(OUT, 'img'), imgRel: 'img' });
      log(`wrote ${relative(REPO_ROOT, p)} and bench/out/benchmarks.md${partial} (docs/ untouched: pass --write-docs to replace them)`);
    }
    return all;
  };
  for (let r = 1; r <= maxRuns; r++) {
    if (r > 1) await save(r - 1);
    for (const res of results) {
      const w = res.workload;
      const runsHere = w.images >= s.largeFrom ? s.runsLarge : s.runs;
      if (r > runsHere) continue;
      const dir = await imageSet(w.images, w.smallInputs);
      const images = Array.from({ length: w.images }, (_, i) => join(w.smallInputs ? IMAGES_SMALL : IMAGES, imageName(i)));
      let methods = methodsFor(w, s);
      // Alternate the order between runs so warm caches and thermal drift do not favour one side;
      // the floor always follows the engine's first constant run (it copies its encoder settings).
      if (r % 2 === 0) methods = [...methods].reverse();
      for (const method of methods) {
        const work = join(OUT, 'work', w.id, method, `r${r}`);
        await rm(work, { recursive: true, force: true });
        mkdirSync(work, { recursive: true });
        const out = join(work, 'out.mp4');
        const timeoutMs = Math.max(180_000, w.images * (w.preset === '1080p' ? 12_000 : 6_000) * (method === 'oneliner-fps-first' ? 3 : 1));
        const cpu0 = cpuCounters();
        const loadBefore = load1();
        let m: Measurement;
        let detail: RunRecord['detail'] = {};
        if (method === 'oneliner' || method === 'oneliner-fps-first') {
          const order: OneLinerOrder = method === 'oneliner' ? 'scale-first' : 'fps-first';
          m = await measure(FFMPEG, oneLinerArgs(w, dir, out, order), { workDir: work, timeoutMs });
        } else if (method === 'engine-constant' || method === 'engine-still') {
          const mode = method === 'engine-constant' ? 'constant' : 'still';
          m = await measure('npm', engineArgs(w, images, out, mode), {
            cwd: REPO_ROOT,
            workDir: work,
            timeoutMs,
            // temp files of the engine land in the measured folder; FFmpeg is the same binary as (a) and (c)
            env: { ...process.env, TMPDIR: work, FFMPEG_PATH: FFMPEG, npm_config_loglevel: 'silent', NO_UPDATE_NOTIFIER: '1' },
          });
          detail = { summary: parseSummary(m.stdout) };
        } else {
          // floor: decode+scale every original once (timed), then encode `frames` of one still (timed)
          let enc = encoderFor.get(w.id);
          if (!enc) {
            enc = await floorEncoder(w, firstOutputs.get(`${w.id}/engine-constant`));
            encoderFor.set(w.id, enc);
          }
          const still = join(OUT, 'work', w.id, 'still.yuv');
          if (!existsSync(still)) await run(FFMPEG, floorStillArgs(w, join(dir, imageName(0)), still));
          const dec = await measure(FFMPEG, floorDecodeArgs(w, dir), { workDir: work, timeoutMs });
          const encM = await measure(FFMPEG, floorEncodeArgs(w, still, outputFrames(w), enc.args, out), { workDir: work, timeoutMs });
          m = {
            ...encM,
            wallSeconds: dec.wallSeconds + encM.wallSeconds,
            userSeconds: dec.userSeconds + encM.userSeconds,
            sysSeconds: dec.sysSeconds + encM.sysSeconds,
            cpuSeconds: dec.cpuSeconds + encM.cpuSeconds,
            peakTreeRssBytes: Math.max(dec.peakTreeRssBytes, encM.peakTreeRssBytes),
            peakWorkRssBytes: Math.max(dec.peakWorkRssBytes, encM.peakWorkRssBytes),
            maxProcessRssBytes: Math.max(dec.maxProcessRssBytes, encM.maxProcessRssBytes),
            peakDiskBytes: Math.max(dec.peakDiskBytes, encM.peakDiskBytes),
            exitCode: dec.exitCode || encM.exitCode,
            stderrTail: dec.exitCode ? dec.stderrTail : encM.stderrTail,
          };
          detail = { decodeSeconds: dec.wallSeconds, encodeSeconds: encM.wallSeconds, encoder: enc.args.join(' '), encoderSource: enc.source };
        }
        const cpu1 = cpuCounters();
        const otherCpuSeconds = Math.max(0, cpu1.busy - cpu0.busy - m.cpuSeconds);
        let video: VideoInfo | undefined;
        if (m.exitCode === 0 && existsSync(out)) video = await probe(out).catch(() => undefined);
        const rec: RunRecord = {
          run: r,
          wallSeconds: m.wallSeconds,
          cpuSeconds: m.cpuSeconds,
          userSeconds: m.userSeconds,
          sysSeconds: m.sysSeconds,
          peakTreeRssBytes: m.peakTreeRssBytes,
          peakWorkRssBytes: m.peakWorkRssBytes,
          maxProcessRssBytes: m.maxProcessRssBytes,
          peakDiskBytes: m.peakDiskBytes,
          peakRssByProgram: m.peakRssByProgram,
          outputBytes: video?.bytes ?? NaN,
          video,
          exitCode: m.exitCode,
          cpuSource: m.cpuSource,
          otherCpuSeconds,
          loadBefore,
          detail,
        };
        if (m.exitCode !== 0) {
          rec.error = m.stderrTail.slice(-1500);
          log(`${w.id} ${method} r${r}: FAILED (exit ${m.exitCode}): ${m.stderrTail.split('\n').filter(Boolean).slice(-3).join(' | ')}`);
        } else {
          log(
            `${w.id} ${method} r${r}: ${m.wallSeconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} s CPU, ` +
              `${(m.peakWorkRssBytes / 1048576).toFixed(0)} MB RSS (tree ${(m.peakTreeRssBytes / 1048576).toFixed(0)}), ` +
              `disk ${(m.peakDiskBytes / 1e6).toFixed(1)} MB, out ${((video?.bytes ?? 0) / 1e6).toFixed(2)} MB` +
              (otherCpuSeconds > 0.5 ? `, other load ${otherCpuSeconds.toFixed(1)} CPU-s` : ''),
          );
        }
        res.runs[method].push(rec);
        if (r === 1 && m.exitCode === 0) firstOutputs.set(`${w.id}/${method}`, out);
        else if (m.exitCode === 0) await rm(out, { force: true }); // keep run 1's files for SSIM, drop the rest
      }
      if (r === 1) await compareFrames(res, firstOutputs, results);
      const enc = encoderFor.get(w.id);
      if (enc?.differences?.length) res.notes.push(`floor encoder differs from the engine's in: ${enc.differences.join('; ')}`);
    }
  }

  const all = await save(maxRuns);
  for (const n of all.workloads.flatMap((w) => w.notes.map((x) => `${w.workload.id}: ${x}`))) log(`note: ${n}`);
  log(`benchmark done in ${(all.benchSeconds / 60).toFixed(1)} min (plus ${genSeconds.toFixed(0)} s generating images)`);
  printTable(all);
}

/** The last JSON object the render CLI printed on stdout (its summary), if any. */
function parseSummary(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    const t = l.trim();
    if (t.startsWith('{') && t.endsWith('}')) {
      try {
        return JSON.parse(t) as Record<string, unknown>;
      } catch {
        // not JSON after all
      }
    }
  }
  try {
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The floor's encoder settings: the engine's, read back from the x264 SEI of its constant-mode output
 * (so the floor follows whatever the engine chooses). Without an engine output: x264 veryfast defaults.
 */
async function floorEncoder(w: Workload, engineOut: string | undefined): Promise<{ args: string[]; source: string; differences?: string[] }> {
  if (!engineOut) return { args: FALLBACK_ENCODER, source: 'x264 -preset veryfast (no engine output to copy settings from)' };
  const opts = await x264Options(engineOut);
  if (!opts) return { args: FALLBACK_ENCODER, source: 'x264 -preset veryfast (engine output has no x264 settings text)' };
  const args = ['-x264-params', x264ParamsFromOptions(opts)];
  // check the copy: encode a second of the floor and compare the settings x264 reports
  const probeDir = join(OUT, 'work', w.id, 'encoder-check');
  mkdirSync(probeDir, { recursive: true });
  const still = join(probeDir, 'still.yuv');
  await run(FFMPEG, floorStillArgs(w, join(IMAGES, imageName(0)), still));
  const check = join(probeDir, 'check.mp4');
  await run(FFMPEG, floorEncodeArgs(w, still, w.fps, args, check));
  const got = await x264Options(check);
  const differences = got ? x264Differences(opts, got) : ['could not read back the floor settings'];
  await rm(probeDir, { recursive: true, force: true });
  return { args, source: "the engine's own x264 settings, read from its output's x264 SEI", differences };
}

/** SSIM of (b) against (a) (run 1 outputs), and of still mode against constant mode. */
async function compareFrames(res: WorkloadResult, outputs: Map<string, string>, all: WorkloadResult[]): Promise<void> {
  const w = res.workload;
  if (w.smallInputs) return; // other pictures than the 4000x3000 set: nothing to compare frame by frame
  const cutId = workloadId({ ...w, transition: 'none' });
  const a = outputs.get(`${cutId}/oneliner`);
  const bc = outputs.get(`${w.id}/engine-constant`);
  const bs = outputs.get(`${w.id}/engine-still`);
  const t0 = Date.now();
  try {
    if (a && bc) res.ssim.constantVsOneLiner = await ssim(bc, a, w.fps);
    if (a && bs) res.ssim.stillVsOneLiner = await ssim(bs, a, w.fps);
    if (bc && bs) res.ssim.stillVsConstant = await ssim(bs, bc, w.fps);
  } catch (err) {
    res.notes.push(`SSIM failed: ${(err as Error).message.slice(0, 300)}`);
  }
  if (Object.keys(res.ssim).length) log(`${w.id} SSIM ${JSON.stringify(res.ssim)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  void all;
}

function printTable(r: BenchResults): void {
  const rows = r.workloads.map((w) => {
    const m = w.median;
    const f = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(2));
    return [
      w.workload.id.padEnd(18),
      f(m.oneliner?.wallSeconds).padStart(8),
      f(m['engine-constant']?.wallSeconds).padStart(8),
      f(m['engine-still']?.wallSeconds).padStart(8),
      f(m.floor?.wallSeconds).padStart(8),
      f(w.ratios.oneLinerOverConstant).padStart(7),
      f(w.ratios.oneLinerOverStill).padStart(7),
      f(w.ratios.constantOverFloor).padStart(7),
      f(w.ssim.constantVsOneLiner).padStart(6),
    ].join(' ');
  });
  process.stdout.write(
    ['workload             (a) s  (b)cst s (b)still  (c) s    a/b    a/bs    b/c   SSIM', ...rows].join('\n') + '\n',
  );
}

main().catch((err: Error) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
