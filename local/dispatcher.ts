/**
 * Lambda's asynchronous invocation, locally: events wait in a queue, at most `concurrency` run at
 * once, a failed invocation is retried after a delay (Lambda: up to 2 retries), and an event that
 * fails every attempt goes to the dead-letter sink.
 */
export interface DispatcherOptions<E> {
  concurrency: number;
  /** Attempts per event, first one included (Lambda async: 1 + MaximumRetryAttempts ≤ 3). */
  maxAttempts: number;
  /** Delay before retry n (the last value repeats). Lambda waits about 1 then 2 minutes; locally shorter. */
  retryDelaysMs: number[];
  invoke: (event: E, attempt: number) => Promise<unknown>;
  onDeadLetter?: (event: E, error: unknown) => void | Promise<void>;
  onError?: (event: E, error: unknown, attempt: number) => void;
}

interface Item<E> {
  event: E;
  attempt: number;
}

export class Dispatcher<E> {
  private readonly queue: Item<E>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  readonly stats = { invocations: 0, failures: 0, deadLetters: 0 };

  constructor(private readonly options: DispatcherOptions<E>) {}

  push(event: E): void {
    if (this.stopped) return;
    this.queue.push({ event, attempt: 1 });
    this.pump();
  }

  get pending(): number {
    return this.queue.length + this.timers.size;
  }

  get active(): number {
    return this.running.size;
  }

  /** Resolves when nothing is queued, running or waiting for a retry. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop taking events and cancel pending retries; wait for running invocations to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
    this.checkIdle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.timers.size === 0 && this.running.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.options.concurrency && this.queue.length) {
      const item = this.queue.shift()!;
      const p = this.run(item).finally(() => {
        this.running.delete(p);
        this.pump();
        this.checkIdle();
      });
      this.running.add(p);
    }
  }

  private async run(item: Item<E>): Promise<void> {
    this.stats.invocations++;
    try {
      await this.options.invoke(item.event, item.attempt);
    } catch (err) {
      this.stats.failures++;
      this.options.onError?.(item.event, err, item.attempt);
      if (this.stopped) return;
      if (item.attempt >= this.options.maxAttempts) {
        this.stats.deadLetters++;
        await this.options.onDeadLetter?.(item.event, err);
        return;
      }
      const delays = this.options.retryDelaysMs;
      const delay = delays[Math.min(item.attempt - 1, delays.length - 1)] ?? 0;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.stopped) return this.checkIdle();
        this.queue.push({ event: item.event, attempt: item.attempt + 1 });
        this.pump();
      }, delay);
      this.timers.add(t);
    }
  }
}
