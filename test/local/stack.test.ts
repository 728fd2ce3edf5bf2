/**
 * The whole job flow through the HTTP contract against the local stack: a real s3rver (ephemeral
 * port, temp dir), the real API and process-media handlers, and the real render engine in worker
 * threads (wrapped to count renders).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { CreateJobResponse, JobStatus, PostUploadGrant, PutUploadGrant, SiteConfig } from '../../contracts/index.ts';
import { WorkerRenderer } from '../../lambdas/src/adapters/local/worker-renderer.ts';
import type { Renderer } from '../../lambdas/src/core/ports.ts';
import { manifestEvent, startLocalStackInternal, type LocalStackInternals } from '../../local/stack.ts';
import { api, tempDir, uploadPost, uploadPut, waitFor } from './support.ts';

const FFPROBE = 'node_modules/@ffprobe-installer/linux-x64/ffprobe';
const run = promisify(execFile);

/** Photo-ish test images: a gradient plus a coloured block, so frames differ. */
async function jpeg(i: number, width = 800, height = 600): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      raw[o] = (x * 255) / width;
      raw[o + 1] = (y * 255) / height;
      raw[o + 2] = (i * 80) % 256;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

class CountingRenderer implements Renderer {
  calls = 0;
  constructor(private readonly inner: Renderer) {}
  render(input: Parameters<Renderer['render']>[0]) {
    this.calls++;
    return this.inner.render(input);
  }
}

async function waitDone(base: string, jobId: string, timeoutMs = 60_000): Promise<JobStatus> {
  return waitFor(async () => {
    const r = await api<JobStatus>(base, 'GET', `/api/jobs/${jobId}`);
    return r.body.status === 'done' || r.body.status === 'failed' ? r.body : null;
  }, timeoutMs);
}

async function probe(path: string) {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path]);
  return JSON.parse(stdout) as { streams: Record<string, string | number>[]; format: { duration: string; format_name: string } };
}

describe('local stack: the job flow over HTTP against s3rver and the real engine', function () {
  this.timeout(120_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let stack: LocalStackInternals;
  let renderer: CountingRenderer;
  let workers: WorkerRenderer;
  let images: Buffer[];

  before(async () => {
    dir = await tempDir('stack-test-');
    workers = new WorkerRenderer({ maxWorkers: 2 });
    renderer = new CountingRenderer(workers);
    stack = await startLocalStackInternal({
      port: 0,
      dataDir: join(dir.path, 'data'),
      uiDir: join(dir.path, 'no-ui'),
      renderer,
      renderConcurrency: 2,
      logLevel: 'silent',
      retryDelaysMs: [50],
    });
    images = await Promise.all([0, 1, 2].map((i) => jpeg(i)));
  });

  after(async () => {
    await stack?.stop();
    await workers?.close();
    await dir?.remove();
  });

  async function createJob(body: unknown) {
    const r = await api<CreateJobResponse>(stack.url, 'POST', '/api/jobs', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }
  const describeImages = (bufs: Buffer[], type = 'image/jpeg') => bufs.map((b, i) => ({ name: `photo ${i}.jpg`, type, size: b.length }));

  let finished: { jobId: string; status: JobStatus };

  it('creates, uploads with the POST form (file last), starts and renders a playable MP4', async () => {
    const job = await createJob({ images: describeImages(images), options: { preset: '480p', secondsPerImage: 1, transition: 'crossfade', transitionSeconds: 0.5 } });
    assert.equal(job.uploads.length, 3);
    for (const g of job.uploads) {
      assert.equal(g.method, 'POST');
      assert.ok(g.url.startsWith(stack.s3Url), g.url);
    }

    // start before upload: 409 with the missing indexes
    const early = await api<{ error: { code: string; missing: number[] } }>(stack.url, 'POST', `/api/jobs/${job.jobId}/start`);
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'uploads_missing');
    assert.deepEqual(early.body.error.missing, [0, 1, 2]);

    for (const [i, g] of job.uploads.entries()) {
      const res = await uploadPost(g as PostUploadGrant, images[i]!, 'image/jpeg', `photo ${i}.jpg`);
      assert.equal(res.status, 204, await res.text());
    }
    const started = await api<JobStatus>(stack.url, 'POST', `/api/jobs/${job.jobId}/start`);
    assert.equal(started.status, 202);
    assert.equal(started.body.jobId, job.jobId);
    assert.ok(['queued', 'processing', 'done'].includes(started.body.status));

    // duplicate start: same answer shape, no second manifest event
    const again = await api<JobStatus>(stack.url, 'POST', `/api/jobs/${job.jobId}/start`);
    assert.equal(again.status, 202);

    const status = await waitDone(stack.url, job.jobId);
    assert.equal(status.status, 'done', JSON.stringify(status));
    assert.equal(status.progress, 1);
    assert.equal(status.video?.url, `/videos/${job.jobId}/video.mp4`);
    assert.equal(status.video?.width, 854);
    assert.equal(status.video?.height, 480);
    assert.equal(status.video?.durationSeconds, 3);
    finished = { jobId: job.jobId, status };

    const res = await fetch(stack.url + status.video!.url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'video/mp4');
    assert.equal(res.headers.get('accept-ranges'), 'bytes');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.length, status.video!.bytes);
    const file = join(dir.path, 'out.mp4');
    await writeFile(file, bytes);
    const info = await probe(file);
    const v = info.streams.find((s) => s.codec_type === 'video')!;
    assert.equal(v.codec_name, 'h264');
    assert.equal(v.pix_fmt, 'yuv420p');
    assert.equal(v.width, 854);
    assert.equal(v.height, 480);
    assert.ok(Math.abs(Number(info.format.duration) - 3) <= 1 / 30 + 1e-3, info.format.duration);
    // faststart: the moov atom comes before mdat
    assert.ok(bytes.indexOf('moov') < bytes.indexOf('mdat'));

    const poster = await fetch(stack.url + status.video!.posterUrl);
    assert.equal(poster.status, 200);
    assert.equal(poster.headers.get('content-type'), 'image/jpeg');
    const meta = await sharp(Buffer.from(await poster.arrayBuffer())).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 854, 480]);
    assert.equal(renderer.calls, 1);
  });

  it('serves video byte ranges: 206 with Content-Range and exactly those bytes; 416 past the end', async () => {
    const url = stack.url + finished.status.video!.url;
    const whole = Buffer.from(await (await fetch(url)).arrayBuffer());
    const r = await fetch(url, { headers: { range: 'bytes=100-1123' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get('content-range'), `bytes 100-1123/${whole.length}`);
    assert.equal(r.headers.get('content-length'), '1024');
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(whole.subarray(100, 1124)));
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
    assert.equal(tail.status, 206);
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(whole.subarray(whole.length - 10)));
    const open = await fetch(url, { headers: { range: `bytes=${whole.length - 5}-` } });
    assert.equal(open.headers.get('content-range'), `bytes ${whole.length - 5}-${whole.length - 1}/${whole.length}`);
    const past = await fetch(url, { headers: { range: `bytes=${whole.length}-` } });
    assert.equal(past.status, 416);
    await past.arrayBuffer();
    assert.equal((await fetch(`${stack.url}/videos/${finished.jobId}/secret.txt`)).status, 404);
    assert.equal((await fetch(`${stack.url}/videos/not-a-job/video.mp4`)).status, 404);
  });

  it('does not render again when the manifest event is delivered twice more', async () => {
    const before = renderer.calls;
    stack.dispatch(manifestEvent(finished.jobId));
    stack.dispatch(manifestEvent(finished.jobId));
    await stack.idle();
    assert.equal(renderer.calls, before);
    const outcomes = stack.invocations.filter((i) => i.result?.results[0]?.jobId === finished.jobId).map((i) => i.result!.results[0]!.outcome);
    assert.deepEqual(outcomes, ['rendered', 'already_done', 'already_done']);
    const st = await api<JobStatus>(stack.url, 'GET', `/api/jobs/${finished.jobId}`);
    assert.deepEqual(st.body, finished.status);
  });

  it('uploads with PUT grants (exact Content-Type and Content-Length) and renders', async () => {
    const two = images.slice(0, 2);
    const job = await createJob({ images: describeImages(two), grant: 'put', options: { preset: '480p', secondsPerImage: 0.5, fit: 'cover' } });
    for (const [i, g] of job.uploads.entries()) {
      assert.equal(g.method, 'PUT');
      const put = g as PutUploadGrant;
      assert.deepEqual(put.headers, { 'Content-Type': 'image/jpeg', 'Content-Length': String(two[i]!.length) });
      assert.match(put.url, /X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost/);
      const res = await uploadPut(put, two[i]!);
      assert.equal(res.status, 200, await res.text());
    }
    assert.equal((await api(stack.url, 'POST', `/api/jobs/${job.jobId}/start`)).status, 202);
    const st = await waitDone(stack.url, job.jobId);
    assert.equal(st.status, 'done', JSON.stringify(st));
    assert.equal(st.video?.durationSeconds, 1);
  });

  it('fails a job whose "JPEG" is not an image with image_unreadable, and keeps serving', async () => {
    const html = Buffer.from('<!doctype html><script>alert(1)</script>'.repeat(10));
    const job = await createJob({ images: [{ name: 'evil.jpg', type: 'image/jpeg', size: html.length }, { name: 'ok.jpg', type: 'image/jpeg', size: images[0]!.length }] });
    assert.equal((await uploadPost(job.uploads[0] as PostUploadGrant, html, 'image/jpeg')).status, 204);
    assert.equal((await uploadPost(job.uploads[1] as PostUploadGrant, images[0]!, 'image/jpeg')).status, 204);
    assert.equal((await api(stack.url, 'POST', `/api/jobs/${job.jobId}/start`)).status, 202);
    const st = await waitDone(stack.url, job.jobId);
    assert.equal(st.status, 'failed');
    assert.equal(st.error?.code, 'image_unreadable');
    assert.match(st.error!.message, /image 1 \(evil\.jpg\)/);
    assert.equal(st.video, undefined);
    // still serving: config, status of other jobs, new jobs
    assert.equal((await fetch(`${stack.url}/config.json`)).status, 200);
    assert.equal((await api<JobStatus>(stack.url, 'GET', `/api/jobs/${finished.jobId}`)).body.status, 'done');
    await createJob({ images: describeImages([images[0]!]) });
  });

  it('refuses an upload that differs from its declaration at start (409 upload_invalid)', async () => {
    const job = await createJob({ images: describeImages([images[0]!]) });
    // s3rver does not check the POST policy: the API's start check is what enforces it locally
    assert.equal((await uploadPost(job.uploads[0] as PostUploadGrant, images[1]!, 'image/jpeg')).status, 204);
    const r = await api<{ error: { code: string; invalid: { index: number }[] } }>(stack.url, 'POST', `/api/jobs/${job.jobId}/start`);
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'upload_invalid');
    assert.equal(r.body.error.invalid[0]?.index, 0);
  });

  it('answers 404 for unknown jobs and 400 invalid_options naming the field', async () => {
    const unknown = '6b1c0f7e-0000-4000-8000-000000000000';
    const a = await api<{ error: { code: string } }>(stack.url, 'GET', `/api/jobs/${unknown}`);
    assert.equal(a.status, 404);
    assert.equal(a.body.error.code, 'job_not_found');
    assert.equal((await api(stack.url, 'POST', `/api/jobs/${unknown}/start`)).status, 404);
    assert.equal((await api(stack.url, 'GET', '/api/jobs/nope')).status, 404);
    const b = await api<{ error: { code: string; field: string } }>(stack.url, 'POST', '/api/jobs', {
      images: describeImages([images[0]!]),
      options: { transitionSeconds: 7 },
    });
    assert.equal(b.status, 400);
    assert.equal(b.body.error.code, 'invalid_options');
    assert.equal(b.body.error.field, 'transitionSeconds');
    const c = await api<{ error: { code: string } }>(stack.url, 'POST', '/api/jobs', '{"images":');
    assert.equal(c.status, 400);
    assert.equal(c.body.error.code, 'invalid_json');
  });

  it('serves /config.json, the fallback page without a UI build, and CORS for uploads from the page', async () => {
    const cfg = (await (await fetch(`${stack.url}/config.json`)).json()) as SiteConfig;
    assert.deepEqual(cfg, { apiBaseUrl: '/api', cdnBaseUrl: '', limits: { maxImages: 200, maxImageBytes: 25 * 1024 * 1024, maxVideoSeconds: 900 } });
    const page = await fetch(`${stack.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /npm run build:ui/);
    assert.equal((await fetch(`${stack.url}/nothing.js`)).status, 404);

    const pre = await fetch(`${stack.s3Url}/media-input`, {
      method: 'OPTIONS',
      headers: { origin: stack.url, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(pre.status, 200);
    assert.ok(pre.headers.get('access-control-allow-origin'));
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    const job = await createJob({ images: describeImages([images[0]!]) });
    const form = new FormData();
    const g = job.uploads[0] as PostUploadGrant;
    for (const [k, v] of Object.entries(g.fields)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(images[0]!)], { type: 'image/jpeg' }), 'a.jpg');
    const up = await fetch(g.url, { method: 'POST', body: form, headers: { origin: stack.url } });
    assert.equal(up.status, 204);
    assert.equal(up.headers.get('access-control-allow-origin'), stack.url);
    assert.match(up.headers.get('access-control-expose-headers') ?? '', /ETag/i);
    const other = await fetch(`${stack.s3Url}/media-input`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.status, 403);
  });

  it('lets the npm run dev:ui server (127.0.0.1:5173, localhost:5173) upload by default', async () => {
    for (const origin of ['http://127.0.0.1:5173', 'http://localhost:5173']) {
      const pre = await fetch(`${stack.s3Url}/media-input`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      assert.equal(pre.status, 200, origin);
    }
  });

  it('answers status requests promptly while renders run', async () => {
    const big = await Promise.all([0, 1, 2, 3].map((i) => jpeg(i, 1600, 1200)));
    const job = await createJob({ images: describeImages(big), options: { preset: '1080p', secondsPerImage: 2, transition: 'crossfade', transitionSeconds: 1 } });
    for (const [i, g] of job.uploads.entries()) await uploadPost(g as PostUploadGrant, big[i]!, 'image/jpeg');
    await api(stack.url, 'POST', `/api/jobs/${job.jobId}/start`);
    const latencies: number[] = [];
    let seenProcessing = false;
    const st = await waitFor(async () => {
      const t0 = performance.now();
      const r = await api<JobStatus>(stack.url, 'GET', `/api/jobs/${job.jobId}`);
      latencies.push(performance.now() - t0);
      if (r.body.status === 'processing') seenProcessing = true;
      return r.body.status === 'done' || r.body.status === 'failed' ? r.body : null;
    }, 90_000, 20);
    assert.equal(st.status, 'done');
    assert.ok(seenProcessing, 'saw the processing state');
    latencies.sort((a, b) => a - b);
    const max = latencies.at(-1)!;
    // Renders run in worker threads; the API's event loop stays free. Generous bound for busy CI machines.
    assert.ok(max < 1500, `slowest status answer ${max.toFixed(0)} ms over ${latencies.length} requests`);
  });
});
