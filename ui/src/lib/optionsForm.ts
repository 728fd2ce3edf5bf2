/**
 * From the options form (raw inputs, maybe empty) to the API's options, validated by the one schema in
 * `contracts/` (`parseOptions`), plus the page's own checks (a field left empty, the video length limit).
 */
import { DEFAULT_OPTIONS, formatDuration, parseOptions, videoDurationSeconds } from '../../../contracts/index.ts';
import type { FrameRateMode, RenderOptions, RenderOptionsInput, SiteConfig } from '../../../contracts/index.ts';

/** What the form holds: numbers may be null while a field is empty. */
export interface OptionsFormValues {
  preset: string;
  fps: number;
  secondsPerImage: number | null;
  fit: string;
  background: string;
  transition: string;
  transitionSeconds: number | null;
  frameRateMode: FrameRateMode | string;
}

export function defaultFormValues(): OptionsFormValues {
  return {
    preset: DEFAULT_OPTIONS.preset,
    fps: DEFAULT_OPTIONS.fps,
    secondsPerImage: DEFAULT_OPTIONS.secondsPerImage,
    fit: DEFAULT_OPTIONS.fit,
    background: DEFAULT_OPTIONS.background,
    transition: DEFAULT_OPTIONS.transition,
    transitionSeconds: DEFAULT_OPTIONS.transitionSeconds,
    frameRateMode: DEFAULT_OPTIONS.frameRateMode,
  };
}

export interface FormValidation {
  ok: boolean;
  /** Present when ok: exactly what is sent as `options`. */
  options?: RenderOptions;
  input: RenderOptionsInput;
  /** Messages by field: `preset`, `secondsPerImage`, `durations[2]`, `length`, ... */
  issues: Record<string, string>;
  /** Video length in seconds (sum of the image durations), when it can be computed. */
  totalSeconds: number | null;
}

function num(v: number | null | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * `customDurations[i]` is the seconds typed for image i, or null to use secondsPerImage.
 * `durations` is only sent when at least one image has its own duration.
 */
export function validateForm(
  form: OptionsFormValues,
  customDurations: readonly (number | null)[],
  limits: Pick<SiteConfig['limits'], 'maxVideoSeconds'>,
): FormValidation {
  const issues: Record<string, string> = {};
  const count = customDurations.length;
  const secondsPerImage = num(form.secondsPerImage);
  if (secondsPerImage === undefined) issues.secondsPerImage = 'Enter the seconds each image is shown.';
  const input: RenderOptionsInput = {
    preset: form.preset as RenderOptions['preset'],
    fps: Number(form.fps) as RenderOptions['fps'],
    fit: form.fit as RenderOptions['fit'],
    background: form.background,
    transition: form.transition as RenderOptions['transition'],
    frameRateMode: form.frameRateMode as FrameRateMode,
  };
  if (secondsPerImage !== undefined) input.secondsPerImage = secondsPerImage;
  if (form.transition === 'crossfade') {
    const t = num(form.transitionSeconds);
    if (t === undefined) issues.transitionSeconds = 'Enter the crossfade length in seconds.';
    else input.transitionSeconds = t;
  }
  if (customDurations.some((d) => d !== null)) {
    const durations: number[] = [];
    customDurations.forEach((d, i) => {
      if (d === null) durations.push(secondsPerImage ?? DEFAULT_OPTIONS.secondsPerImage);
      else if (!Number.isFinite(d)) issues[`durations[${i}]`] = 'Enter seconds, or clear it to use the default.';
      else durations.push(d);
    });
    if (durations.length === count) input.durations = durations;
  }
  const parsed = parseOptions(input, Math.max(count, 1));
  if (!parsed.ok) {
    for (const issue of parsed.issues) issues[issue.field] ??= friendly(issue.message);
  }
  const totalSeconds = parsed.ok && secondsPerImage !== undefined ? videoDurationSeconds(parsed.options, count) : null;
  if (totalSeconds !== null && totalSeconds > limits.maxVideoSeconds) {
    issues.length = `The video would be ${formatDuration(totalSeconds)} long; the limit is ${formatDuration(limits.maxVideoSeconds)}. Use fewer images or shorter durations.`;
  }
  const ok = Object.keys(issues).length === 0 && parsed.ok;
  return { ok, input, issues, totalSeconds, ...(ok && parsed.ok ? { options: parsed.options } : {}) };
}

/** The contract's messages name fields as in the API; the page names them as its labels do. */
const FIELD_LABELS: Record<string, string> = {
  secondsPerImage: 'Seconds per photo',
  transitionSeconds: 'Crossfade length',
  background: 'Bar colour',
  fps: 'Frames per second',
  preset: 'Video size',
  frameRateMode: 'Frame rate mode',
  transition: 'Transition',
  fit: 'Fit',
};

function friendly(message: string): string {
  const m = /^(\w+)\b(.*)$/s.exec(message);
  let s = m && FIELD_LABELS[m[1]!] ? `${FIELD_LABELS[m[1]!]}${m[2]}` : message;
  s = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}
