/* eslint-disable @typescript-eslint/no-explicit-any -- edited manifests are loose JSON on purpose */
/**
 * Hostile input (issue 6) against one local stack (s3rver + the real engine in worker threads): every
 * corpus case gets exactly its contract code, and after each one the service still answers and a
 * good job still completes.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { API_ERROR_STATUS, type CreateJobResponse, type JobStatus, type Limits, type PostUploadGrant, type PutUploadGrant } from '../../contracts/index.ts';
import { createS3Client } from '../../lambdas/src/adapters/aws/s3.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import { fitImage } from '../../lambdas/src/engine/image.ts';
import { INPUT_BUCKET, OUTPUT_BUCKET, startLocalStackInternal, type LocalStackInternals } from '../../local/stack.ts';
import { CORPUS_BACKGROUND, imageCases, writeCorpus, type ImageCase, type Rgb } from '../fixtures/make-corpus.ts';
import { api, tempDir, uploadPost, waitFor } from '../local/support.ts';
import { HOSTILE_NAMES, requestCases, type RequestCase } from './requests.ts';
import { caseLine, countCases } from './count.ts';

/** Generated when the file loads (about 1 s), so every case is its own test. */
const CORPUS: ImageCase[] = await imageCases();

/** Small limits so "too many" and "too large" cases stay cheap. */
const LIMITS: Partial<Limits> = { maxImages: 20, maxImageBytes: 1024 * 1024, maxVideoSeconds: 60 };
/** Tiny renders: the corpus tests decoding, not encoding. */
const OPTIONS = { preset: '480p', fps: 24, secondsPerImage: 0.5, background: CORPUS_BACKGROUND } as const;

const TERMINAL = new Set(['done', 'failed']);

function near(actual: Rgb, expected: Rgb, tolerance: number): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

describe('hostile: corpus against the local stack', function () {
  this.timeout(240_000);
  let dir: { path: string; remove: () => Promise<void> };
  let stack: LocalStackInternals;
  let s3: S3Client;
  let limits: Limits;
  let sentinel: string; // a job left in `uploading`: its status must answer after every case
  const pngBytes = sharp({ create: { width: 16, height: 16, channels: 3, background: '#3366cc' } }).png().toBuffer();

  async function createJob(images: { name: string; type: string; size: number }[], options: Record<string, unknown> = OPTIONS): Promise<CreateJobResponse> {
    const r = await api<CreateJobResponse>(stack.url, 'POST', '/api/jobs', { images, options });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }

  async function status(jobId: string): Promise<{ status: number; body: JobStatus }> {
    return api<JobStatus>(stack.url, 'GET', `/api/jobs/${jobId}`);
  }

  async function terminal(jobId: string, timeoutMs = 180_000): Promise<JobStatus> {
    return waitFor(async () => {
      const r = await status(jobId);
      return TERMINAL.has(r.body.status) ? r.body : null;
    }, timeoutMs, 100);
  }

  /** The service still serves: the sentinel's status answers 200 `uploading`. */
  async function stillServing(): Promise<void> {
    const r = await status(sentinel);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'uploading');
  }

  /** Create, upload and start one job; answers its id. */
  async function runJob(files: { name: string; type: string; bytes: Uint8Array }[], options: Record<string, unknown> = OPTIONS): Promise<string> {
    const created = await createJob(files.map((f) => ({ name: f.name, type: f.type, size: f.bytes.length })), options);
    await Promise.all(
      files.map(async (f, i) => {
        const up = await uploadPost(created.uploads[i] as PostUploadGrant, f.bytes, f.type);
        assert.ok(up.ok, `upload ${i}: ${up.status}`);
      }),
    );
    const started = await api<JobStatus>(stack.url, 'POST', `/api/jobs/${created.jobId}/start`);
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return created.jobId;
  }

  before(async () => {
    dir = await tempDir('hostile-corpus-');
    await mkdir(join(dir.path, 'ui'));
    stack = await startLocalStackInternal({
      port: 0,
      dataDir: join(dir.path, 'data'),
      uiDir: join(dir.path, 'ui'),
      renderConcurrency: 2,
      limits: LIMITS,
      logLevel: 'silent',
      retryDelaysMs: [50, 100],
    });
    limits = stack.limits;
    s3 = createS3Client({ region: 'us-east-1', endpoint: stack.s3Url, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    sentinel = (await createJob([{ name: 'sentinel.png', type: 'image/png', size: 100 }])).jobId;
  });

  after(async () => {
    console.log(`      ${caseLine()}`);
    s3?.destroy();
    await stack?.stop();
    await dir?.remove();
  });

  describe('images: every file of the generated corpus through create → upload → start → render', () => {
    let cases: ImageCase[] = [];
    const outcome = new Map<string, Promise<{ jobId: string; final: JobStatus }>>();

    before(async () => {
      cases = await writeCorpus(join(dir.path, 'corpus'), CORPUS);
      countCases('image', cases.length);
      // All jobs at once: the stack must queue them (bounded concurrency), not fall over.
      for (const c of cases) {
        const p = runJob([{ name: c.name, type: c.type, bytes: c.bytes }]).then(async (jobId) => ({ jobId, final: await terminal(jobId) }));
        p.catch(() => {});
        outcome.set(c.id, p);
      }
    });

    for (const c of CORPUS) {
      it(`${c.id}: ${c.expect.outcome === 'fails' ? `fails ${c.expect.code}` : 'renders'} (${c.what})`, async () => {
        const { jobId, final } = await outcome.get(c.id)!;
        if (c.expect.outcome === 'fails') {
          assert.equal(final.status, 'failed', `${c.what}: ${JSON.stringify(final)}`);
          assert.equal(final.error?.code, c.expect.code, `${c.what}: ${final.error?.message}`);
          assert.ok(final.error?.message.length, 'a human message');
          assert.equal(final.video, undefined, 'no video for a failed job');
          const head = await fetch(`${stack.url}/videos/${jobId}/video.mp4`, { method: 'HEAD' });
          assert.equal(head.status, 404, 'no video object was written');
        } else {
          assert.equal(final.status, 'done', `${c.what}: ${JSON.stringify(final.error)}`);
          const v = final.video!;
          assert.deepEqual([v.width, v.height], [854, 480]);
          const res = await fetch(`${stack.url}${v.url}`);
          assert.equal(res.status, 200);
          assert.equal(res.headers.get('content-type'), 'video/mp4');
          assert.equal((await res.arrayBuffer()).byteLength, v.bytes);
          // What the frame looks like, on the engine's own fit (the MP4 is lossy; the fit is exact).
          const f = await fitImage(c.bytes, c.id, { width: 96, height: 64, fit: 'contain', background: CORPUS_BACKGROUND, maxImagePixels: limits.maxImagePixels }, true);
          const px = (x: number, y: number): Rgb => {
            const i = (y * 96 + x) * 3;
            return [f.rgb![i]!, f.rgb![i + 1]!, f.rgb![i + 2]!];
          };
          const tolerance = c.id === 'cmyk-jpeg' ? 40 : 12; // CMYK without a profile goes through libvips' default one
          if (c.expect.centre) assert.ok(near(px(48, 32), c.expect.centre, tolerance), `centre ${px(48, 32)} vs ${c.expect.centre}`);
          if (c.expect.quadrants) {
            const got = [px(20, 12), px(72, 12), px(20, 48), px(72, 48)];
            c.expect.quadrants.forEach((q, i) => assert.ok(near(got[i]!, q, tolerance), `quadrant ${i}: ${got[i]} vs ${q} (orientation not applied?)`));
          }
        }
        await stillServing();
      });
    }
  });

  describe('requests: bodies, options, names, ids', () => {
    let cases: RequestCase[] = [];
    before(() => {
      cases = requestCases(limits);
      countCases('request', cases.length);
    });

    it('every hostile request gets its exact status and code, and the API keeps answering', async () => {
      const failures: string[] = [];
      for (const c of cases) {
        const path = c.path.replaceAll('{job}', sentinel).replaceAll('{JOB}', sentinel.toUpperCase());
        const isRaw = typeof c.body === 'string' || Buffer.isBuffer(c.body);
        const body = c.body === undefined ? undefined : isRaw ? (c.body as string | Buffer) : JSON.stringify(c.body);
        const headers = { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers };
        let res: Response;
        try {
          res = await fetch(`${stack.url}${path}`, { method: c.method, headers, body: body === undefined ? undefined : new Uint8Array(Buffer.from(body)) });
        } catch (err) {
          failures.push(`${c.id}: request failed (${(err as Error).message})`);
          continue;
        }
        const text = await res.text();
        let parsed: { error?: { code?: string; message?: string } } = {};
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          failures.push(`${c.id}: answer is not JSON: ${text.slice(0, 80)}`);
        }
        if (res.status !== c.status || parsed.error?.code !== c.code || !parsed.error?.message) {
          failures.push(`${c.id}: expected ${c.status} ${c.code}, got ${res.status} ${text.slice(0, 160)}`);
        }
        const alive = await status(sentinel);
        if (alive.status !== 200) failures.push(`${c.id}: the sentinel status answered ${alive.status} afterwards`);
      }
      assert.deepEqual(failures, []);
    });

    it('raw path traversal on the site, the videos and the API: 404, nothing outside the served roots', async () => {
      const raw = (path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const u = new URL(stack.url);
          const req = httpRequest({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      const paths = [
        '/../../../../etc/passwd',
        '/..%2f..%2f..%2f..%2fetc%2fpasswd',
        '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
        '/%2e%2e%5c%2e%2e%5cetc%5cpasswd',
        '/assets/..%00/..%00/etc/passwd',
        `/videos/${sentinel}/../../jobs/${sentinel}/job.json`,
        `/videos/..%2fjobs%2f${sentinel}%2fjob.json/video.mp4`,
        `/videos/${sentinel}/job.json`,
        `/videos/${sentinel}/video.mp4%00.txt`,
        `/api/jobs/..%2f${sentinel}`,
        `/api/jobs/${sentinel}/..%2f..%2fstart`,
      ];
      countCases('request', paths.length);
      for (const p of paths) {
        const r = await raw(p);
        assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
        assert.ok(!/root:|"expiresAt"|"images"/.test(r.body), `${p} leaked: ${r.body.slice(0, 80)}`);
        assert.ok(JSON.parse(r.body).error.code, `${p}: a JSON error`);
      }
      await stillServing();
    });

    it('hostile file names: grants for server-chosen keys only, names never echoed unescaped, the job renders', async () => {
      const png = await pngBytes;
      const files = HOSTILE_NAMES.slice(0, limits.maxImages).map((name) => ({ name, type: 'image/png', bytes: png }));
      const created = await createJob(files.map((f) => ({ name: f.name, type: f.type, size: f.bytes.length })));
      created.uploads.forEach((g, i) => {
        assert.equal(g.method, 'POST');
        assert.equal((g as PostUploadGrant).fields.key, keys.image(created.jobId, i));
        assert.ok(!g.url.includes('..') && !g.url.includes('passwd'));
      });
      const raw = JSON.stringify(created);
      for (const n of HOSTILE_NAMES) if (n.length > 3) assert.ok(!raw.includes(JSON.stringify(n).slice(1, -1)), `name ${JSON.stringify(n).slice(0, 40)} is not in the answer`);
      await Promise.all(files.map((f, i) => uploadPost(created.uploads[i] as PostUploadGrant, f.bytes, f.type, f.name)));
      assert.equal((await api(stack.url, 'POST', `/api/jobs/${created.jobId}/start`)).status, 202);
      const final = await terminal(created.jobId);
      assert.equal(final.status, 'done', JSON.stringify(final.error));
      countCases('request', 1);
      await stillServing();
    });
  });

  describe('uploads that differ from what was declared (start answers 409)', () => {
    async function prepared(declared: { type: string; size: number }, upload: { bytes: Uint8Array; contentType?: string; key?: (jobId: string) => string } | null) {
      const created = await createJob([{ name: 'a.png', ...declared }]);
      if (upload) {
        const grant = created.uploads[0] as PostUploadGrant;
        const fields = { ...grant.fields };
        if (upload.contentType) fields['Content-Type'] = upload.contentType;
        if (upload.key) fields.key = upload.key(created.jobId);
        const res = await uploadPost({ ...grant, fields }, upload.bytes, upload.contentType ?? declared.type);
        assert.ok(res.ok, `s3rver took the upload (${res.status}); only start can catch it locally`);
      }
      return created.jobId;
    }

    /** PUT grants sign Content-Type and Content-Length; s3rver checks no signature, so `start` must catch what differs. */
    async function preparedPut(declared: { type: string; size: number }, bytes: Uint8Array, headers: Record<string, string>) {
      const r = await api<CreateJobResponse>(stack.url, 'POST', '/api/jobs', { images: [{ name: 'a.png', ...declared }], options: OPTIONS, grant: 'put' });
      assert.equal(r.status, 201);
      const grant = r.body.uploads[0] as PutUploadGrant;
      const res = await fetch(grant.url, { method: 'PUT', headers: { 'Content-Type': grant.headers['Content-Type']!, ...headers }, body: new Uint8Array(bytes) });
      assert.ok(res.ok, `s3rver took the PUT (${res.status})`);
      return r.body.jobId;
    }

    const cases: { id: string; make: () => Promise<string>; code: 'uploads_missing' | 'upload_invalid' }[] = [
      { id: 'start-before-upload', make: () => prepared({ type: 'image/png', size: 100 }, null), code: 'uploads_missing' },
      { id: 'uploaded-bigger-than-declared', make: async () => prepared({ type: 'image/png', size: 10 }, { bytes: await pngBytes }), code: 'upload_invalid' },
      { id: 'uploaded-smaller-than-declared', make: async () => prepared({ type: 'image/png', size: (await pngBytes).length + 500 }, { bytes: await pngBytes }), code: 'upload_invalid' },
      { id: 'uploaded-empty-file', make: () => prepared({ type: 'image/png', size: 100 }, { bytes: new Uint8Array(0) }), code: 'upload_invalid' },
      { id: 'uploaded-over-the-byte-limit', make: () => prepared({ type: 'image/png', size: limits.maxImageBytes }, { bytes: Buffer.alloc(limits.maxImageBytes + 1, 1) }), code: 'upload_invalid' },
      { id: 'uploaded-with-another-type', make: async () => prepared({ type: 'image/png', size: (await pngBytes).length }, { bytes: await pngBytes, contentType: 'text/html' }), code: 'upload_invalid' },
      { id: 'put-grant-with-another-type', make: async () => preparedPut({ type: 'image/png', size: (await pngBytes).length }, await pngBytes, { 'Content-Type': 'text/html' }), code: 'upload_invalid' },
      { id: 'put-grant-with-more-bytes', make: async () => preparedPut({ type: 'image/png', size: 20 }, await pngBytes, {}), code: 'upload_invalid' },
      { id: 'uploaded-to-a-key-beside-the-grant', make: async () => prepared({ type: 'image/png', size: (await pngBytes).length }, { bytes: await pngBytes, key: (id) => `${keys.image(id, 0)}.jpg` }), code: 'uploads_missing' },
      { id: 'uploaded-outside-the-job-prefix', make: async () => prepared({ type: 'image/png', size: (await pngBytes).length }, { bytes: await pngBytes, key: () => `jobs/${randomUUID()}/images/000` }), code: 'uploads_missing' },
    ];
    for (const c of cases) {
      it(c.id, async () => {
        countCases('upload', 1);
        const jobId = await c.make();
        const r = await api<{ error: { code: string; message: string; missing?: number[] } }>(stack.url, 'POST', `/api/jobs/${jobId}/start`);
        assert.equal(r.status, API_ERROR_STATUS[c.code]);
        assert.equal(r.body.error.code, c.code, r.body.error.message);
        if (c.code === 'uploads_missing') assert.deepEqual(r.body.error.missing, [0]);
        // Nothing was accepted: the job is still uploading, no manifest, and it can be fixed with its grant.
        assert.equal((await status(jobId)).body.status, 'uploading');
        await stillServing();
      });
    }
  });

  describe('manifests edited behind the API (written straight into the input bucket)', () => {
    let victim: string;
    let victimStatus: JobStatus;
    before(async () => {
      victim = await runJob([{ name: 'v.png', type: 'image/png', bytes: await pngBytes }]);
      victimStatus = await terminal(victim);
      assert.equal(victimStatus.status, 'done');
    });

    async function writeManifest(jobId: string, body: string): Promise<void> {
      await s3.send(new PutObjectCommand({ Bucket: INPUT_BUCKET, Key: keys.manifest(jobId), Body: body, ContentType: 'application/json' }));
    }

    async function honestManifest(jobId: string): Promise<Record<string, any>> {
      const png = await pngBytes;
      return {
        version: 1,
        jobId,
        createdAt: new Date().toISOString(),
        startedAt: new Date().toISOString(),
        images: [{ index: 0, key: keys.image(jobId, 0), name: 'a.png', type: 'image/png', size: png.length, etag: '' }],
        options: OPTIONS,
        videoSeconds: 0.5,
      };
    }

    /** A job with its image uploaded but not started, so the only manifest is ours. */
    async function uploadedJob(): Promise<string> {
      const png = await pngBytes;
      const created = await createJob([{ name: 'a.png', type: 'image/png', size: png.length }]);
      await uploadPost(created.uploads[0] as PostUploadGrant, png, 'image/png');
      return created.jobId;
    }

    const cases: { id: string; edit: (m: Record<string, any>, jobId: string) => string; code: string }[] = [
      { id: 'image-key-of-another-job', edit: (m) => (m.images[0].key = keys.image(victim, 0), JSON.stringify(m)), code: 'manifest_invalid' },
      { id: 'image-key-in-the-output-bucket', edit: (m) => (m.images[0].key = keys.video(victim), JSON.stringify(m)), code: 'manifest_invalid' },
      { id: 'image-key-path-traversal', edit: (m, id) => (m.images[0].key = `jobs/${id}/images/../../${victim}/images/000`, JSON.stringify(m)), code: 'manifest_invalid' },
      { id: 'job-id-of-another-job', edit: (m) => ((m.jobId = victim), JSON.stringify(m)), code: 'manifest_invalid' },
      { id: 'not-json', edit: () => '#EXTM3U\nfile:///etc/passwd\n', code: 'manifest_invalid' },
      { id: 'options-over-the-budget', edit: (m) => ((m.options = { ...OPTIONS, secondsPerImage: 20, preset: '1080p', fps: 60 }), (m.images = Array.from({ length: 4 }, (_, i) => ({ ...m.images[0], index: i, key: keys.image(m.jobId, i) }))), JSON.stringify(m)), code: 'manifest_invalid' },
      { id: 'options-with-ffmpeg-args', edit: (m) => ((m.options = { ...OPTIONS, extra: ['-i', 'http://x'] }), JSON.stringify(m)), code: 'manifest_invalid' },
      { id: 'images-never-uploaded', edit: (m) => JSON.stringify(m), code: 'image_unreadable' },
    ];
    for (const c of cases) {
      it(c.id, async () => {
        countCases('manifest', 1);
        const jobId = c.id === 'images-never-uploaded' ? randomUUID() : await uploadedJob();
        await writeManifest(jobId, c.edit(await honestManifest(jobId), jobId));
        const final = await terminal(jobId);
        assert.equal(final.status, 'failed', JSON.stringify(final));
        assert.equal(final.error?.code, c.code, final.error?.message);
        // The victim is untouched: same status, its video still there.
        assert.deepEqual((await status(victim)).body, victimStatus);
        const v = await fetch(`${stack.url}${victimStatus.video!.url}`, { method: 'HEAD' });
        assert.equal(v.status, 200);
        await stillServing();
      });
    }
  });

  describe('afterwards', () => {
    it('a good job still completes, nothing went to the dead-letter file, and no output exists for failed jobs', async () => {
      const png = await pngBytes;
      const jobId = await runJob([
        { name: 'a.png', type: 'image/png', bytes: png },
        { name: 'b.png', type: 'image/png', bytes: png },
      ]);
      const final = await terminal(jobId);
      assert.equal(final.status, 'done');
      assert.equal(final.video?.durationSeconds, 1);
      await stack.idle();
      assert.equal(stack.dispatcher.stats.deadLetters, 0, 'deterministic failures are not retried into the dead-letter queue');
      void OUTPUT_BUCKET;
    });
  });
});
