/**
 * The render engine in worker threads, behind the Renderer port. The engine does pixel work in
 * JavaScript (colour conversion, crossfade blends) besides driving FFmpeg; in the local stack that
 * would stall the one event loop that also answers the API, so each render runs in a worker thread.
 * Image bytes are still fetched lazily by the main thread (RenderInput.load) and transferred to the
 * worker one image at a time, so memory stays flat and all storage calls stay in one place.
 */
import { Worker } from 'node:worker_threads';
import { CodedError, type RenderInput, type RenderProgress, type RenderResult, type Renderer } from '../../core/ports.ts';
import type { RenderOptions } from '../../../../contracts/index.ts';
import type { FromWorker, ToWorker, WorkerInit } from './render-worker.ts';

export interface WorkerRendererOptions {
  ffmpegPath?: string;
  /** The engine's own FFmpeg time limit (a ceiling; the handler's deadline usually stops a render first). */
  timeoutMs?: number;
  /** Workers kept at most (one render each). @default 1 */
  maxWorkers?: number;
  /** Module URL that exports the engine (see render-worker.ts). @default the engine in lambdas/src/engine */
  engineModule?: string;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

type RenderArgs = Parameters<Renderer['render']>[0];

function serialiseError(err: unknown): { name: string; message: string; code?: string; details?: Record<string, unknown> } {
  if (err instanceof CodedError) return { name: err.name, message: err.message, code: err.code, details: err.details };
  const e = err as Error;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: (e as NodeJS.ErrnoException)?.code };
}

export function reviveError(e: { name: string; message: string; code?: string; details?: Record<string, unknown> }): Error {
  if (e.name === 'CodedError' && e.code) return new CodedError(e.code, e.message, e.details ?? {});
  const err = new Error(e.message) as NodeJS.ErrnoException;
  err.name = e.name;
  if (e.code) err.code = e.code;
  return err;
}

export class WorkerRenderer implements Renderer {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((slot: Slot) => void)[] = [];
  private closed = false;
  private nextId = 1;
  private readonly init: WorkerInit;
  private readonly maxWorkers: number;

  constructor(options: WorkerRendererOptions = {}) {
    this.maxWorkers = Math.max(1, options.maxWorkers ?? 1);
    this.init = {
      ffmpegPath: options.ffmpegPath,
      timeoutMs: options.timeoutMs,
      engineModule: options.engineModule ?? new URL('../../engine/index.ts', import.meta.url).href,
    };
  }

  private spawn(): Slot {
    // The worker is TypeScript: a JS entry registers tsx (a dev dependency; the local stack runs from source).
    const worker = new Worker(new URL('./render-worker-boot.mjs', import.meta.url), { workerData: this.init });
    worker.unref();
    const slot: Slot = { worker, busy: false };
    // Always listen: a worker can throw after its render has ended (render() has removed its own listener),
    // and an 'error' nobody listens to is rethrown in this thread, which would take the local stack down.
    // The worker exits after an uncaught error, so 'exit' below drops the slot and the next render gets a new one.
    worker.on('error', () => {});
    worker.on('exit', () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
    });
    this.slots.push(slot);
    return slot;
  }

  private acquire(): Promise<Slot> {
    if (this.closed) return Promise.reject(new CodedError('internal_error', 'The renderer is shutting down.'));
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return Promise.resolve(free);
    }
    if (this.slots.length < this.maxWorkers) {
      const slot = this.spawn();
      slot.busy = true;
      return Promise.resolve(slot);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next && this.slots.includes(slot)) return next(slot);
    slot.busy = false;
    if (next) {
      // The slot's worker died: give the waiter a fresh one.
      void this.acquire().then(next);
    }
  }

  async render(input: RenderArgs): Promise<RenderResult> {
    const slot = await this.acquire();
    const id = this.nextId++;
    const { worker } = slot;
    try {
      return await new Promise<RenderResult>((resolve, reject) => {
        let settled = false;
        let killTimer: NodeJS.Timeout | undefined;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          worker.off('error', onError);
          input.signal?.removeEventListener('abort', onAbort);
          if (killTimer) clearTimeout(killTimer);
          fn();
        };
        const post = (msg: ToWorker, transfer?: ArrayBuffer[]) => worker.postMessage(msg, transfer);
        const onMessage = (msg: FromWorker) => {
          if (msg.id !== id) return;
          switch (msg.type) {
            case 'load': {
              const image: RenderInput | undefined = input.images[msg.index];
              if (!image) {
                post({ type: 'load_error', id, reqId: msg.reqId, error: { name: 'Error', message: `no image ${msg.index}` } });
                return;
              }
              image.load().then(
                (bytes) => {
                  // Copy into a transferable buffer we own (the store's array may be a view into a shared pool).
                  const copy = new Uint8Array(bytes.byteLength);
                  copy.set(bytes);
                  post({ type: 'bytes', id, reqId: msg.reqId, bytes: copy }, [copy.buffer]);
                },
                (err) => post({ type: 'load_error', id, reqId: msg.reqId, error: serialiseError(err) }),
              );
              return;
            }
            case 'progress':
              input.onProgress?.(msg.progress as RenderProgress);
              return;
            case 'done':
              finish(() => resolve(msg.result));
              return;
            case 'error':
              finish(() => reject(reviveError(msg.error)));
              return;
          }
        };
        const onExit = (code: number) =>
          finish(() => reject(new CodedError('render_failed', `The render worker stopped (exit code ${code}) before the render finished.`)));
        const onError = (err: Error) => finish(() => reject(new CodedError('render_failed', `The render worker crashed: ${err.message}`)));
        const onAbort = () => {
          post({ type: 'abort', id, reason: serialiseError(input.signal?.reason ?? new Error('aborted')) });
          // An engine that ignores the abort gets its worker stopped.
          killTimer = setTimeout(() => void worker.terminate(), 10_000);
        };
        worker.on('message', onMessage);
        worker.on('exit', onExit);
        worker.on('error', onError);
        if (input.signal?.aborted) onAbort();
        else input.signal?.addEventListener('abort', onAbort, { once: true });
        post({
          type: 'render',
          id,
          images: input.images.map((im) => ({ label: im.label, durationSeconds: im.durationSeconds })),
          options: input.options as RenderOptions,
          maxImagePixels: input.maxImagePixels,
          workDir: input.workDir,
          ...(input.frames ? { frames: input.frames } : {}),
        });
      });
    } finally {
      this.release(slot);
    }
  }

  /** Stop every worker: running renders fail with `render_failed`. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
