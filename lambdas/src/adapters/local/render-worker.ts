/**
 * Worker thread side of WorkerRenderer: runs the engine for one render at a time and asks the main
 * thread for each image's bytes when the engine calls load().
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RenderOptions } from '../../../../contracts/index.ts';
import { CodedError, type RenderProgress, type RenderResult, type Renderer } from '../../core/ports.ts';

export interface WorkerInit {
  ffmpegPath?: string;
  timeoutMs?: number;
  /** Module exporting `createRenderer(options?: { ffmpegPath?: string; timeoutMs?: number }): Renderer`. */
  engineModule: string;
}

type SerialisedError = { name: string; message: string; code?: string; details?: Record<string, unknown> };

export type ToWorker =
  | {
      type: 'render';
      id: number;
      images: { label: string; durationSeconds: number }[];
      options: RenderOptions;
      maxImagePixels: number;
      workDir: string;
      /** Fan-out: only these output frames (Renderer `frames`). */
      frames?: { start: number; end: number };
    }
  | { type: 'bytes'; id: number; reqId: number; bytes: Uint8Array }
  | { type: 'load_error'; id: number; reqId: number; error: SerialisedError }
  | { type: 'abort'; id: number; reason: SerialisedError };

export type FromWorker =
  | { type: 'load'; id: number; reqId: number; index: number }
  | { type: 'progress'; id: number; progress: RenderProgress }
  | { type: 'done'; id: number; result: RenderResult }
  | { type: 'error'; id: number; error: SerialisedError };

function serialise(err: unknown): SerialisedError {
  if (err instanceof CodedError) return { name: err.name, message: err.message, code: err.code, details: err.details };
  const e = err as NodeJS.ErrnoException;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined };
}

function revive(e: SerialisedError): Error {
  if (e.name === 'CodedError' && e.code) return new CodedError(e.code, e.message, e.details ?? {});
  const err = new Error(e.message) as NodeJS.ErrnoException;
  err.name = e.name;
  if (e.code) err.code = e.code;
  return err;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const init = workerData as WorkerInit;
  const mod = (await import(init.engineModule)) as { createRenderer?: (o: { ffmpegPath?: string; timeoutMs?: number }) => Renderer };
  if (typeof mod.createRenderer !== 'function') throw new Error(`${init.engineModule} does not export createRenderer()`);
  const renderer = mod.createRenderer({
    ...(init.ffmpegPath ? { ffmpegPath: init.ffmpegPath } : {}),
    ...(init.timeoutMs ? { timeoutMs: init.timeoutMs } : {}),
  });

  const loads = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  const aborts = new Map<number, AbortController>();
  let nextReq = 1;
  const post = (msg: FromWorker) => port.postMessage(msg);

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'bytes':
        loads.get(msg.reqId)?.resolve(msg.bytes);
        loads.delete(msg.reqId);
        return;
      case 'load_error':
        loads.get(msg.reqId)?.reject(revive(msg.error));
        loads.delete(msg.reqId);
        return;
      case 'abort':
        aborts.get(msg.id)?.abort(revive(msg.reason));
        return;
      case 'render': {
        const { id } = msg;
        const controller = new AbortController();
        aborts.set(id, controller);
        renderer
          .render({
            images: msg.images.map((im, index) => ({
              label: im.label,
              durationSeconds: im.durationSeconds,
              load: () =>
                new Promise<Uint8Array>((resolve, reject) => {
                  const reqId = nextReq++;
                  loads.set(reqId, { resolve, reject });
                  post({ type: 'load', id, reqId, index });
                }),
            })),
            options: msg.options,
            maxImagePixels: msg.maxImagePixels,
            workDir: msg.workDir,
            ...(msg.frames ? { frames: msg.frames } : {}),
            signal: controller.signal,
            onProgress: (progress) => post({ type: 'progress', id, progress }),
          })
          .then(
            (result) => post({ type: 'done', id, result }),
            (err) => post({ type: 'error', id, error: serialise(err) }),
          )
          .finally(() => aborts.delete(id));
        return;
      }
    }
  });
}

main().catch((err) => {
  // Startup failed (engine missing?): answer every render with the error, so nothing hangs.
  const error = serialise(err);
  parentPort?.on('message', (msg: ToWorker) => {
    if (msg.type === 'render') parentPort?.postMessage({ type: 'error', id: msg.id, error: { ...error, name: 'Error' } } satisfies FromWorker);
  });
});
