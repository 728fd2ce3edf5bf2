/**
 * Error codes: every HTTP error body is `{ "error": { "code", "message", ...details } }`,
 * and every failed job carries `{ code, message }` with a code from JOB_FAILURE_CODES.
 */

/** Codes the HTTP API answers with, and the status each one maps to. */
export const API_ERROR_STATUS = {
  invalid_json: 400,
  invalid_body: 400,
  no_images: 400,
  too_many_images: 400,
  image_too_large: 400,
  unsupported_type: 400,
  invalid_image_name: 400,
  invalid_options: 400,
  invalid_grant_type: 400,
  job_budget_exceeded: 400,
  invalid_job_id: 404,
  job_not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  uploads_missing: 409,
  upload_invalid: 409,
  grants_expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  storage_unavailable: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

/** Reasons a job ends in `failed`. */
export const JOB_FAILURE_CODES = [
  'image_unreadable', // not a decodable JPEG/PNG/WebP (wrong bytes, truncated, another format)
  'image_too_large', // pixel count over the limit (decompression bomb) or bytes over the limit
  'manifest_invalid', // the manifest is missing, unparsable, or references keys outside the job
  'render_failed', // FFmpeg exited non-zero or was killed
  'render_timeout', // FFmpeg ran past its time limit
  'out_of_disk', // the temp directory filled up
  'storage_error', // S3 reads/writes failed after retries
  'internal_error', // anything unexpected (a bug): the message says what
] as const;

export type JobFailureCode = (typeof JOB_FAILURE_CODES)[number];

export interface ErrorDetail {
  code: string;
  message: string;
  [detail: string]: unknown;
}

/** The body of every non-2xx API response. */
export interface ErrorBody {
  error: ErrorDetail;
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const e = (value as { error?: unknown }).error;
  return typeof e === 'object' && e !== null && typeof (e as ErrorDetail).code === 'string' && typeof (e as ErrorDetail).message === 'string';
}
