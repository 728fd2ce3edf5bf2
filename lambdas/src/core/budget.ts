/**
 * The render budget of one job (issue 6): how much encoding work a request may ask for, decided when
 * the job is created (and checked again on the manifest), so no request can occupy a render for
 * longer than the function timeout. Pure arithmetic, no I/O.
 *
 * Two limits apply, both from `Limits`:
 * - `maxVideoSeconds`: the length of the video (what users see and plan with);
 * - the work budget: output pixels × frames, with every crossfade frame counted
 *   CROSSFADE_FRAME_WEIGHT times (each one is blended in JavaScript and encoded as a new picture,
 *   where a still frame repeats the previous one). The budget is `maxVideoSeconds` of 1080p at 30 fps,
 *   so a 1080p30 slideshow can use the full length and richer jobs get proportionally less:
 *   1080p60 or vertical at 60 fps up to maxVideoSeconds / 2, 720p at any frame rate the full length.
 *
 * Why this is enough (docs/security.md "Cost attacks", measured with `npm run render`): on 2 vCPUs
 * still frames are nearly free (each picture is encoded once, then repeated), a 1080p crossfade frame
 * costs about 30 ms, and decoding an image under maxImagePixels a fraction of a second; with
 * pessimistic figures the largest accepted job is estimated at about 450 s, inside the 900 s function
 * timeout. The handler's own timer (render_timeout) stays the backstop for slower hardware.
 */
import { PRESETS, type Limits, type RenderOptions } from '../../../contracts/index.ts';
import { videoDurationSeconds } from '../../../contracts/index.ts';

/** A crossfade frame costs this many still frames. */
export const CROSSFADE_FRAME_WEIGHT = 5;
/** The budget is stated in seconds of this output. */
export const BUDGET_REFERENCE = { width: 1920, height: 1080, fps: 30 } as const;

export interface RenderWork {
  /** Output frames of the video. */
  frames: number;
  /** Of those, crossfade frames. */
  crossfadeFrames: number;
  /** Work in "seconds of 1080p30 stills": comparable with maxVideoSeconds. */
  equivalentSeconds: number;
}

type BudgetOptions = Pick<RenderOptions, 'preset' | 'fps' | 'secondsPerImage' | 'durations' | 'transition' | 'transitionSeconds'>;

export function renderWork(options: BudgetOptions, imageCount: number): RenderWork {
  const seconds = videoDurationSeconds(options, imageCount);
  const frames = Math.round(seconds * options.fps);
  const fades = options.transition === 'crossfade' ? Math.max(0, imageCount - 1) : 0;
  const crossfadeFrames = Math.min(frames, Math.round(fades * options.transitionSeconds * options.fps));
  const { width, height } = PRESETS[options.preset];
  const weighted = frames - crossfadeFrames + CROSSFADE_FRAME_WEIGHT * crossfadeFrames;
  const ref = BUDGET_REFERENCE;
  const equivalentSeconds = (weighted * width * height) / (ref.width * ref.height * ref.fps);
  return { frames, crossfadeFrames, equivalentSeconds };
}

/** Null when the job fits the budget, else a sentence saying why not (for `job_budget_exceeded`). */
export function budgetProblem(options: BudgetOptions, imageCount: number, limits: Pick<Limits, 'maxVideoSeconds'>): { message: string; details: Record<string, unknown> } | null {
  const work = renderWork(options, imageCount);
  if (work.equivalentSeconds <= limits.maxVideoSeconds + 1e-9) return null;
  const eq = Math.round(work.equivalentSeconds);
  return {
    message:
      `This job needs about as much rendering as ${eq} s of 1080p video at 30 fps (crossfade frames count ${CROSSFADE_FRAME_WEIGHT} times); ` +
      `the limit is ${limits.maxVideoSeconds} s. Use a smaller preset, a lower frame rate, fewer crossfades or a shorter video.`,
    details: { renderSeconds1080p30: eq, limit: limits.maxVideoSeconds, frames: work.frames, crossfadeFrames: work.crossfadeFrames },
  };
}
