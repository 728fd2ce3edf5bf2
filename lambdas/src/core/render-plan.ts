/**
 * The render plan: which picture every output frame shows. Pure arithmetic, no I/O.
 *
 * Frame rounding rule (one rule everywhere): with image start times T_k = d_0 + … + d_{k-1}
 * (seconds), image k owns the output frames [B_k, B_{k+1}) where B_k = round(fps × T_k),
 * rounding halves up. The video therefore has round(fps × Σd) frames, so its length is within
 * half a frame of the sum of the image durations, and rounding errors never accumulate.
 *
 * Crossfades: the fade between image k-1 and image k is a linear ramp in continuous time over
 * [T_k − s/2, T_k + s/2] (s = transitionSeconds), centred on the boundary, so it overlaps both
 * images and adds no time. A frame f is sampled at its display midpoint (f + ½)/fps; when the ramp
 * there is strictly between 0 and 1 the frame is a blend with that weight of image k. Because the
 * options forbid s longer than the shortest image, ramps never overlap: every frame is one picture
 * or a blend of exactly two neighbours.
 *
 * Emission: the engine hands FFmpeg one frame per run of identical output frames (a "still") plus
 * every blend frame, each with its start frame and its length in frames. In `constant` mode FFmpeg
 * repeats each still at the output rate; in `still` mode the stills stay single frames
 * (variable frame rate).
 */
import type { FrameRateMode, RenderOptions } from '../../../contracts/index.ts';
import { PRESETS } from '../../../contracts/index.ts';

/** A run of identical frames showing one image. */
export interface StillSegment {
  kind: 'still';
  image: number;
  startFrame: number;
  frames: number;
}

/** Consecutive crossfade frames from image `from` to image `to` (= from + 1). */
export interface BlendSegment {
  kind: 'blend';
  from: number;
  to: number;
  startFrame: number;
  frames: number;
  /** Weight of `to` for each frame, strictly between 0 and 1, increasing. */
  weights: number[];
}

export type PlanSegment = StillSegment | BlendSegment;

export interface RenderPlan {
  width: number;
  height: number;
  fps: number;
  imageCount: number;
  /** round(fps × Σ durations). */
  totalFrames: number;
  /** totalFrames / fps: the exact length of the rendered video. */
  durationSeconds: number;
  /** B_0 … B_n: image k owns frames [boundaries[k], boundaries[k+1]). */
  boundaries: number[];
  /** Frames per crossfade (0 without transitions); individual fades may be one frame shorter or longer by rounding. */
  transitionFrames: number;
  /** Covers [0, totalFrames) in order, without gaps or overlaps. */
  segments: PlanSegment[];
}

/** One picture the engine encodes: `pts` and `duration` in output frames. */
export type EmittedFrame =
  | { kind: 'still'; image: number; pts: number; duration: number }
  | { kind: 'blend'; from: number; to: number; weight: number; pts: number; duration: 1 };

const EPS = 1e-9;

/** round(x) with halves rounded up, tolerant of binary fractions like 0.1 + 0.2. */
export function roundFrames(x: number): number {
  return Math.floor(x + 0.5 + EPS);
}

/** Build the plan for `durations.length` images. Throws RangeError on impossible input (the options parser rules those out). */
export function planRender(options: Pick<RenderOptions, 'preset' | 'fps' | 'transition' | 'transitionSeconds'>, durations: readonly number[]): RenderPlan {
  const n = durations.length;
  if (n < 1) throw new RangeError('a render needs at least one image');
  for (const d of durations) {
    if (!(Number.isFinite(d) && d > 0)) throw new RangeError(`image durations must be positive seconds, got ${d}`);
  }
  const { width, height } = PRESETS[options.preset];
  const fps = options.fps;

  const starts: number[] = [0];
  for (let k = 0; k < n; k++) starts.push(starts[k]! + durations[k]!);
  const boundaries = starts.map((t) => roundFrames(t * fps));
  const totalFrames = boundaries[n]!;
  if (totalFrames < 1) throw new RangeError('the video would have no frames');

  const fade = options.transition === 'crossfade' && n > 1 ? options.transitionSeconds : 0;
  if (fade > 0 && fade > Math.min(...durations) + EPS) {
    throw new RangeError(`transitionSeconds (${fade}) is longer than the shortest image`);
  }

  const segments: PlanSegment[] = [];
  const pushStill = (image: number, frame: number) => {
    const last = segments[segments.length - 1];
    if (last && last.kind === 'still' && last.image === image) last.frames++;
    else segments.push({ kind: 'still', image, startFrame: frame, frames: 1 });
  };
  const pushBlend = (to: number, weight: number, frame: number) => {
    const last = segments[segments.length - 1];
    if (last && last.kind === 'blend' && last.to === to) {
      last.frames++;
      last.weights.push(weight);
    } else segments.push({ kind: 'blend', from: to - 1, to, startFrame: frame, frames: 1, weights: [weight] });
  };

  let owner = 0; // image whose frame range contains f
  for (let f = 0; f < totalFrames; f++) {
    while (f >= boundaries[owner + 1]!) owner++;
    if (fade > 0) {
      const t = (f + 0.5) / fps;
      // The only ramps that can reach frame f are the ones at the owner's two ends.
      const k = owner > 0 && t < starts[owner]! + fade / 2 ? owner : owner + 1 < n && t > starts[owner + 1]! - fade / 2 ? owner + 1 : -1;
      if (k > 0) {
        const w = (t - (starts[k]! - fade / 2)) / fade;
        if (w > EPS && w < 1 - EPS) {
          pushBlend(k, w, f);
          continue;
        }
        pushStill(w <= EPS ? k - 1 : k, f);
        continue;
      }
    }
    pushStill(owner, f);
  }

  return {
    width,
    height,
    fps,
    imageCount: n,
    totalFrames,
    durationSeconds: totalFrames / fps,
    boundaries,
    transitionFrames: fade > 0 ? roundFrames(fade * fps) : 0,
    segments,
  };
}

/**
 * The pictures to encode, in order. Both modes emit the same pictures (one per still, one per blend
 * frame); `constant` mode lets FFmpeg repeat stills at the output rate. A final one-frame repeat of
 * the last picture at `totalFrames - 1` pins the end of the video (so the last still's length does
 * not depend on how a muxer guesses the last frame's duration); `emitCount` includes it.
 */
export function* emittedFrames(plan: RenderPlan): Generator<EmittedFrame> {
  const segs = plan.segments;
  for (let j = 0; j < segs.length; j++) {
    const s = segs[j]!;
    if (s.kind === 'still') {
      const isLastMulti = j === segs.length - 1 && s.frames > 1;
      yield { kind: 'still', image: s.image, pts: s.startFrame, duration: isLastMulti ? s.frames - 1 : s.frames };
      // Only a multi-frame final still needs the end marker; a final blend frame already ends the video exactly.
      if (isLastMulti) yield { kind: 'still', image: s.image, pts: plan.totalFrames - 1, duration: 1 };
    } else {
      for (let i = 0; i < s.frames; i++) {
        yield { kind: 'blend', from: s.from, to: s.to, weight: s.weights[i]!, pts: s.startFrame + i, duration: 1 };
      }
    }
  }
}

/** How many pictures `emittedFrames` yields: what FFmpeg encodes in `still` mode. */
export function emitCount(plan: RenderPlan): number {
  let count = 0;
  for (const s of plan.segments) count += s.kind === 'still' ? 1 : s.frames;
  const last = plan.segments[plan.segments.length - 1];
  if (last && last.kind === 'still' && last.frames > 1) count++;
  return count;
}

/** Frames the encoder receives for a mode: every output frame in `constant`, the emitted pictures in `still`. */
export function encodedFrameCount(plan: RenderPlan, mode: FrameRateMode): number {
  return mode === 'constant' ? plan.totalFrames : emitCount(plan);
}
