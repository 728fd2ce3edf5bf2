/**
 * Render options: the one schema shared by the API, the render engine, the CLI and the UI.
 * Everything here is plain TypeScript with no dependencies, so the browser bundle can use it too.
 */

/** Output frame sizes. Every dimension is even (H.264 yuv420p needs that). */
export const PRESETS = {
  '480p': { width: 854, height: 480 },
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
  square: { width: 1080, height: 1080 },
  vertical: { width: 1080, height: 1920 },
} as const;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export const FPS_VALUES = [24, 25, 30, 60] as const;
export type Fps = (typeof FPS_VALUES)[number];

export const FIT_VALUES = ['contain', 'cover'] as const;
export type Fit = (typeof FIT_VALUES)[number];

export const TRANSITION_VALUES = ['none', 'crossfade'] as const;
export type Transition = (typeof TRANSITION_VALUES)[number];

/**
 * `constant`: a constant frame rate MP4 (every player).
 * `still`: one frame per still image, full frame rate only while a transition moves (variable frame rate MP4).
 */
export const FRAME_RATE_MODES = ['constant', 'still'] as const;
export type FrameRateMode = (typeof FRAME_RATE_MODES)[number];

/** Fully resolved options: what the engine renders. */
export interface RenderOptions {
  preset: PresetName;
  fps: Fps;
  secondsPerImage: number;
  /** Per-image seconds; when present its length equals the image count and it overrides secondsPerImage. */
  durations?: number[];
  fit: Fit;
  /** `#rrggbb`, lower case. */
  background: string;
  transition: Transition;
  transitionSeconds: number;
  frameRateMode: FrameRateMode;
}

/** What a client may send: every field optional. */
export type RenderOptionsInput = Partial<RenderOptions>;

export const DEFAULT_OPTIONS: Readonly<RenderOptions> = Object.freeze({
  preset: '720p',
  fps: 30,
  secondsPerImage: 3,
  fit: 'contain',
  background: '#000000',
  transition: 'none',
  transitionSeconds: 0.5,
  frameRateMode: 'constant',
});

export const OPTION_BOUNDS = Object.freeze({
  secondsPerImage: { min: 0.5, max: 20 },
  transitionSeconds: { min: 0.1, max: 2 },
});

export const OPTION_KEYS = [
  'preset',
  'fps',
  'secondsPerImage',
  'durations',
  'fit',
  'background',
  'transition',
  'transitionSeconds',
  'frameRateMode',
] as const satisfies readonly (keyof RenderOptions)[];

/** One problem with the options, addressed by field (e.g. `durations[3]`). */
export interface OptionIssue {
  field: string;
  message: string;
}

export type OptionsResult =
  | { ok: true; options: RenderOptions }
  | { ok: false; issues: OptionIssue[] };

const BACKGROUND_PATTERN = /^#[0-9a-fA-F]{6}$/;

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function inRange(v: number, bounds: { min: number; max: number }): boolean {
  return v >= bounds.min && v <= bounds.max;
}

/**
 * Validate client options against the schema and fill in defaults.
 * Unknown fields are rejected (a typo should not silently render something else).
 * `imageCount` is needed to check `durations` and the crossfade length.
 */
export function parseOptions(input: unknown, imageCount: number): OptionsResult {
  const issues: OptionIssue[] = [];
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, issues: [{ field: 'options', message: 'options must be a JSON object' }] };
  }
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      issues.push({ field: key, message: `unknown option "${key}"` });
    }
  }
  const out: RenderOptions = { ...DEFAULT_OPTIONS };

  if (raw.preset !== undefined) {
    if (typeof raw.preset === 'string' && (PRESET_NAMES as string[]).includes(raw.preset)) out.preset = raw.preset as PresetName;
    else issues.push({ field: 'preset', message: `preset must be one of ${PRESET_NAMES.join(', ')}` });
  }
  if (raw.fps !== undefined) {
    if ((FPS_VALUES as readonly unknown[]).includes(raw.fps)) out.fps = raw.fps as Fps;
    else issues.push({ field: 'fps', message: `fps must be one of ${FPS_VALUES.join(', ')}` });
  }
  if (raw.secondsPerImage !== undefined) {
    const b = OPTION_BOUNDS.secondsPerImage;
    if (isFiniteNumber(raw.secondsPerImage) && inRange(raw.secondsPerImage, b)) out.secondsPerImage = raw.secondsPerImage;
    else issues.push({ field: 'secondsPerImage', message: `secondsPerImage must be a number from ${b.min} to ${b.max}` });
  }
  if (raw.durations !== undefined) {
    const b = OPTION_BOUNDS.secondsPerImage;
    if (!Array.isArray(raw.durations)) {
      issues.push({ field: 'durations', message: 'durations must be an array of seconds, one per image' });
    } else if (raw.durations.length !== imageCount) {
      issues.push({ field: 'durations', message: `durations has ${raw.durations.length} entries but there are ${imageCount} images` });
    } else {
      raw.durations.forEach((d, i) => {
        if (!isFiniteNumber(d) || !inRange(d, b)) {
          issues.push({ field: `durations[${i}]`, message: `each duration must be a number from ${b.min} to ${b.max}` });
        }
      });
      out.durations = [...(raw.durations as number[])];
    }
  }
  if (raw.fit !== undefined) {
    if ((FIT_VALUES as readonly unknown[]).includes(raw.fit)) out.fit = raw.fit as Fit;
    else issues.push({ field: 'fit', message: `fit must be one of ${FIT_VALUES.join(', ')}` });
  }
  if (raw.background !== undefined) {
    if (typeof raw.background === 'string' && BACKGROUND_PATTERN.test(raw.background)) out.background = raw.background.toLowerCase();
    else issues.push({ field: 'background', message: 'background must be a colour like #1a2b3c' });
  }
  if (raw.transition !== undefined) {
    if ((TRANSITION_VALUES as readonly unknown[]).includes(raw.transition)) out.transition = raw.transition as Transition;
    else issues.push({ field: 'transition', message: `transition must be one of ${TRANSITION_VALUES.join(', ')}` });
  }
  if (raw.transitionSeconds !== undefined) {
    const b = OPTION_BOUNDS.transitionSeconds;
    if (isFiniteNumber(raw.transitionSeconds) && inRange(raw.transitionSeconds, b)) out.transitionSeconds = raw.transitionSeconds;
    else issues.push({ field: 'transitionSeconds', message: `transitionSeconds must be a number from ${b.min} to ${b.max}` });
  }
  if (raw.frameRateMode !== undefined) {
    if ((FRAME_RATE_MODES as readonly unknown[]).includes(raw.frameRateMode)) out.frameRateMode = raw.frameRateMode as FrameRateMode;
    else issues.push({ field: 'frameRateMode', message: `frameRateMode must be one of ${FRAME_RATE_MODES.join(', ')}` });
  }

  if (issues.length === 0 && out.transition === 'crossfade' && imageCount > 1) {
    const shortest = Math.min(...imageDurations(out, imageCount));
    if (out.transitionSeconds > shortest) {
      issues.push({
        field: 'transitionSeconds',
        message: `transitionSeconds (${out.transitionSeconds}) cannot be longer than the shortest image duration (${shortest})`,
      });
    }
  }
  return issues.length ? { ok: false, issues } : { ok: true, options: out };
}

/** Seconds each image is on screen. Transitions overlap inside these, so the video length is their sum. */
export function imageDurations(options: Pick<RenderOptions, 'secondsPerImage' | 'durations'>, imageCount: number): number[] {
  if (options.durations && options.durations.length === imageCount) return [...options.durations];
  return Array.from({ length: imageCount }, () => options.secondsPerImage);
}

/** Total video length in seconds: exactly the sum of image durations. */
export function videoDurationSeconds(options: Pick<RenderOptions, 'secondsPerImage' | 'durations'>, imageCount: number): number {
  return imageDurations(options, imageCount).reduce((a, b) => a + b, 0);
}

/** "1:05", "12:00", "1:02:03": how the UI and CLI show a length. */
export function formatDuration(seconds: number): string {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
