/**
 * render-segment: one worker of a fanned-out render (see core/segments.ts and docs/architecture.md
 * "Long jobs: fan-out"). process-media invokes it synchronously with a SegmentRequest; it loads only
 * the images its frame range shows from the input bucket, renders that range with the ordinary engine
 * (Renderer `frames`), stores `segments/<jobId>/<k>.mp4` (+ `segments/<jobId>/poster.jpg` for segment 0)
 * in the output bucket and answers with a SegmentResponse. It never touches job status or videos.
 *
 * Failures come back as `{ ok: false, error: { code, message } }` with the contract code (so a broken
 * image fails the job as `image_unreadable`, not as a generic invoke error). The answer is idempotent:
 * a repeated request for a segment already stored with the same frame range is answered from it.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { isJobId, JOB_FAILURE_CODES, parseOptions, type Limits, type RenderOptions } from '../../../contracts/index.ts';
import { keys } from '../core/keys.ts';
import { CodedError, type Logger, type ObjectStore, type RenderInput, type Renderer, type SegmentRequest, type SegmentResponse, type SegmentResult } from '../core/ports.ts';
import { planRender } from '../core/render-plan.ts';
import { DEFAULT_MAX_SEGMENTS, imagesForRange } from '../core/segments.ts';
import { withKeys } from './http.ts';

export interface RenderSegmentPorts {
  input: ObjectStore;
  output: ObjectStore;
  renderer: Renderer;
  logger: Logger;
}

export interface RenderSegmentConfig {
  limits: Limits;
  /** Kept back from the invocation's remaining time for the upload. @default 20000 */
  safetyMarginMs?: number;
  /** Parent of the work directory. @default os.tmpdir() */
  tempRoot?: string;
}

const KNOWN: ReadonlySet<string> = new Set<string>(JOB_FAILURE_CODES);

function bad(message: string): CodedError {
  return new CodedError('internal_error', `Invalid segment request: ${message}.`);
}

const isIndex = (v: unknown, below: number): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < below;

/** Check a request against the limits and itself; returns the parsed options. Throws CodedError. */
export function validateSegmentRequest(req: SegmentRequest, limits: Limits): RenderOptions {
  if (!req || typeof req !== 'object') throw bad('not an object');
  if (!isJobId(req.jobId)) throw bad('jobId');
  if (!(Number.isSafeInteger(req.count) && req.count >= 1 && req.count <= DEFAULT_MAX_SEGMENTS)) throw bad('count');
  if (!isIndex(req.segment, req.count)) throw bad('segment');
  const d = req.durations;
  if (!Array.isArray(d) || d.length < 1 || d.length > limits.maxImages || !d.every((x) => typeof x === 'number' && Number.isFinite(x) && x > 0)) throw bad('durations');
  const parsed = parseOptions(req.options, d.length);
  if (!parsed.ok) throw new CodedError('manifest_invalid', `Invalid render options: ${parsed.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}.`);
  if (!(Number.isSafeInteger(req.timeoutMs) && req.timeoutMs > 0)) throw bad('timeoutMs');
  const f = req.frames;
  if (!f || !Number.isSafeInteger(f.start) || !Number.isSafeInteger(f.end) || f.start < 0 || f.end <= f.start) throw bad('frames');
  if (!Array.isArray(req.images)) throw bad('images');
  for (const im of req.images) {
    if (!im || !isIndex(im.index, d.length)) throw bad('image index');
    // Only this job's own uploads, at the keys the server chose.
    if (im.key !== keys.image(req.jobId, im.index)) throw bad(`image ${im.index} key`);
    if (typeof im.etag !== 'string' || typeof im.label !== 'string') throw bad(`image ${im.index}`);
  }
  return parsed.options;
}

function toFailure(err: unknown): { code: string; message: string } {
  if (err instanceof CodedError && KNOWN.has(err.code)) return { code: err.code, message: err.message };
  if (err instanceof RangeError) return { code: 'manifest_invalid', message: err.message };
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return { code: 'out_of_disk', message: 'The temporary directory ran out of space.' };
  return { code: 'internal_error', message: e?.message ? `Unexpected error: ${e.message}` : 'Unexpected error.' };
}

/** `abortSignal` is not Lambda's: the local invoker sets it so a stopped fan-out stops its workers at once. */
type ContextLike = Pick<Context, 'getRemainingTimeInMillis'> & { abortSignal?: AbortSignal };

export function createRenderSegmentHandler(ports: RenderSegmentPorts, config: RenderSegmentConfig) {
  const { input, output, renderer, logger } = ports;
  const margin = config.safetyMarginMs ?? 20_000;

  async function storage<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof CodedError) throw err;
      throw new CodedError('storage_error', `${what} failed: ${(err as Error).message}`);
    }
  }

  const rangeTag = (req: SegmentRequest) => `${req.frames.start}-${req.frames.end}/${req.count}`;

  /** The segment an earlier invocation stored for exactly this range, if any. */
  async function stored(req: SegmentRequest): Promise<SegmentResult | null> {
    const key = keys.segment(req.jobId, req.segment);
    const head = await storage('check segment', () => output.head(key));
    if (!head || head.metadata['frames'] !== rangeTag(req)) return null;
    const posterKey = req.segment === 0 ? keys.segmentPoster(req.jobId) : undefined;
    if (posterKey && !(await storage('check segment poster', () => output.head(posterKey)))) return null;
    return {
      segment: req.segment,
      key,
      ...(posterKey ? { posterKey } : {}),
      bytes: head.size,
      durationSeconds: Number(head.metadata['duration-seconds']),
      renderSeconds: 0,
      reused: true,
    };
  }

  async function render(req: SegmentRequest, options: RenderOptions, timeoutMs: number, log: Logger, stop?: AbortSignal): Promise<SegmentResult> {
    const plan = planRender(options, req.durations);
    if (req.frames.end > plan.totalFrames) throw bad(`frames end ${req.frames.end} is past the video's ${plan.totalFrames} frames`);
    const needed = imagesForRange(plan, req.frames);
    const byIndex = new Map(req.images.map((im) => [im.index, im]));
    const missing = needed.filter((i) => !byIndex.has(i));
    if (missing.length) throw bad(`images ${missing.join(', ')} are shown but not listed`);
    const images: RenderInput[] = req.durations.map((durationSeconds, index) => {
      const im = byIndex.get(index);
      const label = im?.label ?? `image ${index + 1}`;
      return {
        label,
        durationSeconds,
        load: async () => {
          if (!im || !needed.includes(index)) throw new CodedError('internal_error', `segment ${req.segment} does not show ${label}`);
          const got = await storage(`read ${label}`, () => input.getBytes(im.key));
          if (!got) throw new CodedError('image_unreadable', `The upload of ${label} is gone from the input bucket.`);
          if (im.etag && got.info.etag && got.info.etag !== im.etag) throw new CodedError('image_unreadable', `The upload of ${label} changed after the job started.`);
          if (got.body.length > config.limits.maxImageBytes) {
            throw new CodedError('image_too_large', `${label} is ${got.body.length} bytes; the limit is ${config.limits.maxImageBytes}.`);
          }
          return got.body;
        },
      };
    });

    const workDir = await mkdtemp(join(config.tempRoot ?? tmpdir(), `seg-${req.jobId.slice(0, 8)}-${req.segment}-`));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new CodedError('render_timeout', 'The segment ran out of time.')), timeoutMs);
    const onStop = () => abort.abort(new CodedError('render_failed', `Segment ${req.segment} was stopped.`));
    if (stop?.aborted) onStop();
    else stop?.addEventListener('abort', onStop, { once: true });
    try {
      let result;
      try {
        result = await renderer.render({ images, options, maxImagePixels: config.limits.maxImagePixels, workDir, signal: abort.signal, frames: req.frames });
      } catch (err) {
        if (stop?.aborted) throw new CodedError('render_failed', `Segment ${req.segment} was stopped.`);
        if (abort.signal.aborted) throw new CodedError('render_timeout', `Segment ${req.segment} did not finish within ${Math.round(timeoutMs / 1000)} s.`);
        throw err;
      } finally {
        clearTimeout(timer);
      }
      const key = keys.segment(req.jobId, req.segment);
      let posterKey: string | undefined;
      if (req.frames.start === 0) {
        posterKey = keys.segmentPoster(req.jobId);
        const size = (await stat(result.posterPath)).size;
        await storage('write segment poster', () => output.put(posterKey!, createReadStream(result.posterPath), { contentType: 'image/jpeg', contentLength: size }));
      }
      const bytes = (await stat(result.videoPath)).size;
      // Written last: with its metadata it marks the segment complete for a repeated request.
      await storage('write segment', () =>
        output.put(key, createReadStream(result.videoPath), {
          contentType: 'video/mp4',
          contentLength: bytes,
          metadata: { 'job-id': req.jobId, frames: rangeTag(req), 'duration-seconds': String(result.durationSeconds) },
        }),
      );
      log.info('segment rendered', { segment: req.segment, count: req.count, frames: req.frames, images: needed.length, renderSeconds: result.renderSeconds, bytes });
      return { segment: req.segment, key, ...(posterKey ? { posterKey } : {}), bytes, durationSeconds: result.durationSeconds, renderSeconds: result.renderSeconds, reused: false };
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
      await rm(workDir, { recursive: true, force: true }).catch((err: Error) => log.warn('could not remove work dir', { error: err.message }));
    }
  }

  return async function handler(req: SegmentRequest, context?: ContextLike): Promise<SegmentResponse> {
    const log = withKeys(logger, { jobId: typeof req?.jobId === 'string' ? req.jobId.slice(0, 64) : null, segment: req?.segment });
    try {
      const options = validateSegmentRequest(req, config.limits);
      const again = await stored(req);
      if (again) {
        log.info('segment already stored: answering from it', { segment: req.segment });
        return { ok: true, ...again };
      }
      const remaining = context ? context.getRemainingTimeInMillis() - margin : Infinity;
      const timeoutMs = Math.min(req.timeoutMs, remaining);
      if (timeoutMs < 1000) throw new CodedError('render_timeout', `Not enough time left to render segment ${req.segment}.`);
      return { ok: true, ...(await render(req, options, timeoutMs, log, context?.abortSignal)) };
    } catch (err) {
      const error = toFailure(err);
      log.error('segment failed', { code: error.code, message: error.message });
      return { ok: false, error };
    }
  };
}

/** The caller's side of the wire: a SegmentResponse becomes a SegmentResult or a CodedError. */
export function segmentResultOf(response: unknown, segment: number): SegmentResult {
  const r = response as Partial<SegmentResponse> | null;
  if (r && r.ok === true && typeof (r as SegmentResult).key === 'string') return r as SegmentResult;
  if (r && r.ok === false && r.error && typeof r.error.code === 'string') {
    const code = KNOWN.has(r.error.code) ? r.error.code : 'internal_error';
    throw new CodedError(code, String(r.error.message ?? `segment ${segment} failed`), { segment });
  }
  throw new CodedError('render_failed', `Segment ${segment}: the worker gave no usable answer.`, { segment });
}
