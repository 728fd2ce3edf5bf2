/* eslint-disable @typescript-eslint/no-explicit-any -- test reads JSON answers loosely */
import assert from 'node:assert/strict';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { API_ERROR_STATUS, DEFAULT_LIMITS, isErrorBody, type CreateJobResponse, type Limits } from '../../contracts/index.ts';
import { createConsoleLogger, MemoryMetrics, type LogEntry } from '../../lambdas/src/adapters/local/console.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import type { JobManifest, JobRecord } from '../../lambdas/src/core/job.ts';
import type { UploadSigner } from '../../lambdas/src/core/ports.ts';
import { createApiHandler } from '../../lambdas/src/handlers/api.ts';
import { fixture } from '../fixtures/events/load.ts';
import { MemoryStore } from './memory-store.ts';

const JOB = '3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60';

class FakeSigner implements UploadSigner {
  posts: Parameters<UploadSigner['presignPost']>[0][] = [];
  puts: Parameters<UploadSigner['presignPut']>[0][] = [];
  async presignPost(input: Parameters<UploadSigner['presignPost']>[0]) {
    this.posts.push(input);
    return { url: 'https://input.s3.example', fields: { key: input.key, 'Content-Type': input.contentType, 'X-Amz-Signature': 'SECRETSIG' } };
  }
  async presignPut(input: Parameters<UploadSigner['presignPut']>[0]) {
    this.puts.push(input);
    return { url: `https://input.s3.example/${input.key}?X-Amz-Signature=SECRETSIG`, headers: { 'Content-Type': input.contentType, 'Content-Length': String(input.contentLength) } };
  }
}

function setup(limits: Partial<Limits> = {}) {
  const store = new MemoryStore('media-input');
  const signer = new FakeSigner();
  const logs: LogEntry[] = [];
  const metrics = new MemoryMetrics();
  let now = new Date('2026-11-24T12:00:00Z');
  const handler = createApiHandler(
    {
      input: store,
      signer,
      clock: { now: () => now },
      ids: { jobId: () => JOB },
      logger: createConsoleLogger({ service: 'test', level: 'silent', sink: (e) => logs.push(e) }),
      metrics,
    },
    { limits: { ...DEFAULT_LIMITS, ...limits } },
  );
  const call = async (event: APIGatewayProxyEventV2) => {
    const res = (await handler(event)) as APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };
    return { ...res, json: JSON.parse(res.body) as Record<string, any> };
  };
  return { store, signer, logs, metrics, call, setNow: (d: string) => (now = new Date(d)) };
}

function createEvent(body: unknown, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const e = fixture<APIGatewayProxyEventV2>('api-create-job');
  e.body = typeof body === 'string' ? body : JSON.stringify(body);
  e.headers = { ...e.headers, ...headers };
  return e;
}

function expectError(res: { statusCode: number; json: Record<string, any> }, code: keyof typeof API_ERROR_STATUS) {
  assert.equal(res.statusCode, API_ERROR_STATUS[code], JSON.stringify(res.json));
  assert.ok(isErrorBody(res.json));
  assert.equal(res.json.error.code, code);
  assert.ok(res.json.error.message.length > 10);
}

describe('handlers/api (fixtures, in-memory store)', () => {
  it('creates a job from the fixture: 201, one POST grant per image in order, job.json written', async () => {
    const t = setup();
    const res = await t.call(fixture('api-create-job'));
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers?.['content-type'], 'application/json; charset=utf-8');
    const body = res.json as CreateJobResponse;
    assert.equal(body.jobId, JOB);
    assert.equal(body.uploads.length, 2);
    assert.deepEqual(body.uploads.map((u) => u.method), ['POST', 'POST']);
    assert.deepEqual(t.signer.posts.map((p) => [p.key, p.contentType, p.maxBytes, p.expiresSeconds]), [
      [keys.image(JOB, 0), 'image/jpeg', DEFAULT_LIMITS.maxImageBytes, DEFAULT_LIMITS.grantTtlSeconds],
      [keys.image(JOB, 1), 'image/png', DEFAULT_LIMITS.maxImageBytes, DEFAULT_LIMITS.grantTtlSeconds],
    ]);
    assert.equal(body.expiresAt, '2026-11-24T12:15:00.000Z');
    const job = t.store.json<JobRecord>(keys.job(JOB))!;
    assert.deepEqual(job.images.map((i) => [i.name, i.size]), [['beach.jpg', 1200], ['dog.png', 3400]]);
    assert.equal(t.metrics.total('JobsCreated'), 1);
  });

  it('answers PUT grants with exact Content-Length and Content-Type when asked', async () => {
    const t = setup();
    const res = await t.call(createEvent({ images: [{ name: 'a.jpg', type: 'image/jpeg', size: 777 }], grant: 'put' }));
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json.uploads[0].headers, { 'Content-Type': 'image/jpeg', 'Content-Length': '777' });
    assert.deepEqual(t.signer.puts[0], { key: keys.image(JOB, 0), contentType: 'image/jpeg', contentLength: 777, expiresSeconds: 900 });
  });

  it('never logs grant URLs or signatures', async () => {
    const t = setup();
    await t.call(fixture('api-create-job'));
    await t.call(createEvent({ images: [{ name: 'a.jpg', type: 'image/jpeg', size: 1 }], grant: 'put' }));
    const text = JSON.stringify(t.logs);
    assert.ok(t.logs.length > 0);
    assert.ok(!text.includes('SECRETSIG') && !text.includes('s3.example'), text);
  });

  it('maps bad requests to their codes', async () => {
    const t = setup({ maxImages: 2 });
    expectError(await t.call(createEvent('{"images": [')), 'invalid_json');
    expectError(await t.call(createEvent('[]')), 'invalid_body');
    expectError(await t.call(createEvent({ images: [] })), 'no_images');
    const img = { name: 'a.jpg', type: 'image/jpeg', size: 10 };
    expectError(await t.call(createEvent({ images: [img, img, img] })), 'too_many_images');
    expectError(await t.call(createEvent({ images: [{ ...img, type: 'image/svg+xml' }] })), 'unsupported_type');
    expectError(await t.call(createEvent({ images: [{ ...img, size: 26 * 1024 * 1024 }] })), 'image_too_large');
    const bad = await t.call(createEvent({ images: [img], options: { preset: '4k' } }));
    expectError(bad, 'invalid_options');
    assert.equal(bad.json.error.field, 'preset');
    expectError(await t.call(createEvent({ images: [img], grant: 'sftp' })), 'invalid_grant_type');
    expectError(await t.call(createEvent({ images: [{ ...img, name: { x: 1 } }] })), 'invalid_image_name');
    const budget = setup({ maxVideoSeconds: 30 });
    expectError(await budget.call(createEvent({ images: [img, img], options: { secondsPerImage: 16 } })), 'job_budget_exceeded');
    assert.equal(t.store.objects.size + budget.store.objects.size, 0, 'nothing stored for rejected requests');
  });

  it('limits the body size (413), wants JSON (415), and reads base64 bodies', async () => {
    const t = setup();
    const huge = { images: [{ name: 'x'.repeat(300 * 1024), type: 'image/jpeg', size: 1 }] };
    expectError(await t.call(createEvent(huge)), 'payload_too_large');
    expectError(await t.call(createEvent({ images: [] }, { 'content-type': 'text/plain' })), 'unsupported_media_type');
    const e = createEvent('');
    e.body = Buffer.from(JSON.stringify({ images: [{ name: 'a.webp', type: 'image/webp', size: 5 }] })).toString('base64');
    e.isBase64Encoded = true;
    assert.equal((await t.call(e)).statusCode, 201);
  });

  it('routes: unknown path 404, wrong method 405, malformed job id 404', async () => {
    const t = setup();
    const get = fixture<APIGatewayProxyEventV2>('api-get-job', JOB);
    expectError(await t.call({ ...get, rawPath: '/api/nothing' }), 'route_not_found');
    const del = { ...get, requestContext: { ...get.requestContext, http: { ...get.requestContext.http, method: 'DELETE' } } };
    const r = await t.call(del);
    expectError(r, 'method_not_allowed');
    assert.equal(r.headers?.allow, 'GET');
    expectError(await t.call(fixture('api-get-job', '../../etc')), 'route_not_found');
    for (const bad of ['..', 'ABC', `${JOB}x`, '3f2b8c1e-9d4a-1e6b-8a7c-1b2c3d4e5f60']) {
      expectError(await t.call(fixture('api-get-job', bad)), 'invalid_job_id');
      expectError(await t.call(fixture('api-start-job', bad)), 'invalid_job_id');
    }
    expectError(await t.call(fixture('api-get-job', JOB)), 'job_not_found');
    expectError(await t.call(fixture('api-start-job', JOB)), 'job_not_found');
  });

  describe('start and status', () => {
    async function created(t: ReturnType<typeof setup>) {
      const res = await t.call(fixture('api-create-job'));
      assert.equal(res.statusCode, 201);
    }
    const uploadAll = (t: ReturnType<typeof setup>) => {
      t.store.seed(keys.image(JOB, 0), Buffer.alloc(1200), 'image/jpeg');
      t.store.seed(keys.image(JOB, 1), Buffer.alloc(3400), 'image/png');
    };

    it('is uploading after create, 409 uploads_missing with the indexes before upload', async () => {
      const t = setup();
      await created(t);
      const st = await t.call(fixture('api-get-job', JOB));
      assert.equal(st.statusCode, 200);
      assert.deepEqual(st.json, { jobId: JOB, status: 'uploading', progress: 0 });
      t.store.seed(keys.image(JOB, 1), Buffer.alloc(3400), 'image/png');
      const res = await t.call(fixture('api-start-job', JOB));
      expectError(res, 'uploads_missing');
      assert.deepEqual(res.json.error.missing, [0]);
      assert.equal(t.store.objects.has(keys.manifest(JOB)), false);
    });

    it('refuses uploads whose size or type differs from the declaration (upload_invalid)', async () => {
      const t = setup();
      await created(t);
      uploadAll(t);
      t.store.seed(keys.image(JOB, 1), Buffer.alloc(3401), 'image/png');
      let res = await t.call(fixture('api-start-job', JOB));
      expectError(res, 'upload_invalid');
      assert.equal(res.json.error.invalid[0].index, 1);
      t.store.seed(keys.image(JOB, 1), Buffer.alloc(3400), 'text/html');
      res = await t.call(fixture('api-start-job', JOB));
      expectError(res, 'upload_invalid');
    });

    it('writes the manifest once, answers 202 queued, and a second start returns the current status', async () => {
      const t = setup();
      await created(t);
      uploadAll(t);
      const [a, b] = await Promise.all([t.call(fixture('api-start-job', JOB)), t.call(fixture('api-start-job', JOB))]);
      assert.equal(a.statusCode, 202);
      assert.equal(b.statusCode, 202);
      assert.deepEqual(a.json, { jobId: JOB, status: 'queued', progress: 0 });
      const puts = t.store.log.filter((l) => l.op === 'put' && l.key === keys.manifest(JOB));
      assert.equal(puts.length, 2, 'both tried');
      const m = t.store.json<JobManifest>(keys.manifest(JOB))!;
      assert.deepEqual(m.images.map((i) => i.key), [keys.image(JOB, 0), keys.image(JOB, 1)]);
      assert.ok(m.images.every((i) => i.etag.startsWith('"')));
      assert.equal(t.metrics.total('JobsStarted'), 1);

      // process-media's status wins once it exists; internal fields stay internal
      t.store.seed(keys.status(JOB), JSON.stringify({ version: 1, jobId: JOB, status: 'processing', progress: 0.42, attempts: 1, updatedAt: 'x' }));
      const again = await t.call(fixture('api-start-job', JOB));
      assert.equal(again.statusCode, 202);
      assert.deepEqual(again.json, { jobId: JOB, status: 'processing', progress: 0.42 });
      assert.deepEqual((await t.call(fixture('api-get-job', JOB))).json, again.json);
    });

    it('answers 410 grants_expired after the grants expired, unless the job had started', async () => {
      const t = setup();
      await created(t);
      uploadAll(t);
      t.setNow('2026-11-24T12:15:01Z');
      expectError(await t.call(fixture('api-start-job', JOB)), 'grants_expired');
      t.setNow('2026-11-24T12:14:59Z');
      assert.equal((await t.call(fixture('api-start-job', JOB))).statusCode, 202);
      t.setNow('2026-11-25T00:00:00Z');
      assert.equal((await t.call(fixture('api-start-job', JOB))).statusCode, 202);
    });

    it('answers 503 storage_unavailable when S3 fails, and recovers', async () => {
      const t = setup();
      await created(t);
      t.store.fault = () => new Error('socket hang up');
      const res = await t.call(fixture('api-get-job', JOB));
      expectError(res, 'storage_unavailable');
      assert.equal(res.headers?.['retry-after'], '2');
      t.store.fault = null;
      assert.equal((await t.call(fixture('api-get-job', JOB))).statusCode, 200);
    });
  });
});
