import type { RenderOptionsInput } from './options.ts';

/** A job's lifecycle: uploading → queued → processing → done | failed. */
export const JOB_STATES = ['uploading', 'queued', 'processing', 'done', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** Job ids are UUID v4 (122 random bits): the id is the only key to a job. */
export const JOB_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isJobId(value: unknown): value is string {
  return typeof value === 'string' && JOB_ID_PATTERN.test(value);
}

/** What the client declares about each image before uploading it. */
export interface ImageDescriptor {
  name: string;
  type: string;
  size: number;
}

/** `POST /api/jobs` body. */
export interface CreateJobRequest {
  images: ImageDescriptor[];
  options?: RenderOptionsInput;
  /** `post` (default): pre-signed POST forms for browsers. `put`: pre-signed PUT URLs for curl and SDKs. */
  grant?: 'post' | 'put';
}

/** Upload with a multipart form: every field of `fields`, then `file` last. */
export interface PostUploadGrant {
  method: 'POST';
  url: string;
  fields: Record<string, string>;
}

/** Upload with `PUT url`, sending exactly these headers. */
export interface PutUploadGrant {
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
}

export type UploadGrant = PostUploadGrant | PutUploadGrant;

/** `201` answer to `POST /api/jobs`: one grant per image, in the same order. */
export interface CreateJobResponse {
  jobId: string;
  uploads: UploadGrant[];
  /** ISO 8601: grants stop working then, and `start` answers `grants_expired`. */
  expiresAt: string;
}

export interface JobVideo {
  /** May be relative to the site origin (e.g. `/videos/<id>/video.mp4`). Serves video/mp4 with Range support. */
  url: string;
  posterUrl: string;
  durationSeconds: number;
  width: number;
  height: number;
  bytes: number;
}

/** `GET /api/jobs/{jobId}` and the `202` answer to start. */
export interface JobStatus {
  jobId: string;
  status: JobState;
  /** 0..1, real render progress. */
  progress: number;
  video?: JobVideo;
  error?: { code: string; message: string };
}
