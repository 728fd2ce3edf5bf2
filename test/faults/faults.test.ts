/**
 * Faults injected through the ports (issue 6), with the real render engine: storage errors and
 * hangs, FFmpeg that fails, is killed, hangs or runs out of disk, duplicate and early events, a crash
 * between the video and the status, retries running out. Each case asserts the final job state and
 * that no wrong video exists.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';
import { DEFAULT_LIMITS } from '../../contracts/index.ts';
import { ConditionalWriteStore } from '../../lambdas/src/adapters/local/conditional-store.ts';
import { createManifest, type JobRecord, type StatusRecord } from '../../lambdas/src/core/job.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { createProcessMediaHandler } from '../../lambdas/src/handlers/process-media.ts';
import { MemoryStore } from '../handlers/memory-store.ts';
import { createS3Client, S3ObjectStore } from '../../lambdas/src/adapters/aws/s3.ts';
import { createConsoleLogger, MemoryMetrics } from '../../lambdas/src/adapters/local/console.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import { CodedError, type Renderer } from '../../lambdas/src/core/ports.ts';
import { createApiHandler } from '../../lambdas/src/handlers/api.ts';
import { Dispatcher } from '../../local/dispatcher.ts';
import { fixture } from '../fixtures/events/load.ts';
import { caseLine, countCases } from '../hostile/count.ts';
import { tempDir } from '../local/support.ts';
import { fakeFfmpeg } from './fake-ffmpeg.ts';
import { assertFailed, assertGoodVideo, CountingRenderer, ctx, deliver, event, harness, images, JOB, seedJob, type Harness } from './support.ts';

const SUITE = 'fault suite';

describe('faults: injected through the ports, real engine', function () {
  this.timeout(60_000);
  let imgs: Buffer[];
  let bin: { path: string; remove: () => Promise<void> };
  const open: Harness[] = [];
  before(async () => {
    imgs = await images();
    bin = await tempDir('fake-ffmpeg-');
  });
  after(async () => {
    await bin?.remove();
  });
  afterEach(async () => {
    for (const h of open.splice(0)) await h.tmp.remove();
  });
  after(() => console.log(`      ${caseLine(SUITE)}`));

  async function make(opts: Parameters<typeof harness>[0] = {}): Promise<Harness> {
    const h = await harness(opts);
    open.push(h);
    return h;
  }
  const fault = (name: string, fn: () => Promise<void>) =>
    it(name, async () => {
      countCases('fault', 1, SUITE);
      await fn();
    });

  describe('FFmpeg', () => {
    fault('exits non-zero on every attempt: failed render_failed after 3 attempts, the event goes to the DLQ, no video', async () => {
      const h2 = await make({ ffmpegPath: await fakeFfmpeg(bin.path, 'exit-1') });
      seedJob(h2.inputMem, JOB, imgs);
      const d = await deliver(h2);
      assert.equal(d.attempts.length, 3);
      assert.ok(d.deadLettered);
      assert.ok(d.attempts.every((a) => 'error' in a && (a.error as CodedError).code === 'render_failed'));
      assertFailed(h2, 'render_failed');
      assert.match(h2.status()!.error!.message, /Invalid data found/);
      assert.equal(h2.status()!.attempts, 3);
    });

    fault('is killed mid-render (SIGKILL) every time: failed render_failed, no video', async () => {
      const h2 = await make({ ffmpegPath: await fakeFfmpeg(bin.path, 'killed') });
      seedJob(h2.inputMem, JOB, imgs);
      const d = await deliver(h2);
      assert.ok(d.deadLettered);
      assertFailed(h2, 'render_failed');
      assert.match(h2.status()!.error!.message, /SIGKILL/);
    });

    fault('is killed once, then works: the retry renders a correct video', async () => {
      const h2 = await make({ ffmpegPath: await fakeFfmpeg(bin.path, 'flaky', { failures: 1 }) });
      seedJob(h2.inputMem, JOB, imgs);
      const d = await deliver(h2);
      assert.equal(d.attempts.length, 2);
      assert.equal(d.deadLettered, false);
      assert.equal(h2.renderer.calls, 2);
      await assertGoodVideo(h2);
      assert.equal(h2.output.count('put', keys.video(JOB)), 1, 'one video write');
      assert.equal(h2.status()!.attempts, 2);
    });

    fault('hangs past its time limit: killed, failed render_timeout at once (not retried), no video', async () => {
      const h2 = await make({ ffmpegPath: await fakeFfmpeg(bin.path, 'hang'), ffmpegTimeoutMs: 1500 });
      seedJob(h2.inputMem, JOB, imgs);
      const started = Date.now();
      const d = await deliver(h2);
      assert.ok(Date.now() - started < 10_000);
      assert.equal(d.attempts.length, 1);
      assert.equal(d.deadLettered, false);
      assertFailed(h2, 'render_timeout');
    });

    fault('hangs with a short invocation: the handler stops it before the function would time out', async () => {
      const h2 = await make({ ffmpegPath: await fakeFfmpeg(bin.path, 'hang'), safetyMarginMs: 1000 });
      seedJob(h2.inputMem, JOB, imgs);
      const started = Date.now();
      const d = await deliver(h2, { timeoutMs: 3000 });
      assert.ok(Date.now() - started < 3000, `returned after ${Date.now() - started} ms, inside the 3 s invocation`);
      assert.equal(d.deadLettered, false);
      assertFailed(h2, 'render_timeout');
    });

    fault('runs out of disk (a real ENOSPC from /dev/full): failed out_of_disk after the retries, no video', async () => {
      const h2 = await make({ ffmpegPath: await fakeFfmpeg(bin.path, 'enospc') });
      seedJob(h2.inputMem, JOB, imgs);
      const d = await deliver(h2);
      assert.ok(d.deadLettered, 'out_of_disk is retried (a fresh environment has an empty /tmp)');
      assertFailed(h2, 'out_of_disk');
    });

    fault('the work directory itself is full (ENOSPC from the file system): out_of_disk', async () => {
      const enospc: Renderer = {
        async render() {
          const err = new Error('ENOSPC: no space left on device, write') as NodeJS.ErrnoException;
          err.code = 'ENOSPC';
          throw err;
        },
      };
      const h = await make({ renderer: enospc, maxAttempts: 1 });
      seedJob(h.inputMem, JOB, imgs);
      const d = await deliver(h, { maxAttempts: 1 });
      assert.ok(d.deadLettered);
      assertFailed(h, 'out_of_disk');
    });

    fault('a renderer that ignores the abort signal still cannot hold the invocation past its budget', async () => {
      const deaf: Renderer = { render: () => new Promise(() => {}) };
      const h = await make({ renderer: deaf, safetyMarginMs: 1000 });
      seedJob(h.inputMem, JOB, imgs);
      const started = Date.now();
      const d = await deliver(h, { timeoutMs: 3000 });
      assert.ok(Date.now() - started < 3000, `returned after ${Date.now() - started} ms`);
      assert.equal(d.deadLettered, false);
      assertFailed(h, 'render_timeout');
    });
    fault('a renderer that keeps reporting progress after the deadline cannot turn a failed job back to processing', async () => {
      const zombie: Renderer = {
        render: ({ signal, onProgress }) =>
          new Promise(() => {
            signal?.addEventListener('abort', () => {
              for (const [i, ms] of [50, 150, 300].entries()) setTimeout(() => onProgress?.({ fraction: 0.3 + i * 0.2, outSeconds: 1 }), ms);
            });
          }),
      };
      const h = await make({ renderer: zombie, safetyMarginMs: 1000 });
      seedJob(h.inputMem, JOB, imgs);
      await deliver(h, { timeoutMs: 2500 });
      assertFailed(h, 'render_timeout');
      await new Promise((r) => setTimeout(r, 500));
      assertFailed(h, 'render_timeout');
    });
    fault('a coded error from another copy of the ports module (CJS spec + import()) keeps its code', async () => {
      // Mocha compiles specs without top-level await to CommonJS; `import()` then loads a second copy.
      const other = (await import('../../lambdas/src/core/ports.ts')) as typeof import('../../lambdas/src/core/ports.ts');
      const h = await make({ renderer: { render: () => Promise.reject(new other.CodedError('image_unreadable', 'image 1: not an image')) } });
      seedJob(h.inputMem, JOB, imgs);
      const d = await deliver(h);
      assert.equal(d.attempts.length, 1, 'deterministic: not retried');
      assertFailed(h, 'image_unreadable');
      assert.ok(new other.CodedError('x', 'y') instanceof CodedError);
      assert.ok(!(new Error('x') instanceof CodedError));
    });
  });

  describe('S3', () => {
    fault('an image read fails once: retried, then a correct video', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      h.input.rules.push({ op: 'get', key: /\/images\/001$/, kind: 'error', times: 1 });
      const d = await deliver(h);
      assert.equal(d.attempts.length, 2);
      assert.equal((d.attempts[0] as { error: CodedError }).error.code, 'storage_error');
      await assertGoodVideo(h);
    });

    fault('image reads keep failing: failed storage_error after 3 attempts, DLQ, no video', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      h.input.rules.push({ op: 'get', key: /\/images\//, kind: 'error' });
      const d = await deliver(h);
      assert.ok(d.deadLettered);
      assertFailed(h, 'storage_error');
    });

    fault('an image read hangs (a silent connection): the invocation ends inside its budget, failed render_timeout, nothing stored', async () => {
      const h = await make({ safetyMarginMs: 1000 });
      seedJob(h.inputMem, JOB, imgs);
      h.input.rules.push({ op: 'get', key: /\/images\/002$/, kind: 'hang', times: 1 });
      const started = Date.now();
      const first = await h.handler(event(), ctx(3000)).then(
        (r) => ({ result: r }),
        (e: Error) => ({ error: e }),
      );
      assert.ok(Date.now() - started < 3000, `returned after ${Date.now() - started} ms`);
      assert.equal(h.outputMem.objects.has(keys.video(JOB)), false);
      // The budget ran out while waiting on S3: the job is failed with render_timeout (a hang that a
      // real S3 client turns into TimeoutError is a storage_error instead, retried: see the adapter case).
      assert.ok('result' in first, 'not thrown: a time limit is final');
      assertFailed(h, 'render_timeout');
      assert.ok(h.input.hung >= 1);
    });

    fault('the video upload fails every time: failed storage_error, DLQ, no video object', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      h.output.rules.push({ op: 'put', key: /video\.mp4$/, kind: 'error' });
      const d = await deliver(h);
      assert.ok(d.deadLettered);
      assertFailed(h, 'storage_error');
      assert.equal(h.renderer.calls, 3);
    });

    fault('the video upload fails once: the retry renders again and stores one correct video', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      h.output.rules.push({ op: 'put', key: /video\.mp4$/, kind: 'error', times: 1 });
      const d = await deliver(h);
      assert.equal(d.attempts.length, 2);
      await assertGoodVideo(h);
    });

    fault('status writes fail twice: the job is retried and ends done with a consistent status', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      h.input.rules.push({ op: 'put', key: /status\.json$/, kind: 'error', times: 2 });
      const d = await deliver(h);
      assert.equal(d.deadLettered, false);
      await assertGoodVideo(h);
    });

    fault('a silent S3 endpoint: the real S3 adapter gives up with TimeoutError instead of hanging', async () => {
      const server: Server = createServer(() => {});
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const port = (server.address() as AddressInfo).port;
      const client = createS3Client({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        forcePathStyle: true,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        requestHandler: { connectionTimeout: 300, socketTimeout: 300 },
        maxAttempts: 2,
      });
      try {
        const store = new S3ObjectStore(client, 'media-input');
        const started = Date.now();
        await assert.rejects(store.getBytes('jobs/x/manifest.json'), (e: Error) => e.name === 'TimeoutError');
        assert.ok(Date.now() - started < 5000);
        // And the defaults every adapter gets (createS3Client without overrides) have such limits too.
        const defaultClient = createS3Client({ region: 'us-east-1' });
        const defaults = await (defaultClient.config.requestHandler as unknown as { configProvider: Promise<Record<string, unknown>> }).configProvider;
        defaultClient.destroy();
        assert.equal(defaults.connectionTimeout, 5000);
        assert.equal(defaults.socketTimeout, 30000);
      } finally {
        client.destroy();
        server.close();
      }
    });
  });

  describe('delivery', () => {
    for (const n of [2, 5]) {
      fault(`the same event ${n} times at once: exactly one render, one video write, status done`, async () => {
        const h = await make();
        seedJob(h.inputMem, JOB, imgs);
        const results = await Promise.allSettled(Array.from({ length: n }, () => h.handler(event(), ctx())));
        assert.ok(results.every((r) => r.status === 'fulfilled'), 'no invocation failed');
        assert.equal(h.renderer.calls, 1);
        assert.equal(h.output.count('put', keys.video(JOB)), 1);
        await assertGoodVideo(h);
        // Late duplicates change nothing.
        await h.handler(event(), ctx());
        assert.equal(h.renderer.calls, 1);
      });
    }

    fault('on s3rver with the local conditional-write adapter: 5 deliveries at once, one render, one video', async () => {
      const dir = await tempDir('faults-s3rver-');
      const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir.path, silent: true, configureBuckets: [{ name: 'media-input' }, { name: 'media-output' }] });
      const addr = (await server.run()) as AddressInfo;
      const client = createS3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${addr.port}`, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
      try {
        const input = new ConditionalWriteStore(new S3ObjectStore(client, 'media-input'));
        const output = new ConditionalWriteStore(new S3ObjectStore(client, 'media-output'));
        // Seed through a memory store's records, then copy them to s3rver (same bytes, real ETags).
        const mem = new MemoryStore('media-input');
        seedJob(mem, JOB, imgs, { manifest: false });
        for (const [key, o] of mem.objects) await input.put(key, o.body, { contentType: o.info.contentType });
        const job = JSON.parse(mem.text(keys.job(JOB))!) as JobRecord;
        const etags = await Promise.all(job.images.map(async (im) => (await input.head(im.key))!.etag));
        await input.put(keys.manifest(JOB), JSON.stringify(createManifest(job, etags, new Date())), { contentType: 'application/json' });
        const renderer = new CountingRenderer(createRenderer());
        let videoPuts = 0;
        const countingOutput: typeof output = Object.create(output) as typeof output;
        countingOutput.put = (key, body, o) => {
          if (key === keys.video(JOB)) videoPuts++;
          return output.put(key, body, o);
        };
        const tmp = await tempDir('faults-work-');
        const handler = createProcessMediaHandler(
          { input, output: countingOutput, renderer, clock: { now: () => new Date() }, logger: createConsoleLogger({ service: 'faults', level: 'silent' }), metrics: new MemoryMetrics() },
          { limits: DEFAULT_LIMITS, videosBaseUrl: '/videos', tempRoot: tmp.path, safetyMarginMs: 500 },
        );
        const results = await Promise.allSettled(Array.from({ length: 5 }, () => handler(event(), ctx())));
        await tmp.remove();
        assert.ok(results.every((r) => r.status === 'fulfilled'));
        assert.equal(renderer.calls, 1);
        assert.equal(videoPuts, 1);
        const st = JSON.parse(Buffer.from((await input.getBytes(keys.status(JOB)))!.body).toString()) as StatusRecord;
        assert.equal(st.status, 'done');
        assert.equal(st.video?.bytes, (await output.head(keys.video(JOB)))?.size);
        assert.equal(await input.head(keys.lease(JOB)), null, 'lease released');
      } finally {
        client.destroy();
        await server.close();
        await dir.remove();
      }
    });

    fault('the event arrives before the manifest is readable: retried, then done', async () => {
      const h = await make();
      const { seedManifest } = seedJob(h.inputMem, JOB, imgs, { manifest: false });
      const d = await deliver(h, { between: () => void seedManifest() });
      assert.equal(d.attempts.length, 2);
      assert.equal((d.attempts[0] as { error: CodedError }).error.code, 'storage_error');
      await assertGoodVideo(h);
      assert.equal(h.renderer.calls, 1, 'nothing was rendered without a manifest');
    });

    fault('the manifest never becomes readable: failed storage_error after the retries', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs, { manifest: false });
      const d = await deliver(h);
      assert.ok(d.deadLettered);
      assertFailed(h, 'storage_error');
      assert.equal(h.renderer.calls, 0);
    });

    fault('a crash after the video is written, before the status: the retry finishes without rendering again', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      // The "done" status write never returns: the process dies there (Lambda times out).
      h.input.rules.push({ op: 'put', key: /status\.json$/, kind: 'hang', times: 1, bodyIncludes: '"status":"done"' });
      void h.handler(event(), ctx(60_000)).catch(() => {});
      await waitUntil(() => h.input.hung === 1);
      assert.ok(h.outputMem.objects.has(keys.video(JOB)));
      assert.equal(h.status()?.status, 'processing');
      // Lambda retries the event (the crashed invocation still holds its lease).
      const res = await h.handler(event(), ctx());
      assert.equal(res.results[0]?.outcome, 'finished_from_output');
      assert.equal(h.renderer.calls, 1);
      assert.equal(h.output.count('put', keys.video(JOB)), 1);
      await assertGoodVideo(h);
    });

    fault('the function itself dies mid-render (OOM, timeout): its lease lapses and the retry finishes the job', async () => {
      const real = createRenderer();
      let calls = 0;
      const firstHangs: Renderer = { render: (i) => (++calls === 1 ? new Promise(() => {}) : real.render(i)) };
      const h = await make({ renderer: firstHangs, leaseTtlMs: 1500 });
      seedJob(h.inputMem, JOB, imgs);
      void h.handler(event(), ctx(60_000)).catch(() => {});
      await waitUntil(() => h.status()?.status === 'processing');
      // The process is gone: its lease renewals never reach S3 again.
      const owner = (h.inputMem.json<{ owner: string }>(keys.lease(JOB)) ?? { owner: '?' }).owner;
      h.input.rules.push({ op: 'put', key: /lease\.json$/, kind: 'hang', bodyIncludes: owner });
      // A retry while the lease is still live leaves the job to its holder ...
      assert.equal((await h.handler(event(), ctx())).results[0]?.outcome, 'busy');
      // ... and Lambda's next retry, after the lease lapsed, takes it over and finishes.
      await new Promise((r) => setTimeout(r, 1800));
      const res = await h.handler(event(), ctx());
      assert.equal(res.results[0]?.outcome, 'rendered');
      assert.equal(h.status()!.attempts, 2);
      await assertGoodVideo(h);
    });

    fault('unrelated and malformed events: ignored, nothing read, rendered or written', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      const base = () => event();
      const withKey = (key: string) => {
        const e = base();
        e.Records[0]!.s3.object.key = key;
        return e;
      };
      const cases: unknown[] = [
        {},
        null,
        'text',
        42,
        [],
        { Records: 'x' },
        { Records: [null] },
        { Records: [{}] },
        { Records: [{ eventSource: 'aws:sqs', body: JSON.stringify(base()) }] },
        fixture('api-create-job'),
        { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'media-input' }, object: { key: keys.manifest(JOB) } } },
        fixture<S3Event>('s3-unrelated-key'),
        withKey(keys.image(JOB, 0)),
        withKey(`${keys.manifest(JOB)}.bak`),
        withKey(`jobs/${JOB.toUpperCase()}/manifest.json`),
        withKey('jobs/not-a-job/manifest.json'),
        withKey(`jobs/${JOB}/../${JOB}/manifest.json`),
        withKey('jobs/%E0%A4%A/manifest.json'),
        withKey(`videos/${JOB}/manifest.json`),
        (() => {
          const e = base();
          e.Records[0]!.s3.bucket.name = 'media-output';
          return e;
        })(),
        (() => {
          const e = base();
          e.Records[0]!.eventName = 'ObjectRemoved:Delete';
          return e;
        })(),
        (() => {
          const e = base();
          e.Records[0]!.eventSource = 'aws:sqs';
          return e;
        })(),
      ];
      countCases('event', cases.length - 1, SUITE);
      for (const e of cases) {
        const res = await h.handler(e as S3Event, ctx());
        assert.ok(res.results.every((r) => r.outcome === 'ignored'), JSON.stringify(e)?.slice(0, 120));
      }
      assert.equal(h.renderer.calls, 0);
      assert.equal(h.input.calls.filter((c) => c.op !== 'head' && c.op !== 'get').length, 0, 'no writes');
      assert.equal(h.input.calls.length, 0, 'not even a read');
      assert.equal(h.status(), undefined);
    });

    fault('status reads while a render runs: always 200, a valid state, progress never going back', async () => {
      const h = await make();
      seedJob(h.inputMem, JOB, imgs);
      const api = createApiHandler(
        {
          input: h.input,
          signer: { presignPost: () => Promise.reject(new Error('unused')), presignPut: () => Promise.reject(new Error('unused')) },
          clock: { now: () => new Date() },
          ids: { jobId: () => JOB },
          logger: createConsoleLogger({ service: 'faults', level: 'silent' }),
          metrics: new MemoryMetrics(),
        },
        { limits: DEFAULT_LIMITS },
      );
      const get = fixture<Parameters<typeof api>[0]>('api-get-job', JOB);
      const seen: { status: string; progress: number; ms: number }[] = [];
      let rendering = true;
      const poller = (async () => {
        while (rendering) {
          const t = performance.now();
          const res = (await api(get)) as { statusCode: number; body: string };
          assert.equal(res.statusCode, 200);
          const b = JSON.parse(res.body) as { status: string; progress: number };
          seen.push({ ...b, ms: performance.now() - t });
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await h.handler(event(), ctx());
      rendering = false;
      await poller;
      const last = JSON.parse(((await api(get)) as { body: string }).body) as { status: string };
      assert.equal(last.status, 'done');
      assert.ok(seen.length >= 5, `${seen.length} reads`);
      assert.ok(seen.every((s) => ['queued', 'processing', 'done'].includes(s.status)));
      const progress = seen.map((s) => s.progress);
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]! || seen[i]!.status === 'done', `progress went back: ${progress.join(',')}`);
    });

    fault('retries exhausted in the local dispatcher: failed with a reason, the event in the dead-letter sink', async () => {
      const h = await make({ renderer: { render: () => Promise.reject(new CodedError('render_failed', 'FFmpeg exited with 1: injected')) } });
      seedJob(h.inputMem, JOB, imgs);
      const dead: { event: S3Event; error: unknown }[] = [];
      const d = new Dispatcher<S3Event>({
        concurrency: 1,
        maxAttempts: 3,
        retryDelaysMs: [10, 20],
        invoke: (e) => h.handler(e, ctx()),
        onDeadLetter: (e, error) => void dead.push({ event: e, error }),
      });
      d.push(event());
      await d.idle();
      assert.equal(d.stats.invocations, 3);
      assert.equal(dead.length, 1);
      assert.equal(dead[0]!.event.Records[0]!.s3.object.key, keys.manifest(JOB));
      assert.equal((dead[0]!.error as CodedError).code, 'render_failed');
      assertFailed(h, 'render_failed');
      assert.equal(h.status()!.attempts, 3);
    });
  });
});

async function waitUntil(fn: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
