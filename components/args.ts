import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as pulumi from '@pulumi/pulumi';
import { DEFAULT_LIMITS } from '../contracts/index.ts';
import { resolveFanOutArgs, type FanOutArgs, type ResolvedFanOutArgs } from './segments.ts';

/** CPU architecture of both functions and the FFmpeg layer. */
import type { Architecture } from '../lambdas/architecture.ts';

export type { Architecture };

/** Arguments of {@link MediaPipeline}: every one optional, with secure defaults. Fan-out args: {@link FanOutArgs}. */
export interface MediaPipelineArgs extends FanOutArgs {
  /**
   * CPU architecture of the functions, the sharp binaries in the process-media bundle and the FFmpeg layer.
   * Build-time choice (it picks the artifacts), so a plain value, not an Input.
   * @default "arm64"
   */
  architecture?: Architecture;
  /**
   * Memory of `process-media` in MB (Lambda gives CPU in proportion: 1769 MB = 1 vCPU).
   * @default 3008
   */
  processMemoryMb?: pulumi.Input<number>;
  /**
   * Timeout of `process-media` in seconds (max 900). The duration alarm fires at 80% of it.
   * @default 900
   */
  processTimeoutSeconds?: pulumi.Input<number>;
  /**
   * `/tmp` size of `process-media` in MB (512..10240).
   * @default sized from the limits: 1 MB per second of the longest video (8 Mbit/s) plus four of the largest images, x1.5, rounded up to 512 MB
   */
  processEphemeralStorageMb?: pulumi.Input<number>;
  /**
   * Reserved concurrency of `process-media` (caps parallel renders and their cost). Unset: unreserved.
   * @default undefined
   */
  processReservedConcurrency?: pulumi.Input<number>;
  /**
   * Memory of the API function in MB.
   * @default 512
   */
  apiMemoryMb?: pulumi.Input<number>;
  /**
   * Timeout of the API function in seconds (API Gateway waits at most 30).
   * @default 10
   */
  apiTimeoutSeconds?: pulumi.Input<number>;
  /**
   * Most images in one job (`MAX_IMAGES`).
   * @default 200
   */
  maxImages?: pulumi.Input<number>;
  /**
   * Largest accepted image in bytes (`MAX_IMAGE_BYTES`; the upload grant's content-length-range).
   * @default 26214400 (25 MiB)
   */
  maxImageBytes?: pulumi.Input<number>;
  /**
   * Lifetime of upload grants in seconds (`GRANT_TTL_SECONDS`).
   * @default 900
   */
  grantTtlSeconds?: pulumi.Input<number>;
  /**
   * Largest decoded image in pixels (`MAX_IMAGE_PIXELS`).
   * @default 100000000
   */
  maxImagePixels?: pulumi.Input<number>;
  /**
   * Longest video one job may ask for, in seconds (`MAX_VIDEO_SECONDS`).
   * @default 900
   */
  maxVideoSeconds?: pulumi.Input<number>;
  /**
   * Extra origins allowed to upload to the input bucket (S3 CORS) besides the distribution's own
   * `https://<cdn domain>`, e.g. `http://localhost:5173` for a dev server or a custom domain.
   * @default []
   */
  allowedOrigins?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * API Gateway stage throttling: steady requests per second.
   * @default 20
   */
  apiThrottlingRateLimit?: pulumi.Input<number>;
  /**
   * API Gateway stage throttling: burst.
   * @default 40
   */
  apiThrottlingBurstLimit?: pulumi.Input<number>;
  /**
   * Optional JWT authorizer (Cognito, Auth0, ...) attached to every API route. Unset: the API is public
   * (the job id is the only key to a job; see docs/security.md).
   * @default undefined
   */
  authorizer?: {
    /** Token issuer URL, e.g. `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
    issuer: pulumi.Input<string>;
    /** Accepted `aud` values (Cognito: the app client ids). */
    audience: pulumi.Input<pulumi.Input<string>[]>;
  };
  /**
   * Directory of the built UI (e.g. `ui/dist`) to deploy at `/` with a generated `config.json`.
   * Omit to deploy no site (the distribution then serves only `/videos/*` and `/api/*`).
   * @default undefined
   */
  site?: string;
  /**
   * ARN of an existing FFmpeg layer (with `bin/ffmpeg` for the same architecture). Unset: the component
   * publishes `dist/layers/ffmpeg-<architecture>.zip` built by `npm run build:layer`.
   * @default undefined
   */
  ffmpegLayerArn?: pulumi.Input<string>;
  /**
   * Directory holding the build artifacts: `lambdas/<fn>/` (from `npm run build:lambdas`) and
   * `layers/ffmpeg-<arch>.zip` (from `npm run build:layer`).
   * @default the package's `dist/`
   */
  artifactsDir?: string;
  /**
   * Days uploads (everything under `jobs/` in the input bucket: images, manifests, job status) are kept.
   * @default 2
   */
  uploadRetentionDays?: pulumi.Input<number>;
  /**
   * Days rendered videos and posters are kept.
   * @default 30
   */
  videoRetentionDays?: pulumi.Input<number>;
  /**
   * Days function logs are kept.
   * @default 30
   */
  logRetentionDays?: pulumi.Input<number>;
  /**
   * E-mail address subscribed to the alarm topic (the address must confirm the subscription).
   * @default undefined
   */
  alarmEmail?: pulumi.Input<string>;
  /**
   * Existing SNS topic for alarms. Unset: the component creates one.
   * @default undefined
   */
  alarmTopicArn?: pulumi.Input<string>;
  /**
   * p95 API latency (ms) above which the latency alarm fires.
   * @default 2000
   */
  apiLatencyAlarmMs?: pulumi.Input<number>;
  /**
   * CloudFront price class.
   * @default "PriceClass_100"
   */
  priceClass?: pulumi.Input<string>;
  /**
   * Content-Security-Policy sent with every response. The default allows only what the page uses:
   * its own scripts and styles, `blob:` previews, same-origin API and videos, uploads to the input bucket.
   * @default derived from the input bucket (see docs/architecture.md)
   */
  contentSecurityPolicy?: pulumi.Input<string>;
  /**
   * Tags on every taggable child.
   * @default {}
   */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * `protect` on the stateful children (buckets), so `pulumi destroy` refuses to delete them.
   * @default false
   */
  protect?: boolean;
  /**
   * `retainOnDelete` on the buckets: deleting the stack leaves them (and their videos) in the account.
   * @default false
   */
  retainOnDelete?: boolean;
  /**
   * Let `pulumi destroy` delete non-empty buckets (handy for dev stacks; keep false in production).
   * @default false
   */
  forceDestroy?: pulumi.Input<boolean>;
}

/** The package root (components/..): default home of `dist/`. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Attempts process-media gets per event: 1 + async retries. The handler marks the job failed on the last. */
export const PROCESS_RETRY_ATTEMPTS = 2;
export const PROCESS_MAX_ATTEMPTS = 1 + PROCESS_RETRY_ATTEMPTS;
/** How long Lambda keeps retrying an event before it goes to the dead-letter queue. */
export const PROCESS_MAX_EVENT_AGE_SECONDS = 3600;
/** The duration alarm fires when p95 duration crosses this share of the timeout. */
export const DURATION_ALARM_RATIO = 0.8;

/** Args with every default filled in. */
export interface ResolvedArgs {
  architecture: Architecture;
  processMemoryMb: pulumi.Input<number>;
  processTimeoutSeconds: pulumi.Input<number>;
  processEphemeralStorageMb: pulumi.Input<number> | undefined;
  processReservedConcurrency: pulumi.Input<number> | undefined;
  apiMemoryMb: pulumi.Input<number>;
  apiTimeoutSeconds: pulumi.Input<number>;
  maxImages: pulumi.Input<number>;
  maxImageBytes: pulumi.Input<number>;
  grantTtlSeconds: pulumi.Input<number>;
  maxImagePixels: pulumi.Input<number>;
  maxVideoSeconds: pulumi.Input<number>;
  allowedOrigins: pulumi.Input<pulumi.Input<string>[]>;
  apiThrottlingRateLimit: pulumi.Input<number>;
  apiThrottlingBurstLimit: pulumi.Input<number>;
  authorizer: MediaPipelineArgs['authorizer'];
  site: string | undefined;
  ffmpegLayerArn: pulumi.Input<string> | undefined;
  artifactsDir: string;
  uploadRetentionDays: pulumi.Input<number>;
  videoRetentionDays: pulumi.Input<number>;
  logRetentionDays: pulumi.Input<number>;
  alarmEmail: pulumi.Input<string> | undefined;
  alarmTopicArn: pulumi.Input<string> | undefined;
  apiLatencyAlarmMs: pulumi.Input<number>;
  priceClass: pulumi.Input<string>;
  contentSecurityPolicy: pulumi.Input<string> | undefined;
  tags: pulumi.Input<Record<string, pulumi.Input<string>>>;
  protect: boolean;
  retainOnDelete: boolean;
  forceDestroy: pulumi.Input<boolean>;
  fanOut: ResolvedFanOutArgs;
}

export function resolveArgs(args: MediaPipelineArgs): ResolvedArgs {
  const architecture = args.architecture ?? 'arm64';
  if (architecture !== 'arm64' && architecture !== 'x86_64') {
    throw new Error(`MediaPipeline: architecture must be "arm64" or "x86_64", got ${JSON.stringify(architecture)}`);
  }
  return {
    architecture,
    processMemoryMb: args.processMemoryMb ?? 3008,
    processTimeoutSeconds: args.processTimeoutSeconds ?? 900,
    processEphemeralStorageMb: args.processEphemeralStorageMb,
    processReservedConcurrency: args.processReservedConcurrency,
    apiMemoryMb: args.apiMemoryMb ?? 512,
    apiTimeoutSeconds: args.apiTimeoutSeconds ?? 10,
    maxImages: args.maxImages ?? DEFAULT_LIMITS.maxImages,
    maxImageBytes: args.maxImageBytes ?? DEFAULT_LIMITS.maxImageBytes,
    grantTtlSeconds: args.grantTtlSeconds ?? DEFAULT_LIMITS.grantTtlSeconds,
    maxImagePixels: args.maxImagePixels ?? DEFAULT_LIMITS.maxImagePixels,
    maxVideoSeconds: args.maxVideoSeconds ?? DEFAULT_LIMITS.maxVideoSeconds,
    allowedOrigins: args.allowedOrigins ?? [],
    apiThrottlingRateLimit: args.apiThrottlingRateLimit ?? 20,
    apiThrottlingBurstLimit: args.apiThrottlingBurstLimit ?? 40,
    authorizer: args.authorizer,
    site: args.site,
    ffmpegLayerArn: args.ffmpegLayerArn,
    artifactsDir: args.artifactsDir ?? path.join(PACKAGE_ROOT, 'dist'),
    uploadRetentionDays: args.uploadRetentionDays ?? 2,
    videoRetentionDays: args.videoRetentionDays ?? 30,
    logRetentionDays: args.logRetentionDays ?? 30,
    alarmEmail: args.alarmEmail,
    alarmTopicArn: args.alarmTopicArn,
    apiLatencyAlarmMs: args.apiLatencyAlarmMs ?? 2000,
    priceClass: args.priceClass ?? 'PriceClass_100',
    contentSecurityPolicy: args.contentSecurityPolicy,
    tags: args.tags ?? {},
    protect: args.protect ?? false,
    retainOnDelete: args.retainOnDelete ?? false,
    forceDestroy: args.forceDestroy ?? false,
    fanOut: resolveFanOutArgs(args),
  };
}

/**
 * `/tmp` for process-media: the engine streams images in one at a time, so the disk holds the output
 * video (at most ~1 MB per second of video: 8 Mbit/s) plus a few images. x1.5 headroom, in 512 MB steps.
 * With fan-out the join holds the segments and the joined file at once: `videoCopies` 2.
 */
export function ephemeralStorageMbFor(maxVideoSeconds: number, maxImageBytes: number, videoCopies = 1): number {
  const mb = 1024 * 1024;
  const need = (videoCopies * maxVideoSeconds * mb + 4 * maxImageBytes) * 1.5;
  const rounded = Math.ceil(need / mb / 512) * 512;
  return Math.min(10240, Math.max(512, rounded));
}
