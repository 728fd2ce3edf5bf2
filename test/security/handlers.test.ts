/* eslint-disable @typescript-eslint/no-explicit-any -- test reads JSON answers loosely */
/**
 * Security properties of the handlers (issue 6), checked with the real signer and the real engine:
 * grants only for server-chosen keys, TTL and size limits from the settings, start reads only the
 * job's own keys, FFmpeg gets no user-controlled paths, values or network protocols, and no log line
 * carries a grant URL, a signature or a credential.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { S3Event } from 'aws-lambda';
import sharp from 'sharp';
import { DEFAULT_OPTIONS, type CreateJobResponse, type PostUploadGrant, type PutUploadGrant } from '../../contracts/index.ts';
import { createS3Client, S3UploadSigner } from '../../lambdas/src/adapters/aws/s3.ts';
import { createConsoleLogger, MemoryMetrics, type LogEntry } from '../../lambdas/src/adapters/local/console.ts';
import { ENV } from '../../lambdas/src/core/config.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import type { JobManifest } from '../../lambdas/src/core/job.ts';
import { planRender } from '../../lambdas/src/core/render-plan.ts';
import { settingsFromEnv } from '../../lambdas/src/core/settings.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { encoderArgs, muxerArgs } from '../../lambdas/src/engine/renderer.ts';
import { joinArgs } from '../../lambdas/src/engine/segments.ts';
import { createApiHandler } from '../../lambdas/src/handlers/api.ts';
import { createProcessMediaHandler } from '../../lambdas/src/handlers/process-media.ts';
import { fakeFfmpeg } from '../faults/fake-ffmpeg.ts';
import { fixture } from '../fixtures/events/load.ts';
import { MemoryStore } from '../handlers/memory-store.ts';
import { HOSTILE_NAMES } from '../hostile/requests.ts';
import { tempDir } from '../local/support.ts';

const JOB = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const ACCESS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
/** What the component would set from its args (test/infra asserts args → env). */
const ENV_FROM_ARGS = {
  [ENV.inputBucket]: 'media-input-0000',
  [ENV.outputBucket]: 'media-output-0000',
  [ENV.grantTtlSeconds]: '120',
  [ENV.maxImageBytes]: String(3 * 1024 * 1024),
  [ENV.maxImages]: '30',
};

function setup() {
  const settings = settingsFromEnv(ENV_FROM_ARGS);
  const input = new MemoryStore(settings.inputBucket);
  const client = createS3Client({ region: 'eu-west-1', credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } });
  const logs: LogEntry[] = [];
  // The signer dates policies by the system clock (as on Lambda); the handler by its clock port: start both at the same moment.
  let now = new Date();
  const logger = createConsoleLogger({ service: 'security', level: 'silent', sink: (e) => logs.push(e) });
  const api = createApiHandler(
    { input, signer: new S3UploadSigner(client, settings.inputBucket), clock: { now: () => now }, ids: { jobId: () => JOB }, logger, metrics: new MemoryMetrics() },
    { limits: settings.limits },
  );
  const call = async (event: APIGatewayProxyEventV2) => {
    const r = (await api(event)) as { statusCode: number; body: string; headers: Record<string, string> };
    return { ...r, json: JSON.parse(r.body) as Record<string, any> };
  };
  const create = (body: unknown) => {
    const e = fixture<APIGatewayProxyEventV2>('api-create-job');
    e.body = JSON.stringify(body);
    return call(e);
  };
  const start = () => call(fixture<APIGatewayProxyEventV2>('api-start-job', JOB));
  const status = () => call(fixture<APIGatewayProxyEventV2>('api-get-job', JOB));
  return { settings, input, client, logs, logger, call, create, start, status, setNow: (d: Date) => (now = d), now: () => now };
}

function decodePolicy(grant: PostUploadGrant): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(grant.fields.Policy!, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
}

describe('security: handlers', function () {
  this.timeout(60_000);
  const names = HOSTILE_NAMES.slice(0, 30);
  const declared = names.map((name, i) => ({ name, type: i % 2 ? 'image/png' : 'image/jpeg', size: 1000 + i }));

  it('POST grants: the key is server-chosen whatever the file names; size range, type and TTL come from the settings', async () => {
    const t = setup();
    const res = await t.create({ images: declared });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json as CreateJobResponse;
    assert.equal(body.jobId, JOB);
    body.uploads.forEach((u, i) => {
      const g = u as PostUploadGrant;
      assert.equal(g.method, 'POST');
      assert.equal(g.fields.key, keys.image(JOB, i));
      const policy = decodePolicy(g);
      assert.ok(Math.abs(Date.parse(policy.expiration) - (t.now().getTime() + 120_000)) < 5000, `expires after GRANT_TTL_SECONDS: ${policy.expiration}`);
      const c = policy.conditions;
      assert.ok(c.some((x) => JSON.stringify(x) === JSON.stringify({ key: keys.image(JOB, i) })), 'the policy pins the exact key');
      assert.ok(c.some((x) => JSON.stringify(x) === JSON.stringify({ bucket: 'media-input-0000' })));
      assert.ok(c.some((x) => JSON.stringify(x) === JSON.stringify(['content-length-range', 1, 3 * 1024 * 1024])), 'size range from MAX_IMAGE_BYTES');
      assert.ok(c.some((x) => JSON.stringify(x) === JSON.stringify({ 'Content-Type': declared[i]!.type })), 'the declared type is pinned');
      assert.ok(!c.some((x) => Array.isArray(x) && x[0] === 'starts-with'), 'no starts-with condition (it would open a prefix)');
      const everything = JSON.stringify(g) + JSON.stringify(policy);
      if (names[i]!.length > 3) assert.ok(!everything.includes(names[i]!), `name ${JSON.stringify(names[i]).slice(0, 30)} stays out of the grant`);
    });
    assert.equal(Date.parse(body.expiresAt), t.now().getTime() + 120_000);
  });

  it('PUT grants: the URL names exactly the key; Content-Type and Content-Length are signed; TTL from the settings', async () => {
    const t = setup();
    const res = await t.create({ images: declared, grant: 'put' });
    assert.equal(res.statusCode, 201, res.body);
    (res.json as CreateJobResponse).uploads.forEach((u, i) => {
      const g = u as PutUploadGrant;
      const url = new URL(g.url);
      assert.equal(decodeURIComponent(url.pathname.replace(/^\/media-input-0000/, '').replace(/^\//, '')), keys.image(JOB, i));
      assert.ok(url.hostname.startsWith('media-input-0000.') || url.pathname.startsWith('/media-input-0000/'));
      assert.equal(url.searchParams.get('X-Amz-Expires'), '120');
      assert.deepEqual(url.searchParams.get('X-Amz-SignedHeaders')!.split(';').sort(), ['content-length', 'content-type', 'host']);
      assert.deepEqual(g.headers, { 'Content-Type': declared[i]!.type, 'Content-Length': String(declared[i]!.size) });
      if (names[i]!.length > 3) assert.ok(!g.url.includes(encodeURIComponent(names[i]!)) && !g.url.includes(names[i]!));
    });
  });

  it('start: only the exact keys of the job count; objects beside them, in other jobs or other buckets do not', async () => {
    const t = setup();
    await t.create({ images: declared.slice(0, 2) });
    const other = '0f0e0d0c-0b0a-4909-8807-060504030201';
    // Everything an attacker could have put near the job's keys: none of it is one of the job's uploads.
    t.input.seed(`${keys.image(JOB, 0)}.jpg`, Buffer.alloc(1000), 'image/jpeg');
    t.input.seed(`${keys.jobPrefix(JOB)}images/0`, Buffer.alloc(1000), 'image/jpeg');
    t.input.seed(`${keys.jobPrefix(JOB)}images/000/`, Buffer.alloc(1000), 'image/jpeg');
    t.input.seed(keys.image(other, 0), Buffer.alloc(1000), 'image/jpeg');
    t.input.seed(keys.image(other, 1), Buffer.alloc(1001), 'image/png');
    const refused = await t.start();
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json.error.code, 'uploads_missing');
    assert.deepEqual(refused.json.error.missing, [0, 1]);
    assert.equal(t.input.objects.has(keys.manifest(JOB)), false);
    // With the real uploads in place the manifest lists exactly the job's keys.
    t.input.seed(keys.image(JOB, 0), Buffer.alloc(1000), 'image/jpeg');
    t.input.seed(keys.image(JOB, 1), Buffer.alloc(1001), 'image/png');
    assert.equal((await t.start()).statusCode, 202);
    const manifest = t.input.json<JobManifest>(keys.manifest(JOB))!;
    assert.deepEqual(manifest.images.map((i) => i.key), [keys.image(JOB, 0), keys.image(JOB, 1)]);
    const heads = t.input.log.filter((l) => l.op === 'head' || l.op === 'get').map((l) => l.key);
    assert.ok(heads.every((k) => k.startsWith(keys.jobPrefix(JOB))), `start read only the job's prefix: ${heads.join(', ')}`);
  });

  it('start after the grants expired: 410 grants_expired, nothing written (and the grant policy had expired too)', async () => {
    const t = setup();
    const created = await t.create({ images: declared.slice(0, 1) });
    const policy = decodePolicy((created.json as CreateJobResponse).uploads[0] as PostUploadGrant);
    t.input.seed(keys.image(JOB, 0), Buffer.alloc(1000), 'image/jpeg');
    t.setNow(new Date(t.now().getTime() + 121_000));
    assert.ok(Date.parse(policy.expiration) < t.now().getTime() + 5000, 'S3 refuses the grant by then too');
    const res = await t.start();
    assert.equal(res.statusCode, 410);
    assert.equal(res.json.error.code, 'grants_expired');
    assert.equal(t.input.objects.has(keys.manifest(JOB)), false);
    assert.equal((await t.status()).json.status, 'uploading');
  });

  it('every API answer is JSON with nosniff, so a hostile name in a message is never read as HTML', async () => {
    const t = setup();
    const xss = '<img src=x onerror=alert(1)>.jpg';
    const answers = [
      await t.create({ images: [{ name: xss, type: 'text/html', size: 10 }] }),
      await t.create({ images: [{ name: xss, type: 'image/jpeg', size: 10 }] }),
      await t.start(),
      await t.status(),
      await t.call({ ...fixture<APIGatewayProxyEventV2>('api-get-job', JOB), rawPath: `/api/jobs/${encodeURIComponent(xss)}` }),
    ];
    for (const a of answers) {
      assert.equal(a.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(a.headers['x-content-type-options'], 'nosniff');
    }
  });

  it('FFmpeg: no user path, name, key or value in its arguments; only our pipe in, our file out; its stdin holds only frames we made', async () => {
    const bin = await tempDir('sec-ffmpeg-');
    const work = await tempDir('sec-work-');
    try {
      const ffmpegPath = await fakeFfmpeg(bin.path, 'record');
      const input = new MemoryStore('media-input');
      const output = new MemoryStore('media-output');
      // A polyglot: a valid PNG with an HLS playlist after IEND. FFmpeg must never see those bytes.
      const png = Buffer.concat([
        await sharp({ create: { width: 64, height: 48, channels: 3, background: '#884422' } }).png().toBuffer(),
        Buffer.from('#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n'),
      ]);
      const imgs = names.slice(0, 4).map((name, i) => ({ index: i, key: keys.image(JOB, i), name, type: 'image/png' as const, size: png.length, etag: input.seed(keys.image(JOB, i), png, 'image/png') }));
      for (const mode of ['constant', 'still'] as const) {
        const manifest: JobManifest = {
          version: 1,
          jobId: JOB,
          createdAt: '',
          startedAt: '',
          images: imgs,
          options: { ...DEFAULT_OPTIONS, preset: '480p', fps: 24, secondsPerImage: 0.5, transition: 'crossfade', transitionSeconds: 0.25, frameRateMode: mode },
          videoSeconds: 2,
        };
        input.seed(keys.manifest(JOB), JSON.stringify(manifest), 'application/json');
        input.objects.delete(keys.status(JOB));
        output.objects.clear();
        const handler = createProcessMediaHandler(
          { input, output, renderer: createRenderer({ ffmpegPath }), clock: { now: () => new Date() }, logger: createConsoleLogger({ service: 's', level: 'silent' }), metrics: new MemoryMetrics() },
          { limits: settingsFromEnv(ENV_FROM_ARGS).limits, videosBaseUrl: '/videos', tempRoot: work.path, safetyMarginMs: 500 },
        );
        const res = await handler(fixture<S3Event>('s3-manifest-created', JOB), { getRemainingTimeInMillis: () => 60_000 });
        assert.equal(res.results[0]?.outcome, 'rendered', `${mode}: ${JSON.stringify(input.json(keys.status(JOB)))}`);
      }
      const runs = (await readFile(join(bin.path, 'argv.txt'), 'utf8'))
        .split(/^--- \d+\n/m)
        .filter(Boolean)
        .map((block) => block.replace(/\n$/, '').split('\n'));
      assert.equal(runs.length, 3, 'constant mode: encoder + muxer; still mode: encoder');
      const userValues = [...names.slice(0, 4), JOB, 'jobs/', 'videos/', '#EXTM3U', 'passwd'];
      for (const argv of runs) {
        const inputs = argv.flatMap((a, i) => (a === '-i' ? [argv[i + 1]] : []));
        assert.deepEqual(inputs, ['pipe:0'], 'one input: our pipe');
        assert.equal(argv[argv.indexOf('-protocol_whitelist') + 1], 'pipe');
        assert.ok(argv.indexOf('-protocol_whitelist') < argv.indexOf('-i'), 'the whitelist applies to the input');
        assert.ok(argv.includes('-nostdin'));
        const outputs = argv.filter((a) => a.startsWith('file:'));
        assert.ok(outputs.length <= 1);
        for (const o of outputs) assert.ok(o.startsWith(`file:${work.path}/`) && o.endsWith('.mp4'), `output ${o} is in our work dir`);
        for (const a of argv) {
          for (const v of userValues) assert.ok(!a.includes(v), `argument ${JSON.stringify(a)} contains ${JSON.stringify(v)}`);
          assert.ok(!/^(https?|tcp|udp|rtmp|rtp|hls|concat|subfile|data|crypto|ftp|gopher|tls):/i.test(a), `no network or nested protocol: ${a}`);
        }
      }
      // What FFmpeg read: our Matroska frames (encoder) or our H.264 stream (muxer); never a byte of the upload.
      const stdins = (await readdir(bin.path)).filter((f) => f.startsWith('stdin-'));
      assert.equal(stdins.length, 3);
      for (const f of stdins) {
        const bytes = await readFile(join(bin.path, f));
        const magic = bytes.subarray(0, 4).toString('hex');
        assert.ok(magic === '1a45dfa3' || magic === '00000001', `${f} starts with ${magic}`);
        assert.equal(bytes.indexOf(Buffer.from('#EXTM3U')), -1);
        assert.equal(bytes.indexOf(png.subarray(0, 32)), -1, 'no PNG header from the upload');
      }
    } finally {
      await bin.remove();
      await work.remove();
    }
  });

  it('FFmpeg argument builders: fixed shapes for every preset and mode (the fan-out join reads local files only)', () => {
    for (const preset of ['480p', '720p', '1080p', 'square', 'vertical'] as const) {
      for (const mode of ['constant', 'still'] as const) {
        const plan = planRender({ ...DEFAULT_OPTIONS, preset, transition: 'crossfade' }, [1, 2, 3]);
        for (const argv of [encoderArgs(plan, mode, '/tmp/w/video.mp4'), muxerArgs(plan, '/tmp/w/video.mp4')]) {
          assert.deepEqual(argv.flatMap((a, i) => (a === '-i' ? [argv[i + 1]] : [])), ['pipe:0']);
          assert.equal(argv[argv.indexOf('-protocol_whitelist') + 1], 'pipe');
          assert.ok(argv.every((a) => /^[-+\w:=.,/]*$/.test(a)), `plain tokens only: ${argv.join(' ')}`);
        }
      }
    }
    const join = joinArgs('/tmp/w/list.txt', '/tmp/w/video.mp4');
    assert.equal(join[join.indexOf('-protocol_whitelist') + 1], 'file');
    assert.deepEqual(join.flatMap((a, i) => (a === '-i' ? [join[i + 1]] : [])), ['/tmp/w/list.txt']);
  });

  it('logs never contain grant URLs, signatures, policies or credentials, whatever happens', async () => {
    const t = setup();
    const secrets: string[] = [ACCESS_KEY, SECRET_KEY, 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token'];
    const collect = (r: { json: Record<string, any> }) => {
      for (const u of (r.json.uploads ?? []) as (PostUploadGrant | PutUploadGrant)[]) {
        secrets.push(u.url.includes('?') ? u.url.split('?')[1]! : u.url + JSON.stringify((u as PostUploadGrant).fields));
        if ('fields' in u) secrets.push(u.fields.Policy!, u.fields['X-Amz-Signature']!);
      }
    };
    collect(await t.create({ images: declared.slice(0, 3) }));
    collect(await t.create({ images: declared.slice(0, 3), grant: 'put' }));
    await t.create({ images: declared.slice(0, 3), options: { fps: 7 } });
    await t.start();
    for (let i = 0; i < 3; i++) t.input.seed(keys.image(JOB, i), Buffer.alloc(declared[i]!.size), declared[i]!.type);
    t.input.fault = (op) => (op === 'head' ? Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }) : null);
    await t.start(); // 503 storage_unavailable: logged with the error
    t.input.fault = null;
    await t.start();
    await t.status();
    // process-media, failing and succeeding
    const output = new MemoryStore('media-output-0000');
    const pm = createProcessMediaHandler(
      { input: t.input, output, renderer: { render: () => Promise.reject(new Error('boom')) }, clock: { now: () => new Date() }, logger: t.logger, metrics: new MemoryMetrics() },
      { limits: t.settings.limits, videosBaseUrl: '/videos', maxAttempts: 1 },
    );
    const ev = fixture<S3Event>('s3-manifest-created', JOB);
    ev.Records[0]!.s3.bucket.name = 'media-input-0000';
    await pm(ev, { getRemainingTimeInMillis: () => 60_000 }).catch(() => {});
    assert.ok(t.logs.length >= 8, `${t.logs.length} log entries`);
    const text = t.logs.map((l) => JSON.stringify(l)).join('\n');
    const leaked = secrets.filter((s) => text.includes(s));
    assert.deepEqual(leaked.map((s) => s.slice(0, 40)), []);
  });
});
