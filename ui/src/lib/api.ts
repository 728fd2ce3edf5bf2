/**
 * API client for the HTTP contract (v1). Every failure becomes a typed error:
 * - `ApiError`: the server answered non-2xx (code and message from its `{ error: { code, message } }` body,
 *   or `http_<status>` when the body was not ours, e.g. a proxy's HTML page);
 * - `NetworkError`: no answer at all (offline, DNS, CORS, aborted connection).
 */
import { isErrorBody, isJobId } from '../../../contracts/index.ts';
import type { CreateJobRequest, CreateJobResponse, ErrorDetail, JobStatus } from '../../../contracts/index.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The whole `error` object (extra fields such as `missing` live here). */
    readonly detail: ErrorDetail,
  ) {
    super(message);
  }
}

export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  readonly code = 'network_error';
  constructor(message = 'Could not reach the server. Check your connection and try again.', cause?: unknown) {
    super(message, { cause });
  }
}

/** Worth asking again later: no answer, a 5xx, or 429. */
export function isRetryableError(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  return err instanceof ApiError && (err.status >= 500 || err.status === 429);
}

export type FetchLike = (input: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  statusText: string;
  text(): Promise<string>;
}>;

export interface ApiClient {
  createJob(request: CreateJobRequest, signal?: AbortSignal): Promise<CreateJobResponse>;
  startJob(jobId: string, signal?: AbortSignal): Promise<JobStatus>;
  getJob(jobId: string, signal?: AbortSignal): Promise<JobStatus>;
}

export function createApiClient(options: { baseUrl: string; fetch?: FetchLike }): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));

  async function call<T>(method: string, path: string, body: unknown, validate: (v: unknown) => v is T, signal?: AbortSignal): Promise<T> {
    let res: Awaited<ReturnType<FetchLike>>;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new NetworkError(undefined, err);
    }
    let text = '';
    try {
      text = await res.text();
    } catch (err) {
      throw new NetworkError('The connection dropped while reading the answer. Try again.', err);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      if (isErrorBody(json)) throw new ApiError(res.status, json.error.code, json.error.message, json.error);
      const message = `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}. Try again in a moment.`;
      throw new ApiError(res.status, `http_${res.status}`, message, { code: `http_${res.status}`, message });
    }
    if (!validate(json)) {
      const message = 'The server sent an answer this page does not understand.';
      throw new ApiError(res.status, 'invalid_response', message, { code: 'invalid_response', message });
    }
    return json;
  }

  return {
    createJob: (request, signal) =>
      call('POST', '/jobs', request, (v): v is CreateJobResponse => isCreateJobResponse(v, request.images.length), signal),
    startJob: (jobId, signal) => call('POST', `/jobs/${encodeURIComponent(jobId)}/start`, {}, isJobStatus, signal),
    getJob: (jobId, signal) => call('GET', `/jobs/${encodeURIComponent(jobId)}`, undefined, isJobStatus, signal),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isCreateJobResponse(v: unknown, imageCount: number): v is CreateJobResponse {
  if (!isObject(v) || !isJobId(v.jobId) || !Array.isArray(v.uploads) || v.uploads.length !== imageCount) return false;
  return v.uploads.every((u) => isObject(u) && typeof u.url === 'string' && (isObject(u.fields) || isObject(u.headers)));
}

export function isJobStatus(v: unknown): v is JobStatus {
  return isObject(v) && typeof v.jobId === 'string' && typeof v.status === 'string' && typeof v.progress === 'number';
}

/** A sentence for people, for any error the client can throw. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'uploads_missing' && Array.isArray(err.detail.missing)) {
      const n = (err.detail.missing as unknown[]).map((i) => `#${Number(i) + 1}`).join(', ');
      return `Some photos did not arrive (${n}). Retry them or start again.`;
    }
    if (err.code === 'job_not_found' || err.code === 'invalid_job_id') return 'This video does not exist (the link may be wrong or expired).';
    return err.message;
  }
  if (err instanceof NetworkError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
