/**
 * The HTTP API (contract v1), one function with three routes:
 *   POST /api/jobs                  create a job, answer one upload grant per image      → 201
 *   POST /api/jobs/{jobId}/start    check every upload, write the manifest               → 202
 *   GET  /api/jobs/{jobId}          the job's status                                      → 200
 * Takes API Gateway HTTP API payload v2 events; the local stack builds the same events.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isJobId, type CreateJobResponse, type JobStatus, type Limits, type UploadGrant } from '../../../contracts/index.ts';
import { METRIC } from '../core/config.ts';
import {
  abandonedFailure,
  createJobRecord,
  createManifest,
  leaseExpiry,
  parseJobRecord,
  parseStatusRecord,
  publicStatus,
  validateCreateRequest,
  verifyUploads,
  type JobRecord,
  type UploadCheck,
} from '../core/job.ts';
import { keys } from '../core/keys.ts';
import { DEFAULT_PROCESS_MAX_ATTEMPTS } from '../core/settings.ts';
import { PreconditionFailedError, type Clock, type IdGenerator, type Logger, type Metrics, type ObjectStore, type UploadSigner } from '../core/ports.ts';
import { apiError, bodyBytes, header, json, withKeys, type HttpResult } from './http.ts';

export interface ApiPorts {
  /** The input bucket: job records, uploads, manifests, status. */
  input: ObjectStore;
  signer: UploadSigner;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  metrics: Metrics;
}

export interface ApiConfig {
  limits: Limits;
  /** Largest request body accepted, in bytes (413 `payload_too_large` above). @default 262144 */
  maxBodyBytes?: number;
  /** process-media's attempts per job (PROCESS_MAX_ATTEMPTS): after the last one dies silently, status says failed. @default 3 */
  processMaxAttempts?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;
/** How many uploads `start` checks at once. */
const HEAD_CONCURRENCY = 16;

/** Storage failures inside a request: answered 503 `storage_unavailable` so clients retry. */
class StorageUnavailable extends Error {}

async function storage<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PreconditionFailedError) throw err;
    throw new StorageUnavailable(`${what}: ${(err as Error).message}`, { cause: err });
  }
}

type Route =
  | { name: 'create' }
  | { name: 'start'; jobId: string }
  | { name: 'status'; jobId: string }
  | { name: 'wrong_method'; allow: string }
  | { name: 'not_found' };

/** Match on the end of the path so a stage or mount prefix in front of `/api` does not matter. */
export function route(method: string, path: string): Route {
  const m = /\/api\/jobs(?:\/([^/]*)(\/start)?)?\/?$/.exec(path);
  if (!m) return { name: 'not_found' };
  const [, id, start] = m;
  if (id === undefined) return method === 'POST' ? { name: 'create' } : { name: 'wrong_method', allow: 'POST' };
  if (start) return method === 'POST' ? { name: 'start', jobId: id } : { name: 'wrong_method', allow: 'POST' };
  return method === 'GET' || method === 'HEAD' ? { name: 'status', jobId: id } : { name: 'wrong_method', allow: 'GET' };
}

export function createApiHandler(ports: ApiPorts, config: ApiConfig) {
  const { input, signer, clock, ids, logger, metrics } = ports;
  const { limits } = config;
  const maxBodyBytes = config.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const processMaxAttempts = config.processMaxAttempts ?? DEFAULT_PROCESS_MAX_ATTEMPTS;

  async function readJob(jobId: string): Promise<JobRecord | null> {
    const got = await storage('read job', () => input.getBytes(keys.job(jobId)));
    if (!got) return null;
    return parseJobRecord(Buffer.from(got.body).toString('utf8'));
  }

  /** Status as the client sees it: status.json (process-media) if any, else queued once the manifest exists, else uploading. */
  async function currentStatus(jobId: string): Promise<JobStatus | null> {
    const st = await storage('read status', () => input.getBytes(keys.status(jobId)));
    if (st) {
      const rec = parseStatusRecord(Buffer.from(st.body).toString('utf8'), jobId);
      if (rec?.status === 'processing' && rec.attempts >= processMaxAttempts) {
        // The last attempt may have died without a word (function timeout, out of memory).
        const lease = await storage('read lease', () => input.getBytes(keys.lease(jobId)));
        const failure = abandonedFailure(rec, lease ? leaseExpiry(Buffer.from(lease.body).toString('utf8')) : null, clock.now(), processMaxAttempts);
        if (failure) return publicStatus({ ...rec, status: 'failed', error: failure });
      }
      if (rec) return publicStatus(rec);
      logger.warn('unreadable status record', { jobId });
    }
    if (await storage('check manifest', () => input.head(keys.manifest(jobId)))) return { jobId, status: 'queued', progress: 0 };
    if (await storage('check job', () => input.head(keys.job(jobId)))) return { jobId, status: 'uploading', progress: 0 };
    return null;
  }

  async function create(event: APIGatewayProxyEventV2): Promise<HttpResult> {
    const contentType = header(event, 'content-type');
    if (contentType !== undefined && !/^application\/json\b/i.test(contentType.trim())) {
      return apiError('unsupported_media_type', 'Send the request body as JSON with Content-Type: application/json.');
    }
    const raw = bodyBytes(event);
    if (raw.length > maxBodyBytes) {
      return apiError('payload_too_large', `The request body is ${raw.length} bytes; the limit is ${maxBodyBytes}.`, { limit: maxBodyBytes });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return apiError('invalid_json', 'The request body is not valid JSON.');
    }
    const v = validateCreateRequest(body, limits);
    if (!v.ok) {
      logger.info('create rejected', { code: v.problem.code });
      return apiError(v.problem.code, v.problem.message, v.problem.details);
    }
    const jobId = ids.jobId();
    const now = clock.now();
    const job = createJobRecord(v.value, jobId, now, limits);
    const log = withKeys(logger, { jobId });

    const uploads: UploadGrant[] = await Promise.all(
      job.images.map(async (img): Promise<UploadGrant> => {
        if (job.grant === 'put') {
          const g = await signer.presignPut({ key: img.key, contentType: img.type, contentLength: img.size, expiresSeconds: limits.grantTtlSeconds });
          return { method: 'PUT', url: g.url, headers: g.headers };
        }
        const g = await signer.presignPost({ key: img.key, contentType: img.type, maxBytes: limits.maxImageBytes, expiresSeconds: limits.grantTtlSeconds });
        return { method: 'POST', url: g.url, fields: g.fields };
      }),
    );
    await storage('write job', () => input.put(keys.job(jobId), JSON.stringify(job), { contentType: 'application/json', ifNoneMatch: '*' }));
    metrics.addMetric(METRIC.jobsCreated, 'Count', 1);
    // Never log the grants: they are bearer credentials.
    log.info('job created', { images: job.images.length, grant: job.grant, videoSeconds: job.videoSeconds });
    const res: CreateJobResponse = { jobId, uploads, expiresAt: job.expiresAt };
    return json(201, res);
  }

  async function start(jobId: string): Promise<HttpResult> {
    const log = withKeys(logger, { jobId });
    const job = await readJob(jobId);
    if (!job) return apiError('job_not_found', 'There is no job with this id.');

    // Started already: answer the current status (start is idempotent).
    if (await storage('check manifest', () => input.head(keys.manifest(jobId)))) {
      const st = await currentStatus(jobId);
      return json(202, st);
    }
    if (clock.now().getTime() > Date.parse(job.expiresAt)) {
      return apiError('grants_expired', `The upload grants of this job expired at ${job.expiresAt}; create a new job.`, { expiresAt: job.expiresAt });
    }

    const checks: UploadCheck[] = [];
    for (let i = 0; i < job.images.length; i += HEAD_CONCURRENCY) {
      const batch = job.images.slice(i, i + HEAD_CONCURRENCY);
      checks.push(
        ...(await Promise.all(
          batch.map(async (img): Promise<UploadCheck> => {
            const info = await storage('check upload', () => input.head(img.key));
            return { index: img.index, found: info ? { size: info.size, contentType: info.contentType, etag: info.etag } : null };
          }),
        )),
      );
    }
    const verdict = verifyUploads(job, checks, limits);
    if (!verdict.ok) {
      log.info('start refused', { code: verdict.problem.code });
      return apiError(verdict.problem.code, verdict.problem.message, verdict.problem.details);
    }
    const manifest = createManifest(job, verdict.etags, clock.now());
    try {
      await storage('write manifest', () =>
        input.put(keys.manifest(jobId), JSON.stringify(manifest), { contentType: 'application/json', ifNoneMatch: '*' }),
      );
      metrics.addMetric(METRIC.jobsStarted, 'Count', 1);
      log.info('job started', { images: job.images.length });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
      log.info('job already started by a concurrent request');
    }
    return json(202, (await currentStatus(jobId)) ?? { jobId, status: 'queued', progress: 0 });
  }

  async function status(jobId: string): Promise<HttpResult> {
    const st = await currentStatus(jobId);
    if (!st) return apiError('job_not_found', 'There is no job with this id.');
    const done = st.status === 'done' || st.status === 'failed';
    return json(200, st, done ? { 'cache-control': 'no-cache' } : {});
  }

  return async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const method = (event.requestContext?.http?.method ?? 'GET').toUpperCase();
    const path = event.rawPath ?? event.requestContext?.http?.path ?? '/';
    const r = route(method, path);
    try {
      switch (r.name) {
        case 'not_found':
          return apiError('route_not_found', `No route for ${method} ${path}.`);
        case 'wrong_method':
          return apiError('method_not_allowed', `Use ${r.allow} for this path.`, {}, { allow: r.allow });
        case 'create':
          return await create(event);
        case 'start':
        case 'status':
          if (!isJobId(r.jobId)) return apiError('invalid_job_id', 'That is not a job id.');
          return r.name === 'start' ? await start(r.jobId) : await status(r.jobId);
      }
    } catch (err) {
      if (err instanceof StorageUnavailable) {
        logger.error('storage unavailable', { error: err.message });
        return apiError('storage_unavailable', 'Storage is unavailable right now; try again shortly.', {}, { 'retry-after': '2' });
      }
      logger.error('unexpected error', err as Error);
      return apiError('internal_error', 'Something went wrong on our side.');
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
