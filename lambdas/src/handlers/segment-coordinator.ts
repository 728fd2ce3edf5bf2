/**
 * The fan-out coordinator, used by process-media for long jobs (see core/segments.ts and
 * docs/architecture.md "Long jobs: fan-out"): plan the segments, run one segment worker per segment
 * through the SegmentInvoker port (all at once; the first failure stops the rest), download the
 * segments, join them by stream copy and hand process-media a RenderResult exactly like the engine's,
 * so everything after the render (upload, status, metrics) stays the same. Segments are deleted from
 * the output bucket whatever happens.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { imageDurations } from '../../../contracts/index.ts';
import type { JobManifest } from '../core/job.ts';
import { keys } from '../core/keys.ts';
import { CodedError, type Logger, type ObjectStore, type RenderProgress, type RenderResult, type Renderer, type SegmentInvoker, type SegmentRequest, type SegmentResult } from '../core/ports.ts';
import { planRender } from '../core/render-plan.ts';
import { DEFAULT_MIN_SEGMENT_SECONDS, planSegments, type SegmentSpec } from '../core/segments.ts';

/** Joins MP4 segments by stream copy (engine/segments.ts joinSegments, injected so handlers stay engine-free). */
export type JoinSegments = (paths: string[], outPath: string, options: { durations: number[]; signal?: AbortSignal }) => Promise<{ bytes: number }>;

export interface SegmentCoordinatorPorts {
  invoker: SegmentInvoker;
  /** Where the workers store segments (the output bucket). */
  output: ObjectStore;
  join: JoinSegments;
  logger: Logger;
}

export interface SegmentCoordinatorConfig {
  /** Segments per long job; 1 = never fan out. */
  workers: number;
  /** Only videos at least this long are split. @default 60 */
  minVideoSeconds?: number;
  /** No segment shorter than this. @default 10 */
  minSegmentSeconds?: number;
  /** Time each worker gets. @default 840000 (14 min) */
  segmentTimeoutMs?: number;
}

type RenderRequest = Parameters<Renderer['render']>[0];

export interface SegmentCoordinator {
  /** The split for a job, or null when it renders in one piece. */
  segmentsFor(manifest: Pick<JobManifest, 'options' | 'images'>): SegmentSpec[] | null;
  /** Render the job fanned out; null when the job is not split (render it in one piece). */
  render(jobId: string, manifest: JobManifest, request: RenderRequest): Promise<RenderResult | null>;
}

export function createSegmentCoordinator(ports: SegmentCoordinatorPorts, config: SegmentCoordinatorConfig): SegmentCoordinator {
  const { invoker, output, join: joinSegments, logger } = ports;
  const minVideoSeconds = config.minVideoSeconds ?? 60;

  function segmentsFor(manifest: Pick<JobManifest, 'options' | 'images'>): SegmentSpec[] | null {
    if (config.workers <= 1) return null;
    const plan = planRender(manifest.options, imageDurations(manifest.options, manifest.images.length));
    if (plan.durationSeconds < minVideoSeconds) return null;
    const segs = planSegments(plan, { workers: config.workers, minSegmentSeconds: config.minSegmentSeconds ?? DEFAULT_MIN_SEGMENT_SECONDS });
    return segs.length > 1 ? segs : null;
  }

  function requestFor(jobId: string, manifest: JobManifest, s: SegmentSpec, count: number): SegmentRequest {
    return {
      jobId,
      segment: s.index,
      count,
      frames: s.frames,
      options: manifest.options,
      durations: imageDurations(manifest.options, manifest.images.length),
      images: s.images.map((i) => {
        const im = manifest.images[i]!;
        return { index: i, key: im.key, etag: im.etag, label: `image ${i + 1} (${im.name})` };
      }),
      timeoutMs: config.segmentTimeoutMs ?? 840_000,
    };
  }

  async function download(key: string, path: string): Promise<void> {
    let got;
    try {
      got = await output.getStream(key);
    } catch (err) {
      throw new CodedError('storage_error', `read ${key} failed: ${(err as Error).message}`);
    }
    if (!got) throw new CodedError('storage_error', `${key} is missing from the output bucket.`);
    await pipeline(got.body, createWriteStream(path));
  }

  async function render(jobId: string, manifest: JobManifest, request: RenderRequest): Promise<RenderResult | null> {
    const segs = segmentsFor(manifest);
    if (!segs) return null;
    const started = performance.now();
    const plan = planRender(manifest.options, imageDurations(manifest.options, manifest.images.length));
    const log = logger;
    const report = (fraction: number) => request.onProgress?.({ fraction, outSeconds: fraction * plan.durationSeconds } satisfies RenderProgress);
    report(0);
    log.info('fan-out: rendering in segments', { segments: segs.length, frames: segs.map((s) => [s.frames.start, s.frames.end]) });

    // Stop every worker on the first failure or when process-media gives up.
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort(request.signal?.reason);
    if (request.signal?.aborted) onOuterAbort();
    else request.signal?.addEventListener('abort', onOuterAbort, { once: true });

    const stored = new Set<string>();
    let done = 0;
    try {
      let firstError: unknown;
      const settled = await Promise.allSettled(
        segs.map(async (s) => {
          try {
            const r = await invoker.invoke(requestFor(jobId, manifest, s, segs.length), abort.signal);
            stored.add(r.key);
            if (r.posterKey) stored.add(r.posterKey);
            if (r.segment !== s.index || Math.abs(r.durationSeconds - s.durationSeconds) > 0.5 / plan.fps) {
              throw new CodedError('render_failed', `Segment ${s.index} came back as segment ${r.segment}, ${r.durationSeconds} s long (expected ${s.durationSeconds} s).`);
            }
            done++;
            report(0.9 * (done / segs.length));
            return r;
          } catch (err) {
            // The first failure is the one to report; the others are mostly "aborted" because of it.
            firstError ??= err;
            abort.abort(err);
            throw err;
          }
        }),
      );
      // allSettled: no worker is still writing when the finally block deletes the segments.
      if (firstError !== undefined) throw firstError;
      const results = settled.map((r) => (r as PromiseFulfilledResult<SegmentResult>).value);

      const paths = results.map((_, i) => join(request.workDir, `segment-${i}.mp4`));
      const posterPath = join(request.workDir, 'poster.jpg');
      const posterKey = results[0]!.posterKey;
      if (!posterKey) throw new CodedError('render_failed', 'Segment 0 stored no poster.');
      await Promise.all([...results.map((r, i) => download(r.key, paths[i]!)), download(posterKey, posterPath)]);
      const videoPath = join(request.workDir, 'video.mp4');
      const joined = await joinSegments(paths, videoPath, { durations: segs.map((s) => s.durationSeconds), signal: abort.signal });
      report(1);
      const renderSeconds = (performance.now() - started) / 1000;
      log.info('fan-out: joined', {
        segments: segs.length,
        renderSeconds,
        workerSeconds: results.reduce((a, r) => a + r.renderSeconds, 0),
        reused: results.filter((r) => r.reused).length,
        bytes: joined.bytes,
      });
      return { videoPath, posterPath, durationSeconds: plan.durationSeconds, width: plan.width, height: plan.height, bytes: joined.bytes, renderSeconds };
    } finally {
      request.signal?.removeEventListener('abort', onOuterAbort);
      // Temporary objects: every key a worker may have written, whether or not it answered.
      const toDelete = new Set([...stored, ...segs.map((s) => keys.segment(jobId, s.index)), keys.segmentPoster(jobId)]);
      await Promise.all(
        [...toDelete].map((key) => output.delete(key).catch((err: Error) => log.warn('could not delete a segment', { key, error: err.message }))),
      );
    }
  }

  return { segmentsFor, render };
}
