import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { S3Event } from 'aws-lambda';
import { DEFAULT_LIMITS, type JobStatus } from '../../contracts/index.ts';
import { createConsoleLogger, MemoryMetrics, type LogEntry } from '../../lambdas/src/adapters/local/console.ts';
import { createJobRecord, createManifest, validateCreateRequest, type StatusRecord } from '../../lambdas/src/core/job.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import { CodedError, type Renderer } from '../../lambdas/src/core/ports.ts';
import { createProcessMediaHandler } from '../../lambdas/src/handlers/process-media.ts';
import { fixture } from '../fixtures/events/load.ts';
import { FakeRenderer, TINY_PNG, tempDir } from '../local/support.ts';
import { MemoryStore } from './memory-store.ts';

const JOB = '3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60';
const OTHER = '11111111-2222-4333-8444-555555555555';
const limits = { ...DEFAULT_LIMITS };

function seedJob(input: MemoryStore, jobId: string, images: Buffer[] = [TINY_PNG, TINY_PNG], options: Record<string, unknown> = { secondsPerImage: 2 }) {
  const v = validateCreateRequest({ images: images.map((b, i) => ({ name: `p${i}.png`, type: 'image/png', size: b.length })), options }, limits);
  assert.ok(v.ok);
  const job = createJobRecord(v.value, jobId, new Date(), limits);
  input.seed(keys.job(jobId), JSON.stringify(job), 'application/json');
  const etags = images.map((b, i) => input.seed(keys.image(jobId, i), b, 'image/png'));
  const manifest = createManifest(job, etags, new Date());
  input.seed(keys.manifest(jobId), JSON.stringify(manifest), 'application/json');
  return manifest;
}

async function setup(renderer: Renderer = new FakeRenderer(), opts: { maxAttempts?: number; leaseTtlMs?: number } = {}) {
  const input = new MemoryStore('media-input');
  const output = new MemoryStore('media-output');
  const logs: LogEntry[] = [];
  const metrics = new MemoryMetrics();
  const tmp = await tempDir('pm-test-');
  const handler = createProcessMediaHandler(
    { input, output, renderer, clock: { now: () => new Date() }, logger: createConsoleLogger({ service: 'test', level: 'silent', sink: (e) => logs.push(e) }), metrics },
    {
      limits,
      videosBaseUrl: 'https://cdn.example/videos/',
      maxAttempts: opts.maxAttempts ?? 3,
      tempRoot: tmp.path,
      safetyMarginMs: 1000,
      progressIntervalMs: 0,
      leaseTtlMs: opts.leaseTtlMs ?? 45_000,
    },
  );
  const status = () => input.json<StatusRecord>(keys.status(JOB));
  return { input, output, logs, metrics, handler, status, tmp };
}

const event = (jobId = JOB) => fixture<S3Event>('s3-manifest-created', jobId);
const ctx = (ms = 60_000) => ({ getRemainingTimeInMillis: () => ms });

describe('handlers/process-media (in-memory stores, fake renderer)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });
  async function make(renderer?: Renderer, opts?: { maxAttempts?: number; leaseTtlMs?: number }) {
    const t = await setup(renderer, opts);
    cleanups.push(t.tmp.remove);
    return t;
  }

  it('renders the fixture event: video + poster in the output bucket, status done, lease released, work dir gone', async () => {
    const r = new FakeRenderer();
    let workDir = '';
    const spy: Renderer = { render: (i) => ((workDir = i.workDir), r.render(i)) };
    const t = await make(spy);
    seedJob(t.input, JOB);
    const res = await t.handler(event(), ctx());
    assert.deepEqual(res.results, [{ jobId: JOB, key: keys.manifest(JOB), outcome: 'rendered' }]);
    assert.equal(r.calls, 1);
    assert.equal(r.loaded, 2);
    const video = await t.output.head(keys.video(JOB));
    assert.equal(video?.contentType, 'video/mp4');
    assert.equal(video?.metadata['duration-seconds'], '4');
    assert.ok(await t.output.head(keys.poster(JOB)));
    const st = t.status()!;
    assert.equal(st.status, 'done');
    assert.equal(st.progress, 1);
    assert.equal(st.attempts, 1);
    assert.deepEqual(st.video, {
      url: `https://cdn.example/videos/${JOB}/video.mp4`,
      posterUrl: `https://cdn.example/videos/${JOB}/poster.jpg`,
      durationSeconds: 4,
      width: 1280,
      height: 720,
      bytes: 4096,
    });
    assert.equal(t.input.objects.has(keys.lease(JOB)), false);
    assert.ok(workDir && !existsSync(workDir));
    assert.equal(t.metrics.total('JobsSucceeded'), 1);
    assert.equal(t.metrics.total('ImagesPerJob'), 2);
    assert.equal(t.metrics.total('BytesOut'), 4096 + 4);
    // progress went through processing
    const statusWrites = t.input.log.filter((l) => l.op === 'put' && l.key === keys.status(JOB)).length;
    assert.ok(statusWrites >= 3, `status writes: ${statusWrites}`);
    assert.ok(t.logs.every((l) => l.jobId === JOB || !('jobId' in l)));
  });

  it('does not render again for a second delivery of a finished job', async () => {
    const r = new FakeRenderer();
    const t = await make(r);
    seedJob(t.input, JOB);
    await t.handler(event(), ctx());
    const res = await t.handler(event(), ctx());
    assert.equal(res.results[0]?.outcome, 'already_done');
    assert.equal(r.calls, 1);
  });

  it('renders once when the same event arrives 5 times at once', async () => {
    const r = new FakeRenderer();
    r.delayMs = 50;
    const t = await make(r);
    seedJob(t.input, JOB);
    const results = await Promise.all(Array.from({ length: 5 }, () => t.handler(event(), ctx())));
    const outcomes = results.map((x) => x.results[0]?.outcome).sort();
    assert.equal(r.calls, 1);
    assert.equal(outcomes.filter((o) => o === 'rendered').length, 1);
    assert.ok(outcomes.every((o) => o === 'rendered' || o === 'busy' || o === 'already_done'), outcomes.join());
    assert.equal(t.status()?.status, 'done');
    assert.equal(t.output.log.filter((l) => l.op === 'put' && l.key === keys.video(JOB)).length, 1);
  });

  it('finishes from the stored video after a crash between upload and status (no render)', async () => {
    const r = new FakeRenderer();
    const t = await make(r);
    seedJob(t.input, JOB);
    t.output.seed(keys.poster(JOB), Buffer.from([0xff, 0xd8]), 'image/jpeg');
    t.output.seed(keys.video(JOB), Buffer.alloc(999), 'video/mp4', { 'duration-seconds': '4', width: '1280', height: '720' });
    t.input.seed(keys.status(JOB), JSON.stringify({ version: 1, jobId: JOB, status: 'processing', progress: 0.99, attempts: 1, updatedAt: '' }));
    const res = await t.handler(event(), ctx());
    assert.equal(res.results[0]?.outcome, 'finished_from_output');
    assert.equal(r.calls, 0);
    assert.equal(t.status()?.status, 'done');
    assert.equal(t.status()?.video?.bytes, 999);
  });

  it('leaves a live lease alone and takes over an expired one', async () => {
    const r = new FakeRenderer();
    const t = await make(r);
    seedJob(t.input, JOB);
    t.input.seed(keys.lease(JOB), JSON.stringify({ owner: 'x', expiresAt: new Date(Date.now() + 60_000).toISOString() }));
    assert.equal((await t.handler(event(), ctx())).results[0]?.outcome, 'busy');
    assert.equal(r.calls, 0);
    t.input.seed(keys.lease(JOB), JSON.stringify({ owner: 'x', expiresAt: new Date(Date.now() - 1).toISOString() }));
    assert.equal((await t.handler(event(), ctx())).results[0]?.outcome, 'rendered');
    assert.equal(r.calls, 1);
  });

  it('renews the lease while rendering, so a long render is never taken over', async () => {
    const r = new FakeRenderer();
    r.delayMs = 700;
    const t = await make(r, { leaseTtlMs: 200 });
    seedJob(t.input, JOB);
    const run = t.handler(event(), ctx());
    await new Promise((res) => setTimeout(res, 450)); // past the first TTL: without renewals the lease would be free
    const duplicate = await t.handler(event(), ctx());
    assert.equal(duplicate.results[0]?.outcome, 'busy');
    assert.equal((await run).results[0]?.outcome, 'rendered');
    const renewals = t.input.log.filter((l) => l.op === 'put' && l.key === keys.lease(JOB)).length;
    assert.ok(renewals >= 4, `lease writes: ${renewals}`);
    assert.equal(r.calls, 1);
    assert.equal(t.input.objects.has(keys.lease(JOB)), false);
  });

  it('stops without touching the job when its lease was taken over (a stalled holder)', async () => {
    const r = new FakeRenderer();
    r.delayMs = 2000;
    const t = await make(r, { leaseTtlMs: 200 });
    seedJob(t.input, JOB);
    const run = t.handler(event(), ctx());
    await new Promise((res) => setTimeout(res, 100));
    const theirs = JSON.stringify({ owner: 'other', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    t.input.seed(keys.lease(JOB), theirs); // what a takeover looks like from here: a new ETag
    const started = Date.now();
    const res = await run;
    assert.ok(Date.now() - started < 1500, 'the render was aborted');
    assert.equal(res.results[0]?.outcome, 'busy');
    assert.equal(t.status()?.status, 'processing', 'left for the new holder');
    assert.equal(t.input.text(keys.lease(JOB)), theirs, "the other holder's lease is not deleted");
    assert.equal(await t.output.head(keys.video(JOB)), null);
  });

  it('fails the job with image_unreadable for bytes that are not an image, without throwing', async () => {
    const t = await make();
    seedJob(t.input, JOB, [TINY_PNG, Buffer.from('<html>not an image</html>')]);
    const res = await t.handler(event(), ctx());
    assert.equal(res.results[0]?.outcome, 'failed');
    const st = t.status()!;
    assert.equal(st.status, 'failed');
    assert.equal(st.error?.code, 'image_unreadable');
    assert.match(st.error!.message, /image 2 \(p1\.png\)/);
    assert.equal(await t.output.head(keys.video(JOB)), null);
    assert.equal(t.metrics.total('JobsFailed'), 1);
  });

  it('fails with image_unreadable when an upload changed after start', async () => {
    const t = await make();
    seedJob(t.input, JOB);
    t.input.seed(keys.image(JOB, 1), Buffer.concat([TINY_PNG, Buffer.from([0])]), 'image/png');
    await t.handler(event(), ctx());
    assert.equal(t.status()?.error?.code, 'image_unreadable');
    assert.match(t.status()!.error!.message, /changed after the job started/);
  });

  it('refuses a manifest that references another job (manifest_invalid) and reads none of its keys', async () => {
    const t = await make();
    seedJob(t.input, OTHER);
    const m = seedJob(t.input, JOB);
    m.images[0]!.key = keys.image(OTHER, 0);
    t.input.seed(keys.manifest(JOB), JSON.stringify(m));
    const res = await t.handler(event(), ctx());
    assert.equal(res.results[0]?.outcome, 'failed');
    assert.equal(t.status()?.error?.code, 'manifest_invalid');
    assert.ok(!t.input.log.some((l) => l.op === 'get' && l.key.startsWith(`jobs/${OTHER}/`)));
  });

  it('rethrows transient storage errors for a retry, then succeeds on the next attempt', async () => {
    const r = new FakeRenderer();
    const t = await make(r);
    seedJob(t.input, JOB);
    let failures = 1;
    t.output.fault = (op) => (op === 'put' && failures-- > 0 ? new Error('503 SlowDown') : null);
    await assert.rejects(t.handler(event(), ctx()), (e: CodedError) => e.code === 'storage_error');
    assert.equal(t.status()?.status, 'queued');
    assert.equal(t.status()?.attempts, 1);
    assert.equal(t.input.objects.has(keys.lease(JOB)), false);
    const res = await t.handler(event(), ctx());
    assert.equal(res.results[0]?.outcome, 'rendered');
    assert.equal(t.status()?.attempts, 2);
    assert.equal(t.status()?.status, 'done');
  });

  it('marks the job failed on the last attempt and still rethrows (so the event reaches the DLQ)', async () => {
    const r = new FakeRenderer();
    r.failWith = new CodedError('render_failed', 'ffmpeg exited with code 1');
    const t = await make(r, { maxAttempts: 2 });
    seedJob(t.input, JOB);
    await assert.rejects(t.handler(event(), ctx()));
    assert.equal(t.status()?.status, 'queued');
    await assert.rejects(t.handler(event(), ctx()), (e: CodedError) => e.code === 'render_failed');
    const st = t.status()!;
    assert.equal(st.status, 'failed');
    assert.equal(st.error?.code, 'render_failed');
    assert.equal(st.attempts, 2);
    // a later delivery (e.g. a redrive) leaves the failed job alone
    assert.equal((await t.handler(event(), ctx())).results[0]?.outcome, 'already_done');
    assert.equal(r.calls, 2);
  });

  it('stops a render that would outlive the invocation: render_timeout', async () => {
    const r = new FakeRenderer();
    r.delayMs = 10_000;
    const t = await make(r);
    seedJob(t.input, JOB);
    const started = Date.now();
    const res = await t.handler(event(), ctx(2500)); // 1 s margin → ~1.5 s to render
    assert.ok(Date.now() - started < 5000);
    assert.equal(res.results[0]?.outcome, 'failed');
    assert.equal(t.status()?.error?.code, 'render_timeout');
  });

  it('a shutdown (local stack Ctrl-C) aborts the render and queues the job again without using an attempt', async () => {
    const r = new FakeRenderer();
    r.delayMs = 10_000;
    const t = await make(r, { maxAttempts: 1 });
    seedJob(t.input, JOB);
    const shutdown = new AbortController();
    const run = t.handler(event(), { ...ctx(), shutdownSignal: shutdown.signal });
    await new Promise((res) => setTimeout(res, 50));
    shutdown.abort();
    await assert.rejects(run);
    assert.equal(t.status()?.status, 'queued');
    assert.equal(t.status()?.attempts, 0);
    assert.equal(t.input.objects.has(keys.lease(JOB)), false);
    r.delayMs = 0;
    assert.equal((await t.handler(event(), ctx())).results[0]?.outcome, 'rendered'); // the one attempt is still there
  });

  it('ignores unrelated and malformed events without throwing', async () => {
    const r = new FakeRenderer();
    const t = await make(r);
    seedJob(t.input, JOB);
    const wrongBucket = event();
    wrongBucket.Records[0]!.s3.bucket.name = 'media-output';
    const removed = event();
    removed.Records[0]!.eventName = 'ObjectRemoved:Delete';
    const badId = fixture<S3Event>('s3-manifest-created', '..%2F..%2Fx');
    for (const e of [fixture<S3Event>('s3-unrelated-key'), wrongBucket, removed, badId, { Records: [{}] }, { Records: [null] }] as S3Event[]) {
      const res = await t.handler(e, ctx());
      assert.equal(res.results[0]?.outcome, 'ignored', JSON.stringify(e).slice(0, 100));
    }
    for (const e of [{}, null, { Records: 'x' }, 'hello'] as unknown as S3Event[]) {
      assert.deepEqual((await t.handler(e, ctx())).results, []);
    }
    assert.equal(r.calls, 0);
    assert.ok(t.logs.some((l) => l.level === 'warn' && /ignored/.test(l.message)));
  });

  it('writes progress between 0 and 0.99 while processing', async () => {
    const seen: JobStatus[] = [];
    const t = await make();
    const orig = t.input.put.bind(t.input);
    t.input.put = async (key, body, o) => {
      if (key === keys.status(JOB)) seen.push(JSON.parse(String(body)) as JobStatus);
      return orig(key, body, o);
    };
    seedJob(t.input, JOB, [TINY_PNG, TINY_PNG, TINY_PNG, TINY_PNG]);
    await t.handler(event(), ctx());
    const processing = seen.filter((s) => s.status === 'processing').map((s) => s.progress);
    assert.ok(processing.length >= 2, processing.join());
    assert.ok(processing.every((p) => p >= 0 && p <= 0.99));
    assert.deepEqual([...processing].sort((a, b) => a - b), processing, 'monotonic');
    assert.equal(seen.at(-1)?.status, 'done');
  });
});
