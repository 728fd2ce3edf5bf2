/**
 * The job: validating a create request, the records kept in the input bucket (job.json, manifest.json,
 * status.json) and the status a client sees. Pure functions, no I/O.
 */
import {
  isAcceptedImageType,
  isJobId,
  parseOptions,
  videoDurationSeconds,
  ACCEPTED_IMAGE_TYPES,
  JOB_STATES,
  type AcceptedImageType,
  type ApiErrorCode,
  type JobState,
  type JobStatus,
  type JobVideo,
  type Limits,
  type RenderOptions,
} from '../../../contracts/index.ts';
import { budgetProblem } from './budget.ts';
import { keys } from './keys.ts';

/** Longest image name we accept (characters); longer is `invalid_image_name`. */
export const MAX_IMAGE_NAME_LENGTH = 1024;
/** Display names are cut to this many characters. */
export const DISPLAY_NAME_LENGTH = 120;
/** Record layout version written into every record. */
export const RECORD_VERSION = 1;

/** A rejected request: becomes `{ error: { code, message, ...details } }` with API_ERROR_STATUS[code]. */
export interface RequestProblem {
  code: ApiErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export interface JobImage {
  index: number;
  /** Server-chosen object key (keys.image): never derived from anything the client sent. */
  key: string;
  /** The client's file name, cleaned for display only (logs, UI, download names). */
  name: string;
  type: AcceptedImageType;
  size: number;
}

/** `jobs/<id>/job.json`, written by the API when the job is created. */
export interface JobRecord {
  version: typeof RECORD_VERSION;
  jobId: string;
  createdAt: string;
  /** Upload grants stop working then; `start` after it answers `grants_expired`. */
  expiresAt: string;
  grant: 'post' | 'put';
  images: JobImage[];
  options: RenderOptions;
  videoSeconds: number;
}

/** `jobs/<id>/manifest.json`, written by `start` once every upload checked out. Its S3 event starts process-media. */
export interface JobManifest {
  version: typeof RECORD_VERSION;
  jobId: string;
  createdAt: string;
  startedAt: string;
  images: (JobImage & { etag: string })[];
  options: RenderOptions;
  videoSeconds: number;
}

/** `jobs/<id>/status.json`, written by process-media only (it holds the lease while it renders). */
export interface StatusRecord extends JobStatus {
  version: typeof RECORD_VERSION;
  updatedAt: string;
  /** process-media invocations that took the lease for this job so far. */
  attempts: number;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problem: RequestProblem };

function problem(code: ApiErrorCode, message: string, details?: Record<string, unknown>): { ok: false; problem: RequestProblem } {
  return { ok: false, problem: details ? { code, message, details } : { code, message } };
}

/**
 * A file name made safe to show: no path (only what follows the last / or \), no control characters
 * (NUL included) or bidirectional overrides (which can disguise an extension), no leading dots, trimmed and cut to DISPLAY_NAME_LENGTH. Falls back to `image-<n>`.
 * The result is for display only: object keys never contain it.
 */
export function displayName(name: string, index: number): string {
  // eslint-disable-next-line no-control-regex
  let s = name.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, '');
  s = s.slice(Math.max(s.lastIndexOf('/'), s.lastIndexOf('\\')) + 1);
  s = s.replace(/^[.\s]+/, '').trim();
  s = Array.from(s).slice(0, DISPLAY_NAME_LENGTH).join('');
  return s || `image-${String(index + 1).padStart(3, '0')}`;
}

const REQUEST_KEYS = ['images', 'options', 'grant'];
const IMAGE_KEYS = ['name', 'type', 'size'];

export interface CreateJobInput {
  images: Omit<JobImage, 'key' | 'index'>[];
  options: RenderOptions;
  grant: 'post' | 'put';
  videoSeconds: number;
}

/**
 * Validate a `POST /api/jobs` body (already JSON-parsed) against the limits.
 * Checks in a fixed order so the answer is predictable: shape, count, each image, options, budget.
 */
export function validateCreateRequest(body: unknown, limits: Limits): Validated<CreateJobInput> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return problem('invalid_body', 'The request body must be a JSON object like {"images":[...],"options":{...}}.');
  }
  const raw = body as Record<string, unknown>;
  const unknown = Object.keys(raw).filter((k) => !REQUEST_KEYS.includes(k));
  if (unknown.length) {
    return problem('invalid_body', `Unknown field "${unknown[0]}" in the request body.`, { field: unknown[0] });
  }
  let grant: 'post' | 'put' = 'post';
  if (raw.grant !== undefined) {
    if (raw.grant !== 'post' && raw.grant !== 'put') {
      return problem('invalid_grant_type', 'grant must be "post" (form upload) or "put" (pre-signed PUT).', { field: 'grant' });
    }
    grant = raw.grant;
  }
  if (raw.images === undefined) return problem('no_images', 'The request must list the images to upload in "images".', { field: 'images' });
  if (!Array.isArray(raw.images)) return problem('invalid_body', '"images" must be an array of {name, type, size}.', { field: 'images' });
  if (raw.images.length === 0) return problem('no_images', 'A job needs at least one image.', { field: 'images' });
  if (raw.images.length > limits.maxImages) {
    return problem('too_many_images', `A job may have at most ${limits.maxImages} images; this one has ${raw.images.length}.`, {
      field: 'images',
      limit: limits.maxImages,
    });
  }

  const images: CreateJobInput['images'] = [];
  for (const [i, item] of raw.images.entries()) {
    const field = `images[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return problem('invalid_body', `${field} must be an object {name, type, size}.`, { field, index: i });
    }
    const img = item as Record<string, unknown>;
    const extra = Object.keys(img).find((k) => !IMAGE_KEYS.includes(k));
    if (extra) return problem('invalid_body', `Unknown field "${extra}" in ${field}.`, { field: `${field}.${extra}`, index: i });
    if (typeof img.name !== 'string' || img.name.length > MAX_IMAGE_NAME_LENGTH) {
      return problem('invalid_image_name', `${field}.name must be a string of at most ${MAX_IMAGE_NAME_LENGTH} characters.`, {
        field: `${field}.name`,
        index: i,
      });
    }
    if (!isAcceptedImageType(img.type)) {
      return problem('unsupported_type', `${field} has type ${JSON.stringify(img.type ?? null)}; accepted types are ${ACCEPTED_IMAGE_TYPES.join(', ')}.`, {
        field: `${field}.type`,
        index: i,
        accepted: [...ACCEPTED_IMAGE_TYPES],
      });
    }
    if (typeof img.size !== 'number' || !Number.isSafeInteger(img.size) || img.size < 1) {
      return problem('invalid_body', `${field}.size must be the file size in bytes (a whole number of at least 1).`, {
        field: `${field}.size`,
        index: i,
      });
    }
    if (img.size > limits.maxImageBytes) {
      return problem('image_too_large', `${field} is ${img.size} bytes; the limit is ${limits.maxImageBytes} bytes per image.`, {
        field: `${field}.size`,
        index: i,
        limit: limits.maxImageBytes,
      });
    }
    images.push({ name: displayName(img.name, i), type: img.type, size: img.size });
  }

  const parsed = parseOptions(raw.options, images.length);
  if (!parsed.ok) {
    const first = parsed.issues[0]!;
    return problem('invalid_options', `Invalid option ${first.field}: ${first.message}.`, {
      field: first.field,
      issues: parsed.issues,
    });
  }
  const videoSeconds = videoDurationSeconds(parsed.options, images.length);
  if (videoSeconds > limits.maxVideoSeconds) {
    return problem(
      'job_budget_exceeded',
      `This job would make a ${round(videoSeconds)} s video; the limit is ${limits.maxVideoSeconds} s. Use fewer images or shorter durations.`,
      { videoSeconds: round(videoSeconds), limit: limits.maxVideoSeconds },
    );
  }
  const overBudget = budgetProblem(parsed.options, images.length, limits);
  if (overBudget) return problem('job_budget_exceeded', overBudget.message, overBudget.details);
  return { ok: true, value: { images, options: parsed.options, grant, videoSeconds } };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export function createJobRecord(input: CreateJobInput, jobId: string, now: Date, limits: Limits): JobRecord {
  return {
    version: RECORD_VERSION,
    jobId,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + limits.grantTtlSeconds * 1000).toISOString(),
    grant: input.grant,
    images: input.images.map((img, index) => ({ index, key: keys.image(jobId, index), ...img })),
    options: input.options,
    videoSeconds: input.videoSeconds,
  };
}

/** What `start` found for one upload. */
export interface UploadCheck {
  index: number;
  found: { size: number; contentType?: string; etag: string } | null;
}

export type UploadVerdict =
  | { ok: true; etags: string[] }
  | { ok: false; problem: RequestProblem };

/**
 * Compare the uploaded objects with what the client declared: every object exists, its size is within
 * the limit and equals the declared size, its Content-Type is the declared type. Missing uploads win over
 * invalid ones (the client is probably still uploading).
 */
export function verifyUploads(job: JobRecord, checks: UploadCheck[], limits: Limits): UploadVerdict {
  const byIndex = new Map(checks.map((c) => [c.index, c.found]));
  const missing: number[] = [];
  const invalid: { index: number; reason: string }[] = [];
  const etags: string[] = [];
  for (const img of job.images) {
    const found = byIndex.get(img.index);
    if (!found) {
      missing.push(img.index);
      continue;
    }
    etags[img.index] = found.etag;
    if (found.size > limits.maxImageBytes) invalid.push({ index: img.index, reason: `is ${found.size} bytes, over the ${limits.maxImageBytes} byte limit` });
    else if (found.size !== img.size) invalid.push({ index: img.index, reason: `is ${found.size} bytes but ${img.size} were declared` });
    else if (normaliseType(found.contentType) !== img.type) {
      invalid.push({ index: img.index, reason: `was uploaded as ${found.contentType ?? 'no type'} but declared ${img.type}` });
    }
  }
  if (missing.length) {
    return problem('uploads_missing', `${missing.length} of ${job.images.length} images have not been uploaded yet (indexes ${missing.join(', ')}).`, {
      missing,
    });
  }
  if (invalid.length) {
    const first = invalid[0]!;
    return problem('upload_invalid', `Image ${first.index} ${first.reason}; upload it again with its grant or create a new job.`, {
      invalid,
    });
  }
  return { ok: true, etags };
}

function normaliseType(type: string | undefined): string | undefined {
  return type?.split(';')[0]?.trim().toLowerCase();
}

export function createManifest(job: JobRecord, etags: string[], now: Date): JobManifest {
  return {
    version: RECORD_VERSION,
    jobId: job.jobId,
    createdAt: job.createdAt,
    startedAt: now.toISOString(),
    images: job.images.map((img) => ({ ...img, etag: etags[img.index] ?? '' })),
    options: job.options,
    videoSeconds: job.videoSeconds,
  };
}

/** Parse job.json; null when it is not a job record (treated as "no such job"). */
export function parseJobRecord(text: string): JobRecord | null {
  try {
    const v = JSON.parse(text) as JobRecord;
    if (v && v.version === RECORD_VERSION && isJobId(v.jobId) && Array.isArray(v.images) && typeof v.expiresAt === 'string') return v;
  } catch {
    /* fall through */
  }
  return null;
}

/**
 * Parse and check a manifest for `jobId`. It must reference only this job's own image keys, in order,
 * with options that still validate: a manifest is input too (issue 6: an edited manifest must not make
 * process-media read another job's objects).
 */
export function parseManifest(text: string, jobId: string, limits: Limits): Validated<JobManifest> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return problem('invalid_body', 'the manifest is not valid JSON');
  }
  if (typeof v !== 'object' || v === null) return problem('invalid_body', 'the manifest is not a JSON object');
  const m = v as Partial<JobManifest>;
  if (m.version !== RECORD_VERSION) return problem('invalid_body', `the manifest version is ${String(m.version)}, expected ${RECORD_VERSION}`);
  if (m.jobId !== jobId) return problem('invalid_body', 'the manifest belongs to another job');
  if (!Array.isArray(m.images) || m.images.length < 1 || m.images.length > limits.maxImages) {
    return problem('invalid_body', `the manifest must list 1 to ${limits.maxImages} images`);
  }
  for (const [i, img] of m.images.entries()) {
    if (typeof img !== 'object' || img === null) return problem('invalid_body', `manifest image ${i} is not an object`);
    if (img.index !== i || img.key !== keys.image(jobId, i)) {
      return problem('invalid_body', `manifest image ${i} references a key outside this job's uploads`);
    }
    if (!isAcceptedImageType(img.type) || typeof img.size !== 'number' || img.size < 1 || img.size > limits.maxImageBytes) {
      return problem('invalid_body', `manifest image ${i} has an invalid type or size`);
    }
    if (typeof img.etag !== 'string' || typeof img.name !== 'string') return problem('invalid_body', `manifest image ${i} lacks its etag or name`);
  }
  const parsed = parseOptions(m.options, m.images.length);
  if (!parsed.ok) return problem('invalid_options', `the manifest options are invalid: ${parsed.issues[0]!.field}: ${parsed.issues[0]!.message}`);
  const videoSeconds = videoDurationSeconds(parsed.options, m.images.length);
  if (videoSeconds > limits.maxVideoSeconds) {
    return problem('job_budget_exceeded', `the manifest asks for ${round(videoSeconds)} s of video; the limit is ${limits.maxVideoSeconds} s`);
  }
  const manifestOverBudget = budgetProblem(parsed.options, m.images.length, limits);
  if (manifestOverBudget) return problem('job_budget_exceeded', `the manifest is over the render budget: ${manifestOverBudget.message}`);
  return {
    ok: true,
    value: {
      version: RECORD_VERSION,
      jobId,
      createdAt: String(m.createdAt ?? ''),
      startedAt: String(m.startedAt ?? ''),
      images: m.images.map((img) => ({ index: img.index, key: img.key, name: img.name, type: img.type, size: img.size, etag: img.etag })),
      options: parsed.options,
      videoSeconds,
    },
  };
}

/** Allowed status moves. `queued` → `queued` is a retry waiting; terminal states never change. */
const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  uploading: ['queued'],
  queued: ['queued', 'processing', 'done', 'failed'],
  processing: ['processing', 'queued', 'done', 'failed'],
  done: [],
  failed: [],
};

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isTerminal(state: JobState): boolean {
  return state === 'done' || state === 'failed';
}

export function parseStatusRecord(text: string, jobId: string): StatusRecord | null {
  try {
    const v = JSON.parse(text) as StatusRecord;
    if (v && v.jobId === jobId && (JOB_STATES as readonly string[]).includes(v.status)) {
      return { ...v, attempts: Number.isInteger(v.attempts) ? v.attempts : 0, progress: clamp01(v.progress) };
    }
  } catch {
    /* fall through */
  }
  return null;
}

export function statusRecord(
  jobId: string,
  status: JobState,
  now: Date,
  extra: { progress?: number; attempts?: number; video?: JobVideo; error?: { code: string; message: string } } = {},
): StatusRecord {
  const rec: StatusRecord = {
    version: RECORD_VERSION,
    jobId,
    status,
    progress: clamp01(extra.progress ?? (status === 'done' ? 1 : 0)),
    updatedAt: now.toISOString(),
    attempts: extra.attempts ?? 0,
  };
  if (extra.video) rec.video = extra.video;
  if (extra.error) rec.error = extra.error;
  return rec;
}

/** The public view of a status record (what `GET /api/jobs/{id}` answers). */
export function publicStatus(rec: Pick<StatusRecord, 'jobId' | 'status' | 'progress' | 'video' | 'error'>): JobStatus {
  const out: JobStatus = { jobId: rec.jobId, status: rec.status, progress: clamp01(rec.progress) };
  if (rec.video) out.video = rec.video;
  if (rec.error) out.error = { code: rec.error.code, message: rec.error.message };
  return out;
}

function clamp01(n: unknown): number {
  return typeof n === 'number' && Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0;
}

/** `jobs/<id>/lease.json`: held (and renewed) by the one process-media invocation rendering the job. */
export interface LeaseRecord {
  owner: string;
  /** ISO 8601; the holder renews it well before then. */
  expiresAt: string;
}

/** When a lease stops being valid, in ms since the epoch; an unreadable lease counts as already expired (0). */
export function leaseExpiry(text: string): number {
  try {
    const at = Date.parse((JSON.parse(text) as Partial<LeaseRecord>).expiresAt ?? '');
    return Number.isFinite(at) ? at : 0;
  } catch {
    return 0;
  }
}

/**
 * A job nobody will finish: status still `processing`, every attempt used, and no live lease. That is
 * what is left when Lambda itself ends the last attempt (function timeout, out of memory) before the
 * handler can write `failed`; no retry will come, so status readers report it failed instead of
 * letting clients poll forever. Process-media writes `processing` only while holding the lease and
 * writes the final status before releasing it, so a live job always has a live lease.
 * `leaseExpiresAt` is null when there is no lease object.
 */
export function abandonedFailure(
  rec: Pick<StatusRecord, 'status' | 'attempts'>,
  leaseExpiresAt: number | null,
  now: Date,
  maxAttempts: number,
): { code: 'render_failed'; message: string } | null {
  if (rec.status !== 'processing' || rec.attempts < maxAttempts) return null;
  if (leaseExpiresAt !== null && leaseExpiresAt > now.getTime()) return null;
  return {
    code: 'render_failed',
    message: `The render stopped without finishing (the function ran out of time or memory) and all ${maxAttempts} attempts are used.`,
  };
}
