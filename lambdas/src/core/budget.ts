/**
 * The render budget of one job (issue 6): how much rendering a request may ask for, decided when the
 * job is created (and checked again on the manifest), so no request can occupy a render for longer
 * than the function timeout. Pure arithmetic, no I/O.
 *
 * Two limits apply, both derived from `Limits.maxVideoSeconds` (whose default, 900 s, is also the
 * function timeout):
 * - the video may be at most `maxVideoSeconds` long (what users see and plan with);
 * - the estimated render time on 2 vCPUs may be at most RENDER_BUDGET_FRACTION of `maxVideoSeconds`,
 *   leaving the rest for slower CPUs, cold starts and storage. The estimate: every crossfade frame is
 *   blended and encoded for real (CROSSFADE_MS_PER_MEGAPIXEL), still frames cost almost nothing (the
 *   engine encodes each picture once and repeats it; STILL_MS_PER_MEGAPIXEL is generous), and every
 *   image is decoded once (DECODE_SECONDS_PER_IMAGE, generous for images under maxImagePixels).
 *
 * The constants are measured with `npm run render` on 2 cores (docs/security.md "Cost attacks"):
 * 1080p (2.07 MP) crossfade frames take about 30 ms (≈15 ms/MP), 60 s of 1080p60 stills from 3 photos
 * 2.9 s (< 0.5 ms/MP per frame), decoding and fitting a 100 MP image about 0.15 s.
 */
import { PRESETS, videoDurationSeconds, type Limits, type RenderOptions } from '../../../contracts/index.ts';

export const CROSSFADE_MS_PER_MEGAPIXEL = 15;
export const STILL_MS_PER_MEGAPIXEL = 0.5;
export const DECODE_SECONDS_PER_IMAGE = 0.5;
/** The estimate may use at most this share of maxVideoSeconds. */
export const RENDER_BUDGET_FRACTION = 0.5;

export interface RenderWork {
  /** Output frames of the video. */
  frames: number;
  /** Of those, crossfade frames (blended and encoded one by one). */
  crossfadeFrames: number;
  /** Estimated render time in seconds on 2 vCPUs. */
  estimatedSeconds: number;
}

type BudgetOptions = Pick<RenderOptions, 'preset' | 'fps' | 'secondsPerImage' | 'durations' | 'transition' | 'transitionSeconds'>;

export function renderWork(options: BudgetOptions, imageCount: number): RenderWork {
  const seconds = videoDurationSeconds(options, imageCount);
  const frames = Math.round(seconds * options.fps);
  const fades = options.transition === 'crossfade' ? Math.max(0, imageCount - 1) : 0;
  const crossfadeFrames = Math.min(frames, Math.round(fades * options.transitionSeconds * options.fps));
  const { width, height } = PRESETS[options.preset];
  const mp = (width * height) / 1e6;
  const estimatedSeconds =
    (crossfadeFrames * mp * CROSSFADE_MS_PER_MEGAPIXEL + (frames - crossfadeFrames) * mp * STILL_MS_PER_MEGAPIXEL) / 1000 + imageCount * DECODE_SECONDS_PER_IMAGE;
  return { frames, crossfadeFrames, estimatedSeconds };
}

/** Longest estimated render a job may ask for, in seconds. */
export function renderBudgetSeconds(limits: Pick<Limits, 'maxVideoSeconds'>): number {
  return limits.maxVideoSeconds * RENDER_BUDGET_FRACTION;
}

/** Null when the job fits the budget, else a sentence saying why not (for `job_budget_exceeded`). */
export function budgetProblem(options: BudgetOptions, imageCount: number, limits: Pick<Limits, 'maxVideoSeconds'>): { message: string; details: Record<string, unknown> } | null {
  const work = renderWork(options, imageCount);
  const budget = renderBudgetSeconds(limits);
  if (work.estimatedSeconds <= budget + 1e-9) return null;
  return {
    message:
      `This job would take about ${Math.round(work.estimatedSeconds)} s to render (${work.crossfadeFrames} crossfade frames at ${options.preset}); ` +
      `one job may take ${Math.round(budget)} s. Use fewer or shorter crossfades, a smaller preset or a lower frame rate.`,
    details: { estimatedRenderSeconds: Math.round(work.estimatedSeconds), limit: Math.round(budget), frames: work.frames, crossfadeFrames: work.crossfadeFrames },
  };
}
