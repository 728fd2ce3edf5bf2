import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { JOBS_PREFIX, SEGMENTS_PREFIX, VIDEOS_PREFIX } from '../lambdas/src/core/keys.ts';
import { childOpts, policyJson, type Ctx, type Statement } from './context.ts';

/** A private, encrypted bucket. Its policy is written later (it may name the distribution). */
export interface SecureBucket {
  bucket: aws.s3.Bucket;
  publicAccessBlock: aws.s3.BucketPublicAccessBlock;
}

/**
 * Bucket + public access block (all four) + SSE-S3 encryption + lifecycle. Protect/retain options from args
 * apply to the bucket itself.
 */
export function createSecureBucket(
  ctx: Ctx,
  part: string,
  lifecycle: pulumi.Input<aws.types.input.s3.BucketLifecycleConfigurationRule>[],
): SecureBucket {
  const { args } = ctx;
  const bucket = new aws.s3.Bucket(
    `${ctx.name}-${part}`,
    { forceDestroy: args.forceDestroy, tags: args.tags },
    childOpts(ctx, { protect: args.protect, retainOnDelete: args.retainOnDelete }),
  );
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
    `${ctx.name}-${part}-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    childOpts(ctx),
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${ctx.name}-${part}-encryption`,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
    },
    childOpts(ctx),
  );
  new aws.s3.BucketLifecycleConfiguration(`${ctx.name}-${part}-lifecycle`, { bucket: bucket.id, rules: lifecycle }, childOpts(ctx));
  return { bucket, publicAccessBlock };
}

/** Every bucket policy starts with this: refuse any request not made over TLS. */
export function tlsOnlyStatement(bucket: aws.s3.Bucket): Statement {
  return {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

/** The bucket's one policy: TLS-only deny plus `extra` (e.g. the distribution's read grant). */
export function createBucketPolicy(ctx: Ctx, part: string, b: SecureBucket, extra: Statement[] = []): aws.s3.BucketPolicy {
  return new aws.s3.BucketPolicy(
    `${ctx.name}-${part}-policy`,
    { bucket: b.bucket.id, policy: policyJson([tlsOnlyStatement(b.bucket), ...extra]) },
    childOpts(ctx, { dependsOn: [b.publicAccessBlock] }),
  );
}

const abortMultipart = { abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } };

/** Input bucket: uploads expire after `uploadRetentionDays`; half-finished multipart uploads after a day. */
export function createInputBucket(ctx: Ctx): SecureBucket {
  return createSecureBucket(ctx, 'input', [
    {
      id: 'expire-uploads',
      status: 'Enabled',
      filter: { prefix: JOBS_PREFIX },
      expiration: { days: ctx.args.uploadRetentionDays },
      ...abortMultipart,
    },
    { id: 'abort-incomplete-multipart', status: 'Enabled', filter: { prefix: '' }, ...abortMultipart },
  ]);
}

/**
 * Output bucket: videos and posters expire after `videoRetentionDays`; fan-out segments (deleted after
 * each join) after a day, in case a join never ran.
 */
export function createOutputBucket(ctx: Ctx): SecureBucket {
  return createSecureBucket(ctx, 'output', [
    {
      id: 'expire-videos',
      status: 'Enabled',
      filter: { prefix: VIDEOS_PREFIX },
      expiration: { days: ctx.args.videoRetentionDays },
    },
    { id: 'expire-segments', status: 'Enabled', filter: { prefix: SEGMENTS_PREFIX }, expiration: { days: 1 } },
    { id: 'abort-incomplete-multipart', status: 'Enabled', filter: { prefix: '' }, ...abortMultipart },
  ]);
}

/** Site bucket: the page's files (replaced on every deploy); only unfinished uploads are cleaned up. */
export function createSiteBucket(ctx: Ctx): SecureBucket {
  return createSecureBucket(ctx, 'site', [
    { id: 'abort-incomplete-multipart', status: 'Enabled', filter: { prefix: '' }, ...abortMultipart },
  ]);
}

/**
 * Browser uploads go straight to the input bucket with pre-signed POST forms: allow POST only, from the
 * distribution's origin and `allowedOrigins`, and expose ETag. (PUT grants are for curl and SDKs, which
 * need no CORS.)
 */
export function createUploadCors(ctx: Ctx, input: SecureBucket, origins: pulumi.Input<pulumi.Input<string>[]>): aws.s3.BucketCorsConfiguration {
  return new aws.s3.BucketCorsConfiguration(
    `${ctx.name}-input-cors`,
    {
      bucket: input.bucket.id,
      corsRules: [
        {
          id: 'browser-uploads',
          allowedMethods: ['POST'],
          allowedOrigins: origins,
          allowedHeaders: ['*'],
          exposeHeaders: ['ETag'],
          maxAgeSeconds: 3000,
        },
      ],
    },
    childOpts(ctx),
  );
}

/** Read grant for CloudFront (OAC): only this distribution, only `objects` of the bucket. */
export function distributionReadStatement(objects: pulumi.Input<string>, distributionArn: pulumi.Input<string>): Statement {
  return {
    Sid: 'AllowCloudFrontRead',
    Effect: 'Allow',
    Principal: { Service: 'cloudfront.amazonaws.com' },
    Action: 's3:GetObject',
    Resource: objects,
    Condition: { StringEquals: { 'AWS:SourceArn': distributionArn } },
  };
}
