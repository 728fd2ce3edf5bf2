import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { ENV, METRICS_NAMESPACE, RENDER_PROCESS_ENV } from '../lambdas/src/core/config.ts';
import { JOBS_PREFIX, MANIFEST_SUFFIX } from '../lambdas/src/core/keys.ts';
import {
  PROCESS_MAX_ATTEMPTS,
  PROCESS_MAX_EVENT_AGE_SECONDS,
  PROCESS_RETRY_ATTEMPTS,
  ephemeralStorageMbFor,
} from './args.ts';
import { apiStatements, createFunctionRole, processStatements, type FunctionRole } from './iam.ts';
import { functionDir, requireArtifact, requireBundleArchitecture } from './layer.ts';
import { childOpts, type Ctx, type Statement } from './context.ts';
import type { SecureBucket } from './buckets.ts';

/** A function with its role and log group. */
export interface PipelineFunction {
  fn: aws.lambda.Function;
  role: FunctionRole;
  logGroup: aws.cloudwatch.LogGroup;
}

interface FunctionSpec {
  /** Part name: the bundle is `dist/lambdas/<bundle>`; children are `${name}-<part>`, `-<part>-role`, ... */
  part: string;
  bundle: 'api' | 'process-media' | 'render-segment';
  description: string;
  statements: (logGroup: aws.cloudwatch.LogGroup) => Statement[];
  environment: Record<string, pulumi.Input<string>>;
  memorySize: pulumi.Input<number>;
  timeout: pulumi.Input<number>;
  layers?: pulumi.Input<string>[];
  ephemeralStorageMb?: pulumi.Input<number>;
  reservedConcurrency?: pulumi.Input<number>;
}

/**
 * One function: its log group (retention from args), its own role, and the esbuild bundle from
 * `npm run build:lambdas` (handler `index.handler`). A fan-out segment worker would be one more call.
 */
export function createFunction(ctx: Ctx, spec: FunctionSpec): PipelineFunction {
  const { args } = ctx;
  const code = requireArtifact(functionDir(args.artifactsDir, spec.bundle), `npm run build:lambdas -- --arch ${args.architecture}`);
  requireBundleArchitecture(args.artifactsDir, args.architecture);
  const logGroup = new aws.cloudwatch.LogGroup(
    `${ctx.name}-${spec.part}-logs`,
    { namePrefix: `/media-pipeline/${ctx.serviceName}/${spec.part}-`, retentionInDays: args.logRetentionDays, tags: args.tags },
    childOpts(ctx),
  );
  const role = createFunctionRole(ctx, spec.part, spec.statements(logGroup));
  const fn = new aws.lambda.Function(
    `${ctx.name}-${spec.part}`,
    {
      description: spec.description,
      runtime: 'nodejs22.x',
      architectures: [args.architecture],
      handler: 'index.handler',
      code: new pulumi.asset.FileArchive(code),
      role: role.role.arn,
      memorySize: spec.memorySize,
      timeout: spec.timeout,
      layers: spec.layers,
      ephemeralStorage: spec.ephemeralStorageMb === undefined ? undefined : { size: spec.ephemeralStorageMb },
      reservedConcurrentExecutions: spec.reservedConcurrency,
      loggingConfig: { logFormat: 'Text', logGroup: logGroup.name },
      environment: {
        variables: {
          POWERTOOLS_SERVICE_NAME: ctx.serviceName,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          ...spec.environment,
        },
      },
      tags: args.tags,
    },
    childOpts(ctx, { dependsOn: [role.policy] }),
  );
  return { fn, role, logGroup };
}

/** Environment both functions share: buckets layout and the limits from args. */
export function limitsEnvironment(ctx: Ctx): Record<string, pulumi.Input<string>> {
  const a = ctx.args;
  const s = (v: pulumi.Input<number>) => pulumi.output(v).apply(String);
  return {
    [ENV.maxImages]: s(a.maxImages),
    [ENV.maxImageBytes]: s(a.maxImageBytes),
    [ENV.grantTtlSeconds]: s(a.grantTtlSeconds),
    [ENV.maxImagePixels]: s(a.maxImagePixels),
    [ENV.maxVideoSeconds]: s(a.maxVideoSeconds),
    [ENV.videosBaseUrl]: '/videos',
  };
}

/** The API function: creates jobs, signs uploads, starts jobs, answers status. */
export function createApiFunction(ctx: Ctx, input: SecureBucket, output: SecureBucket): PipelineFunction {
  return createFunction(ctx, {
    part: 'api',
    bundle: 'api',
    description: 'media-pipeline HTTP API: POST /api/jobs, POST /api/jobs/{jobId}/start, GET /api/jobs/{jobId}',
    statements: (logGroup) => apiStatements(input.bucket, logGroup),
    environment: {
      [ENV.inputBucket]: input.bucket.id,
      // The name only (for building video URLs); the role grants nothing on the output bucket.
      [ENV.outputBucket]: output.bucket.id,
      // Status reports a job failed once its last process-media attempt died silently.
      [ENV.processMaxAttempts]: String(PROCESS_MAX_ATTEMPTS),
      ...limitsEnvironment(ctx),
    },
    memorySize: ctx.args.apiMemoryMb,
    timeout: ctx.args.apiTimeoutSeconds,
  });
}

/** The dead-letter queue for process-media events that failed every attempt (SSE with SQS-managed keys). */
export function createDeadLetterQueue(ctx: Ctx): aws.sqs.Queue {
  return new aws.sqs.Queue(
    `${ctx.name}-process-dlq`,
    { sqsManagedSseEnabled: true, messageRetentionSeconds: 14 * 24 * 3600, tags: ctx.args.tags },
    childOpts(ctx),
  );
}

/** process-media: the render, with the FFmpeg layer at /opt/bin/ffmpeg. */
export function createProcessFunction(
  ctx: Ctx,
  input: SecureBucket,
  output: SecureBucket,
  deadLetterQueue: aws.sqs.Queue,
  layerArn: pulumi.Input<string>,
  /** Extra variables, e.g. the fan-out settings from components/segments.ts. */
  extraEnvironment: Record<string, pulumi.Input<string>> = {},
): PipelineFunction {
  const a = ctx.args;
  const ephemeral =
    a.processEphemeralStorageMb ??
    pulumi
      .all([a.maxVideoSeconds, a.maxImageBytes])
      .apply(([seconds, bytes]) => ephemeralStorageMbFor(seconds, bytes, a.fanOut.segmentWorkers > 1 ? 2 : 1));
  return createFunction(ctx, {
    part: 'process-media',
    bundle: 'process-media',
    description: 'media-pipeline render: images → MP4 + poster (S3 event on jobs/<id>/manifest.json)',
    statements: (logGroup) => processStatements(input.bucket, output.bucket, deadLetterQueue, logGroup),
    environment: {
      [ENV.inputBucket]: input.bucket.id,
      [ENV.outputBucket]: output.bucket.id,
      [ENV.ffmpegPath]: '/opt/bin/ffmpeg',
      ...RENDER_PROCESS_ENV,
      [ENV.processMaxAttempts]: String(PROCESS_MAX_ATTEMPTS),
      ...limitsEnvironment(ctx),
      ...extraEnvironment,
    },
    memorySize: a.processMemoryMb,
    timeout: a.processTimeoutSeconds,
    layers: [layerArn],
    ephemeralStorageMb: ephemeral,
    reservedConcurrency: a.processReservedConcurrency,
  });
}

/**
 * S3 invokes process-media asynchronously: bounded retries and event age, then the event goes to the
 * dead-letter queue. The handler marks the job failed on its last attempt (PROCESS_MAX_ATTEMPTS).
 */
export function createAsyncInvokeConfig(ctx: Ctx, processMedia: PipelineFunction, deadLetterQueue: aws.sqs.Queue): aws.lambda.FunctionEventInvokeConfig {
  return new aws.lambda.FunctionEventInvokeConfig(
    `${ctx.name}-process-media-invoke-config`,
    {
      functionName: processMedia.fn.name,
      maximumRetryAttempts: PROCESS_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: PROCESS_MAX_EVENT_AGE_SECONDS,
      destinationConfig: { onFailure: { destination: deadLetterQueue.arn } },
    },
    childOpts(ctx, { dependsOn: [processMedia.role.policy] }),
  );
}

/**
 * The trigger: the API writes `jobs/<id>/manifest.json` last, when every upload is in place; its
 * ObjectCreated event invokes process-media. S3 may invoke only from this bucket and account.
 */
export function createManifestTrigger(ctx: Ctx, input: SecureBucket, processMedia: PipelineFunction): aws.s3.BucketNotification {
  const permission = new aws.lambda.Permission(
    `${ctx.name}-process-media-s3-permission`,
    {
      action: 'lambda:InvokeFunction',
      function: processMedia.fn.name,
      principal: 's3.amazonaws.com',
      sourceArn: input.bucket.arn,
      sourceAccount: ctx.accountId,
    },
    childOpts(ctx),
  );
  return new aws.s3.BucketNotification(
    `${ctx.name}-input-notification`,
    {
      bucket: input.bucket.id,
      lambdaFunctions: [
        {
          lambdaFunctionArn: processMedia.fn.arn,
          events: ['s3:ObjectCreated:*'],
          filterPrefix: JOBS_PREFIX,
          filterSuffix: MANIFEST_SUFFIX.slice(1),
        },
      ],
    },
    childOpts(ctx, { dependsOn: [permission] }),
  );
}
