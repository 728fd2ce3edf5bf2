/**
 * Hostile HTTP requests (issue 6): bodies, options, names and job ids, each with the exact status and
 * error code of the contract (contracts/errors.ts). Built from the stack's limits so they stay right
 * when the limits change.
 */
import { API_ERROR_STATUS, type ApiErrorCode, type Limits } from '../../contracts/index.ts';

export interface RequestCase {
  id: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the site; `{job}` is replaced by an existing job's id. */
  path: string;
  /** Raw body (sent as is) or a value sent as JSON. */
  body?: string | Buffer | unknown;
  headers?: Record<string, string>;
  code: ApiErrorCode;
  /** Defaults to API_ERROR_STATUS[code]. */
  status?: number;
}

const img = (over: Record<string, unknown> = {}) => ({ name: 'a.jpg', type: 'image/jpeg', size: 1000, ...over });
const job = (over: Record<string, unknown> = {}) => ({ images: [img()], ...over });
const opts = (o: Record<string, unknown>) => job({ options: o });

export function requestCases(limits: Limits): RequestCase[] {
  const create = (id: string, body: unknown, code: ApiErrorCode, headers?: Record<string, string>): RequestCase => ({
    id,
    method: 'POST',
    path: '/api/jobs',
    body,
    code,
    ...(headers ? { headers } : {}),
  });
  const many = (n: number) => Array.from({ length: n }, (_, i) => img({ name: `${i}.jpg` }));
  const cases: RequestCase[] = [
    // Malformed and oversized bodies.
    create('json-malformed', '{"images": [', 'invalid_json'),
    create('json-trailing-garbage', '{"images":[]} x', 'invalid_json'),
    create('json-empty-body', '', 'invalid_json'),
    create('json-not-utf8', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 'invalid_json'),
    create('body-array', [], 'invalid_body'),
    create('body-string', '"images"', 'invalid_body'),
    create('body-null', 'null', 'invalid_body'),
    create('body-huge-300k', JSON.stringify({ images: [img({ name: 'x'.repeat(300 * 1024) })] }), 'payload_too_large'),
    create('body-huge-11mb', Buffer.alloc(11 * 1024 * 1024, 0x20), 'payload_too_large'),
    create('content-type-text', JSON.stringify(job()), 'unsupported_media_type', { 'content-type': 'text/plain' }),
    create('content-type-form', 'images=1', 'unsupported_media_type', { 'content-type': 'application/x-www-form-urlencoded' }),
    create('extra-top-level-field', job({ admin: true }), 'invalid_body'),
    create('proto-pollution', '{"images":[{"name":"a.jpg","type":"image/jpeg","size":10}],"__proto__":{"admin":true}}', 'invalid_body'),
    create('bad-grant-type', job({ grant: 'get' }), 'invalid_grant_type'),
    create('json-deeply-nested', '['.repeat(100_000) + ']'.repeat(100_000), 'invalid_body'),
    create('json-deeply-nested-options', `{"images":[{"name":"a.jpg","type":"image/jpeg","size":10}],"options":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`, 'invalid_options'),
    create('options-proto', '{"images":[{"name":"a.jpg","type":"image/jpeg","size":10}],"options":{"__proto__":{"fps":60}}}', 'invalid_options'),
    create('image-proto', '{"images":[{"name":"a.jpg","type":"image/jpeg","size":10,"__proto__":{"key":"jobs/x"}}]}', 'invalid_body'),
    create('options-constructor', opts({ constructor: { prototype: { admin: true } } }), 'invalid_options'),

    // Images: count, types, sizes, names.
    create('images-missing', {}, 'no_images'),
    create('images-empty', { images: [] }, 'no_images'),
    create('images-not-array', { images: 'a.jpg' }, 'invalid_body'),
    create('image-not-object', { images: ['a.jpg'] }, 'invalid_body'),
    create('image-extra-field', { images: [img({ key: 'jobs/other/images/000' })] }, 'invalid_body'),
    create('too-many-images', { images: many(limits.maxImages + 1) }, 'too_many_images'),
    create('declared-too-large', { images: [img({ size: limits.maxImageBytes + 1 })] }, 'image_too_large'),
    create('declared-empty-file', { images: [img({ size: 0 })] }, 'invalid_body'),
    create('declared-negative-size', { images: [img({ size: -5 })] }, 'invalid_body'),
    create('declared-fractional-size', { images: [img({ size: 10.5 })] }, 'invalid_body'),
    create('declared-size-string', { images: [img({ size: '1000' })] }, 'invalid_body'),
    create('declared-size-huge-number', { images: [img({ size: 1e300 })] }, 'invalid_body'),
    create('type-gif', { images: [img({ type: 'image/gif' })] }, 'unsupported_type'),
    create('type-svg', { images: [img({ type: 'image/svg+xml' })] }, 'unsupported_type'),
    create('type-html', { images: [img({ type: 'text/html' })] }, 'unsupported_type'),
    create('type-pdf', { images: [img({ type: 'application/pdf' })] }, 'unsupported_type'),
    create('type-hls', { images: [img({ type: 'application/vnd.apple.mpegurl' })] }, 'unsupported_type'),
    create('type-with-params', { images: [img({ type: 'image/jpeg; charset=x' })] }, 'unsupported_type'),
    create('type-upper-case', { images: [img({ type: 'IMAGE/JPEG' })] }, 'unsupported_type'),
    create('type-missing', { images: [{ name: 'a.jpg', size: 10 }] }, 'unsupported_type'),
    create('name-too-long', { images: [img({ name: 'a'.repeat(1025) })] }, 'invalid_image_name'),
    create('name-not-string', { images: [img({ name: 42 })] }, 'invalid_image_name'),
    create('name-missing', { images: [{ type: 'image/jpeg', size: 10 }] }, 'invalid_image_name'),

    // Options: out of range, wrong type, extra fields.
    create('options-not-object', job({ options: 'fast' }), 'invalid_options'),
    create('options-array', job({ options: [] }), 'invalid_options'),
    create('option-unknown', opts({ codec: 'libx265' }), 'invalid_options'),
    create('option-ffmpeg-args', opts({ ffmpegArgs: ['-i', 'http://169.254.169.254/'] }), 'invalid_options'),
    create('preset-unknown', opts({ preset: '4k' }), 'invalid_options'),
    create('preset-wrong-type', opts({ preset: 720 }), 'invalid_options'),
    create('fps-out-of-set', opts({ fps: 29 }), 'invalid_options'),
    create('fps-string', opts({ fps: '30' }), 'invalid_options'),
    create('fps-huge', opts({ fps: 1e9 }), 'invalid_options'),
    create('seconds-too-short', opts({ secondsPerImage: 0.1 }), 'invalid_options'),
    create('seconds-too-long', opts({ secondsPerImage: 21 }), 'invalid_options'),
    create('seconds-negative', opts({ secondsPerImage: -3 }), 'invalid_options'),
    create('seconds-string', opts({ secondsPerImage: '3' }), 'invalid_options'),
    create('seconds-nan-literal', '{"images":[{"name":"a.jpg","type":"image/jpeg","size":10}],"options":{"secondsPerImage":NaN}}', 'invalid_json'),
    create('seconds-exponent-overflow', '{"images":[{"name":"a.jpg","type":"image/jpeg","size":10}],"options":{"secondsPerImage":1e999}}', 'invalid_options'),
    create('durations-not-array', opts({ durations: 3 }), 'invalid_options'),
    create('durations-wrong-length', opts({ durations: [1, 2] }), 'invalid_options'),
    create('durations-bad-entry', opts({ durations: [null] }), 'invalid_options'),
    create('fit-unknown', opts({ fit: 'stretch' }), 'invalid_options'),
    create('background-named', opts({ background: 'red' }), 'invalid_options'),
    create('background-injection', opts({ background: "#000000'; drawtext=text=x" }), 'invalid_options'),
    create('transition-unknown', opts({ transition: 'wipe' }), 'invalid_options'),
    create('transition-seconds-too-long', opts({ transition: 'crossfade', transitionSeconds: 3 }), 'invalid_options'),
    create('transition-longer-than-image', { images: [img(), img()], options: { transition: 'crossfade', transitionSeconds: 2, secondsPerImage: 1 } }, 'invalid_options'),
    create('frame-rate-mode-unknown', opts({ frameRateMode: 'vbr' }), 'invalid_options'),

    // Budget: longer than maxVideoSeconds, or more render work than the budget allows.
    create('budget-video-seconds', { images: many(limits.maxImages), options: { secondsPerImage: 20 } }, 'job_budget_exceeded'),
    create('budget-work-1080p60-crossfade', { images: many(limits.maxImages), options: budgetBuster(limits) }, 'job_budget_exceeded'),

    // Job ids: forged, malformed, path-like.
    { id: 'id-random-v4', method: 'GET', path: '/api/jobs/3f1c2a9e-4b7d-4c1e-9a2b-0123456789ab', code: 'job_not_found' },
    { id: 'id-random-v4-start', method: 'POST', path: '/api/jobs/3f1c2a9e-4b7d-4c1e-9a2b-0123456789ab/start', code: 'job_not_found' },
    { id: 'id-upper-case', method: 'GET', path: '/api/jobs/{JOB}', code: 'invalid_job_id' },
    { id: 'id-v1-uuid', method: 'GET', path: '/api/jobs/c232ab00-9414-11ec-b3c8-9f6bdeced846', code: 'invalid_job_id' },
    { id: 'id-not-uuid', method: 'GET', path: '/api/jobs/12345', code: 'invalid_job_id' },
    { id: 'id-sql', method: 'GET', path: "/api/jobs/1'%20OR%20'1'='1", code: 'invalid_job_id' },
    { id: 'id-nul', method: 'GET', path: '/api/jobs/{job}%00', code: 'invalid_job_id' },
    { id: 'id-encoded-slash', method: 'GET', path: '/api/jobs/..%2F..%2Fetc%2Fpasswd', code: 'invalid_job_id' },
    { id: 'id-very-long', method: 'GET', path: `/api/jobs/${'a'.repeat(4000)}`, code: 'invalid_job_id' },
    { id: 'id-dot-dot', method: 'GET', path: '/api/jobs/../jobs/{job}/manifest.json', code: 'route_not_found' },
    { id: 'id-with-suffix', method: 'GET', path: '/api/jobs/{job}/status.json', code: 'route_not_found' },
    { id: 'id-start-malformed', method: 'POST', path: '/api/jobs/not-a-job/start', code: 'invalid_job_id' },
    { id: 'wrong-method-jobs', method: 'PUT', path: '/api/jobs', body: job(), code: 'method_not_allowed' },
    { id: 'wrong-method-job', method: 'DELETE', path: '/api/jobs/{job}', code: 'method_not_allowed' },
    { id: 'wrong-method-start', method: 'GET', path: '/api/jobs/{job}/start', code: 'method_not_allowed' },
    { id: 'unknown-route', method: 'GET', path: '/api/admin', code: 'route_not_found' },
  ];
  for (const c of cases) c.status ??= API_ERROR_STATUS[c.code];
  return cases;
}

/** Options within every per-field bound and maxVideoSeconds, but over the render work budget. */
export function budgetBuster(limits: Limits): Record<string, unknown> {
  // 1080p at 60 fps with a crossfade in every image: short enough for maxVideoSeconds, far too much work.
  const seconds = Math.min(20, Math.max(0.5, Math.floor((limits.maxVideoSeconds / limits.maxImages) * 2) / 2));
  return { preset: '1080p', fps: 60, secondsPerImage: seconds, transition: 'crossfade', transitionSeconds: Math.min(2, seconds) };
}

/** Client file names that must never become part of a key, a path or an FFmpeg argument. */
export const HOSTILE_NAMES = [
  '../../x.jpg',
  'a/b.jpg',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  'nul\u0000byte.jpg',
  'jobs/00000000-0000-4000-8000-000000000000/images/000',
  'file:///etc/passwd',
  'concat:/etc/passwd|x.jpg',
  'http://169.254.169.254/latest/meta-data/',
  '-i http:x.jpg',
  '<img src=x onerror=alert(1)>.jpg',
  '"; rm -rf / #.jpg',
  '$(reboot).jpg',
  'фото-😀-照片.jpg',
  '\u202egnp.jpg',
  'line\nbreak.jpg',
  'x'.repeat(1024),
];
