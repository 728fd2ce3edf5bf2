/**
 * Polls `GET /api/jobs/{id}` until the job is done or failed.
 * Backoff: the delay starts at `initialDelayMs` and grows by `factor` (up to `maxDelayMs`) while nothing
 * changes; any change of status or progress brings it back to the start. Network errors and 5xx are
 * retried with the same growing delay (up to `maxConsecutiveErrors` in a row); other errors (404) end it.
 */
import type { JobStatus } from '../../../contracts/index.ts';
import { isRetryableError } from './api.ts';
import type { Timers } from './s3Upload.ts';

export interface PollOptions {
  jobId: string;
  getJob: (jobId: string) => Promise<JobStatus>;
  onUpdate: (status: JobStatus) => void;
  /** Called for each retryable error (the poll goes on). */
  onRetryableError?: (err: unknown, consecutive: number) => void;
  /** @default 500 */
  initialDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
  /** @default 1.5 */
  factor?: number;
  /** @default 10 */
  maxConsecutiveErrors?: number;
  timers?: Timers;
}

export class PollStopped extends Error {
  override readonly name = 'PollStopped';
  constructor() {
    super('polling stopped');
  }
}

export interface Poller {
  /** Resolves with the final status (done or failed); rejects on a non-retryable error, too many errors, or stop(). */
  result: Promise<JobStatus>;
  stop(): void;
}

export function isTerminal(status: JobStatus): boolean {
  return status.status === 'done' || status.status === 'failed';
}

export function pollJob(options: PollOptions): Poller {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 5000;
  const factor = options.factor ?? 1.5;
  const maxErrors = options.maxConsecutiveErrors ?? 10;
  const timers: Timers = options.timers ?? {
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  };
  let stopped = false;
  let timer: unknown;
  let reject!: (err: unknown) => void;
  let resolve!: (s: JobStatus) => void;
  const result = new Promise<JobStatus>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => {}); // a stopped poll nobody awaits is not an unhandled rejection
  let delay = initial;
  let errors = 0;
  let last: { status: string; progress: number } | undefined;

  const schedule = () => {
    if (stopped) return;
    timer = timers.setTimeout(tick, delay);
  };

  const tick = async () => {
    timer = undefined;
    if (stopped) return;
    let status: JobStatus;
    try {
      status = await options.getJob(options.jobId);
    } catch (err) {
      if (stopped) return;
      errors++;
      if (!isRetryableError(err) || errors >= maxErrors) {
        stopped = true;
        reject(err);
        return;
      }
      options.onRetryableError?.(err, errors);
      delay = Math.min(max, delay * factor);
      schedule();
      return;
    }
    if (stopped) return;
    errors = 0;
    const changed = !last || last.status !== status.status || last.progress !== status.progress;
    last = { status: status.status, progress: status.progress };
    options.onUpdate(status);
    if (isTerminal(status)) {
      stopped = true;
      resolve(status);
      return;
    }
    delay = changed ? initial : Math.min(max, delay * factor);
    schedule();
  };

  void tick();
  return {
    result,
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      reject(new PollStopped());
    },
  };
}
