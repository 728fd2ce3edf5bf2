/**
 * ObjectStore and UploadSigner on Amazon S3 (AWS SDK v3). The local stack uses the same classes
 * pointed at s3rver (see adapters/local).
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { PreconditionFailedError, type ObjectInfo, type ObjectStore, type PutOptions, type UploadSigner } from '../../core/ports.ts';

/**
 * Network time limits of every S3 call. Without them a connection that stops answering hangs the
 * call until the function times out (the SDK sets none by default), and a job on its last attempt
 * would stay `processing` forever. With them the call fails with TimeoutError, the SDK retries it
 * (3 attempts), and the handler sees a storage error it can retry or report (issue 6 faults).
 * `socketTimeout` is inactivity, so long uploads and downloads that keep moving are not cut.
 */
export const S3_TIMEOUTS = { connectionTimeout: 5_000, socketTimeout: 30_000 } as const;

/**
 * An S3 client with the settings every part of the project uses: checksums only when an operation
 * requires them (pre-signed URLs and s3rver stay simple), the network time limits above, plus
 * whatever the caller adds (endpoint and forcePathStyle for s3rver).
 */
export function createS3Client(config: S3ClientConfig = {}): S3Client {
  return new S3Client({
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { ...S3_TIMEOUTS },
    ...config,
  });
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException) && !(err instanceof Error)) return false;
  const e = err as S3ServiceException;
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

function isPreconditionFailed(err: unknown): boolean {
  const e = err as S3ServiceException;
  // 412 PreconditionFailed; 409 ConditionalRequestConflict (a concurrent conditional write won).
  return e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412 || e?.name === 'ConditionalRequestConflict';
}

export class S3ObjectStore implements ObjectStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return info(key, r);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async getStream(key: string): Promise<{ body: Readable; info: ObjectInfo } | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: r.Body as Readable, info: info(key, r) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async getBytes(key: string): Promise<{ body: Uint8Array; info: ObjectInfo } | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = await r.Body!.transformToByteArray();
      return { body, info: info(key, r, body.length) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions & { contentLength?: number } = {}): Promise<{ etag: string }> {
    try {
      const r = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          ContentLength: options.contentLength ?? (typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.length : undefined),
          Metadata: options.metadata,
          CacheControl: options.cacheControl,
          IfNoneMatch: options.ifNoneMatch,
          IfMatch: options.ifMatch,
        }),
      );
      return { etag: r.ETag ?? '' };
    } catch (err) {
      if (isPreconditionFailed(err)) throw new PreconditionFailedError(key);
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) {
        out.push({ key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? '', lastModified: o.LastModified, metadata: {} });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }
}

function info(
  key: string,
  r: { ContentLength?: number; ContentType?: string; ETag?: string; LastModified?: Date; Metadata?: Record<string, string> },
  size?: number,
): ObjectInfo {
  const out: ObjectInfo = { key, size: size ?? r.ContentLength ?? 0, etag: r.ETag ?? '', metadata: r.Metadata ?? {} };
  if (r.ContentType) out.contentType = r.ContentType;
  if (r.LastModified) out.lastModified = r.LastModified;
  return out;
}

/** Upload grants for exact keys in one bucket. */
export class S3UploadSigner implements UploadSigner {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  async presignPost(input: { key: string; contentType: string; maxBytes: number; expiresSeconds: number }): Promise<{ url: string; fields: Record<string, string> }> {
    // Fields become exact-match policy conditions too: the key and the Content-Type are pinned.
    return createPresignedPost(this.client, {
      Bucket: this.bucket,
      Key: input.key,
      Conditions: [['content-length-range', 1, input.maxBytes]],
      Fields: { 'Content-Type': input.contentType },
      Expires: input.expiresSeconds,
    });
  }

  async presignPut(input: { key: string; contentType: string; contentLength: number; expiresSeconds: number }): Promise<{ url: string; headers: Record<string, string> }> {
    const url = await getSignedUrl(
      this.client,
      new PutObjectCommand({ Bucket: this.bucket, Key: input.key, ContentType: input.contentType, ContentLength: input.contentLength }),
      // The presigner leaves Content-Type unsigned by default; sign both so the upload must match them.
      { expiresIn: input.expiresSeconds, signableHeaders: new Set(['content-type', 'content-length']) },
    );
    return { url, headers: { 'Content-Type': input.contentType, 'Content-Length': String(input.contentLength) } };
  }
}
