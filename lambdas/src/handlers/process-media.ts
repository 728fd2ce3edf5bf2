/**
 * process-media: invoked (asynchronously) by the S3 ObjectCreated event of `jobs/<id>/manifest.json`.
 * Loads the manifest, renders the images into `videos/<id>/video.mp4` + `poster.jpg` in the output
 * bucket and keeps `jobs/<id>/status.json` current: queued → processing (progress) → done | failed.
 *
 * Delivery is at-least-once, so every step is safe to repeat:
 * - a finished video (object with its metadata) means "done": a later delivery only rewrites the status;
 * - a lease (`jobs/<id>/lease.json`, conditional writes) lets one invocation render at a time. Its holder
 *   renews it every leaseTtlMs/4 (If-Match on its own ETag); a crashed holder stops renewing, so its lease
 *   expires within leaseTtlMs (45 s, less than Lambda's one-minute wait before a retry) and the retry
 *   takes it over with If-Match. A delivery that finds a live lease returns at once: the holder finishes;
 * - deterministic failures (bad image, bad manifest, time limit) mark the job failed and return;
 * - transient ones (storage, FFmpeg crash, anything unexpected) rethrow so Lambda retries the event; the
 *   attempt counter lives in status.json and the last attempt marks the job failed *and* rethrows, so the
 *   event still reaches the dead-letter queue.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, S3Event } from 'aws-lambda';
import { isJobId, JOB_FAILURE_CODES, type JobFailureCode, type JobVideo, type Limits } from '../../../contracts/index.ts';
import { METRIC } from '../core/config.ts';
import {
  canTransition,
  isTerminal,
  leaseExpiry,
  parseManifest,
  parseStatusRecord,
  statusRecord,
  type JobManifest,
  type LeaseRecord,
  type StatusRecord,
} from '../core/job.ts';
import { jobIdFromManifestKey, keys } from '../core/keys.ts';
import {
  CodedError,
  PreconditionFailedError,
  type Clock,
  type Logger,
  type Metrics,
  type ObjectStore,
  type RenderInput,
  type RenderResult,
  type Renderer,
} from '../core/ports.ts';
import { withKeys } from './http.ts';
import type { SegmentCoordinator } from './segment-coordinator.ts';

export interface ProcessMediaPorts {
  input: ObjectStore;
  output: ObjectStore;
  renderer: Renderer;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Fan-out for long jobs (handlers/segment-coordinator.ts); unset: every job renders in one piece. */
  fanOut?: SegmentCoordinator;
}

export interface ProcessMediaConfig {
  limits: Limits;
  /** Prefix of video URLs written into the status, e.g. `/videos`. */
  videosBaseUrl: string;
  /** Attempts per job (first try + async retries). @default 3 */
  maxAttempts?: number;
  /** Time kept back from the invocation's remaining time for uploading and the final status. @default 30000 */
  safetyMarginMs?: number;
  /** Used when no Lambda context is given. @default 900000 */
  defaultTimeoutMs?: number;
  /** Parent of the per-job work directories. @default os.tmpdir() */
  tempRoot?: string;
  /** Least time between two progress writes to status.json. @default 1000 */
  progressIntervalMs?: number;
  /** A lease not renewed for this long is free to take over; renewed every quarter of it. @default 45000 */
  leaseTtlMs?: number;
}

export type ProcessOutcome = 'rendered' | 'already_done' | 'finished_from_output' | 'busy' | 'failed' | 'ignored';

export interface ProcessMediaResult {
  results: { jobId: string | null; key: string | null; outcome: ProcessOutcome; code?: string }[];
}

/** Failures a retry cannot fix: the job is marked failed at once. Everything else is retried. */
const DETERMINISTIC: ReadonlySet<string> = new Set<JobFailureCode>(['image_unreadable', 'image_too_large', 'manifest_invalid', 'render_timeout']);

const KNOWN_CODES: ReadonlySet<string> = new Set<string>(JOB_FAILURE_CODES);

/**
 * What the handler reads from the Lambda context. `shutdownSignal` is not Lambda's: the local stack
 * sets it on Ctrl-C so a running render stops at once and the job goes back to `queued` (the attempt
 * does not count) for the next start to pick up.
 */
export type LambdaContextLike = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'awsRequestId'>> & { shutdownSignal?: AbortSignal };

class Interrupted extends Error {}
/** Another invocation took the lease over (this one stalled past the lease TTL): stop, touch nothing. */
class LeaseLost extends Error {}

interface HeldLease {
  /** Aborted when a renewal finds the lease taken over. */
  lost: AbortSignal;
  /** Stop renewing; then delete the lease if it is still ours. */
  release(): Promise<void>;
}

/** Wrap storage calls so their failures carry the `storage_error` code (and stay retryable). */
async function storage<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PreconditionFailedError || err instanceof CodedError) throw err;
    throw new CodedError('storage_error', `${what} failed: ${(err as Error).message}`);
  }
}

/** Rejects with the abort reason once `signal` aborts. */
function whenAborted(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

function toCoded(err: unknown): CodedError {
  if (err instanceof CodedError && KNOWN_CODES.has(err.code)) return err;
  if (err instanceof CodedError) return new CodedError('internal_error', `${err.code}: ${err.message}`);
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOSPC') return new CodedError('out_of_disk', 'The temporary directory ran out of space.');
  return new CodedError('internal_error', e?.message ? `Unexpected error: ${e.message}` : 'Unexpected error.');
}

export function createProcessMediaHandler(ports: ProcessMediaPorts, config: ProcessMediaConfig) {
  const { input, output, renderer, clock, logger, metrics } = ports;
  const maxAttempts = config.maxAttempts ?? 3;
  const marginMs = config.safetyMarginMs ?? 30_000;
  const progressIntervalMs = config.progressIntervalMs ?? 1000;
  const baseUrl = config.videosBaseUrl.replace(/\/+$/, '');

  const videoUrls = (jobId: string) => ({ url: `${baseUrl}/${jobId}/video.mp4`, posterUrl: `${baseUrl}/${jobId}/poster.jpg` });

  async function readStatus(jobId: string): Promise<StatusRecord | null> {
    const got = await storage('read status', () => input.getBytes(keys.status(jobId)));
    return got ? parseStatusRecord(Buffer.from(got.body).toString('utf8'), jobId) : null;
  }

  async function writeStatus(rec: StatusRecord): Promise<void> {
    await storage('write status', () => input.put(keys.status(rec.jobId), JSON.stringify(rec), { contentType: 'application/json', cacheControl: 'no-store' }));
  }

  /** The finished video, if a previous invocation wrote it (its metadata is written with it). */
  async function finishedVideo(jobId: string): Promise<JobVideo | null> {
    const v = await storage('check video', () => output.head(keys.video(jobId)));
    if (!v) return null;
    const duration = Number(v.metadata['duration-seconds']);
    const width = Number(v.metadata['width']);
    const height = Number(v.metadata['height']);
    if (!(duration > 0 && width > 0 && height > 0)) return null;
    if (!(await storage('check poster', () => output.head(keys.poster(jobId))))) return null;
    return { ...videoUrls(jobId), durationSeconds: duration, width, height, bytes: v.size };
  }

  const leaseTtlMs = config.leaseTtlMs ?? 45_000;

  function leaseBody(owner: string): string {
    return JSON.stringify({ owner, expiresAt: new Date(clock.now().getTime() + leaseTtlMs).toISOString() } satisfies LeaseRecord);
  }

  /** Create the lease if-none-match, or take over one that expired (if-match its ETag). Null: someone else holds it. */
  async function takeLease(jobId: string, owner: string): Promise<string | null> {
    const key = keys.lease(jobId);
    const opts = { contentType: 'application/json', cacheControl: 'no-store' };
    try {
      return (await storage('take lease', () => input.put(key, leaseBody(owner), { ...opts, ifNoneMatch: '*' }))).etag;
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
    const current = await storage('read lease', () => input.getBytes(key));
    if (current && leaseExpiry(Buffer.from(current.body).toString('utf8')) > clock.now().getTime()) return null;
    try {
      const etag = current
        ? (await storage('take over lease', () => input.put(key, leaseBody(owner), { ...opts, ifMatch: current.info.etag }))).etag
        : (await storage('take lease', () => input.put(key, leaseBody(owner), { ...opts, ifNoneMatch: '*' }))).etag;
      return etag;
    } catch (err) {
      if (err instanceof PreconditionFailedError) return null;
      throw err;
    }
  }

  async function acquireLease(jobId: string, log: Logger): Promise<HeldLease | null> {
    const owner = randomUUID();
    let etag = await takeLease(jobId, owner);
    if (etag === null) return null;
    const lost = new AbortController();
    let renewing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      renewing = renewing.then(async () => {
        if (lost.signal.aborted) return;
        try {
          etag = (await input.put(keys.lease(jobId), leaseBody(owner), { contentType: 'application/json', cacheControl: 'no-store', ifMatch: etag! })).etag;
        } catch (err) {
          if (err instanceof PreconditionFailedError) {
            log.warn('lost the lease to another invocation; stopping');
            lost.abort(new LeaseLost('the lease was taken over'));
          } else {
            log.warn('could not renew the lease (will retry)', { error: (err as Error).message });
          }
        }
      });
    }, Math.max(10, Math.floor(leaseTtlMs / 4)));
    timer.unref?.();
    return {
      lost: lost.signal,
      release: async () => {
        clearInterval(timer);
        await renewing;
        if (lost.signal.aborted) return;
        try {
          // Delete only our own lease: one taken over meanwhile belongs to its new holder.
          const cur = await input.getBytes(keys.lease(jobId));
          if (cur && (JSON.parse(Buffer.from(cur.body).toString('utf8')) as LeaseRecord).owner === owner) await input.delete(keys.lease(jobId));
        } catch (err) {
          log.warn('could not release lease (it will expire)', { error: (err as Error).message });
        }
      },
    };
  }

  async function loadManifest(jobId: string): Promise<JobManifest> {
    const got = await storage('read manifest', () => input.getBytes(keys.manifest(jobId)));
    // The event says the manifest exists; not finding it is a storage problem worth a retry.
    if (!got) throw new CodedError('storage_error', 'The job manifest could not be read yet.');
    const parsed = parseManifest(Buffer.from(got.body).toString('utf8'), jobId, config.limits);
    if (!parsed.ok) throw new CodedError('manifest_invalid', `The job manifest is invalid: ${parsed.problem.message}.`);
    return parsed.value;
  }

  function renderInputs(manifest: JobManifest): RenderInput[] {
    const durations = manifest.options.durations ?? manifest.images.map(() => manifest.options.secondsPerImage);
    return manifest.images.map((img, i) => {
      const label = `image ${i + 1} (${img.name})`;
      return {
        label,
        durationSeconds: durations[i]!,
        load: async () => {
          const got = await storage(`read ${label}`, () => input.getBytes(img.key));
          if (!got) throw new CodedError('image_unreadable', `The upload of ${label} is gone from the input bucket.`);
          if (img.etag && got.info.etag && got.info.etag !== img.etag) {
            throw new CodedError('image_unreadable', `The upload of ${label} changed after the job started.`);
          }
          if (got.body.length > config.limits.maxImageBytes) {
            throw new CodedError('image_too_large', `${label} is ${got.body.length} bytes; the limit is ${config.limits.maxImageBytes}.`);
          }
          return got.body;
        },
      };
    });
  }

  async function render(
    jobId: string,
    manifest: JobManifest,
    attempts: number,
    budgetMs: number,
    log: Logger,
    shutdown: AbortSignal | undefined,
    leaseLost: AbortSignal,
  ): Promise<JobVideo> {
    const workDir = await mkdtemp(join(config.tempRoot ?? tmpdir(), `job-${jobId.slice(0, 8)}-`));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new CodedError('render_timeout', 'The render ran out of time.')), budgetMs);
    const onShutdown = () => abort.abort(new Interrupted('shutting down'));
    if (shutdown?.aborted) onShutdown();
    else shutdown?.addEventListener('abort', onShutdown, { once: true });
    const onLeaseLost = () => abort.abort(new LeaseLost('the lease was taken over'));
    leaseLost.addEventListener('abort', onLeaseLost, { once: true });
    let lastWrite = 0;
    let lastFraction = 0;
    let chain: Promise<void> = Promise.resolve();
    try {
      let result: RenderResult;
      try {
        const request: Parameters<Renderer['render']>[0] = {
          images: renderInputs(manifest),
          options: manifest.options,
          maxImagePixels: config.limits.maxImagePixels,
          workDir,
          signal: abort.signal,
          onProgress: (p) => {
            // A renderer still running past its deadline must not overwrite the final status (issue 6).
            if (abort.signal.aborted) return;
            const now = Date.now();
            if (now - lastWrite < progressIntervalMs || p.fraction - lastFraction < 0.01) return;
            lastWrite = now;
            lastFraction = p.fraction;
            // Progress is advisory: 0.99 at most until the video is stored; failures only get logged.
            const rec = statusRecord(jobId, 'processing', clock.now(), { progress: Math.min(0.99, p.fraction), attempts });
            chain = chain.then(() => writeStatus(rec)).catch((err: Error) => log.warn('progress write failed', { error: err.message }));
          },
        };
        // Long jobs may fan out into segments rendered in parallel; null means "render in one piece".
        const rendering = (async () => (await ports.fanOut?.render(jobId, manifest, request)) ?? (await renderer.render(request)))();
        rendering.catch(() => {}); // settled late if it ignored the signal: nobody waits for it then
        // The renderer should stop on abort; if it (or a storage read inside it) does not, the
        // invocation still ends on time instead of hanging until the function times out (issue 6).
        result = await Promise.race([rendering, whenAborted(abort.signal)]);
      } catch (err) {
        if (shutdown?.aborted) throw new Interrupted('the render was stopped by a shutdown');
        if (leaseLost.aborted) throw new LeaseLost('the lease was taken over during the render');
        if (abort.signal.aborted) {
          throw new CodedError('render_timeout', `The render did not finish within ${Math.round(budgetMs / 1000)} s (the function's time limit).`);
        }
        throw err;
      } finally {
        clearTimeout(timer);
      }
      await chain;
      if (leaseLost.aborted) throw new LeaseLost('the lease was taken over during the render');
      const metadata = {
        'job-id': jobId,
        'duration-seconds': String(result.durationSeconds),
        width: String(result.width),
        height: String(result.height),
      };
      const cache = 'public, max-age=31536000, immutable';
      // Poster first: the video with its metadata is the "finished" marker a retry looks for.
      const posterBytes = (await stat(result.posterPath)).size;
      await storage('write poster', () =>
        output.put(keys.poster(jobId), createReadStream(result.posterPath), { contentType: 'image/jpeg', contentLength: posterBytes, cacheControl: cache }),
      );
      const videoBytes = (await stat(result.videoPath)).size;
      await storage('write video', () =>
        output.put(keys.video(jobId), createReadStream(result.videoPath), {
          contentType: 'video/mp4',
          contentLength: videoBytes,
          cacheControl: cache,
          metadata,
        }),
      );
      metrics.addMetric(METRIC.imagesPerJob, 'Count', manifest.images.length);
      metrics.addMetric(METRIC.renderSeconds, 'Seconds', result.renderSeconds);
      metrics.addMetric(METRIC.videoSecondsRendered, 'Seconds', result.durationSeconds);
      if (result.renderSeconds > 0) metrics.addMetric(METRIC.renderSpeed, 'None', result.durationSeconds / result.renderSeconds);
      metrics.addMetric(METRIC.bytesOut, 'Bytes', videoBytes + posterBytes);
      log.info('rendered', {
        images: manifest.images.length,
        renderSeconds: result.renderSeconds,
        durationSeconds: result.durationSeconds,
        bytes: videoBytes,
        preset: manifest.options.preset,
        transition: manifest.options.transition,
      });
      return {
        ...videoUrls(jobId),
        durationSeconds: result.durationSeconds,
        width: result.width,
        height: result.height,
        bytes: videoBytes,
      };
    } finally {
      clearTimeout(timer);
      shutdown?.removeEventListener('abort', onShutdown);
      leaseLost.removeEventListener('abort', onLeaseLost);
      await chain;
      await rm(workDir, { recursive: true, force: true }).catch((err: Error) => log.warn('could not remove work dir', { error: err.message }));
    }
  }

  async function processJob(jobId: string, context: LambdaContextLike | undefined): Promise<{ outcome: ProcessOutcome; code?: string }> {
    const log = withKeys(logger, { jobId });
    const started = clock.now();
    const remainingMs = context ? context.getRemainingTimeInMillis() : (config.defaultTimeoutMs ?? 900_000);

    const prev = await readStatus(jobId);
    if (prev && isTerminal(prev.status)) {
      log.info('duplicate delivery for a finished job: nothing to do', { status: prev.status });
      return { outcome: 'already_done' };
    }
    const existing = await finishedVideo(jobId);
    if (existing) {
      await writeStatus(statusRecord(jobId, 'done', clock.now(), { video: existing, attempts: prev?.attempts ?? 0 }));
      log.info('video already stored: finished the status without rendering');
      return { outcome: 'finished_from_output' };
    }

    const lease = await acquireLease(jobId, log);
    if (!lease) {
      log.info('another invocation holds the lease: leaving the job to it');
      return { outcome: 'busy' };
    }
    // Re-read under the lease: the previous holder may have finished between our checks.
    const current = await readStatus(jobId).catch(async (err: unknown) => {
      await lease.release();
      throw err;
    });
    if (current && !canTransition(current.status, 'processing')) {
      await lease.release();
      return { outcome: 'already_done' };
    }
    const attempts = (current?.attempts ?? 0) + 1;
    try {
      await writeStatus(statusRecord(jobId, 'processing', clock.now(), { progress: 0, attempts }));
      const manifest = await loadManifest(jobId);
      const budgetMs = remainingMs - marginMs - (clock.now().getTime() - started.getTime());
      if (budgetMs < 1000) throw new CodedError('internal_error', `Not enough time left in this invocation to render (${budgetMs} ms).`);
      log.info('rendering', { attempt: attempts, images: manifest.images.length, videoSeconds: manifest.videoSeconds, budgetMs });
      const video = await render(jobId, manifest, attempts, budgetMs, log, context?.shutdownSignal, lease.lost);
      await writeStatus(statusRecord(jobId, 'done', clock.now(), { video, attempts }));
      metrics.addMetric(METRIC.jobsSucceeded, 'Count', 1);
      log.info('job done', { attempt: attempts, totalSeconds: (clock.now().getTime() - started.getTime()) / 1000 });
      return { outcome: 'rendered' };
    } catch (err) {
      if (err instanceof LeaseLost || lease.lost.aborted) {
        log.warn('another invocation took the job over; leaving it to that one', { attempt: attempts });
        return { outcome: 'busy' };
      }
      if (err instanceof Interrupted || context?.shutdownSignal?.aborted) {
        log.warn('interrupted by shutdown; the job is queued again', { attempt: attempts });
        await writeStatus(statusRecord(jobId, 'queued', clock.now(), { attempts: attempts - 1 })).catch(() => {});
        throw err;
      }
      const coded = toCoded(err);
      const final = DETERMINISTIC.has(coded.code) || attempts >= maxAttempts;
      if (final) {
        log.error('job failed', { code: coded.code, message: coded.message, attempt: attempts, retryable: !DETERMINISTIC.has(coded.code) });
        await writeStatus(statusRecord(jobId, 'failed', clock.now(), { attempts, error: { code: coded.code, message: coded.message } })).catch((e: Error) =>
          log.error('could not mark the job failed', { error: e.message }),
        );
        metrics.addMetric(METRIC.jobsFailed, 'Count', 1);
        // Out of attempts: rethrow too, so the event lands in the dead-letter queue.
        if (!DETERMINISTIC.has(coded.code)) throw coded;
        return { outcome: 'failed', code: coded.code };
      }
      log.warn('attempt failed; the event will be retried', { code: coded.code, message: coded.message, attempt: attempts, maxAttempts });
      await writeStatus(statusRecord(jobId, 'queued', clock.now(), { attempts })).catch((e: Error) => log.warn('could not write status', { error: e.message }));
      throw coded;
    } finally {
      await lease.release();
    }
  }

  return async function handler(event: S3Event, context?: LambdaContextLike): Promise<ProcessMediaResult> {
    const results: ProcessMediaResult['results'] = [];
    let firstError: unknown;
    try {
      const records = (event as Partial<S3Event> | null)?.Records;
      if (!Array.isArray(records)) {
        logger.warn('ignored an event without S3 records', { eventKeys: event && typeof event === 'object' ? Object.keys(event).slice(0, 10) : typeof event });
        return { results };
      }
      for (const record of records) {
        const rawKey = record?.s3?.object?.key;
        const bucket = record?.s3?.bucket?.name;
        let key: string | null = null;
        try {
          key = typeof rawKey === 'string' ? decodeURIComponent(rawKey.replace(/\+/g, ' ')) : null;
        } catch {
          key = null;
        }
        const jobId = key ? jobIdFromManifestKey(key) : null;
        if (
          record?.eventSource !== 'aws:s3' ||
          typeof record.eventName !== 'string' ||
          !record.eventName.startsWith('ObjectCreated') ||
          bucket !== input.bucket ||
          !jobId ||
          !isJobId(jobId)
        ) {
          logger.warn('ignored an S3 record that is not a job manifest in the input bucket', {
            eventName: record?.eventName,
            bucket,
            key: typeof key === 'string' ? key.slice(0, 200) : null,
          });
          results.push({ jobId: null, key, outcome: 'ignored' });
          continue;
        }
        try {
          results.push({ jobId, key, ...(await processJob(jobId, context)) });
        } catch (err) {
          results.push({ jobId, key, outcome: 'failed', code: err instanceof CodedError ? err.code : 'internal_error' });
          firstError ??= err;
        }
      }
    } finally {
      metrics.publishStoredMetrics();
    }
    if (firstError) throw firstError;
    return { results };
  };
}
