import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, DEFAULT_OPTIONS, type Limits } from '../../contracts/index.ts';
import {
  canTransition,
  createJobRecord,
  createManifest,
  displayName,
  parseManifest,
  validateCreateRequest,
  verifyUploads,
  type JobRecord,
} from '../../lambdas/src/core/job.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import { limitsFromEnv, settingsFromEnv } from '../../lambdas/src/core/settings.ts';

const limits: Limits = { ...DEFAULT_LIMITS, maxImages: 5, maxImageBytes: 1000, maxVideoSeconds: 60 };
const img = (over: Record<string, unknown> = {}) => ({ name: 'a.jpg', type: 'image/jpeg', size: 100, ...over });
const JOB = '3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60';

function code(body: unknown): string | null {
  const r = validateCreateRequest(body, limits);
  return r.ok ? null : r.problem.code;
}

describe('core/job: create request validation', () => {
  it('accepts a minimal request and fills default options', () => {
    const r = validateCreateRequest({ images: [img()] }, limits);
    assert.ok(r.ok);
    assert.deepEqual(r.value.options, { ...DEFAULT_OPTIONS });
    assert.equal(r.value.grant, 'post');
    assert.equal(r.value.videoSeconds, 3);
  });

  it('rejects bodies that are not objects, and unknown fields', () => {
    for (const b of [null, 3, 'x', [img()]]) assert.equal(code(b), 'invalid_body');
    assert.equal(code({ images: [img()], colour: 'red' }), 'invalid_body');
    assert.equal(code({ images: [img({ path: '/etc/passwd' })] }), 'invalid_body');
  });

  it('counts images: none, too many, exactly the limit', () => {
    assert.equal(code({}), 'no_images');
    assert.equal(code({ images: [] }), 'no_images');
    assert.equal(code({ images: 'a.jpg' }), 'invalid_body');
    assert.equal(code({ images: Array.from({ length: 6 }, () => img()) }), 'too_many_images');
    assert.equal(code({ images: Array.from({ length: 5 }, () => img({ size: 1 })), options: { secondsPerImage: 12 } }), null);
  });

  it('checks each image type and size, reporting the index', () => {
    const r = validateCreateRequest({ images: [img(), img({ type: 'image/gif' })] }, limits);
    assert.ok(!r.ok);
    assert.equal(r.problem.code, 'unsupported_type');
    assert.equal(r.problem.details?.index, 1);
    assert.equal(code({ images: [img({ type: 'text/html' })] }), 'unsupported_type');
    assert.equal(code({ images: [img({ type: undefined })] }), 'unsupported_type');
    assert.equal(code({ images: [img({ size: 1001 })] }), 'image_too_large');
    assert.equal(code({ images: [img({ size: 1000 })] }), null);
    for (const size of [0, -1, 1.5, '100', null, Number.NaN]) assert.equal(code({ images: [img({ size })] }), 'invalid_body', String(size));
  });

  it('takes names for display only: cleaned, never rejected for their characters', () => {
    assert.equal(code({ images: [img({ name: 42 })] }), 'invalid_image_name');
    assert.equal(code({ images: [img({ name: 'x'.repeat(1025) })] }), 'invalid_image_name');
    const r = validateCreateRequest({ images: [img({ name: '../../etc/passwd' }), img({ name: 'a/b\u0000c.jpg' }), img({ name: '' })] }, limits);
    assert.ok(r.ok);
    assert.deepEqual(r.value.images.map((i) => i.name), ['passwd', 'bc.jpg', 'image-003']);
    assert.equal(displayName('C:\\Users\\me\\photo.JPG', 0), 'photo.JPG');
    assert.equal(displayName('..hidden', 0), 'hidden');
    assert.equal(displayName('\u202egpj.exe', 0), 'gpj.exe'); // bidi override stripped
    assert.equal(displayName('<img src=x onerror=alert(1)>.jpg', 0), '<img src=x onerror=alert(1)>.jpg'); // text: the UI escapes it
    assert.equal([...displayName('é'.repeat(500), 0)].length, 120);
  });

  it('reports bad options as invalid_options with the field', () => {
    const r = validateCreateRequest({ images: [img()], options: { fps: 29 } }, limits);
    assert.ok(!r.ok);
    assert.equal(r.problem.code, 'invalid_options');
    assert.equal(r.problem.details?.field, 'fps');
    const d = validateCreateRequest({ images: [img(), img()], options: { durations: [1, 99] } }, limits);
    assert.ok(!d.ok);
    assert.equal(d.problem.details?.field, 'durations[1]');
    assert.equal(code({ images: [img()], options: 'fast' }), 'invalid_options');
  });

  it('enforces the video length budget (job_budget_exceeded), inclusive', () => {
    assert.equal(code({ images: [img(), img(), img()], options: { secondsPerImage: 20 } }), null); // 60 s = limit
    const r = validateCreateRequest({ images: [img(), img(), img(), img()], options: { secondsPerImage: 20 } }, limits);
    assert.ok(!r.ok);
    assert.equal(r.problem.code, 'job_budget_exceeded');
    assert.equal(r.problem.details?.videoSeconds, 80);
  });

  it('accepts grant "put" and rejects other grant types', () => {
    const r = validateCreateRequest({ images: [img()], grant: 'put' }, limits);
    assert.ok(r.ok && r.value.grant === 'put');
    assert.equal(code({ images: [img()], grant: 'ftp' }), 'invalid_grant_type');
  });
});

describe('core/job: records', () => {
  function job(): JobRecord {
    const v = validateCreateRequest({ images: [img({ name: 'x/../y.jpg' }), img({ type: 'image/png', size: 200 })] }, limits);
    assert.ok(v.ok);
    return createJobRecord(v.value, JOB, new Date('2026-01-01T00:00:00Z'), { ...limits, grantTtlSeconds: 60 });
  }

  it('chooses every key from the job id and index only', () => {
    const j = job();
    assert.deepEqual(j.images.map((i) => i.key), [keys.image(JOB, 0), keys.image(JOB, 1)]);
    assert.equal(j.expiresAt, '2026-01-01T00:01:00.000Z');
  });

  it('verifies uploads: missing wins, then size and type mismatches', () => {
    const j = job();
    const ok = { size: 100, contentType: 'image/jpeg', etag: '"a"' };
    const ok1 = { size: 200, contentType: 'image/png', etag: '"b"' };
    let v = verifyUploads(j, [{ index: 0, found: null }, { index: 1, found: { ...ok1, size: 5 } }], limits);
    assert.ok(!v.ok && v.problem.code === 'uploads_missing');
    assert.deepEqual(!v.ok && v.problem.details?.missing, [0]);
    v = verifyUploads(j, [{ index: 0, found: ok }, { index: 1, found: { ...ok1, size: 201 } }], limits);
    assert.ok(!v.ok && v.problem.code === 'upload_invalid');
    v = verifyUploads(j, [{ index: 0, found: { ...ok, size: 5000 } }, { index: 1, found: ok1 }], limits);
    assert.ok(!v.ok && v.problem.code === 'upload_invalid');
    v = verifyUploads(j, [{ index: 0, found: { ...ok, contentType: 'text/html' } }, { index: 1, found: ok1 }], limits);
    assert.ok(!v.ok && v.problem.code === 'upload_invalid');
    v = verifyUploads(j, [{ index: 0, found: { ...ok, contentType: 'IMAGE/JPEG; charset=binary' } }, { index: 1, found: ok1 }], limits);
    assert.ok(v.ok);
    assert.deepEqual(v.etags, ['"a"', '"b"']);
  });

  it('parses a manifest it wrote, and refuses one that reaches outside the job', () => {
    const j = job();
    const m = createManifest(j, ['"a"', '"b"'], new Date());
    const good = parseManifest(JSON.stringify(m), JOB, limits);
    assert.ok(good.ok);
    assert.deepEqual(good.value.images.map((i) => i.key), [keys.image(JOB, 0), keys.image(JOB, 1)]);

    const other = '11111111-2222-4333-8444-555555555555';
    const bad = [
      { ...m, images: [{ ...m.images[0]!, key: keys.image(other, 0) }, m.images[1]!] },
      { ...m, images: [{ ...m.images[0]!, key: 'videos/x/video.mp4' }, m.images[1]!] },
      { ...m, images: [m.images[1]!, m.images[0]!] },
      { ...m, jobId: other },
      { ...m, images: [] },
      { ...m, options: { ...m.options, fps: 1000 } },
      { ...m, version: 2 },
    ];
    for (const b of bad) assert.equal(parseManifest(JSON.stringify(b), JOB, limits).ok, false, JSON.stringify(b).slice(0, 80));
    assert.equal(parseManifest('{not json', JOB, limits).ok, false);
    assert.equal(parseManifest(JSON.stringify(m), other, limits).ok, false);
  });

  it('allows only forward status moves; terminal states are final', () => {
    assert.ok(canTransition('uploading', 'queued'));
    assert.ok(canTransition('queued', 'processing'));
    assert.ok(canTransition('processing', 'queued')); // waiting for a retry
    assert.ok(canTransition('processing', 'done'));
    assert.ok(!canTransition('done', 'processing'));
    assert.ok(!canTransition('failed', 'queued'));
    assert.ok(!canTransition('uploading', 'done'));
  });
});

describe('core/settings', () => {
  it('reads env with defaults and rejects malformed numbers', () => {
    const s = settingsFromEnv({ INPUT_BUCKET: 'in', OUTPUT_BUCKET: 'out', MAX_IMAGES: '10', VIDEOS_BASE_URL: 'https://cdn.example/videos/' });
    assert.equal(s.limits.maxImages, 10);
    assert.equal(s.limits.maxImageBytes, DEFAULT_LIMITS.maxImageBytes);
    assert.equal(s.videosBaseUrl, 'https://cdn.example/videos');
    assert.equal(s.processMaxAttempts, 3);
    assert.throws(() => settingsFromEnv({ OUTPUT_BUCKET: 'out' }), /INPUT_BUCKET/);
    assert.throws(() => limitsFromEnv({ MAX_IMAGE_BYTES: '1e3x' }), /MAX_IMAGE_BYTES/);
    assert.throws(() => limitsFromEnv({ MAX_IMAGES: '0' }), /MAX_IMAGES/);
  });
});
