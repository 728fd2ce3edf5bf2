/** Fakes for the UI's plain modules: an XHR that tests answer by hand, and timers that advance on demand. */
import type { Timers, XhrLike } from '../../ui/src/lib/s3Upload.ts';

export class FakeXhr implements XhrLike {
  upload: XhrLike['upload'] = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  status = 0;
  responseText = '';
  timeout = 0;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown;
  aborted = false;

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }
  send(body: unknown): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.();
  }
  /** Progress as the browser reports it: bytes of the whole request body. */
  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true });
  }
  respond(status: number, body = ''): void {
    this.status = status;
    this.responseText = body;
    this.onload?.();
  }
  networkError(): void {
    this.status = 0;
    this.onerror?.();
  }
}

/** Every XHR the queue created, in order. */
export class XhrFactory {
  readonly all: FakeXhr[] = [];
  readonly create = (): FakeXhr => {
    const x = new FakeXhr();
    this.all.push(x);
    return x;
  };
  /** Requests still waiting for an answer. */
  get open(): FakeXhr[] {
    return this.all.filter((x) => !x.aborted && x.onload !== null && x.status === 0 && !this.settled.has(x));
  }
  private settled = new Set<FakeXhr>();
  respond(x: FakeXhr, status: number, body = ''): void {
    this.settled.add(x);
    x.respond(status, body);
  }
  networkError(x: FakeXhr): void {
    this.settled.add(x);
    x.networkError();
  }
}

export class ManualTimers implements Timers {
  now = 0;
  private next = 1;
  private tasks = new Map<number, { at: number; fn: () => void }>();
  readonly delays: number[] = [];

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.tasks.set(id, { at: this.now + ms, fn });
    this.delays.push(ms);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.tasks.delete(handle as number);
  }
  get pending(): number {
    return this.tasks.size;
  }
  /** Move the clock forward, running every task that falls due (in time order). */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.tasks) if (entry[1].at <= end && (!due || entry[1].at < due[1].at)) due = entry;
      if (!due) break;
      this.tasks.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      await flush();
    }
    this.now = end;
    await flush();
  }
}

/** Let pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
