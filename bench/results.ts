/** Shapes of bench/results.json and how raw runs become the medians and ratios the report shows. */
import type { VideoInfo, Workload } from './commands.ts';
import { workloadId } from './commands.ts';
import type { MachineInfo } from './machine.ts';
import { bestMemory, lambdaCurve, median, ratio, renderApiCost, type LambdaEstimate } from './stats.ts';

export const METHOD_IDS = ['oneliner', 'oneliner-fps-first', 'engine-constant', 'engine-still', 'floor'] as const;
export type MethodId = (typeof METHOD_IDS)[number];

export interface RunRecord {
  run: number;
  wallSeconds: number;
  cpuSeconds: number;
  userSeconds: number;
  sysSeconds: number;
  peakTreeRssBytes: number;
  peakWorkRssBytes: number;
  maxProcessRssBytes: number;
  peakDiskBytes: number;
  peakRssByProgram?: Record<string, number>;
  outputBytes: number;
  video?: VideoInfo;
  exitCode: number;
  cpuSource: string;
  /** CPU seconds other processes used on the machine while this ran (interference). */
  otherCpuSeconds: number;
  loadBefore: number;
  detail: {
    summary?: Record<string, unknown>;
    decodeSeconds?: number;
    encodeSeconds?: number;
    encoder?: string;
    encoderSource?: string;
  };
  error?: string;
}

export interface MethodMedian {
  runs: number;
  failures: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakWorkRssBytes: number;
  peakTreeRssBytes: number;
  peakDiskBytes: number;
  outputBytes: number;
  otherCpuSeconds: number;
  durationSeconds: number;
  frames: number;
  /** Engine-reported render seconds (from the CLI's JSON summary), when it prints one. */
  engineRenderSeconds?: number;
  decodeSeconds?: number;
  encodeSeconds?: number;
}

export interface WorkloadResult {
  workload: Workload;
  frames: number;
  runs: Record<MethodId, RunRecord[]>;
  ssim: { constantVsOneLiner?: number; stillVsOneLiner?: number; stillVsConstant?: number };
  notes: string[];
}

export interface WorkloadSummary extends WorkloadResult {
  median: Partial<Record<MethodId, MethodMedian>>;
  /** For crossfade rows: (a) and (c) come from the cut row of the same size (they do not crossfade). */
  reference?: string;
  ratios: {
    oneLinerOverConstant: number;
    oneLinerOverStill: number;
    fpsFirstOverConstant: number;
    fpsFirstOverStill: number;
    constantOverFloor: number;
    stillOverFloor: number;
    constantBytesOverOneLiner: number;
  };
  lambda: Partial<Record<MethodId, { curve: LambdaEstimate[]; best?: LambdaEstimate }>>;
  renderApiUsd: number;
  videoSeconds: number;
}

export interface BenchResults {
  version: 1;
  generatedAt: string;
  quick: boolean;
  settings: {
    runs: number;
    runsLarge: number;
    largeFrom: number;
    sizes: number[];
    hdSizes: number[];
    crossfade: boolean;
    fpsFirstAt: number[];
    engine: boolean;
  };
  /** Rounds finished when this was written (less than the runs asked for: a stopped or still running benchmark). */
  completedRuns?: number;
  machine: MachineInfo;
  /** Which code was measured: HEAD, the last engine commit, and whether the engine had uncommitted changes. */
  git?: { head: string; engineCommit: string; dirtyEngine: boolean };
  inputs: { width: number; height: number; seed: number; quality: number; medianBytes: number; generateSeconds: number };
  benchSeconds: number;
  load: { start: number; end: number };
  gnuTime: boolean;
  workloads: WorkloadSummary[];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function methodMedian(runs: readonly RunRecord[]): MethodMedian | undefined {
  const ok = runs.filter((r) => r.exitCode === 0);
  if (ok.length === 0) return runs.length ? { ...nanMedian(), runs: 0, failures: runs.length } : undefined;
  const med = (f: (r: RunRecord) => number | undefined): number => median(ok.map((r) => f(r) ?? NaN));
  const engine = ok.map((r) => num(r.detail.summary?.renderSeconds)).filter((x): x is number => x !== undefined);
  const out: MethodMedian = {
    runs: ok.length,
    failures: runs.length - ok.length,
    wallSeconds: med((r) => r.wallSeconds),
    cpuSeconds: med((r) => r.cpuSeconds),
    peakWorkRssBytes: med((r) => r.peakWorkRssBytes),
    peakTreeRssBytes: med((r) => r.peakTreeRssBytes),
    peakDiskBytes: med((r) => r.peakDiskBytes),
    outputBytes: med((r) => r.outputBytes),
    otherCpuSeconds: med((r) => r.otherCpuSeconds),
    durationSeconds: med((r) => r.video?.durationSeconds),
    frames: med((r) => r.video?.frames),
  };
  if (engine.length) out.engineRenderSeconds = median(engine);
  const dec = ok.map((r) => r.detail.decodeSeconds).filter((x): x is number => x !== undefined);
  const enc = ok.map((r) => r.detail.encodeSeconds).filter((x): x is number => x !== undefined);
  if (dec.length) out.decodeSeconds = median(dec);
  if (enc.length) out.encodeSeconds = median(enc);
  return out;
}

function nanMedian(): MethodMedian {
  return {
    runs: 0, failures: 0, wallSeconds: NaN, cpuSeconds: NaN, peakWorkRssBytes: NaN, peakTreeRssBytes: NaN,
    peakDiskBytes: NaN, outputBytes: NaN, otherCpuSeconds: NaN, durationSeconds: NaN, frames: NaN,
  };
}

/** Medians, ratios (crossfade rows borrow (a) and (c) from the cut row), and the Lambda cost curve. */
export function summarise(res: WorkloadResult, all: readonly WorkloadResult[] = [res]): WorkloadSummary {
  const w = res.workload;
  const medianOf: Partial<Record<MethodId, MethodMedian>> = {};
  for (const [m, runs] of Object.entries(res.runs) as [MethodId, RunRecord[]][]) {
    const mm = methodMedian(runs);
    if (mm) medianOf[m] = mm;
  }
  let reference: string | undefined;
  if (w.transition !== 'none') {
    const cutId = workloadId({ ...w, transition: 'none' });
    const cut = all.find((x) => x.workload.id === cutId);
    if (cut) {
      reference = cutId;
      for (const m of ['oneliner', 'oneliner-fps-first', 'floor'] as const) {
        const mm = methodMedian(cut.runs[m] ?? []);
        if (mm && !medianOf[m]) medianOf[m] = mm;
      }
    }
  }
  const wall = (m: MethodId): number => medianOf[m]?.wallSeconds ?? NaN;
  const videoSeconds = w.images * w.secondsPerImage;
  const lambda: WorkloadSummary['lambda'] = {};
  for (const m of METHOD_IDS) {
    const mm = medianOf[m];
    if (!mm || !Number.isFinite(mm.wallSeconds)) continue;
    const curve = lambdaCurve({ cpuSeconds: mm.cpuSeconds, wallSeconds: mm.wallSeconds, peakRssBytes: mm.peakWorkRssBytes });
    lambda[m] = { curve, best: bestMemory(curve) };
  }
  return {
    ...res,
    median: medianOf,
    reference,
    ratios: {
      oneLinerOverConstant: ratio(wall('oneliner'), wall('engine-constant')),
      oneLinerOverStill: ratio(wall('oneliner'), wall('engine-still')),
      fpsFirstOverConstant: ratio(wall('oneliner-fps-first'), wall('engine-constant')),
      fpsFirstOverStill: ratio(wall('oneliner-fps-first'), wall('engine-still')),
      constantOverFloor: ratio(wall('engine-constant'), wall('floor')),
      stillOverFloor: ratio(wall('engine-still'), wall('floor')),
      constantBytesOverOneLiner: ratio(medianOf['engine-constant']?.outputBytes ?? NaN, medianOf.oneliner?.outputBytes ?? NaN),
    },
    lambda,
    renderApiUsd: renderApiCost(videoSeconds),
    videoSeconds,
  };
}
