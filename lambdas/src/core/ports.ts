/**
 * Ports: everything the handlers need from the outside world. Handlers get these injected;
 * `adapters/aws` implements them with AWS SDK v3 and Powertools, `adapters/local` for the local stack,
 * tests with fakes. Nothing in `core/` imports an SDK or spawns a process.
 */
import type { Readable } from 'node:stream';
import type { RenderOptions } from '../../../contracts/index.ts';

/** Metadata of a stored object. */
export interface ObjectInfo {
  key: string;
  size: number;
  contentType?: string;
  etag: string;
  lastModified?: Date;
  metadata: Record<string, string>;
}

export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  cacheControl?: string;
  /** `'*'`: write only if no object exists at the key (else throws PreconditionFailedError). */
  ifNoneMatch?: '*';
  /** Write only if the current object has this ETag (else throws PreconditionFailedError). */
  ifMatch?: string;
}

/** Thrown by conditional writes that lost the race. */
export class PreconditionFailedError extends Error {
  constructor(key: string) {
    super(`precondition failed for ${key}`);
    this.name = 'PreconditionFailedError';
  }
}

/** One bucket. Keys are plain strings; `null` means "no such object". */
export interface ObjectStore {
  readonly bucket: string;
  head(key: string): Promise<ObjectInfo | null>;
  getStream(key: string): Promise<{ body: Readable; info: ObjectInfo } | null>;
  getBytes(key: string): Promise<{ body: Uint8Array; info: ObjectInfo } | null>;
  put(key: string, body: Uint8Array | string | Readable, options?: PutOptions & { contentLength?: number }): Promise<{ etag: string }>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<ObjectInfo[]>;
}

/** Signs upload grants for exact, server-chosen keys in the input bucket. */
export interface UploadSigner {
  /** Pre-signed POST: policy pins the key, content-length-range [1, maxBytes] and the Content-Type. */
  presignPost(input: { key: string; contentType: string; maxBytes: number; expiresSeconds: number }): Promise<{ url: string; fields: Record<string, string> }>;
  /** Pre-signed PUT: exact Content-Length and Content-Type are signed. */
  presignPut(input: { key: string; contentType: string; contentLength: number; expiresSeconds: number }): Promise<{ url: string; headers: Record<string, string> }>;
}

export interface Clock {
  now(): Date;
}

/** Where ids come from (random UUID v4 in production; fixed in tests). */
export interface IdGenerator {
  jobId(): string;
}

/** Structured logger: Powertools Logger satisfies this. Never log grant URLs or signatures. */
export interface Logger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown> | Error): void;
  appendKeys(keys: Record<string, unknown>): void;
}

export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'Bytes' | 'Percent' | 'None';

/** Custom metrics (CloudWatch EMF via Powertools Metrics on AWS). */
export interface Metrics {
  addMetric(name: string, unit: MetricUnit, value: number): void;
  /** Flush what was added (one EMF document). */
  publishStoredMetrics(): void;
}

/**
 * One input image as the renderer receives it. Bytes are loaded lazily, just before the image is
 * decoded, so memory and temp disk stay flat however many images a job has. The user's bytes go to
 * sharp only; FFmpeg sees frames the engine produced.
 */
export interface RenderInput {
  /** For messages only (e.g. the upload's index or file name). */
  label: string;
  /** Seconds on screen (transitions overlap inside). */
  durationSeconds: number;
  load(): Promise<Uint8Array>;
}

export interface RenderProgress {
  /** 0..1 */
  fraction: number;
  /** Output seconds written so far. */
  outSeconds: number;
}

export interface RenderResult {
  videoPath: string;
  posterPath: string;
  durationSeconds: number;
  width: number;
  height: number;
  bytes: number;
  /** Wall seconds spent rendering. */
  renderSeconds: number;
}

/** The render engine: decodes and fits images (sharp), encodes with FFmpeg. */
export interface Renderer {
  render(input: {
    images: RenderInput[];
    options: RenderOptions;
    /** Decoded images over this many pixels fail with `image_too_large`. */
    maxImagePixels: number;
    /** Directory for the outputs and any temp files; the caller removes it. */
    workDir: string;
    onProgress?: (p: RenderProgress) => void;
    signal?: AbortSignal;
    /**
     * Fan-out (core/segments.ts): render only output frames [start, end) of the plan, as a video of its
     * own starting at 0 (durationSeconds is the range's). Images outside the range are never loaded.
     * The poster is written only when the range shows image 0. Unset: the whole video.
     */
    frames?: { start: number; end: number };
  }): Promise<RenderResult>;
}

/**
 * Fan-out (core/segments.ts): what process-media sends one segment worker. Everything the worker needs
 * comes from the job's manifest, which process-media already validated; the worker checks that every
 * image key is the job's own (keys.image) before reading it.
 */
export interface SegmentRequest {
  jobId: string;
  /** 0-based index of the segment in the joined video. */
  segment: number;
  /** Segments in this job's split. */
  count: number;
  /** Output frames [start, end) of the whole plan. */
  frames: { start: number; end: number };
  options: RenderOptions;
  /** Seconds on screen of every image of the job (the plan needs them all). */
  durations: number[];
  /** Only the images this segment shows: index in the job, object key, ETag recorded at start, label for messages. */
  images: { index: number; key: string; etag: string; label: string }[];
  /** Milliseconds the worker may spend rendering. */
  timeoutMs: number;
}

/** What a segment worker stored: `keys.segment(jobId, segment)` (+ the poster for segment 0). */
export interface SegmentResult {
  segment: number;
  key: string;
  posterKey?: string;
  bytes: number;
  durationSeconds: number;
  renderSeconds: number;
  /** True when an earlier invocation had already stored this exact segment. */
  reused: boolean;
}

/** The wire form of a worker's answer: failures keep their contract code across the invoke. */
export type SegmentResponse = ({ ok: true } & SegmentResult) | { ok: false; error: { code: string; message: string } };

/** Runs one segment worker and waits for it (AWS: Lambda Invoke RequestResponse; local: worker threads). Throws CodedError. */
export interface SegmentInvoker {
  invoke(request: SegmentRequest, signal?: AbortSignal): Promise<SegmentResult>;
}

/** A failure with a contract code (JobFailureCode or ApiErrorCode) and a human message. */
const CODED_ERROR = Symbol.for('media-pipeline/CodedError');

export class CodedError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CodedError';
    Object.defineProperty(this, CODED_ERROR, { value: true });
  }

  /**
   * `instanceof CodedError` by a global brand, not by class identity: when this module is loaded twice
   * (a CommonJS-compiled test importing the local stack, whose worker renderer is loaded with `import()`)
   * a coded error from one copy must still be recognised by the other, or `image_unreadable` would turn
   * into `internal_error` and be retried. Subclasses keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== CodedError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CODED_ERROR] === true;
  }
}
