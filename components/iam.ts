import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { JOBS_PREFIX, VIDEOS_PREFIX } from '../lambdas/src/core/keys.ts';
import { childOpts, policyJson, type Ctx, type Statement } from './context.ts';

/** A function's execution role and its one inline policy. */
export interface FunctionRole {
  role: aws.iam.Role;
  policy: aws.iam.RolePolicy;
}

const lambdaTrust = pulumi.jsonStringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

/** One role per function, one inline policy with exact actions and resources (no managed policies). */
export function createFunctionRole(ctx: Ctx, part: string, statements: Statement[]): FunctionRole {
  const role = new aws.iam.Role(`${ctx.name}-${part}-role`, { assumeRolePolicy: lambdaTrust, tags: ctx.args.tags }, childOpts(ctx));
  const policy = new aws.iam.RolePolicy(
    `${ctx.name}-${part}-policy`,
    { role: role.id, policy: policyJson(statements) },
    childOpts(ctx),
  );
  return { role, policy };
}

/** Write to the function's own log group only (the group is created by the component, so no CreateLogGroup). */
export function logStatement(logGroup: aws.cloudwatch.LogGroup): Statement {
  return {
    Sid: 'WriteOwnLogs',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: pulumi.interpolate`${logGroup.arn}:*`,
  };
}

/**
 * `s3:ListBucket` on the bucket ARN: without it S3 answers 403 instead of 404 for a missing key, and the
 * handlers rely on "not found" (e.g. `uploads_missing`, a manifest not yet readable). Each bucket holds a
 * single prefix (`jobs/` or `videos/`), so this reveals nothing beyond it.
 */
function listStatement(sid: string, bucket: aws.s3.Bucket): Statement {
  return { Sid: sid, Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket.arn };
}

/**
 * API: reads and writes job files (`job.json`, `manifest.json`, and signs the browser's image uploads)
 * under `jobs/*` in the input bucket. Nothing in the output bucket: it cannot read videos.
 */
export function apiStatements(input: aws.s3.Bucket, logGroup: aws.cloudwatch.LogGroup): Statement[] {
  return [
    logStatement(logGroup),
    {
      Sid: 'ReadWriteJobs',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: pulumi.interpolate`${input.arn}/${JOBS_PREFIX}*`,
    },
    listStatement('ListInput', input),
  ];
}

/**
 * process-media: reads everything of a job, writes only the job status and its render lease in the
 * input bucket (the lease may be deleted when released), writes videos and posters to the output bucket
 * (multipart, so it may abort its own uploads) and reads them back to finish a job whose video already
 * exists. Failed events go to the dead-letter queue through the async-invoke destination, which uses this
 * role.
 */
export function processStatements(
  input: aws.s3.Bucket,
  output: aws.s3.Bucket,
  deadLetterQueue: aws.sqs.Queue,
  logGroup: aws.cloudwatch.LogGroup,
): Statement[] {
  return [
    logStatement(logGroup),
    {
      Sid: 'ReadJobs',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: pulumi.interpolate`${input.arn}/${JOBS_PREFIX}*`,
    },
    {
      Sid: 'WriteJobStatusAndLease',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: [pulumi.interpolate`${input.arn}/${JOBS_PREFIX}*/status.json`, pulumi.interpolate`${input.arn}/${JOBS_PREFIX}*/lease.json`],
    },
    {
      Sid: 'ReleaseLease',
      Effect: 'Allow',
      Action: 's3:DeleteObject',
      Resource: pulumi.interpolate`${input.arn}/${JOBS_PREFIX}*/lease.json`,
    },
    listStatement('ListInput', input),
    {
      Sid: 'WriteVideos',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
      Resource: pulumi.interpolate`${output.arn}/${VIDEOS_PREFIX}*`,
    },
    listStatement('ListOutput', output),
    {
      Sid: 'DeadLetter',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: deadLetterQueue.arn,
    },
  ];
}
