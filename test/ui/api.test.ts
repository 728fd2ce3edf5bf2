import assert from 'node:assert/strict';
import { ApiError, createApiClient, describeError, isRetryableError, NetworkError, type FetchLike } from '../../ui/src/lib/api.ts';

const JOB = '0b8f7a6e-2c1d-4e5f-9a8b-7c6d5e4f3a2b';

/** A fetch that answers from a table and records the calls. */
function fakeFetch(answer: (url: string, init?: Parameters<FetchLike>[1]) => { status: number; body: string; statusText?: string } | Error) {
  const calls: { url: string; init?: Parameters<FetchLike>[1] }[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    const a = answer(url, init);
    if (a instanceof Error) throw a;
    return { ok: a.status >= 200 && a.status < 300, status: a.status, statusText: a.statusText ?? '', text: async () => a.body };
  };
  return { fetch, calls };
}

const status = { jobId: JOB, status: 'processing', progress: 0.5 };

describe('ui: API client (api.ts)', () => {
  it('speaks the contract: POST /jobs, POST /jobs/{id}/start, GET /jobs/{id} under the base URL', async () => {
    const { fetch, calls } = fakeFetch((url) => {
      if (url.endsWith('/jobs')) return { status: 201, body: JSON.stringify({ jobId: JOB, uploads: [{ method: 'POST', url: 'http://s3', fields: { key: 'k' } }], expiresAt: '2030-01-01T00:00:00Z' }) };
      return { status: url.endsWith('/start') ? 202 : 200, body: JSON.stringify(status) };
    });
    const api = createApiClient({ baseUrl: 'https://api.example/api/', fetch });
    const created = await api.createJob({ images: [{ name: 'a.jpg', type: 'image/jpeg', size: 3 }], options: { preset: '480p' } });
    assert.equal(created.jobId, JOB);
    assert.deepEqual(await api.startJob(JOB), status);
    assert.deepEqual(await api.getJob(JOB), status);
    assert.deepEqual(
      calls.map((c) => `${c.init?.method} ${c.url}`),
      [`POST https://api.example/api/jobs`, `POST https://api.example/api/jobs/${JOB}/start`, `GET https://api.example/api/jobs/${JOB}`],
    );
    assert.deepEqual(JSON.parse(calls[0]!.init!.body!), { images: [{ name: 'a.jpg', type: 'image/jpeg', size: 3 }], options: { preset: '480p' } });
    assert.equal(calls[0]!.init!.headers!['content-type'], 'application/json');
  });

  it('maps an error body to ApiError with its status, code, message and details', async () => {
    const { fetch } = fakeFetch(() => ({ status: 409, body: JSON.stringify({ error: { code: 'uploads_missing', message: 'Images 2 and 4 were not uploaded.', missing: [1, 3] } }) }));
    const api = createApiClient({ baseUrl: '/api', fetch });
    const err = await api.startJob(JOB).then(
      () => assert.fail('should throw'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 409);
    assert.equal(err.code, 'uploads_missing');
    assert.equal(err.message, 'Images 2 and 4 were not uploaded.');
    assert.deepEqual(err.detail.missing, [1, 3]);
    assert.equal(isRetryableError(err), false);
    assert.equal(describeError(err), 'Some photos did not arrive (#2, #4). Retry them or start again.');
  });

  it('a 400 keeps the server sentence; 404 job_not_found reads as a bad link', async () => {
    const bad = createApiClient({ baseUrl: '/api', fetch: fakeFetch(() => ({ status: 400, body: JSON.stringify({ error: { code: 'too_many_images', message: 'At most 200 images per job.' } }) })).fetch });
    await assert.rejects(bad.createJob({ images: [] }), (e: unknown) => e instanceof ApiError && e.code === 'too_many_images' && describeError(e) === 'At most 200 images per job.');
    const gone = createApiClient({ baseUrl: '/api', fetch: fakeFetch(() => ({ status: 404, body: JSON.stringify({ error: { code: 'job_not_found', message: 'No such job.' } }) })).fetch });
    await assert.rejects(gone.getJob(JOB), (e: unknown) => e instanceof ApiError && e.status === 404 && /does not exist/.test(describeError(e)));
  });

  it('a non-JSON error page (a proxy, a gateway) becomes http_<status>, retryable when 5xx', async () => {
    const { fetch } = fakeFetch(() => ({ status: 502, statusText: 'Bad Gateway', body: '<html>502</html>' }));
    const err = await createApiClient({ baseUrl: '/api', fetch }).getJob(JOB).catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 'http_502');
    assert.equal(err.message, 'The server answered 502 Bad Gateway. Try again in a moment.');
    assert.equal(isRetryableError(err), true);
  });

  it('no answer at all is a NetworkError (retryable)', async () => {
    const { fetch } = fakeFetch(() => new TypeError('Failed to fetch'));
    const err = await createApiClient({ baseUrl: '/api', fetch }).getJob(JOB).catch((e: unknown) => e);
    assert.ok(err instanceof NetworkError);
    assert.equal(err.code, 'network_error');
    assert.ok(err.cause instanceof TypeError);
    assert.equal(isRetryableError(err), true);
    assert.match(describeError(err), /Could not reach the server/);
  });

  it('a 2xx that does not match the contract is invalid_response (grant count must match the images)', async () => {
    const { fetch } = fakeFetch(() => ({ status: 201, body: JSON.stringify({ jobId: JOB, uploads: [], expiresAt: 'x' }) }));
    await assert.rejects(
      createApiClient({ baseUrl: '/api', fetch }).createJob({ images: [{ name: 'a.jpg', type: 'image/jpeg', size: 1 }] }),
      (e: unknown) => e instanceof ApiError && e.code === 'invalid_response',
    );
    const { fetch: f2 } = fakeFetch(() => ({ status: 200, body: 'not json' }));
    await assert.rejects(createApiClient({ baseUrl: '/api', fetch: f2 }).getJob(JOB), (e: unknown) => e instanceof ApiError && e.code === 'invalid_response');
  });

  it('escapes the job id in the path', async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 404, body: '{"error":{"code":"invalid_job_id","message":"no"}}' }));
    await createApiClient({ baseUrl: '/api', fetch }).getJob('../x?y').catch(() => {});
    assert.equal(calls[0]!.url, '/api/jobs/..%2Fx%3Fy');
  });
});
