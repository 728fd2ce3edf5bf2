/** The S3 client for s3rver: the AWS adapter's client, pointed at a local endpoint with s3rver's built-in account. */
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../aws/s3.ts';

/** s3rver's built-in account (it accepts any signature made with it). */
export const S3RVER_CREDENTIALS = Object.freeze({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });

export function createS3rverClient(endpoint: string): S3Client {
  return createS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { ...S3RVER_CREDENTIALS } });
}
