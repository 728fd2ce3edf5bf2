/**
 * Fan-out for the local stack: the segment coordinator with the render-segment handler running
 * in-process (LocalSegmentInvoker) and its renders in their own pool of worker threads, so segments of
 * one job render in parallel without blocking the stack's event loop. Same handlers as on AWS; only the
 * invoke differs (see docs/architecture.md "Long jobs: fan-out").
 */
import type { Limits } from '../../../../contracts/index.ts';
import type { Logger, ObjectStore } from '../../core/ports.ts';
import { joinSegments } from '../../engine/segments.ts';
import { createRenderSegmentHandler } from '../../handlers/render-segment.ts';
import { createSegmentCoordinator, type SegmentCoordinator } from '../../handlers/segment-coordinator.ts';
import { LocalSegmentInvoker } from './segment-invoker.ts';
import { WorkerRenderer } from './worker-renderer.ts';

export interface LocalFanOutOptions {
  input: ObjectStore;
  output: ObjectStore;
  logger: Logger;
  limits: Limits;
  /** Segments per long job (> 1), also the number of render threads. */
  workers: number;
  /** Only videos at least this long are split. @default 60 */
  minVideoSeconds?: number;
  ffmpegPath?: string;
  /** Time limit of one segment render. @default 900000 */
  timeoutMs?: number;
}

export interface LocalFanOut {
  coordinator: SegmentCoordinator;
  /** Stop the segment render threads. */
  close(): Promise<void>;
}

export function createLocalFanOut(o: LocalFanOutOptions): LocalFanOut {
  const renderer = new WorkerRenderer({ maxWorkers: o.workers, ...(o.ffmpegPath ? { ffmpegPath: o.ffmpegPath } : {}) });
  const handler = createRenderSegmentHandler({ input: o.input, output: o.output, renderer, logger: o.logger }, { limits: o.limits, safetyMarginMs: 0 });
  const coordinator = createSegmentCoordinator(
    {
      invoker: new LocalSegmentInvoker(handler, o.workers),
      output: o.output,
      join: (paths, out, j) => joinSegments(paths, out, o.ffmpegPath, j),
      logger: o.logger,
    },
    { workers: o.workers, minVideoSeconds: o.minVideoSeconds ?? 60, segmentTimeoutMs: o.timeoutMs ?? 900_000 },
  );
  return { coordinator, close: () => renderer.close() };
}
