/**
 * Framework-agnostic upload queue: sends files straight to S3 with the grants from `POST /api/jobs`.
 *
 * - bounded concurrency (several files at once, never more than `concurrency`)
 * - XHR, so progress is real (`upload.onprogress`), per file and overall
 * - automatic retry with backoff on network errors, timeouts and 5xx; 4xx fails at once (the grant is wrong
 *   or expired, retrying would not help)
 * - cancel (aborts in-flight requests, drops pending retries), retry of one failed file
 * - a file that succeeded is never sent again
 *
 * XHR and timers are injected so tests can drive every path without a network.
 */
import type { UploadGrant } from '../../../contracts/index.ts';

/** The part of XMLHttpRequest the queue uses. */
export interface XhrLike {
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  ontimeout: (() => void) | null;
  status: number;
  responseText: string;
  timeout: number;
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type UploadItemStatus = 'waiting' | 'uploading' | 'retrying' | 'done' | 'failed' | 'canceled';

export interface UploadItemInput {
  id: string;
  name: string;
  body: Blob;
  grant: UploadGrant;
}

export interface UploadItemState {
  id: string;
  name: string;
  size: number;
  status: UploadItemStatus;
  /** Bytes of this file acknowledged so far (0..size). */
  loaded: number;
  /** Requests sent for this file so far. */
  attempts: number;
  /** Why the last attempt failed (kept while retrying, cleared on success). */
  error?: string;
}

export interface QueueSnapshot {
  items: UploadItemState[];
  loaded: number;
  total: number;
  /** 0..1 over all bytes. */
  progress: number;
  done: number;
  failed: number;
  /** No item is waiting, uploading or retrying. */
  idle: boolean;
}

export interface UploadQueueOptions {
  /** Files in flight at once. @default 4 */
  concurrency?: number;
  /** Attempts per file before it is marked failed (automatic retries = maxAttempts - 1). @default 4 */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, capped by maxDelayMs. @default 1000 */
  baseDelayMs?: number;
  /** @default 15000 */
  maxDelayMs?: number;
  /** Per-request timeout in ms, 0 for none. @default 0 */
  timeoutMs?: number;
  createXhr?: () => XhrLike;
  timers?: Timers;
  /** 0..1, for jitter. @default Math.random */
  random?: () => number;
  onChange?: (snapshot: QueueSnapshot) => void;
}

interface Item extends UploadItemState {
  body: Blob;
  grant: UploadGrant;
  xhr?: XhrLike;
  timer?: unknown;
}

/** Headers a browser refuses to let scripts set; it sends the right values itself. */
const FORBIDDEN_HEADERS = new Set(['content-length', 'host', 'connection']);

/** Retry delay before attempt `attempt + 1` ("equal jitter": half fixed, half random). */
export function retryDelayMs(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const full = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + random() * (full / 2));
}

/** S3 answers errors as XML: `<Error><Code>…</Code><Message>…</Message></Error>`. */
export function s3ErrorMessage(status: number, body: string): string {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  if (code === 'AccessDenied' && /expired/i.test(message ?? '')) return 'The upload link expired. Start again to get a new one.';
  if (code === 'EntityTooLarge') return 'The file is larger than the server accepts.';
  if (message) return `Storage refused the file (${status}${code ? ` ${code}` : ''}): ${message}`;
  return status === 0 ? 'The connection failed.' : `Storage answered HTTP ${status}.`;
}

export function isRetryableStatus(status: number): boolean {
  return status === 0 || status === 408 || status === 429 || status >= 500;
}

export class UploadQueue {
  private readonly items: Item[];
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly createXhr: () => XhrLike;
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly listeners = new Set<(s: QueueSnapshot) => void>();
  private idleWaiters: ((s: QueueSnapshot) => void)[] = [];

  constructor(inputs: UploadItemInput[], options: UploadQueueOptions = {}) {
    this.items = inputs.map((i) => ({
      id: i.id,
      name: i.name,
      size: i.body.size,
      body: i.body,
      grant: i.grant,
      status: 'waiting',
      loaded: 0,
      attempts: 0,
    }));
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 15000;
    this.timeoutMs = options.timeoutMs ?? 0;
    this.createXhr = options.createXhr ?? (() => new XMLHttpRequest() as unknown as XhrLike);
    this.timers = options.timers ?? {
      setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    this.random = options.random ?? Math.random;
    if (options.onChange) this.listeners.add(options.onChange);
  }

  subscribe(fn: (s: QueueSnapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  snapshot(): QueueSnapshot {
    const items = this.items.map(({ id, name, size, status, loaded, attempts, error }) => ({ id, name, size, status, loaded, attempts, ...(error ? { error } : {}) }));
    const total = items.reduce((a, i) => a + i.size, 0);
    const loaded = items.reduce((a, i) => a + i.loaded, 0);
    return {
      items,
      total,
      loaded,
      progress: total > 0 ? loaded / total : items.length > 0 && items.every((i) => i.status === 'done') ? 1 : 0,
      done: items.filter((i) => i.status === 'done').length,
      failed: items.filter((i) => i.status === 'failed').length,
      idle: !items.some((i) => i.status === 'waiting' || i.status === 'uploading' || i.status === 'retrying'),
    };
  }

  /** Start (or continue) sending; resolves when nothing is waiting, uploading or retrying. */
  start(): Promise<QueueSnapshot> {
    const p = this.whenIdle();
    this.pump();
    return p;
  }

  /** Resolves the next time the queue is idle (at once if it already is). */
  whenIdle(): Promise<QueueSnapshot> {
    const snap = this.snapshot();
    if (snap.idle) return Promise.resolve(snap);
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Send one failed or canceled file again (a fresh set of attempts). Succeeded files are left alone. */
  retry(id: string): Promise<QueueSnapshot> {
    const item = this.items.find((i) => i.id === id);
    if (item && (item.status === 'failed' || item.status === 'canceled')) {
      item.status = 'waiting';
      item.attempts = 0;
      item.loaded = 0;
      delete item.error;
      this.emit();
    }
    return this.start();
  }

  /** Queue every failed or canceled file again; done files stay done. */
  resume(): Promise<QueueSnapshot> {
    for (const item of this.items) {
      if (item.status === 'failed' || item.status === 'canceled') {
        item.status = 'waiting';
        item.attempts = 0;
        item.loaded = 0;
        delete item.error;
      }
    }
    this.emit();
    return this.start();
  }

  /** Abort everything in flight and drop pending retries. Done files stay done. */
  cancel(): void {
    for (const item of this.items) {
      if (item.status === 'uploading' || item.status === 'waiting' || item.status === 'retrying') {
        if (item.timer !== undefined) this.timers.clearTimeout(item.timer);
        item.timer = undefined;
        const xhr = item.xhr;
        item.xhr = undefined;
        item.status = 'canceled';
        item.loaded = 0;
        xhr?.abort();
      }
    }
    this.emit();
  }

  private pump(): void {
    let active = this.items.filter((i) => i.status === 'uploading').length;
    for (const item of this.items) {
      if (active >= this.concurrency) break;
      if (item.status === 'waiting') {
        this.send(item);
        active++;
      }
    }
    this.emit();
  }

  private send(item: Item): void {
    item.status = 'uploading';
    item.attempts++;
    item.loaded = 0;
    const xhr = this.createXhr();
    item.xhr = xhr;
    const current = () => item.xhr === xhr;
    xhr.upload.onprogress = (e) => {
      if (!current() || !e.lengthComputable || e.total <= 0) return;
      // A POST form carries the fields too, so scale the fraction to the file's own size.
      item.loaded = Math.min(item.size, Math.round((e.loaded / e.total) * item.size));
      this.emit();
    };
    xhr.onload = () => {
      if (!current()) return;
      item.xhr = undefined;
      if (xhr.status >= 200 && xhr.status < 300) {
        item.status = 'done';
        item.loaded = item.size;
        delete item.error;
        this.settle();
      } else {
        this.fail(item, s3ErrorMessage(xhr.status, xhr.responseText ?? ''), isRetryableStatus(xhr.status));
      }
    };
    xhr.onerror = () => {
      if (!current()) return;
      item.xhr = undefined;
      this.fail(item, 'The connection failed.', true);
    };
    xhr.ontimeout = () => {
      if (!current()) return;
      item.xhr = undefined;
      this.fail(item, 'The upload timed out.', true);
    };
    xhr.onabort = () => {
      // Only cancel() aborts, and it has already updated the item.
    };
    const grant = item.grant;
    if (grant.method === 'PUT') {
      xhr.open('PUT', grant.url);
      for (const [k, v] of Object.entries(grant.headers)) {
        if (!FORBIDDEN_HEADERS.has(k.toLowerCase())) xhr.setRequestHeader(k, v);
      }
      if (this.timeoutMs > 0) xhr.timeout = this.timeoutMs;
      xhr.send(item.body);
    } else {
      const form = new FormData();
      for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
      form.append('file', item.body, item.name); // S3 wants the file last
      xhr.open('POST', grant.url);
      if (this.timeoutMs > 0) xhr.timeout = this.timeoutMs;
      xhr.send(form);
    }
  }

  private fail(item: Item, message: string, retryable: boolean): void {
    item.error = message;
    item.loaded = 0;
    if (retryable && item.attempts < this.maxAttempts) {
      item.status = 'retrying';
      const delay = retryDelayMs(item.attempts, this.baseDelayMs, this.maxDelayMs, this.random);
      item.timer = this.timers.setTimeout(() => {
        item.timer = undefined;
        if (item.status !== 'retrying') return;
        item.status = 'waiting';
        this.pump();
      }, delay);
    } else {
      item.status = 'failed';
    }
    this.settle();
  }

  /** A request finished: start the next waiting file, and wake idle waiters if nothing is left. */
  private settle(): void {
    this.pump();
  }

  private emit(): void {
    const snap = this.snapshot();
    for (const fn of this.listeners) fn(snap);
    if (snap.idle && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w(snap);
    }
  }
}
