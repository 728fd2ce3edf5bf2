/**
 * Writes docs/benchmarks.md and docs/img/bench-*.svg from the results of `npm run bench`.
 * The "From your account" section between its markers is kept as it is (`npm run bench:cloudwatch
 * -- --write-docs` fills it), everything else is regenerated.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PRESETS } from '../contracts/index.ts';
import { floorDecodeArgs, floorEncodeArgs, oneLinerArgs, oneLinerFilter, shellQuote, engineArgs, type Workload } from './commands.ts';
import type { BenchResults, MethodId, MethodMedian, WorkloadSummary } from './results.ts';
import { fmtMb, fmtRatio, fmtSeconds, fmtUsd, LAMBDA_PRICE, MB_PER_VCPU, MEMORY_HEADROOM, RENDER_API } from './stats.ts';
import { lineChart, type Series } from './svg.ts';
import { keepFanOutSection } from './fanout-section.ts';

export const ACCOUNT_START = '<!-- from-your-account:start -->';
export const ACCOUNT_END = '<!-- from-your-account:end -->';

const DEFAULT_ACCOUNT = `No figures from a deployed stack yet. After a deploy and a few jobs, run
\`npm run bench:cloudwatch -- --stack <name> --write-docs\` to fill this section from your own account.`;

/** The part between the account markers of an existing doc, or the default text. */
export function accountSection(existing: string | undefined): string {
  if (existing) {
    const a = existing.indexOf(ACCOUNT_START);
    const b = existing.indexOf(ACCOUNT_END);
    if (a >= 0 && b > a) return existing.slice(a + ACCOUNT_START.length, b).trim();
  }
  return DEFAULT_ACCOUNT;
}

/** Replace the account section of `doc` with `body` (appending the section if the doc has none). */
export function replaceAccountSection(doc: string, body: string): string {
  const a = doc.indexOf(ACCOUNT_START);
  const b = doc.indexOf(ACCOUNT_END);
  const block = `${ACCOUNT_START}\n${body.trim()}\n${ACCOUNT_END}`;
  if (a >= 0 && b > a) return doc.slice(0, a) + block + doc.slice(b + ACCOUNT_END.length);
  return `${doc.trimEnd()}\n\n## From your account\n\n${block}\n`;
}

const LABEL: Record<MethodId, string> = {
  oneliner: '(a) one-liner',
  'oneliner-fps-first': '(a′) one-liner, fps first',
  'engine-constant': '(b) engine, constant',
  'engine-still': '(b) engine, still',
  floor: '(c) floor',
};

function f2(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits);
}

function sec(m: MethodMedian | undefined): string {
  return m ? fmtSeconds(m.wallSeconds) : '–';
}

function verdict(ok: boolean | undefined): string {
  return ok === undefined ? 'figures only' : ok ? '**met**' : '**missed**';
}

interface Options {
  docPath?: string;
  imgDir?: string;
  /** How the doc links the images. */
  imgRel?: string;
}

export async function writeReport(r: BenchResults, root: string, o: Options = {}): Promise<void> {
  const docPath = o.docPath ?? join(root, 'docs/benchmarks.md');
  const imgDir = o.imgDir ?? join(root, 'docs/img');
  const imgRel = o.imgRel ?? 'img';
  mkdirSync(imgDir, { recursive: true });
  const { time, memory } = charts(r);
  writeFileSync(join(imgDir, 'bench-time.svg'), time);
  writeFileSync(join(imgDir, 'bench-memory.svg'), memory);
  let existing: string | undefined;
  try {
    existing = readFileSync(docPath, 'utf8');
  } catch {
    existing = undefined;
  }
  mkdirSync(join(docPath, '..'), { recursive: true });
  // The Fan-out section belongs to `npm run bench:fanout` (bench/fanout-section.ts): carried over as it is.
  const doc = keepFanOutSection(existing, renderMarkdown(r, accountSection(existing), imgRel, relative(join(docPath, '..'), root) || '.'));
  writeFileSync(docPath, keepForeignSections(existing, doc));
}

/**
 * Other tools own sections of this page between `<!-- name:start -->` and `<!-- name:end -->` markers
 * (e.g. `npm run load`'s "Load"): a section the regenerated page lacks is carried over with its heading,
 * before "From your account".
 */
export function keepForeignSections(previous: string | undefined, doc: string): string {
  if (!previous) return doc;
  let out = doc;
  for (const m of previous.matchAll(/<!-- ([a-z0-9-]+):start -->[\s\S]*?<!-- \1:end -->/g)) {
    const name = m[1]!;
    if (out.includes(`<!-- ${name}:start -->`)) continue;
    const before = previous.slice(0, m.index);
    const heading = before.slice(before.lastIndexOf('\n## ') + 1).split('\n')[0] ?? '';
    const section = `${heading.startsWith('## ') ? `${heading}\n\n` : ''}${m[0]}\n\n`;
    const at = out.indexOf('## From your account');
    out = at >= 0 ? out.slice(0, at) + section + out.slice(at) : `${out.trimEnd()}\n\n${section}`;
  }
  return out;
}

/** Time and memory against image count (720p; crossfade dashed). */
export function charts(r: BenchResults): { time: string; memory: string } {
  const rows = r.workloads.filter((w) => w.workload.preset === '720p' && !w.workload.smallInputs);
  const pick = (transition: string, m: MethodId, f: (x: MethodMedian) => number): { x: number; y: number }[] =>
    rows
      .filter((w) => w.workload.transition === transition && w.median[m] && (w.reference === undefined || m.startsWith('engine')))
      .map((w) => ({ x: w.workload.images, y: f(w.median[m]!) }));
  const specs: { m: MethodId; colour: string }[] = [
    { m: 'oneliner', colour: '#d62728' },
    { m: 'engine-constant', colour: '#1f77b4' },
    { m: 'engine-still', colour: '#2ca02c' },
    { m: 'floor', colour: '#7f7f7f' },
  ];
  const series = (f: (x: MethodMedian) => number): Series[] => [
    ...specs.map((s) => ({ name: LABEL[s.m], colour: s.colour, points: pick('none', s.m, f) })),
    ...specs
      .filter((s) => s.m.startsWith('engine'))
      .map((s) => ({ name: `${LABEL[s.m]}, crossfade`, colour: s.colour, dashed: true, points: pick('crossfade', s.m, f) })),
  ].filter((s) => s.points.length > 0);
  return {
    time: lineChart({
      title: 'Wall time vs image count (720p30, 3 s per image)',
      xLabel: 'images',
      yLabel: 'seconds (median)',
      logX: true,
      logY: true,
      series: series((m) => m.wallSeconds),
    }),
    memory: lineChart({
      title: 'Peak RSS vs image count (720p30)',
      xLabel: 'images',
      yLabel: 'MB (peak, working processes)',
      logX: true,
      refLines: [{ y: 300, label: 'target: 300 MB' }],
      series: series((m) => m.peakWorkRssBytes / 1048576),
    }),
  };
}

function find(r: BenchResults, id: string): WorkloadSummary | undefined {
  return r.workloads.find((w) => w.workload.id === id);
}

interface Target {
  what: string;
  measured: string;
  ok?: boolean;
}

/** The issue's targets, each with the measured figure and whether it was met (and by how much if not). */
export function targets(r: BenchResults): Target[] {
  const t: Target[] = [];
  const w30 = find(r, '720p-n30-cut');
  const bc = w30?.median['engine-constant'];
  const bs = w30?.median['engine-still'];
  const a = w30?.median.oneliner;
  const afps = w30?.median['oneliner-fps-first'];
  const c = w30?.median.floor;
  if (w30 && bc) {
    const rf = w30.ratios.fpsFirstOverConstant;
    const rs = w30.ratios.oneLinerOverConstant;
    t.push({
      what: 'constant mode ≥ 8x faster than (a) as the issue measured it (fps before scale), 30 images → 90 s 720p30',
      measured: `${fmtRatio(rf)} vs the fps-first one-liner (${sec(afps)} / ${sec(bc)}); ${fmtRatio(rs)} vs the scale-first one-liner (${sec(a)})` +
        (Number.isFinite(rf) && rf < 8 ? `; missing by ${fmtRatio(8 / rf)} (needs ≤ ${fmtSeconds((afps?.wallSeconds ?? NaN) / 8)})` : '') +
        (Number.isFinite(rs) && rs < 8 ? ` (against the scale-first form, which already scales each image once, 8x is missed by ${fmtRatio(8 / rs)})` : '') +
        (bc.engineRenderSeconds !== undefined ? `; engine alone ${fmtSeconds(bc.engineRenderSeconds)}` : '') +
        `. In CPU seconds (steadier on a busy machine): ${fmtRatio((afps?.cpuSeconds ?? NaN) / bc.cpuSeconds)} vs fps-first, ${fmtRatio((a?.cpuSeconds ?? NaN) / bc.cpuSeconds)} vs scale-first`,
      ok: Number.isFinite(rf) ? rf >= 8 : undefined,
    });
    const s = w30.ssim.constantVsOneLiner;
    t.push({ what: 'constant mode: mean SSIM vs (a) ≥ 0.97', measured: f2(s, 4), ok: s === undefined ? undefined : s >= 0.97 });
    const sz = w30.ratios.constantBytesOverOneLiner;
    t.push({
      what: 'constant mode: file ≤ (a) × 1.1',
      measured: `${fmtMb(bc.outputBytes)} vs ${fmtMb(a?.outputBytes ?? NaN)} (${fmtRatio(sz)}; exact: ${bc.outputBytes} vs ${a?.outputBytes ?? '–'} bytes)`,
      ok: Number.isFinite(sz) ? sz <= 1.1 : undefined,
    });
    const rc = w30.ratios.constantOverFloor;
    t.push({
      what: 'constant mode within 1.3x of the floor (c)',
      measured: `${fmtRatio(rc)} (${sec(bc)} vs ${sec(c)})`,
      ok: Number.isFinite(rc) ? rc <= 1.3 : undefined,
    });
  }
  if (w30 && bs) {
    const rf = w30.ratios.fpsFirstOverStill;
    const rs = w30.ratios.oneLinerOverStill;
    const inner = bs.engineRenderSeconds;
    t.push({
      what: 'still mode ≥ 30x faster than (a)',
      measured: `${fmtRatio(rf)} vs the fps-first one-liner; ${fmtRatio(rs)} vs scale-first (${sec(bs)} for the whole \`npm run render\`)` +
        (Number.isFinite(rf) && rf < 30 ? `; missing by ${fmtRatio(30 / rf)}` : '') +
        (inner !== undefined && afps ? `. The engine itself (its \`renderSeconds\`, without npm/tsx start-up): ${fmtSeconds(inner)} → ${fmtRatio(afps.wallSeconds / inner)} vs fps-first, ${fmtRatio((a?.wallSeconds ?? NaN) / inner)} vs scale-first` : '') +
        `. In CPU seconds: ${fmtRatio((afps?.cpuSeconds ?? NaN) / bs.cpuSeconds)} vs fps-first, ${fmtRatio((a?.cpuSeconds ?? NaN) / bs.cpuSeconds)} vs scale-first`,
      ok: Number.isFinite(rf) ? rf >= 30 : undefined,
    });
  }
  // memory: flat and under 300 MB, 10 → 300 images (720p, constant mode)
  const cut = r.workloads.filter((w) => w.workload.preset === '720p' && w.workload.transition === 'none' && !w.workload.smallInputs && w.median['engine-constant']);
  if (cut.length) {
    const rss = cut.map((w) => w.median['engine-constant']!.peakWorkRssBytes);
    const max = Math.max(...rss);
    const min = Math.min(...rss);
    const peakOf = (f: (w: WorkloadSummary) => boolean): number =>
      Math.max(0, ...r.workloads.filter(f).flatMap((w) => (['engine-constant', 'engine-still'] as const).map((m) => w.median[m]?.peakWorkRssBytes ?? 0)));
    const peak = peakOf(() => true);
    const presets = [...new Set(r.workloads.map((w) => w.workload.preset))];
    const limit = 300 * 1048576;
    t.push({
      what: 'peak RSS < 300 MB (every engine run)',
      measured:
        presets.map((p) => `${p}: ${fmtMb(peakOf((w) => w.workload.preset === p))} at most`).join('; ') +
        ' (working processes: the engine\'s Node process + FFmpeg)' +
        (peak >= limit ? `; missed by ${fmtMb(peak - limit)}` : ''),
      ok: peak < limit,
    });
    const spread = max / min - 1;
    t.push({
      what: `peak RSS flat within 15% from ${cut[0]!.workload.images} to ${cut[cut.length - 1]!.workload.images} images`,
      measured: `${rss.map((x) => fmtMb(x)).join(' → ')} (spread ${(spread * 100).toFixed(0)}%)`,
      ok: spread <= 0.15,
    });
  }
  // temp disk: peak bytes in the work dir minus the output, in images
  const engineRuns = r.workloads.flatMap((w) =>
    (['engine-constant', 'engine-still'] as const).filter((m) => w.median[m]).map((m) => ({ w, m, mm: w.median[m]! })),
  );
  if (engineRuns.length) {
    const worst = engineRuns
      .map((x) => ({ ...x, extra: x.mm.peakDiskBytes - x.mm.outputBytes }))
      .sort((p, q) => q.extra - p.extra)[0]!;
    const images = worst.extra / r.inputs.medianBytes;
    t.push({
      what: 'temp disk ≤ output size + a few images (≤ 4 originals)',
      measured: `worst ${worst.w.workload.id} ${worst.m}: peak ${fmtMb(worst.mm.peakDiskBytes)} with a ${fmtMb(worst.mm.outputBytes)} output (+${(worst.extra / 1048576).toFixed(1)} MB ≈ ${images.toFixed(1)} images)`,
      ok: images <= 4,
    });
  }
  // linear in output duration
  if (cut.length >= 3) {
    const fit = linearFit(cut.map((w) => ({ x: w.videoSeconds, y: w.median['engine-constant']!.wallSeconds })));
    const cpuFit = linearFit(cut.map((w) => ({ x: w.videoSeconds, y: w.median['engine-constant']!.cpuSeconds })));
    t.push({
      what: 'time grows linearly with output duration (constant mode, 720p; judged on CPU seconds, R² ≥ 0.98)',
      measured:
        `CPU ≈ ${cpuFit.intercept.toFixed(2)} s + ${(cpuFit.slope * 60).toFixed(2)} s per output minute, R² = ${cpuFit.r2.toFixed(4)}; ` +
        `wall ≈ ${fit.intercept.toFixed(2)} s + ${(fit.slope * 60).toFixed(2)} s per output minute, R² = ${fit.r2.toFixed(4)} ` +
        '(wall medians pick up other processes\' load, see the "other load" column)',
      ok: cpuFit.r2 >= 0.98,
    });
  }
  // input resolution
  const small = find(r, '720p-n30-cut-small');
  if (w30 && small && small.median['engine-constant'] && w30.median['engine-constant']) {
    const big = w30.median['engine-constant'];
    const sm = small.median['engine-constant'];
    const growth = big.cpuSeconds / sm.cpuSeconds - 1;
    const oneLiner = small.median.oneliner && w30.median.oneliner ? `; the one-liner: ${fmtSeconds(w30.median.oneliner.cpuSeconds)} vs ${fmtSeconds(small.median.oneliner.cpuSeconds)} CPU` : '';
    t.push({
      what: 'time does not grow with input resolution (the same 30 pictures at 4000x3000 vs 1600x1200: 6.25x the pixels)',
      measured: `engine CPU ${fmtSeconds(big.cpuSeconds)} vs ${fmtSeconds(sm.cpuSeconds)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)}%), wall ${fmtSeconds(big.wallSeconds)} vs ${fmtSeconds(sm.wallSeconds)}${oneLiner}`,
    });
  }
  // crossfade cost
  const pairs = r.workloads
    .filter((w) => w.workload.transition === 'crossfade' && w.median['engine-constant'])
    .map((w) => ({ w, cut: find(r, w.workload.id.replace(/-xfade$/, '-cut')) }))
    .filter((p) => p.cut?.median['engine-constant']);
  if (pairs.length) {
    const parts = pairs.map((p) => {
      const x = p.w.median['engine-constant']!;
      const c = p.cut!.median['engine-constant']!;
      const extra = x.wallSeconds - c.wallSeconds;
      const extraCpu = x.cpuSeconds - c.cpuSeconds;
      const moving = (p.w.workload.images - 1) * Math.round(p.w.workload.transitionSeconds * p.w.workload.fps);
      return `${p.w.workload.id}: +${fmtSeconds(extra)} wall, +${fmtSeconds(extraCpu)} CPU for ${moving} moving frames (${((extraCpu / moving) * 1000).toFixed(1)} ms CPU each); file ${(x.outputBytes / 1e6).toFixed(1)} MB vs ${(c.outputBytes / 1e6).toFixed(1)} MB`;
    });
    t.push({ what: 'crossfades add time only for the frames that move', measured: parts.join('; ') });
  }
  return t;
}

/**
 * What the default run (3 runs, 1 for 300 images) would take on an idle machine, from the CPU seconds
 * measured here (CPU time barely depends on other load; wall time does): CPU of one round ÷ 1.3, the
 * average number of busy cores these commands reached on an idle run, plus SSIM (about 10%).
 */
export function idleEstimate(r: BenchResults): string {
  let small = 0;
  let large = 0;
  for (const w of r.workloads) {
    for (const m of Object.values(w.runs)) {
      const firsts = m.filter((x) => x.run === 1 && x.exitCode === 0);
      const cpu = firsts.reduce((a, x) => a + x.cpuSeconds, 0);
      if (w.workload.images >= r.settings.largeFrom) large += cpu;
      else small += cpu;
    }
  }
  if (small + large === 0) return '';
  const minutes = ((3 * small + large) / 1.3 / 60) * 1.1;
  return `One round used ${Math.round(small + large)} CPU-seconds; the default \`npm run bench\` (3 runs, 1 for ${r.settings.largeFrom}+ images) should take about ${Math.round(minutes)} min on an idle 2-core machine (estimate: CPU per round ÷ 1.3 busy cores, +10% for SSIM).`;
}

export function linearFit(pts: { x: number; y: number }[]): { slope: number; intercept: number; r2: number } {
  const n = pts.length;
  const mx = pts.reduce((s, p) => s + p.x, 0) / n;
  const my = pts.reduce((s, p) => s + p.y, 0) / n;
  const sxx = pts.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = pts.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const slope = sxx ? sxy / sxx : 0;
  const intercept = my - slope * mx;
  const ssTot = pts.reduce((s, p) => s + (p.y - my) ** 2, 0);
  const ssRes = pts.reduce((s, p) => s + (p.y - (intercept + slope * p.x)) ** 2, 0);
  return { slope, intercept, r2: ssTot ? 1 - ssRes / ssTot : 1 };
}

function exampleWorkload(): Workload {
  return { id: '720p-n30-cut', images: 30, preset: '720p', fps: 30, secondsPerImage: 3, transition: 'none', transitionSeconds: 0.5 };
}

export function renderMarkdown(r: BenchResults, account: string, imgRel: string, _rootRel: string): string {
  const L: string[] = [];
  const m = r.machine;
  const ex = exampleWorkload();
  const exEncoder = r.workloads.flatMap((w) => w.runs.floor).find((x) => x.detail.encoder)?.detail;
  L.push('# Benchmarks: speed, memory and cost');
  L.push('');
  L.push(`<!-- Generated by \`npm run bench\` on ${r.generatedAt}. Do not edit by hand: rerun it (see "Rerun it" below). -->`);
  L.push('');
  L.push(
    `Our engine (\`npm run render\`) against the usual FFmpeg one-liner on the same photos, and against a floor that ` +
      `does the least possible work, on one ${m.cores}-core machine. Every figure below comes from \`npm run bench\` ` +
      `(raw figures in [bench/results.json](../bench/results.json)); ${r.quick ? '**this is a --quick run (subset, one run each)**' : `medians of ${r.settings.runs} runs (${r.settings.runsLarge} for ${r.settings.largeFrom}+ images)`}` +
      (r.completedRuns !== undefined && r.completedRuns < Math.max(r.settings.runs, r.settings.runsLarge)
        ? ` — **partial: written after run ${r.completedRuns} of ${Math.max(r.settings.runs, r.settings.runsLarge)}**`
        : '') +
      '.',
  );
  L.push('');
  L.push('## Targets (issue 7)');
  L.push('');
  L.push('| target | measured | |');
  L.push('| --- | --- | --- |');
  for (const t of targets(r)) L.push(`| ${t.what} | ${t.measured} | ${verdict(t.ok)} |`);
  L.push('');
  L.push('## Results');
  L.push('');
  L.push(
    `Inputs: generated ${r.inputs.width}x${r.inputs.height} JPEGs (median ${(r.inputs.medianBytes / 1e6).toFixed(2)} MB), ` +
      `3 s per image at 30 fps (30 images → 90 s of video). Wall = median wall time; CPU = user+sys of the whole process tree; ` +
      `RSS = peak summed RSS of the processes doing the work (see "How it is measured").`,
  );
  L.push('');
  L.push('| workload | video | (a) one-liner | (b) constant | (b) still | (c) floor | a/b constant | a/b still | b/c | SSIM b vs a | SSIM still vs constant |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const w of r.workloads) {
    const md = w.median;
    const ref = w.reference ? ' ¹' : '';
    L.push(
      `| ${w.workload.images} × ${w.workload.preset}${w.workload.transition === 'crossfade' ? ', crossfade' : ''}${w.workload.smallInputs ? ', 1600x1200 inputs' : ''} | ${fmtSeconds(w.videoSeconds)} | ` +
        `${sec(md.oneliner)}${ref} | ${sec(md['engine-constant'])} | ${sec(md['engine-still'])} | ${sec(md.floor)}${ref} | ` +
        `${fmtRatio(w.ratios.oneLinerOverConstant)} | ${fmtRatio(w.ratios.oneLinerOverStill)} | ${fmtRatio(w.ratios.constantOverFloor)} | ` +
        `${f2(w.ssim.constantVsOneLiner, 4)} | ${f2(w.ssim.stillVsConstant, 4)} |`,
    );
  }
  L.push('');
  L.push(
    '¹ The one-liner cannot crossfade with the npm static FFmpeg (2018, no `xfade`), and the floor does not change with a ' +
      'crossfade, so crossfade rows compare against the **hard-cut** one-liner and floor of the same size: the ratio says what ' +
      'a crossfade costs us relative to the plain slideshow others would produce. Their SSIM against (a) is lower by design ' +
      '(the transition frames differ); still-vs-constant SSIM checks the two modes show the same pictures.',
  );
  const withFloor = r.workloads.filter((w) => !w.reference && Number.isFinite(w.ratios.constantOverFloor));
  const belowFloor = withFloor.filter((w) => w.ratios.constantOverFloor < 1);
  if (belowFloor.length) {
    L.push('');
    L.push(
      `(b) is **below the floor** in ${belowFloor.length} of ${withFloor.length} hard-cut rows (b/c < 1). ` +
        'The floor as the issue defines it encodes every output frame with x264 (at the engine\'s own settings); the engine encodes ' +
        'each unique picture once and writes the repeated frames as H.264 skip pictures itself (see [docs/architecture.md, "Render engine"](architecture.md#render-engine)), ' +
        'so "within 1.3x of the floor" holds with a wide margin and the floor is no longer a lower bound for this engine: its cost is now ' +
        'decoding the originals plus Node start-up.',
    );
  }
  const fpsRows = r.workloads.filter((w) => w.median['oneliner-fps-first'] && !w.reference);
  if (fpsRows.length) {
    L.push('');
    L.push(
      'The one-liner in the fps-**before**-scale form (`' + oneLinerFilter(ex, 'fps-first') + '`), which scales every duplicated ' +
        'frame instead of every image (the form the issue measured 43 s for):',
    );
    L.push('');
    L.push('| workload | (a′) fps first | (a) scale first | (b) constant | (b) still | a′/b constant | a′/b still |');
    L.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const w of fpsRows) {
      L.push(
        `| ${w.workload.images} × ${w.workload.preset} | ${sec(w.median['oneliner-fps-first'])} | ${sec(w.median.oneliner)} | ` +
          `${sec(w.median['engine-constant'])} | ${sec(w.median['engine-still'])} | ${fmtRatio(w.ratios.fpsFirstOverConstant)} | ${fmtRatio(w.ratios.fpsFirstOverStill)} |`,
      );
    }
  }
  L.push('');
  L.push('### CPU, memory, disk and file size');
  L.push('');
  L.push('| workload | method | wall | engine alone ³ | CPU s | CPU/wall | peak RSS (work) | peak RSS (tree) | peak disk | output | frames | other load ² |');
  L.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const w of r.workloads) {
    for (const id of ['oneliner', 'oneliner-fps-first', 'engine-constant', 'engine-still', 'floor'] as MethodId[]) {
      const x = w.median[id];
      if (!x || (w.reference && !id.startsWith('engine'))) continue;
      const fail = x.failures ? ` (${x.failures} failed)` : '';
      L.push(
        `| ${w.workload.id} | ${LABEL[id]}${fail} | ${fmtSeconds(x.wallSeconds)} | ${x.engineRenderSeconds === undefined ? '' : fmtSeconds(x.engineRenderSeconds)} | ${fmtSeconds(x.cpuSeconds)} | ${f2(x.cpuSeconds / x.wallSeconds, 2)} | ` +
          `${fmtMb(x.peakWorkRssBytes)} | ${fmtMb(x.peakTreeRssBytes)} | ${fmtMb(x.peakDiskBytes)} | ${(x.outputBytes / 1e6).toFixed(2)} MB | ` +
          `${Number.isFinite(x.frames) ? x.frames : '–'} | ${fmtSeconds(x.otherCpuSeconds)} |`,
      );
    }
  }
  L.push('');
  L.push(
    '² CPU seconds that *other* processes used on the machine during the run (from /proc/stat, minus the run\'s own CPU). ' +
      'This box is shared: anything above a few seconds means the run competed for the 2 cores and its wall time is pessimistic. ' +
      '³ `renderSeconds` from the render CLI\'s JSON summary: the engine\'s own time, without `npm run` and `tsx` start-up.',
  );
  const floorRows = r.workloads.filter((w) => w.median.floor?.decodeSeconds !== undefined && !w.reference);
  if (floorRows.length) {
    L.push('');
    L.push(
      'The floor split: ' +
        floorRows
          .map((w) => `${w.workload.id}: decode+scale ${fmtSeconds(w.median.floor!.decodeSeconds!)} + encode ${fmtSeconds(w.median.floor!.encodeSeconds!)}`)
          .join('; ') +
        '.',
    );
  }
  L.push('');
  L.push(`![Wall time vs image count](${imgRel}/bench-time.svg)`);
  L.push('');
  L.push(`![Peak RSS vs image count](${imgRel}/bench-memory.svg)`);
  L.push('');
  const notes = r.workloads.flatMap((w) => w.notes.map((n) => `- ${w.workload.id}: ${n}`));
  if (notes.length) {
    L.push('Notes from the run:');
    L.push('');
    L.push(...notes);
    L.push('');
  }

  // Cost
  L.push('## Cost per video');
  L.push('');
  L.push(
    `Lambda bills duration × configured memory: arm64 at **$${LAMBDA_PRICE.arm64PerGbSecond} per GB-second** plus ` +
      `$${(LAMBDA_PRICE.perRequest * 1e6).toFixed(2)} per million requests (us-east-1 list price; x86_64 is $${LAMBDA_PRICE.x86PerGbSecond}). ` +
      `CPU comes with memory: **${MB_PER_VCPU} MB = 1 vCPU**, up to 6 vCPUs at 10,240 MB. From the measured CPU seconds *C* and ` +
      `wall time *W* (which used *C/W* cores here), a render at *M* MB takes about max(*W*, *C* ÷ (M/${MB_PER_VCPU})) seconds: ` +
      `below the render's own parallelism it is CPU-bound and the cost stays flat (≈ *C* × ${MB_PER_VCPU}/1024 GB × price) while it gets ` +
      `faster; above it, more memory only costs more. The memory chosen per row is the fastest size within 2% of the cheapest that ` +
      `fits ${MEMORY_HEADROOM}× the measured peak RSS. This assumes a Lambda arm64 vCPU is as fast as one core of this machine ` +
      `(it is not exactly: use \`npm run bench:cloudwatch\` for real figures). S3 requests and transfer are not included.`,
  );
  L.push('');
  L.push(
    `Render API for comparison — **an assumption, not a quote**: ${RENDER_API.name} at **$${RENDER_API.usdPerOutputMinute} per minute of output** ` +
      `(${RENDER_API.source}). Check the provider's current prices.`,
  );
  L.push('');
  L.push('| workload | video | (b) constant on Lambda | (b) still on Lambda | (a) one-liner on Lambda | render API (assumed) |');
  L.push('| --- | --- | --- | --- | --- | --- |');
  for (const w of r.workloads) {
    const cell = (id: MethodId): string => {
      const b = w.lambda[id]?.best;
      return b ? `${fmtUsd(b.costUsd)} (${b.memoryMb} MB, ${fmtSeconds(b.seconds)})` : '–';
    };
    L.push(`| ${w.workload.id} | ${fmtSeconds(w.videoSeconds)} | ${cell('engine-constant')} | ${cell('engine-still')} | ${w.reference ? '–' : cell('oneliner')} | ${fmtUsd(w.renderApiUsd)} |`);
  }
  const curveRow = find(r, '720p-n30-cut') ?? r.workloads[0];
  const curve = curveRow?.lambda['engine-constant']?.curve;
  if (curveRow && curve) {
    L.push('');
    L.push(`The memory curve for ${curveRow.workload.id}, constant mode (predicted from the measured ${fmtSeconds(curveRow.median['engine-constant']!.cpuSeconds)} CPU, ${fmtSeconds(curveRow.median['engine-constant']!.wallSeconds)} wall):`);
    L.push('');
    L.push('| memory | vCPU | predicted duration | cost per video | fits the peak RSS |');
    L.push('| --- | --- | --- | --- | --- |');
    for (const c of curve) L.push(`| ${c.memoryMb} MB | ${c.vcpus.toFixed(2)} | ${fmtSeconds(c.seconds)} | ${fmtUsd(c.costUsd)} | ${c.fits ? 'yes' : 'no'} |`);
  }
  L.push('');

  // Machine and commands
  L.push('## The machine and the commands');
  L.push('');
  L.push(`- CPU: ${m.cpuModel}, ${m.cores} cores; ${m.memoryGiB} GiB RAM; ${m.os}, Linux ${m.kernel}; Node ${m.node}; sharp ${m.sharp} (libvips ${m.libvips}).`);
  if (r.git) L.push(`- Code measured: \`${r.git.head}\`; engine as of \`${r.git.engineCommit}\`${r.git.dirtyEngine ? ' **plus uncommitted engine changes in the work tree**' : ''}.`);
  L.push(`- FFmpeg for **all three** sides: the npm static build \`node_modules/@ffmpeg-installer/linux-x64/ffmpeg\` (${m.ffmpeg}), passed to the engine as \`FFMPEG_PATH\`, so the comparison is the same binary and the same libx264.`);
  const own = r.workloads.flatMap((w) => Object.values(w.runs).flat()).reduce((a, x) => a + x.cpuSeconds, 0);
  const others = r.workloads.flatMap((w) => Object.values(w.runs).flat()).reduce((a, x) => a + x.otherCpuSeconds, 0);
  L.push(
    `- Load average ${r.load.start.toFixed(2)} at the start, ${r.load.end.toFixed(2)} at the end. Other processes (tests, builds) were running on this shared machine: ` +
      `while the measured commands used ${Math.round(own)} CPU-seconds, other processes used ${Math.round(others)}` +
      (others > own * 0.5
        ? ' — **the machine was busy, so wall times (most of all the long one-liner runs) are inflated; CPU seconds and RSS are the steadier figures**.'
        : '.'),
  );
  L.push(`- Benchmark run time: ${(r.benchSeconds / 60).toFixed(1)} min, plus ${r.inputs.generateSeconds.toFixed(0)} s generating the images (first run only; they are cached in bench/out/images). ${idleEstimate(r)}`);
  L.push(`- CPU seconds from ${r.gnuTime ? 'GNU time (`/usr/bin/time`, the kernel\'s rusage of every waited-for descendant)' : '/proc sampling (GNU time was missing: `apt-get install -y time` for exact figures)'}.`);
  L.push('');
  L.push('(a) the usual one-liner, on the originals (shown for 30 images at 720p; `img%03d.jpg` is a folder of links to the first N generated images):');
  L.push('');
  L.push('```sh');
  L.push(`ffmpeg ${shellQuote(oneLinerArgs(ex, '.', 'out.mp4', 'scale-first'))}`);
  L.push('```');
  L.push('');
  L.push(
    'It scales and pads each image **before** `fps` duplicates it (scale once per image), with libx264 at its defaults ' +
      '(preset medium, CRF 23). Many copies of this command put `fps=30` first, which scales every output frame; that form, (a′), ' +
      'is measured too where the table says so:',
  );
  L.push('');
  L.push('```sh');
  L.push(`ffmpeg ${shellQuote(oneLinerArgs(ex, '.', 'out.mp4', 'fps-first'))}`);
  L.push('```');
  L.push('');
  L.push('(b) our engine (constant mode; still mode passes `--frame-rate-mode still`; crossfade rows `--transition crossfade`):');
  L.push('');
  L.push('```sh');
  L.push(`npm ${shellQuote(engineArgs(ex, ['img000.jpg', '...', 'img029.jpg'], 'out.mp4', 'constant'))}`);
  L.push('```');
  L.push('');
  L.push('(c) the floor: decode and fit every original once (output discarded), then encode the same number of output frames from one raw still that FFmpeg duplicates at the output rate (`-r`), with the engine\'s x264 settings:');
  L.push('');
  L.push('```sh');
  L.push(`ffmpeg ${shellQuote(floorDecodeArgs(ex, '.'))}`);
  const encArgs = exEncoder?.encoder ? [exEncoder.encoder.split(' ')[0]!, exEncoder.encoder.split(' ').slice(1).join(' ')] : ['-preset', 'veryfast'];
  L.push(`ffmpeg ${shellQuote(floorEncodeArgs(ex, 'still.yuv', 2700, encArgs, 'out.mp4'))}`);
  L.push('```');
  L.push('');
  L.push(
    `The floor's settings: ${exEncoder?.encoderSource ?? 'x264 veryfast'}. The benchmark reads the x264 settings text that x264 writes into ` +
      "the engine's MP4, turns it back into `-x264-params`, and checks the floor's output reports the same settings (any difference is listed under notes).",
  );
  L.push('');
  L.push('## How it is measured');
  L.push('');
  L.push(
    [
      `- **Interleaved**: each run goes through every workload and, within a workload, every method back to back; the order of the methods is reversed on even runs.`,
      '- **Wall**: from spawn to exit, in the benchmark process. (b) includes `npm run` and `tsx` start-up (about a second): that is what a user of the CLI waits for. The engine\'s own figure (`renderSeconds` in its JSON summary) is in results.json.',
      '- **CPU seconds**: user + sys of the whole process tree.',
      '- **Peak RSS (work)**: every 100 ms the benchmark walks the process tree in /proc and sums the RSS of the processes doing the work (the engine\'s Node process, FFmpeg); **(tree)** adds the launchers (npm, sh, the tsx CLI relay, GNU time). The Lambda function has no launchers, so "work" is what it needs.',
      '- **Peak disk**: every 100 ms the bytes under the run\'s own folder, which holds the output and, through `TMPDIR` and the CLI\'s work folder beside the output, every temp file.',
      '- **SSIM**: FFmpeg\'s `ssim` filter, mean "All" over every frame, both files resampled to 30 fps (so the variable-frame-rate still mode compares frame for frame), run-1 outputs.',
      `- **Inputs**: ${r.inputs.width}x${r.inputs.height} JPEGs (quality ${r.inputs.quality}, seed ${r.inputs.seed}) drawn by \`bench/generate.ts\`: smooth colour fields, soft shapes, thin lines and per-pixel grain, so they decode and encode like photos, not flat colours. Same seed, same bytes.`,
    ].join('\n'),
  );
  L.push('');
  L.push('## From your account');
  L.push('');
  L.push(
    'Figures from real invocations of a deployed stack (`npm run bench:cloudwatch`): Lambda\'s REPORT lines (duration, billed duration, max memory used, init duration) joined with the job summary line process-media logs, grouped by image count.',
  );
  L.push('');
  L.push(ACCOUNT_START);
  L.push(account.trim());
  L.push(ACCOUNT_END);
  L.push('');
  L.push('## Rerun it');
  L.push('');
  L.push(
    [
      'Everything runs offline on a clean clone (the inputs are generated; FFmpeg comes from npm):',
      '',
      '```sh',
      'npm ci',
      'apt-get install -y time          # GNU time for exact CPU seconds (optional: falls back to /proc sampling)',
      'npm run bench -- --quick         # 10 and 30 images at 720p, one run: a few minutes; writes bench/out/ only',
      'npm run bench                    # the full set: rewrites docs/benchmarks.md, docs/img/bench-*.svg, bench/results.json',
      'npm run bench -- --sizes 30 --hd-sizes "" --runs 5   # any subset (writes bench/out/ unless --write-docs)',
      'npm run bench -- --report-only   # rewrite this page from bench/results.json',
      'npm run bench:cloudwatch -- --stack dev --since 24h [--write-docs]   # figures from a deployed stack',
      '```',
      '',
      `The full run took ${(r.benchSeconds / 60).toFixed(0)} minutes on the machine above; the first run also spends about ` +
        `${Math.max(1, Math.round(Math.max(r.inputs.generateSeconds, 1.1 * Math.max(...r.workloads.map((w) => w.workload.images))) / 60))} minutes generating ${Math.max(...r.workloads.map((w) => w.workload.images))} images (≈1.1 s each on an idle machine) ` +
        `(≈${((Math.max(...r.workloads.map((w) => w.workload.images)) * r.inputs.medianBytes) / 1e9).toFixed(1)} GB in bench/out/, git-ignored). ` +
        '`npm run bench -- --help` lists the options. Close other heavy programs first: the figures are wall times on a ' +
        `${m.cores}-core machine.`,
    ].join('\n'),
  );
  L.push('');
  return L.join('\n');
}

export { PRESETS };
