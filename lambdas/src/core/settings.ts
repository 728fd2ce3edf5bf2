/**
 * Function settings read from the environment (names in config.ts ENV). Pure: takes the env record,
 * so the entry points, the local stack and tests share one parser.
 */
import { DEFAULT_LIMITS, type Limits } from '../../../contracts/index.ts';
import { ENV } from './config.ts';

export interface Settings {
  inputBucket: string;
  outputBucket: string;
  limits: Limits;
  /** Prefix of video URLs in job status; default `/videos` (same origin). No trailing slash. */
  videosBaseUrl: string;
  ffmpegPath?: string;
  /** process-media attempts (first try + async retries); default 3. */
  processMaxAttempts: number;
}

export const DEFAULT_PROCESS_MAX_ATTEMPTS = 3;

type Env = Record<string, string | undefined>;

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return n;
}

function required(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

export function limitsFromEnv(env: Env, base: Limits = DEFAULT_LIMITS): Limits {
  return {
    maxImages: positiveInt(env, ENV.maxImages, base.maxImages),
    maxImageBytes: positiveInt(env, ENV.maxImageBytes, base.maxImageBytes),
    grantTtlSeconds: positiveInt(env, ENV.grantTtlSeconds, base.grantTtlSeconds),
    maxImagePixels: positiveInt(env, ENV.maxImagePixels, base.maxImagePixels),
    maxVideoSeconds: positiveInt(env, ENV.maxVideoSeconds, base.maxVideoSeconds),
  };
}

/** Read every setting; throws a clear error naming the variable when one is missing or malformed. */
export function settingsFromEnv(env: Env): Settings {
  const s: Settings = {
    inputBucket: required(env, ENV.inputBucket),
    outputBucket: required(env, ENV.outputBucket),
    limits: limitsFromEnv(env),
    videosBaseUrl: (env[ENV.videosBaseUrl] || '/videos').replace(/\/+$/, ''),
    processMaxAttempts: positiveInt(env, ENV.processMaxAttempts, DEFAULT_PROCESS_MAX_ATTEMPTS),
  };
  if (env[ENV.ffmpegPath]) s.ffmpegPath = env[ENV.ffmpegPath];
  return s;
}
