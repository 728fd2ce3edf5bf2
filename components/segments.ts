import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { ENV, RENDER_PROCESS_ENV } from '../lambdas/src/core/config.ts';
import { JOBS_PREFIX, SEGMENTS_PREFIX } from '../lambdas/src/core/keys.ts';
import { DEFAULT_MAX_SEGMENTS, DEFAULT_SEGMENT_MIN_VIDEO_SECONDS } from '../lambdas/src/core/segments.ts';
import { childOpts, policyJson, type Ctx, type Statement } from './context.ts';
import { ephemeralStorageMbFor } from './args.ts';
import type { SecureBucket } from './buckets.ts';
import { createFunction, type PipelineFunction } from './functions.ts';
import { logStatement } from './iam.ts';

/**
 * Fan-out for long jobs (docs/architecture.md "Long jobs: fan-out"): args of {@link MediaPipeline}.
 * Off by default; with `segmentWorkers > 1` the component adds a `render-segment` function that
 * process-media invokes synchronously, once per segment, all at once.
 */
export interface FanOutArgs {
  /**
   * Segments a long render is split into, rendered in parallel by the `render-segment` function and
   * joined by process-media without re-encoding. 1 = off (no segment function is created). Build-time
   * choice (it decides which resources exist), so a plain number. At most 64.
   * @default 1
   */
  segmentWorkers?: number;
  /**
   * Only videos at least this many seconds long are split (shorter ones render in one piece).
   * @default 60
   */
  segmentMinVideoSeconds?: pulumi.Input<number>;
  /**
   * Memory of `render-segment` in MB (CPU grows with it: 1769 MB = 1 vCPU).
   * @default same as processMemoryMb
   */
  segmentMemoryMb?: pulumi.Input<number>;
  /**
   * Timeout of `render-segment` in seconds. process-media waits for its segments within its own timeout.
   * @default same as processTimeoutSeconds
   */
  segmentTimeoutSeconds?: pulumi.Input<number>;
}

export interface ResolvedFanOutArgs {
  segmentWorkers: number;
  segmentMinVideoSeconds: pulumi.Input<number>;
  segmentMemoryMb: pulumi.Input<number> | undefined;
  segmentTimeoutSeconds: pulumi.Input<number> | undefined;
}

export function resolveFanOutArgs(args: FanOutArgs): ResolvedFanOutArgs {
  const workers = args.segmentWorkers ?? 1;
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > DEFAULT_MAX_SEGMENTS) {
    throw new Error(`MediaPipeline: segmentWorkers must be a whole number from 1 to ${DEFAULT_MAX_SEGMENTS}, got ${JSON.stringify(args.segmentWorkers)}`);
  }
  return {
    segmentWorkers: workers,
    segmentMinVideoSeconds: args.segmentMinVideoSeconds ?? DEFAULT_SEGMENT_MIN_VIDEO_SECONDS,
    segmentMemoryMb: args.segmentMemoryMb,
    segmentTimeoutSeconds: args.segmentTimeoutSeconds,
  };
}

/**
 * render-segment: reads the job's images (never its manifest, status or lease: the request carries
 * what it needs), writes and deletes nothing but `segments/*` in the output bucket.
 */
export function segmentStatements(input: aws.s3.Bucket, output: aws.s3.Bucket, logGroup: aws.cloudwatch.LogGroup): Statement[] {
  return [
    logStatement(logGroup),
    {
      Sid: 'ReadJobImages',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: pulumi.interpolate`${input.arn}/${JOBS_PREFIX}*/images/*`,
    },
    {
      Sid: 'WriteSegments',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      Resource: pulumi.interpolate`${output.arn}/${SEGMENTS_PREFIX}*`,
    },
    // HEAD of a missing segment must answer 404 (not 403) for the "already stored?" check.
    { Sid: 'ListOutput', Effect: 'Allow', Action: 's3:ListBucket', Resource: output.arn },
  ];
}

/** The segment worker and what process-media needs to use it. */
export interface SegmentWorker {
  function: PipelineFunction;
  /** Environment process-media gets (RENDER_SEGMENTS, SEGMENT_MIN_VIDEO_SECONDS, SEGMENT_FUNCTION_NAME). */
  processEnvironment: Record<string, pulumi.Input<string>>;
}

/** The render-segment function (same layer, bundle style and limits as process-media), or undefined when fan-out is off. */
export function createSegmentFunction(
  ctx: Ctx,
  input: SecureBucket,
  output: SecureBucket,
  layerArn: pulumi.Input<string>,
  limitsEnvironment: Record<string, pulumi.Input<string>>,
): SegmentWorker | undefined {
  const a = ctx.args;
  if (a.fanOut.segmentWorkers <= 1) return undefined;
  const fn = createFunction(ctx, {
    part: 'render-segment',
    bundle: 'render-segment',
    description: 'media-pipeline fan-out worker: renders one segment of a long video (invoked by process-media)',
    statements: (logGroup) => segmentStatements(input.bucket, output.bucket, logGroup),
    environment: {
      [ENV.inputBucket]: input.bucket.id,
      [ENV.outputBucket]: output.bucket.id,
      [ENV.ffmpegPath]: '/opt/bin/ffmpeg',
      ...RENDER_PROCESS_ENV,
      ...limitsEnvironment,
    },
    memorySize: a.fanOut.segmentMemoryMb ?? a.processMemoryMb,
    timeout: a.fanOut.segmentTimeoutSeconds ?? a.processTimeoutSeconds,
    layers: [layerArn],
    // Sized like process-media's: a segment is never longer than the whole video.
    ephemeralStorageMb:
      a.processEphemeralStorageMb ?? pulumi.all([a.maxVideoSeconds, a.maxImageBytes]).apply(([seconds, bytes]) => ephemeralStorageMbFor(seconds, bytes)),
  });
  return {
    function: fn,
    processEnvironment: {
      [ENV.renderSegments]: String(a.fanOut.segmentWorkers),
      [ENV.segmentMinVideoSeconds]: pulumi.output(a.fanOut.segmentMinVideoSeconds).apply(String),
      [ENV.segmentFunctionName]: fn.fn.name,
    },
  };
}

/**
 * process-media may invoke exactly the segment function, read the segments it joins and delete them
 * (a second inline policy on its role, so its main policy stays the same with fan-out off).
 */
export function grantSegmentInvoke(ctx: Ctx, processMedia: PipelineFunction, worker: SegmentWorker, output: SecureBucket): aws.iam.RolePolicy {
  return new aws.iam.RolePolicy(
    `${ctx.name}-process-media-fan-out-policy`,
    {
      role: processMedia.role.role.id,
      policy: policyJson([
        { Sid: 'InvokeSegmentWorker', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: worker.function.fn.arn },
        {
          Sid: 'JoinAndDeleteSegments',
          Effect: 'Allow',
          Action: ['s3:GetObject', 's3:DeleteObject'],
          Resource: pulumi.interpolate`${output.bucket.arn}/${SEGMENTS_PREFIX}*`,
        },
      ]),
    },
    childOpts(ctx),
  );
}
