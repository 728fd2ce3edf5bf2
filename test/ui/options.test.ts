import assert from 'node:assert/strict';
import { DEFAULT_OPTIONS, formatDuration } from '../../contracts/index.ts';
import { mergeConfig, loadConfig, resolveMediaUrl, DEFAULT_SITE_CONFIG } from '../../ui/src/lib/config.ts';
import { downscaleTarget } from '../../ui/src/lib/downscale.ts';
import { defaultFormValues, validateForm } from '../../ui/src/lib/optionsForm.ts';
import { formatBytes, groupRejections, moveItem, screenFiles, ACCEPT_ATTRIBUTE } from '../../ui/src/lib/selection.ts';

const limits = { maxImages: 3, maxImageBytes: 1000, maxVideoSeconds: 60 };

describe('ui: options form (validated by the contract schema)', () => {
  it('defaults validate to exactly the contract defaults; the length is the sum', () => {
    const v = validateForm(defaultFormValues(), [null, null, null], limits);
    assert.equal(v.ok, true);
    assert.deepEqual(v.options, { ...DEFAULT_OPTIONS });
    assert.equal(v.totalSeconds, 9);
    assert.deepEqual(v.issues, {});
  });

  it('per-image durations are sent only when one is set, the rest use seconds per image', () => {
    const form = { ...defaultFormValues(), secondsPerImage: 2 };
    const v = validateForm(form, [null, 5, null], limits);
    assert.equal(v.ok, true);
    assert.deepEqual(v.options!.durations, [2, 5, 2]);
    assert.equal(v.totalSeconds, 9);
    assert.equal(formatDuration(v.totalSeconds!), '0:09');
  });

  it('uses the contract bounds: seconds out of range, a bad colour and an empty field are named by field', () => {
    const form = { ...defaultFormValues(), secondsPerImage: 25, background: 'red' };
    const v = validateForm(form, [null, 0.1], limits);
    assert.equal(v.ok, false);
    assert.equal(v.options, undefined);
    assert.match(v.issues.secondsPerImage!, /^Seconds per photo must be a number from 0.5 to 20\.$/);
    assert.match(v.issues['durations[1]']!, /from 0.5 to 20/);
    assert.equal(v.issues.background, 'Bar colour must be a colour like #1a2b3c.');
    const empty = validateForm({ ...defaultFormValues(), secondsPerImage: null }, [null], limits);
    assert.equal(empty.issues.secondsPerImage, 'Enter the seconds each image is shown.');
    assert.equal(empty.totalSeconds, null);
  });

  it('a crossfade longer than the shortest photo is refused (contract rule), and needs a length', () => {
    const form = { ...defaultFormValues(), transition: 'crossfade', transitionSeconds: 1.5, secondsPerImage: 3 };
    assert.match(validateForm(form, [null, 1], limits).issues.transitionSeconds!, /^Crossfade length \(1\.5\) cannot be longer than the shortest image duration \(1\)\.$/);
    assert.equal(validateForm(form, [null, 2], limits).ok, true);
    assert.equal(validateForm({ ...form, transitionSeconds: null }, [null], limits).issues.transitionSeconds, 'Enter the crossfade length in seconds.');
    // Without a crossfade the crossfade length is not sent at all.
    assert.equal(validateForm({ ...defaultFormValues(), transitionSeconds: null }, [null], limits).input.transitionSeconds, undefined);
  });

  it('frameRateMode and fps come from the contract lists', () => {
    assert.equal(validateForm({ ...defaultFormValues(), frameRateMode: 'still', fps: 24 }, [null], limits).options!.frameRateMode, 'still');
    assert.match(validateForm({ ...defaultFormValues(), frameRateMode: 'fast' }, [null], limits).issues.frameRateMode!, /constant, still/);
    assert.match(validateForm({ ...defaultFormValues(), fps: 29 }, [null], limits).issues.fps!, /24, 25, 30, 60/);
  });

  it('refuses a video over the length limit, saying how long it would be', () => {
    const v = validateForm({ ...defaultFormValues(), secondsPerImage: 20 }, [null, null, null, null], limits);
    assert.equal(v.ok, false);
    assert.equal(v.totalSeconds, 80);
    assert.equal(v.issues.length, 'The video would be 1:20 long; the limit is 1:00. Use fewer images or shorter durations.');
  });

  it('duration display', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(4), '0:04');
    assert.equal(formatDuration(59.6), '1:00');
    assert.equal(formatDuration(600), '10:00');
    assert.equal(formatDuration(3723), '1:02:03');
  });
});

describe('ui: picking files (selection.ts)', () => {
  const f = (name: string, type: string, size: number) => ({ name, type, size });

  it('accepts JPEG/PNG/WebP within the limits, in order; says why each other file is refused', () => {
    const { accepted, rejected } = screenFiles(
      [f('a.jpg', 'image/jpeg', 10), f('notes.txt', 'text/plain', 5), f('b.png', 'image/png', 2000), f('c.heic', '', 10), f('d.webp', 'image/webp', 0), f('e.webp', 'image/webp', 10), f('g.gif', 'image/gif', 10)],
      0,
      limits,
    );
    assert.deepEqual(accepted.map((x) => x.name), ['a.jpg', 'e.webp']);
    assert.deepEqual(rejected, [
      { name: 'notes.txt', reason: 'Not a JPEG, PNG or WebP image (it is text/plain).' },
      { name: 'b.png', reason: 'Too large: 2.0 KB, the limit is 1000 B per image.' },
      { name: 'c.heic', reason: 'HEIC photos are not supported: share or export them as JPEG first.' },
      { name: 'd.webp', reason: 'The file is empty.' },
      { name: 'g.gif', reason: 'Not a JPEG, PNG or WebP image (it is image/gif).' },
    ]);
  });

  it('counts the images already there against the count limit', () => {
    const { accepted, rejected } = screenFiles([f('a.jpg', 'image/jpeg', 1), f('b.jpg', 'image/jpeg', 1)], 2, limits);
    assert.deepEqual(accepted.map((x) => x.name), ['a.jpg']);
    assert.deepEqual(rejected, [{ name: 'b.jpg', reason: 'Too many images: one video takes at most 3.' }]);
  });

  it('300 photos dropped on a 200 limit: the refusals read as one line per reason', () => {
    const files = Array.from({ length: 300 }, (_, i) => f(`p${i + 1}.jpg`, 'image/jpeg', 10));
    const { accepted, rejected } = screenFiles(files, 0, { ...limits, maxImages: 200 });
    assert.equal(accepted.length, 200);
    assert.deepEqual(groupRejections([...rejected, { name: 'x.txt', reason: 'Not an image.' }]), [
      { names: 'p201.jpg, p202.jpg, p203.jpg and 97 more', reason: 'Too many images: one video takes at most 200.', count: 100 },
      { names: 'x.txt', reason: 'Not an image.', count: 1 },
    ]);
  });

  it('the file input accepts exactly the contract types', () => {
    assert.equal(ACCEPT_ATTRIBUTE, 'image/jpeg,image/png,image/webp');
  });

  it('moveItem moves one element and clamps', () => {
    assert.deepEqual(moveItem(['a', 'b', 'c'], 2, 0), ['c', 'a', 'b']);
    assert.deepEqual(moveItem(['a', 'b', 'c'], 0, 9), ['b', 'c', 'a']);
    assert.deepEqual(moveItem(['a', 'b', 'c'], 5, 0), ['a', 'b', 'c']);
  });

  it('formatBytes', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(25 * 1024 * 1024), '25 MB');
    assert.equal(formatBytes(123.4 * 1024 * 1024), '123 MB');
  });
});

describe('ui: runtime config and media URLs (config.ts)', () => {
  it('config.json over the defaults; env overrides; junk fields ignored', () => {
    const c = mergeConfig({ apiBaseUrl: 'https://x.execute-api.eu-west-1.amazonaws.com/api/', cdnBaseUrl: 'https://d1.cloudfront.net/', limits: { maxImages: 50, maxImageBytes: -1 } });
    assert.equal(c.apiBaseUrl, 'https://x.execute-api.eu-west-1.amazonaws.com/api');
    assert.equal(c.cdnBaseUrl, 'https://d1.cloudfront.net');
    assert.equal(c.limits.maxImages, 50);
    assert.equal(c.limits.maxImageBytes, DEFAULT_SITE_CONFIG.limits.maxImageBytes);
    const dev = mergeConfig({ apiBaseUrl: '/api' }, { VITE_API_BASE_URL: 'http://127.0.0.1:3000/api', VITE_CLOUDFRONT_URL: 'http://127.0.0.1:3000' });
    assert.equal(dev.apiBaseUrl, 'http://127.0.0.1:3000/api');
    assert.equal(dev.cdnBaseUrl, 'http://127.0.0.1:3000');
  });

  it('a missing or broken config.json means the same-origin defaults', async () => {
    assert.deepEqual(await loadConfig(async () => ({ ok: false, json: async () => ({}) })), DEFAULT_SITE_CONFIG);
    assert.deepEqual(await loadConfig(async () => { throw new TypeError('offline'); }), DEFAULT_SITE_CONFIG);
    assert.deepEqual(await loadConfig(async () => ({ ok: true, json: async () => { throw new SyntaxError('bad'); } })), DEFAULT_SITE_CONFIG);
    assert.equal(DEFAULT_SITE_CONFIG.apiBaseUrl, '/api');
  });

  it('relative video URLs go to the CDN when there is one, else to the page origin', () => {
    assert.equal(resolveMediaUrl('/videos/j/video.mp4', { cdnBaseUrl: '' }, 'http://127.0.0.1:3000/?job=j'), 'http://127.0.0.1:3000/videos/j/video.mp4');
    assert.equal(resolveMediaUrl('/videos/j/video.mp4', { cdnBaseUrl: 'https://d1.cloudfront.net' }, 'http://x/'), 'https://d1.cloudfront.net/videos/j/video.mp4');
    assert.equal(resolveMediaUrl('https://other/v.mp4', { cdnBaseUrl: 'https://d1' }, 'http://x/'), 'https://other/v.mp4');
  });
});

describe('ui: downscale size (downscale.ts)', () => {
  it('contain: fits inside twice the frame; cover: covers twice the frame; small images untouched', () => {
    assert.deepEqual(downscaleTarget({ width: 4000, height: 3000 }, '720p', 'contain'), { width: 1920, height: 1440 });
    assert.deepEqual(downscaleTarget({ width: 2000, height: 3000 }, '480p', 'contain'), { width: 640, height: 960 });
    // A tall panorama filling a landscape frame keeps enough width to be cropped sharply.
    assert.deepEqual(downscaleTarget({ width: 1000, height: 8000 }, '480p', 'cover'), null);
    assert.deepEqual(downscaleTarget({ width: 4000, height: 8000 }, '480p', 'cover'), { width: 1708, height: 3416 });
    assert.equal(downscaleTarget({ width: 2560, height: 1440 }, '720p', 'contain'), null);
    assert.equal(downscaleTarget({ width: 800, height: 600 }, 'vertical', 'cover'), null);
  });
});
