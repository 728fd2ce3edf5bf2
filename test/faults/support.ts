/**
 * Fault-injection harness (issue 6): process-media with the real render engine, stores that fail or
 * hang on chosen calls, and a driver that delivers an event the way Lambda's asynchronous invocation
 * does (retry on a thrown error, up to the attempt limit, then the dead-letter queue).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { S3Event } from 'aws-lambda';
import sharp from 'sharp';
import { DEFAULT_LIMITS, type Limits } from '../../contracts/index.ts';
import { createConsoleLogger, MemoryMetrics, type LogEntry } from '../../lambdas/src/adapters/local/console.ts';
import { createJobRecord, createManifest, validateCreateRequest, type StatusRecord } from '../../lambdas/src/core/job.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import type { ObjectInfo, ObjectStore, PutOptions, Renderer } from '../../lambdas/src/core/ports.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { createProcessMediaHandler, type ProcessMediaResult } from '../../lambdas/src/handlers/process-media.ts';
import { fixture } from '../fixtures/events/load.ts';
import { MemoryStore } from '../handlers/memory-store.ts';
import { tempDir } from '../local/support.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
export const FFPROBE = join(dirname(require.resolve('@ffprobe-installer/linux-x64/package.json')), 'ffprobe');

export const JOB = '7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
/** Small, quick renders: 3 images x 0.5 s at 480p 24 fps = 36 frames. */
export const OPTIONS = { preset: '480p', fps: 24, secondsPerImage: 0.5 } as const;
export const VIDEO_SECONDS = 1.5;

export type Op = 'head' | 'get' | 'put' | 'delete' | 'list';

export interface FaultRule {
  op: Op;
  key: RegExp;
  /** How many matching calls fail (then the rule is spent). @default Infinity */
  times?: number;
  /** `error`: reject at once; `hang`: never settle (a silent connection, or a crash mid-call). */
  kind: 'error' | 'hang';
  /** Only puts whose body contains this text (e.g. `"status":"done"`). */
  bodyIncludes?: string;
}

/** Wraps a store; calls matching a rule fail or hang. Counts every call by op and key. */
export class FaultyStore implements ObjectStore {
  readonly rules: FaultRule[] = [];
  readonly calls: { op: Op; key: string }[] = [];
  hung = 0;

  constructor(readonly inner: ObjectStore) {}

  get bucket(): string {
    return this.inner.bucket;
  }

  count(op: Op, key: string): number {
    return this.calls.filter((c) => c.op === op && c.key === key).length;
  }

  private async gate(op: Op, key: string, body?: unknown): Promise<void> {
    this.calls.push({ op, key });
    for (const r of this.rules) {
      if (r.op !== op || !r.key.test(key) || (r.times ?? Infinity) <= 0) continue;
      if (r.bodyIncludes && !(typeof body === 'string' && body.includes(r.bodyIncludes))) continue;
      if (r.times !== undefined) r.times--;
      if (r.kind === 'hang') {
        this.hung++;
        return new Promise<void>(() => {});
      }
      const err = new Error(`injected S3 ${op} failure on ${key}`);
      err.name = 'InternalError';
      throw err;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    await this.gate('head', key);
    return this.inner.head(key);
  }
  async getStream(key: string): Promise<{ body: Readable; info: ObjectInfo } | null> {
    await this.gate('get', key);
    return this.inner.getStream(key);
  }
  async getBytes(key: string): Promise<{ body: Uint8Array; info: ObjectInfo } | null> {
    await this.gate('get', key);
    return this.inner.getBytes(key);
  }
  async put(key: string, body: Uint8Array | string | Readable, options?: PutOptions & { contentLength?: number }): Promise<{ etag: string }> {
    await this.gate('put', key, body);
    return this.inner.put(key, body, options);
  }
  async delete(key: string): Promise<void> {
    await this.gate('delete', key);
    return this.inner.delete(key);
  }
  async list(prefix: string): Promise<ObjectInfo[]> {
    await this.gate('list', prefix);
    return this.inner.list(prefix);
  }
}

/** Three distinct small JPEGs. */
export async function images(): Promise<Buffer[]> {
  const colours = [
    { r: 220, g: 40, b: 40 },
    { r: 40, g: 200, b: 60 },
    { r: 40, g: 60, b: 220 },
  ];
  return Promise.all(colours.map((background) => sharp({ create: { width: 320, height: 240, channels: 3, background } }).jpeg().toBuffer()));
}

export function seedJob(input: MemoryStore, jobId: string, imgs: Buffer[], opts: { manifest?: boolean; limits?: Limits } = {}) {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const v = validateCreateRequest({ images: imgs.map((b, i) => ({ name: `p${i}.jpg`, type: 'image/jpeg', size: b.length })), options: OPTIONS }, limits);
  assert.ok(v.ok);
  const job = createJobRecord(v.value, jobId, new Date(), limits);
  input.seed(keys.job(jobId), JSON.stringify(job), 'application/json');
  const etags = imgs.map((b, i) => input.seed(keys.image(jobId, i), b, 'image/jpeg'));
  const manifest = createManifest(job, etags, new Date());
  const seedManifest = () => input.seed(keys.manifest(jobId), JSON.stringify(manifest), 'application/json');
  if (opts.manifest !== false) seedManifest();
  return { manifest, seedManifest };
}

/** Counts renders through the port (and can stand in for a renderer that misbehaves). */
export class CountingRenderer implements Renderer {
  calls = 0;
  finished = 0;
  constructor(private readonly inner: Renderer) {}
  async render(input: Parameters<Renderer['render']>[0]) {
    this.calls++;
    const r = await this.inner.render(input);
    this.finished++;
    return r;
  }
}

export interface Harness {
  inputMem: MemoryStore;
  outputMem: MemoryStore;
  input: FaultyStore;
  output: FaultyStore;
  renderer: CountingRenderer;
  logs: LogEntry[];
  handler: ReturnType<typeof createProcessMediaHandler>;
  status: () => StatusRecord | undefined;
  tmp: { path: string; remove: () => Promise<void> };
}

export async function harness(
  opts: { renderer?: Renderer; ffmpegPath?: string; ffmpegTimeoutMs?: number; maxAttempts?: number; safetyMarginMs?: number; leaseTtlMs?: number } = {},
): Promise<Harness> {
  const inputMem = new MemoryStore('media-input');
  const outputMem = new MemoryStore('media-output');
  const input = new FaultyStore(inputMem);
  const output = new FaultyStore(outputMem);
  const renderer = new CountingRenderer(opts.renderer ?? createRenderer({ ffmpegPath: opts.ffmpegPath, timeoutMs: opts.ffmpegTimeoutMs ?? 60_000 }));
  const logs: LogEntry[] = [];
  const tmp = await tempDir('faults-');
  const handler = createProcessMediaHandler(
    { input, output, renderer, clock: { now: () => new Date() }, logger: createConsoleLogger({ service: 'faults', level: 'silent', sink: (e) => logs.push(e) }), metrics: new MemoryMetrics() },
    {
      limits: DEFAULT_LIMITS,
      videosBaseUrl: '/videos',
      maxAttempts: opts.maxAttempts ?? 3,
      tempRoot: tmp.path,
      safetyMarginMs: opts.safetyMarginMs ?? 500,
      progressIntervalMs: 0,
      ...(opts.leaseTtlMs ? { leaseTtlMs: opts.leaseTtlMs } : {}),
    },
  );
  return { inputMem, outputMem, input, output, renderer, logs, handler, status: () => inputMem.json<StatusRecord>(keys.status(JOB)), tmp };
}

export const event = (jobId = JOB) => fixture<S3Event>('s3-manifest-created', jobId);
export const ctx = (ms = 60_000) => {
  const deadline = Date.now() + ms;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
};

export interface Delivery {
  /** One entry per invocation: its result or the error it threw. */
  attempts: ({ result: ProcessMediaResult } | { error: Error })[];
  /** The last attempt threw: Lambda sends the event to the dead-letter queue. */
  deadLettered: boolean;
}

/** Lambda async invocation: invoke, and while it throws, invoke again, at most `maxAttempts` times. */
export async function deliver(h: Harness, opts: { maxAttempts?: number; timeoutMs?: number; between?: (attempt: number) => void | Promise<void> } = {}): Promise<Delivery> {
  const max = opts.maxAttempts ?? 3;
  const attempts: Delivery['attempts'] = [];
  for (let i = 1; i <= max; i++) {
    try {
      attempts.push({ result: await h.handler(event(), ctx(opts.timeoutMs)) });
      return { attempts, deadLettered: false };
    } catch (err) {
      attempts.push({ error: err as Error });
      await opts.between?.(i);
    }
  }
  return { attempts, deadLettered: true };
}

/** A finished job: status done, and the stored video is a real H.264 MP4 of the promised length. */
export async function assertGoodVideo(h: Harness): Promise<void> {
  const st = h.status();
  assert.equal(st?.status, 'done', JSON.stringify(st));
  const obj = h.outputMem.objects.get(keys.video(JOB));
  assert.ok(obj, 'the video is stored');
  assert.ok(h.outputMem.objects.get(keys.poster(JOB)), 'the poster is stored');
  assert.equal(st.video?.bytes, obj.body.length, 'the status describes the stored video');
  const file = join(h.tmp.path, 'check.mp4');
  const { writeFile } = await import('node:fs/promises');
  await writeFile(file, obj.body);
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,pix_fmt,width,height:format=duration', '-of', 'json', file]);
  const j = JSON.parse(stdout) as { streams: { codec_name: string; pix_fmt: string; width: number; height: number }[]; format: { duration: string } };
  assert.deepEqual([j.streams[0]?.codec_name, j.streams[0]?.pix_fmt, j.streams[0]?.width, j.streams[0]?.height], ['h264', 'yuv420p', 854, 480]);
  assert.ok(Math.abs(Number(j.format.duration) - VIDEO_SECONDS) <= 1 / 24 + 1e-3, `duration ${j.format.duration}`);
}

/** A failed job: status failed with `code` and a message, and no video object at all. */
export function assertFailed(h: Harness, code: string): void {
  const st = h.status();
  assert.equal(st?.status, 'failed', JSON.stringify(st));
  assert.equal(st.error?.code, code, st.error?.message);
  assert.ok((st.error?.message.length ?? 0) > 5);
  assert.equal(st.video, undefined);
  assert.equal(h.outputMem.objects.has(keys.video(JOB)), false, 'no video was stored');
}
