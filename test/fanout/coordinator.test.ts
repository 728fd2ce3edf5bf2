/**
 * The fan-out path through process-media: the coordinator with a fake invoker (failures, aborts,
 * clean-up, short jobs), the render-segment handler (validation, idempotency), the local and Lambda
 * invokers, and one full fanned-out job with real segment renders and a real join.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { DEFAULT_LIMITS, type RenderOptionsInput } from '../../contracts/index.ts';
import { LambdaSegmentInvoker, type InvokeClient } from '../../lambdas/src/adapters/aws/segment-invoker.ts';
import { createConsoleLogger, MemoryMetrics, type LogEntry } from '../../lambdas/src/adapters/local/console.ts';
import { LocalSegmentInvoker } from '../../lambdas/src/adapters/local/segment-invoker.ts';
import { createJobRecord, createManifest, validateCreateRequest, type JobManifest, type StatusRecord } from '../../lambdas/src/core/job.ts';
import { keys, SEGMENTS_PREFIX } from '../../lambdas/src/core/keys.ts';
import { CodedError, type Renderer, type SegmentInvoker, type SegmentRequest, type SegmentResult } from '../../lambdas/src/core/ports.ts';
import { fanOutSettingsFromEnv } from '../../lambdas/src/core/segments.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { joinSegments } from '../../lambdas/src/engine/segments.ts';
import { createProcessMediaHandler } from '../../lambdas/src/handlers/process-media.ts';
import { createRenderSegmentHandler, segmentResultOf } from '../../lambdas/src/handlers/render-segment.ts';
import { createSegmentCoordinator, type JoinSegments } from '../../lambdas/src/handlers/segment-coordinator.ts';
import { FFMPEG, solid } from '../engine/helpers.ts';
import { fixture } from '../fixtures/events/load.ts';
import { MemoryStore } from '../handlers/memory-store.ts';
import { FakeRenderer, tempDir } from '../local/support.ts';
import { COLOURS, decodeErrors, streamFacts } from './helpers.ts';

const JOB = '3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60';
const OTHER = '11111111-2222-4333-8444-555555555555';
const limits = { ...DEFAULT_LIMITS };

async function seedJob(input: MemoryStore, options: RenderOptionsInput, count = COLOURS.length): Promise<JobManifest> {
  const images = await Promise.all(COLOURS.slice(0, count).map((c) => solid(160, 120, c)));
  const v = validateCreateRequest({ images: images.map((b, i) => ({ name: `p${i}.png`, type: 'image/png', size: b.length })), options }, limits);
  assert.ok(v.ok, JSON.stringify(v));
  const job = createJobRecord(v.value, JOB, new Date(), limits);
  input.seed(keys.job(JOB), JSON.stringify(job), 'application/json');
  const etags = images.map((b, i) => input.seed(keys.image(JOB, i), b, 'image/png'));
  const manifest = createManifest(job, etags, new Date());
  input.seed(keys.manifest(JOB), JSON.stringify(manifest), 'application/json');
  return manifest;
}

const silent = (logs: LogEntry[] = []) => createConsoleLogger({ service: 'test', level: 'silent', sink: (e) => logs.push(e) });
const event = () => fixture<S3Event>('s3-manifest-created', JOB);
const ctx = (ms = 120_000) => ({ getRemainingTimeInMillis: () => ms });

/** A fake worker: writes a placeholder segment (and poster for segment 0) like the real one, or fails as told. */
class FakeInvoker implements SegmentInvoker {
  requests: SegmentRequest[] = [];
  aborted: number[] = [];
  failSegment: { index: number; error: Error } | null = null;
  /** Segments other than the failing one wait this long (and notice aborts). */
  delayMs = 0;
  lie = false;
  constructor(private readonly output: MemoryStore) {}
  async invoke(req: SegmentRequest, signal?: AbortSignal): Promise<SegmentResult> {
    this.requests.push(req);
    const key = keys.segment(req.jobId, req.segment);
    this.output.seed(key, `segment ${req.segment}`, 'video/mp4');
    if (req.segment === 0) this.output.seed(keys.segmentPoster(req.jobId), 'poster', 'image/jpeg');
    if (this.failSegment?.index === req.segment) throw this.failSegment.error;
    if (this.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        signal?.addEventListener('abort', () => {
          clearTimeout(t);
          this.aborted.push(req.segment);
          reject(new CodedError('render_failed', 'stopped'));
        });
      });
    }
    const durationSeconds = (req.frames.end - req.frames.start) / req.options.fps + (this.lie ? 1 : 0);
    return { segment: req.segment, key, ...(req.segment === 0 ? { posterKey: keys.segmentPoster(req.jobId) } : {}), bytes: 10, durationSeconds, renderSeconds: 0.1, reused: false };
  }
}

describe('fan-out: coordinator inside process-media', function () {
  this.timeout(180_000);
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setup(opts: { invoker: (output: MemoryStore) => SegmentInvoker; renderer?: Renderer; join?: JoinSegments; workers?: number; minVideoSeconds?: number }) {
    const input = new MemoryStore('media-input');
    const output = new MemoryStore('media-output');
    const tmp = await tempDir('fanout-test-');
    cleanups.push(tmp.remove);
    const logs: LogEntry[] = [];
    const joins: string[][] = [];
    const fakeJoin: JoinSegments = async (paths, out) => {
      joins.push(paths);
      await writeFile(out, Buffer.alloc(1000, 1));
      return { bytes: 1000 };
    };
    const invoker = opts.invoker(output);
    const fanOut = createSegmentCoordinator(
      { invoker, output, join: opts.join ?? fakeJoin, logger: silent(logs) },
      { workers: opts.workers ?? 3, minVideoSeconds: opts.minVideoSeconds ?? 20 },
    );
    const renderer = opts.renderer ?? new FakeRenderer();
    const handler = createProcessMediaHandler(
      { input, output, renderer, clock: { now: () => new Date() }, logger: silent(logs), metrics: new MemoryMetrics(), fanOut },
      { limits, videosBaseUrl: '/videos', maxAttempts: 3, tempRoot: tmp.path, safetyMarginMs: 1000, progressIntervalMs: 0 },
    );
    const status = () => input.json<StatusRecord>(keys.status(JOB));
    const segmentKeys = () => [...output.objects.keys()].filter((k) => k.startsWith(SEGMENTS_PREFIX));
    return { input, output, handler, status, segmentKeys, joins, invoker, renderer, logs, tmp };
  }

  it('splits a long job across workers, joins, stores video + poster, deletes the segments', async () => {
    let fake!: FakeInvoker;
    const t = await setup({ invoker: (o) => (fake = new FakeInvoker(o)) });
    const manifest = await seedJob(t.input, { secondsPerImage: 5, preset: '480p', fps: 24 }); // 30 s
    const res = await t.handler(event(), ctx());
    assert.equal(res.results[0]?.outcome, 'rendered');
    assert.equal((t.renderer as FakeRenderer).calls, 0, 'the single-piece renderer is not used');
    assert.equal(fake.requests.length, 3);
    const reqs = [...fake.requests].sort((a, b) => a.segment - b.segment);
    assert.deepEqual(
      reqs.map((r) => [r.segment, r.count, r.frames.start, r.frames.end, r.images.map((i) => i.index)]),
      [
        [0, 3, 0, 240, [0, 1]],
        [1, 3, 240, 480, [2, 3]],
        [2, 3, 480, 720, [4, 5]],
      ],
    );
    for (const r of reqs) {
      assert.deepEqual(r.durations, [5, 5, 5, 5, 5, 5]);
      assert.deepEqual(r.options, manifest.options);
      for (const im of r.images) {
        assert.equal(im.key, keys.image(JOB, im.index));
        assert.equal(im.etag, manifest.images[im.index]!.etag);
      }
    }
    assert.equal(t.joins.length, 1);
    assert.equal(t.joins[0]!.length, 3);
    assert.equal(t.status()?.status, 'done');
    assert.equal(t.status()?.video?.durationSeconds, 30);
    assert.equal(t.status()?.video?.width, 854);
    assert.equal(t.output.text(keys.poster(JOB)), 'poster', 'the poster is the one segment 0 stored');
    assert.ok(t.output.objects.has(keys.video(JOB)));
    assert.deepEqual(t.segmentKeys(), [], 'segments and their poster are deleted');
  });

  it('renders short jobs in one piece (below the minimum length, or one worker)', async () => {
    let fake!: FakeInvoker;
    const t = await setup({ invoker: (o) => (fake = new FakeInvoker(o)) });
    await seedJob(t.input, { secondsPerImage: 3 }); // 18 s < 20 s
    assert.equal((await t.handler(event(), ctx())).results[0]?.outcome, 'rendered');
    assert.equal(fake.requests.length, 0);
    assert.equal((t.renderer as FakeRenderer).calls, 1);

    const one = await setup({ invoker: (o) => (fake = new FakeInvoker(o)), workers: 1 });
    await seedJob(one.input, { secondsPerImage: 10 });
    assert.equal((await one.handler(event(), ctx())).results[0]?.outcome, 'rendered');
    assert.equal(fake.requests.length, 0);
  });

  it('a deterministic failure in one segment stops the others, fails the job with its code and leaves no segment behind', async () => {
    let fake!: FakeInvoker;
    const t = await setup({ invoker: (o) => (fake = new FakeInvoker(o)) });
    await seedJob(t.input, { secondsPerImage: 5 });
    fake.delayMs = 5_000;
    fake.failSegment = { index: 1, error: new CodedError('image_unreadable', 'image 3 (p2.png): not a readable image') };
    const started = Date.now();
    const res = await t.handler(event(), ctx());
    assert.deepEqual(res.results[0], { jobId: JOB, key: keys.manifest(JOB), outcome: 'failed', code: 'image_unreadable' });
    assert.ok(Date.now() - started < 4_000, 'siblings were stopped, not waited for');
    assert.deepEqual(fake.aborted.sort(), [0, 2]);
    assert.equal(t.status()?.status, 'failed');
    assert.equal(t.status()?.error?.code, 'image_unreadable');
    assert.deepEqual(t.segmentKeys(), []);
    assert.equal(t.joins.length, 0);
  });

  it('a transient failure (invoke error) is retried by process-media, and a segment of the wrong length is refused', async () => {
    let fake!: FakeInvoker;
    const t = await setup({ invoker: (o) => (fake = new FakeInvoker(o)) });
    await seedJob(t.input, { secondsPerImage: 5 });
    fake.failSegment = { index: 2, error: new CodedError('render_failed', 'throttled') };
    await assert.rejects(t.handler(event(), ctx()), (e: CodedError) => e.code === 'render_failed');
    assert.equal(t.status()?.status, 'queued', 'queued again for the retry');
    fake.failSegment = null;
    fake.lie = true;
    await assert.rejects(t.handler(event(), ctx()), (e: CodedError) => e.code === 'render_failed' && /expected/.test(e.message));
    fake.lie = false;
    assert.equal((await t.handler(event(), ctx())).results[0]?.outcome, 'rendered');
    assert.deepEqual(t.segmentKeys(), []);
  });

  it('the time limit of process-media stops the workers: render_timeout', async () => {
    let fake!: FakeInvoker;
    const t = await setup({ invoker: (o) => (fake = new FakeInvoker(o)) });
    await seedJob(t.input, { secondsPerImage: 5 });
    fake.delayMs = 60_000;
    const res = await t.handler(event(), ctx(3_000)); // 1 s margin → 2 s budget
    assert.equal(res.results[0]?.code, 'render_timeout');
    assert.equal(fake.aborted.length, 3);
    assert.deepEqual(t.segmentKeys(), []);
  });

  it('end to end: real segment renders in parallel through the local invoker, joined, same video as one render', async () => {
    const engine = createRenderer({ ffmpegPath: FFMPEG });
    let renderCalls = 0;
    const counting: Renderer = { render: (i) => (renderCalls++, engine.render(i)) };
    // The worker needs the stores setup() creates: bind it once they exist.
    const worker: { handler?: ReturnType<typeof createRenderSegmentHandler> } = {};
    const t = await setup({
      invoker: () => new LocalSegmentInvoker((req, c) => worker.handler!(req, c)),
      renderer: counting,
      join: (paths, out, o) => joinSegments(paths, out, FFMPEG, o),
    });
    worker.handler = createRenderSegmentHandler({ input: t.input, output: t.output, renderer: engine, logger: silent() }, { limits, tempRoot: t.tmp.path });
    await seedJob(t.input, { secondsPerImage: 4, preset: '480p', fps: 24, transition: 'crossfade', transitionSeconds: 1 }); // 24 s, 576 frames
    const res = await t.handler(event(), ctx());
    assert.equal(res.results[0]?.outcome, 'rendered', JSON.stringify(res));
    assert.equal(renderCalls, 0);
    assert.deepEqual(t.segmentKeys(), []);
    const video = t.output.objects.get(keys.video(JOB))!;
    const file = join(t.tmp.path, 'fanned.mp4');
    await writeFile(file, video.body);
    const facts = await streamFacts(file);
    assert.equal(facts.frames, 576);
    assert.ok(Math.abs(facts.duration - 24) < 1 / 24);
    assert.equal(await decodeErrors(file), '');
    const poster = t.output.objects.get(keys.poster(JOB))!.body;
    assert.equal(poster.subarray(0, 2).toString('hex'), 'ffd8', 'poster is a JPEG');
    assert.equal(t.status()?.video?.durationSeconds, 24);
  });
});

describe('fan-out: render-segment handler', function () {
  this.timeout(60_000);

  async function setup() {
    const input = new MemoryStore('media-input');
    const output = new MemoryStore('media-output');
    const tmp = await tempDir('seg-test-');
    const engine = createRenderer({ ffmpegPath: FFMPEG });
    let calls = 0;
    const renderer: Renderer = { render: (i) => (calls++, engine.render(i)) };
    const handler = createRenderSegmentHandler({ input, output, renderer, logger: silent() }, { limits, tempRoot: tmp.path });
    const manifest = await seedJob(input, { secondsPerImage: 2, preset: '480p', fps: 24 });
    const request = (over: Partial<SegmentRequest> = {}): SegmentRequest => ({
      jobId: JOB,
      segment: 1,
      count: 2,
      frames: { start: 144, end: 288 },
      options: manifest.options,
      durations: manifest.images.map(() => 2),
      images: [3, 4, 5].map((i) => ({ index: i, key: keys.image(JOB, i), etag: manifest.images[i]!.etag, label: `image ${i + 1}` })),
      timeoutMs: 30_000,
      ...over,
    });
    return { input, output, handler, request, calls: () => calls, tmp, manifest };
  }

  it('renders its range from only its images, stores it with its range, and answers a repeat from the stored segment', async () => {
    const t = await setup();
    try {
      const first = await t.handler(t.request());
      assert.ok(first.ok, JSON.stringify(first));
      assert.equal(first.key, keys.segment(JOB, 1));
      assert.equal(first.durationSeconds, 6);
      assert.equal(first.posterKey, undefined, 'only segment 0 stores a poster');
      assert.equal(first.reused, false);
      const reads = t.input.log.filter((l) => l.op === 'get').map((l) => l.key);
      assert.deepEqual([...new Set(reads)].sort(), [3, 4, 5].map((i) => keys.image(JOB, i)));
      assert.equal(t.output.objects.get(keys.segment(JOB, 1))!.info.metadata['frames'], '144-288/2');
      const again = await t.handler(t.request());
      assert.ok(again.ok && again.reused);
      assert.equal(t.calls(), 1);
      // Segment 0 also stores the poster.
      const zero = await t.handler(t.request({ segment: 0, frames: { start: 0, end: 144 }, images: [0, 1, 2].map((i) => ({ index: i, key: keys.image(JOB, i), etag: t.manifest.images[i]!.etag, label: `image ${i + 1}` })) }));
      assert.ok(zero.ok && zero.posterKey === keys.segmentPoster(JOB));
      assert.ok(t.output.objects.has(keys.segmentPoster(JOB)));
    } finally {
      await t.tmp.remove();
    }
  });

  it('refuses requests that point outside the job or the plan, with a code and without reading anything', async () => {
    const t = await setup();
    try {
      const cases: [Partial<SegmentRequest>, string][] = [
        [{ images: [{ index: 3, key: keys.image(OTHER, 3), etag: '', label: 'x' }] }, 'internal_error'],
        [{ images: [{ index: 3, key: 'jobs/../../etc/passwd', etag: '', label: 'x' }] }, 'internal_error'],
        [{ jobId: '../x' }, 'internal_error'],
        [{ segment: 2 }, 'internal_error'],
        [{ frames: { start: 100, end: 100 } }, 'internal_error'],
        [{ frames: { start: 0, end: 10_000 } }, 'internal_error'],
        [{ images: [] }, 'internal_error'], // frames shown but images not listed
        [{ options: { ...t.request().options, fps: 7 as never } }, 'manifest_invalid'],
      ];
      for (const [over, code] of cases) {
        const r = await t.handler(t.request(over));
        assert.ok(!r.ok, JSON.stringify(over));
        assert.equal(r.error.code, code, JSON.stringify(over));
      }
      assert.equal(t.input.log.filter((l) => l.op === 'get').length, 0);
      assert.equal(t.calls(), 0);
    } finally {
      await t.tmp.remove();
    }
  });

  it('an image that changed after start fails the segment as image_unreadable', async () => {
    const t = await setup();
    try {
      t.input.seed(keys.image(JOB, 4), await solid(160, 120, [1, 2, 3]), 'image/png');
      const r = await t.handler(t.request());
      assert.ok(!r.ok);
      assert.equal(r.error.code, 'image_unreadable');
      assert.equal(t.output.objects.has(keys.segment(JOB, 1)), false);
    } finally {
      await t.tmp.remove();
    }
  });
});

describe('fan-out: invokers and settings', () => {
  const req: SegmentRequest = {
    jobId: JOB,
    segment: 1,
    count: 2,
    frames: { start: 10, end: 20 },
    options: { preset: '720p', fps: 30, secondsPerImage: 3, fit: 'contain', background: '#000000', transition: 'none', transitionSeconds: 0.5, frameRateMode: 'constant' },
    durations: [3],
    images: [],
    timeoutMs: 1000,
  };
  const ok: SegmentResult = { segment: 1, key: keys.segment(JOB, 1), bytes: 5, durationSeconds: 1 / 3, renderSeconds: 1, reused: false };

  it('Lambda invoker: RequestResponse on the segment function with the request as JSON; maps answers and errors to codes', async () => {
    const sent: { input: Record<string, unknown>; signal?: AbortSignal }[] = [];
    let reply: { FunctionError?: string; Payload?: Uint8Array } = {};
    const client: InvokeClient = {
      send: async (command, options) => {
        sent.push({ input: command.input as Record<string, unknown>, signal: options?.abortSignal });
        return { StatusCode: 200, ...reply };
      },
    };
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    const inv = new LambdaSegmentInvoker(client, 'stack-render-segment');
    reply = { Payload: enc({ ok: true, ...ok }) };
    const signal = new AbortController().signal;
    assert.deepEqual(await inv.invoke(req, signal), { ok: true, ...ok });
    assert.equal(sent[0]!.input['FunctionName'], 'stack-render-segment');
    assert.equal(sent[0]!.input['InvocationType'], 'RequestResponse');
    assert.deepEqual(JSON.parse(new TextDecoder().decode(sent[0]!.input['Payload'] as Uint8Array)), req);
    assert.equal(sent[0]!.signal, signal);

    reply = { Payload: enc({ ok: false, error: { code: 'image_too_large', message: 'too big' } }) };
    await assert.rejects(inv.invoke(req), (e: CodedError) => e.code === 'image_too_large' && e.message === 'too big');
    reply = { FunctionError: 'Unhandled', Payload: enc({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 900.00 seconds' }) };
    await assert.rejects(inv.invoke(req), (e: CodedError) => e.code === 'render_timeout');
    reply = { FunctionError: 'Unhandled', Payload: enc({ errorType: 'Runtime.ExitError', errorMessage: 'signal: killed' }) };
    await assert.rejects(inv.invoke(req), (e: CodedError) => e.code === 'render_failed' && /killed/.test(e.message));
    reply = { Payload: new TextEncoder().encode('not json') };
    await assert.rejects(inv.invoke(req), (e: CodedError) => e.code === 'render_failed');
    const failing = new LambdaSegmentInvoker({ send: async () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' })) }, 'f');
    await assert.rejects(failing.invoke(req), (e: CodedError) => e.code === 'render_failed' && /TooManyRequests/.test(e.message));
  });

  it('local invoker: JSON round trip, bounded concurrency, stop signal reaches the worker', async () => {
    let running = 0;
    let peak = 0;
    const seen: { req: SegmentRequest; signal?: AbortSignal }[] = [];
    const inv = new LocalSegmentInvoker(async (r, c) => {
      seen.push({ req: r, signal: c?.abortSignal });
      running++;
      peak = Math.max(peak, running);
      await new Promise((res) => setTimeout(res, 30));
      running--;
      if (c?.abortSignal?.aborted) return { ok: false, error: { code: 'render_failed', message: 'stopped' } };
      return { ok: true, ...ok, segment: r.segment };
    }, 2);
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => inv.invoke({ ...req, segment: i })));
    assert.deepEqual(results.map((r) => r.segment), [0, 1, 2, 3, 4]);
    assert.equal(peak, 2);
    assert.notEqual(seen[0]!.req, req, 'the worker gets a copy, as over the wire');
    const stop = new AbortController();
    const p = inv.invoke(req, stop.signal);
    stop.abort();
    await assert.rejects(p, (e: CodedError) => e.code === 'render_failed');
  });

  it('segmentResultOf keeps known codes and turns anything else into a clear error', () => {
    assert.throws(() => segmentResultOf({ ok: false, error: { code: 'weird', message: 'm' } }, 3), (e: CodedError) => e.code === 'internal_error');
    assert.throws(() => segmentResultOf(null, 3), (e: CodedError) => e.code === 'render_failed' && /Segment 3/.test(e.message));
  });

  it('settings from the environment: off by default, validated', () => {
    assert.deepEqual(fanOutSettingsFromEnv({}), { workers: 1, minVideoSeconds: 60 });
    assert.deepEqual(fanOutSettingsFromEnv({ RENDER_SEGMENTS: '4', SEGMENT_MIN_VIDEO_SECONDS: '120', SEGMENT_FUNCTION_NAME: 'fn' }), { workers: 4, minVideoSeconds: 120, functionName: 'fn' });
    assert.throws(() => fanOutSettingsFromEnv({ RENDER_SEGMENTS: '0' }), /RENDER_SEGMENTS/);
    assert.throws(() => fanOutSettingsFromEnv({ RENDER_SEGMENTS: '2.5' }), /RENDER_SEGMENTS/);
    assert.throws(() => fanOutSettingsFromEnv({ RENDER_SEGMENTS: '65' }), /RENDER_SEGMENTS/);
    assert.throws(() => fanOutSettingsFromEnv({ SEGMENT_MIN_VIDEO_SECONDS: 'x' }), /SEGMENT_MIN_VIDEO_SECONDS/);
  });
});
