/**
 * Fan-out for long jobs: split a render plan into frame ranges ("segments") that render in parallel
 * and join without re-encoding. Pure arithmetic, no I/O.
 *
 * Where to cut. Every segment is its own encode, so it starts with an IDR frame and the joined file
 * can be stream-copied. A cut can go anywhere (each blend frame is computed from its two fitted
 * images and its own weight, so a fade that straddles a cut renders the same pixels on both sides),
 * but we prefer the first frame of a still run (a *clean cut*): no crossfade moves across it, the
 * IDR lands on a static picture (cheap), and without transitions it is exactly an image boundary, so
 * no image is decoded twice. With crossfades the image the border fade leads into is decoded by both
 * neighbours (one extra decode per cut). Only when no clean cut lies near the ideal position (fades
 * as long as the images) do we cut inside a fade.
 *
 * How many. `workers` segments (the parallelism you pay for), raised so each segment fits the time
 * budget of one invocation when an estimate is given, and lowered so no segment is shorter than
 * `minSegmentSeconds` (each one pays a start-up and an extra IDR).
 */
import { ENV } from './config.ts';
import type { PlanSegment, RenderPlan } from './render-plan.ts';

/** Output frames [start, end) of a plan. */
export interface FrameRange {
  start: number;
  end: number;
}

/** One segment of a fanned-out render. */
export interface SegmentSpec {
  /** 0-based position in the joined video. */
  index: number;
  frames: FrameRange;
  /** Image indices whose pixels the segment shows (ascending): what its worker must load. */
  images: number[];
  /** (end − start) / fps: the exact length of the segment's video. */
  durationSeconds: number;
  /** True when the segment's first frame is a still (no fade moves across the border before it). */
  cleanStart: boolean;
}

/** What one render costs, roughly: seconds of work per output frame and per decoded image. */
export interface RenderCostModel {
  secondsPerFrame: number;
  secondsPerImage: number;
}

export interface SegmentingOptions {
  /** Segments rendered in parallel (1 = no fan-out). */
  workers: number;
  /** Shortest segment worth an invocation, in seconds of video. @default 10 */
  minSegmentSeconds?: number;
  /** Most segments, whatever the budget says. @default 64 */
  maxSegments?: number;
  /** Fit each segment into one invocation: its estimated cost must stay under `seconds`. */
  budget?: { seconds: number; cost: RenderCostModel };
}

export const DEFAULT_MIN_SEGMENT_SECONDS = 10;
export const DEFAULT_MAX_SEGMENTS = 64;

/** Estimated seconds to render `frames` output frames showing `images` images. */
export function estimateRenderSeconds(cost: RenderCostModel, frames: number, images: number): number {
  return cost.secondsPerFrame * frames + cost.secondsPerImage * images;
}

/** How many segments a plan should be split into (≥ 1). */
export function segmentCount(plan: RenderPlan, opts: SegmentingOptions): number {
  if (!(Number.isSafeInteger(opts.workers) && opts.workers >= 1)) throw new RangeError(`workers must be a whole number ≥ 1, got ${opts.workers}`);
  const minSeconds = opts.minSegmentSeconds ?? DEFAULT_MIN_SEGMENT_SECONDS;
  const maxSegments = opts.maxSegments ?? DEFAULT_MAX_SEGMENTS;
  let n = opts.workers;
  if (opts.budget) {
    if (!(opts.budget.seconds > 0)) throw new RangeError('the time budget must be positive');
    const total = estimateRenderSeconds(opts.budget.cost, plan.totalFrames, plan.imageCount);
    n = Math.max(n, Math.ceil(total / opts.budget.seconds));
  }
  const byLength = minSeconds > 0 ? Math.floor(plan.durationSeconds / minSeconds + 1e-9) : plan.totalFrames;
  n = Math.min(n, maxSegments, Math.max(1, byLength), plan.totalFrames);
  return Math.max(1, n);
}

/** Frames where a clean cut may go: the first frame of every still run after frame 0, ascending. */
export function cleanCuts(plan: RenderPlan): number[] {
  const out: number[] = [];
  for (const s of plan.segments) if (s.kind === 'still' && s.startFrame > 0) out.push(s.startFrame);
  return out;
}

/** Image indices shown in frames [start, end), ascending. */
export function imagesForRange(plan: RenderPlan, range: FrameRange): number[] {
  const set = new Set<number>();
  for (const s of plan.segments) {
    if (s.startFrame >= range.end || s.startFrame + s.frames <= range.start) continue;
    if (s.kind === 'still') set.add(s.image);
    else {
      set.add(s.from);
      set.add(s.to);
    }
  }
  return [...set].sort((a, b) => a - b);
}

/** Whether output frame `f` shows one image (not a crossfade blend). */
export function isStillFrame(plan: RenderPlan, f: number): boolean {
  const s = plan.segments.find((p) => f >= p.startFrame && f < p.startFrame + p.frames);
  return s?.kind === 'still';
}

function checkRange(plan: RenderPlan, range: FrameRange): void {
  const { start, end } = range;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && start >= 0 && end > start && end <= plan.totalFrames)) {
    throw new RangeError(`frame range [${start}, ${end}) is not inside [0, ${plan.totalFrames})`);
  }
}

/**
 * Split a plan into `count` segments (default from `segmentCount`), cutting at the clean cut nearest
 * to each ideal position (i × total / count) when one lies within a quarter segment of it, else exactly
 * at the ideal frame. Segments cover [0, totalFrames) in order, without gaps, none empty.
 */
export function planSegments(plan: RenderPlan, opts: SegmentingOptions | { count: number }): SegmentSpec[] {
  const count = 'count' in opts ? opts.count : segmentCount(plan, opts);
  if (!(Number.isSafeInteger(count) && count >= 1 && count <= plan.totalFrames)) {
    throw new RangeError(`cannot split ${plan.totalFrames} frames into ${count} segments`);
  }
  const clean = cleanCuts(plan);
  const tolerance = plan.totalFrames / count / 4;
  const cuts: number[] = [0];
  for (let i = 1; i < count; i++) {
    const prev = cuts[cuts.length - 1]!;
    // Leave at least one frame for each segment still to come.
    const hi = plan.totalFrames - (count - i);
    const ideal = Math.min(hi, Math.max(prev + 1, Math.round((i * plan.totalFrames) / count)));
    let best = ideal;
    let bestDist = Infinity;
    for (const c of clean) {
      if (c <= prev || c > hi) continue;
      const d = Math.abs(c - ideal);
      if (d <= tolerance && d < bestDist) {
        best = c;
        bestDist = d;
      }
    }
    cuts.push(best);
  }
  cuts.push(plan.totalFrames);
  const out: SegmentSpec[] = [];
  for (let i = 0; i < count; i++) {
    const frames = { start: cuts[i]!, end: cuts[i + 1]! };
    out.push({
      index: i,
      frames,
      images: imagesForRange(plan, frames),
      durationSeconds: (frames.end - frames.start) / plan.fps,
      cleanStart: isStillFrame(plan, frames.start),
    });
  }
  return out;
}

/**
 * The part of a plan inside `range`, rebased so its first frame is frame 0: what the engine renders
 * for one segment. Image indices stay global; `totalFrames`/`durationSeconds` are the segment's.
 * Rendering the slices of a plan and joining them gives the frames of the whole plan.
 */
export function slicePlan(plan: RenderPlan, range: FrameRange): RenderPlan {
  checkRange(plan, range);
  const { start, end } = range;
  const segments: PlanSegment[] = [];
  for (const s of plan.segments) {
    const from = Math.max(s.startFrame, start);
    const to = Math.min(s.startFrame + s.frames, end);
    if (to <= from) continue;
    if (s.kind === 'still') segments.push({ kind: 'still', image: s.image, startFrame: from - start, frames: to - from });
    else {
      const weights = s.weights.slice(from - s.startFrame, to - s.startFrame);
      segments.push({ kind: 'blend', from: s.from, to: s.to, startFrame: from - start, frames: to - from, weights });
    }
  }
  const totalFrames = end - start;
  return {
    ...plan,
    totalFrames,
    durationSeconds: totalFrames / plan.fps,
    boundaries: plan.boundaries.map((b) => Math.min(totalFrames, Math.max(0, b - start))),
    segments,
  };
}

/** Fan-out settings of process-media (names in config.ts ENV). */
export interface FanOutSettings {
  /** Segments per long job (RENDER_SEGMENTS); 1 = fan-out off. */
  workers: number;
  /** Only videos at least this long are split (SEGMENT_MIN_VIDEO_SECONDS). */
  minVideoSeconds: number;
  /** The render-segment function (SEGMENT_FUNCTION_NAME); required on AWS when workers > 1. */
  functionName?: string;
}

export const DEFAULT_SEGMENT_MIN_VIDEO_SECONDS = 60;

/** Read the fan-out settings; throws a clear error naming a malformed variable. */
export function fanOutSettingsFromEnv(env: Record<string, string | undefined>): FanOutSettings {
  const num = (name: string, fallback: number, min: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const workers = num(ENV.renderSegments, 1, 1);
  if (!Number.isSafeInteger(workers) || workers > DEFAULT_MAX_SEGMENTS) {
    throw new Error(`${ENV.renderSegments} must be a whole number from 1 to ${DEFAULT_MAX_SEGMENTS}, got ${JSON.stringify(env[ENV.renderSegments])}`);
  }
  const s: FanOutSettings = { workers, minVideoSeconds: num(ENV.segmentMinVideoSeconds, DEFAULT_SEGMENT_MIN_VIDEO_SECONDS, 0) };
  const fn = env[ENV.segmentFunctionName];
  if (fn) s.functionName = fn;
  if (workers > 1 && env[ENV.segmentFunctionName] !== undefined && !fn) throw new Error(`${ENV.segmentFunctionName} is empty`);
  return s;
}
