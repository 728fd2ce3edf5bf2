/**
 * `/videos/<jobId>/video.mp4|poster.jpg` from the output bucket, with HTTP Range (what CloudFront does
 * on AWS). Only those two names under a valid job id are served; everything else is 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isJobId } from '../contracts/index.ts';
import { keys } from '../lambdas/src/core/keys.ts';

const FILES: Record<string, (jobId: string) => string> = { 'video.mp4': keys.video, 'poster.jpg': keys.poster };

/** Parse a single `bytes=` range against a size; null = ignore the header, 'unsatisfiable' = 416. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // multiple or malformed ranges: answer the whole object
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ error: { code: 'not_found', message: 'No such video.' } }));
}

export async function serveVideo(req: IncomingMessage, res: ServerResponse, client: S3Client, bucket: string, pathname: string): Promise<void> {
  const m = /^\/videos\/([^/]+)\/([^/]+)$/.exec(pathname);
  const keyOf = m ? FILES[m[2]!] : undefined;
  if (!m || !keyOf || !isJobId(m[1])) return notFound(res);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const Key = keyOf(m[1]!);
  let head;
  try {
    head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key }));
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return notFound(res);
    throw err;
  }
  const size = head.ContentLength ?? 0;
  const headers: Record<string, string> = {
    'content-type': head.ContentType ?? 'application/octet-stream',
    'accept-ranges': 'bytes',
    'cache-control': head.CacheControl ?? 'public, max-age=3600',
    'x-content-type-options': 'nosniff',
  };
  if (head.ETag) headers.etag = head.ETag;
  if (head.LastModified) headers['last-modified'] = head.LastModified.toUTCString();
  if (head.ETag && req.headers['if-none-match'] === head.ETag) {
    res.writeHead(304, headers).end();
    return;
  }
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
    return;
  }
  const status = range ? 206 : 200;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  headers['content-length'] = String(range ? range.end - range.start + 1 : size);
  if (req.method === 'HEAD' || size === 0) {
    res.writeHead(status, headers).end();
    return;
  }
  const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
  res.writeHead(status, headers);
  const body = obj.Body as Readable;
  body.on('error', () => res.destroy());
  res.on('close', () => body.destroy());
  body.pipe(res);
}
