import assert from 'node:assert/strict';
import { readFile, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { DEFAULT_OPTIONS } from '../../contracts/index.ts';
import type { RenderOptions } from '../../contracts/index.ts';
import { CodedError } from '../../lambdas/src/core/ports.ts';
import type { RenderProgress } from '../../lambdas/src/core/ports.ts';
import { emitCount, planRender } from '../../lambdas/src/core/render-plan.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { FrameCache } from '../../lambdas/src/engine/renderer.ts';
import { frameAt, halves, inputs, near, pixel, probe, solid, tempDir, topLevelBoxes } from './helpers.ts';
import type { Rgb } from './helpers.ts';

const W = 854;
const H = 480;
const RED: Rgb = [220, 30, 30];
const GREEN: Rgb = [30, 200, 60];
const BLUE: Rgb = [30, 40, 220];
const opts = (o: Partial<RenderOptions> = {}): RenderOptions => ({ ...DEFAULT_OPTIONS, preset: '480p', fps: 24, secondsPerImage: 1, ...o });

describe('engine: real renders (sharp + FFmpeg)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());
  const renderer = createRenderer();

  it('renders H.264 yuv420p at the preset size, exact duration, faststart, poster, monotonic progress', async () => {
    const imgs = [await solid(640, 480, RED, 'png'), await solid(300, 500, GREEN, 'jpeg'), await solid(400, 400, BLUE, 'webp')];
    const progress: RenderProgress[] = [];
    const r = await renderer.render({ images: inputs(imgs, 1), options: opts(), maxImagePixels: 1e8, workDir: dir, onProgress: (p) => progress.push(p) });
    const p = await probe(r.videoPath);
    assert.equal(p.codec, 'h264');
    assert.equal(p.pixFmt, 'yuv420p');
    assert.deepEqual([p.width, p.height], [W, H]);
    assert.deepEqual([r.width, r.height], [W, H]);
    assert.equal(p.frames, 72, 'constant 24 fps for 3 s');
    // Each still is encoded once; its repeats are all-skip pictures of a few bytes (h264.ts).
    const big = p.packetSizes.filter((s) => s > 40);
    assert.ok(big.length >= 3 && big.length <= 4, `pictures encoded: ${big.length}`);
    assert.ok(p.packetSizes.filter((s) => s <= 16).length >= 68, 'repeats are skip pictures');
    assert.ok(Math.abs(p.duration - 3) <= 1 / 24, `duration ${p.duration}`);
    assert.equal(r.durationSeconds, 3);
    assert.equal(r.bytes, (await stat(r.videoPath)).size);
    const boxes = await topLevelBoxes(r.videoPath);
    assert.ok(boxes.includes('moov') && boxes.includes('mdat'));
    assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'), `faststart: moov before mdat (${boxes.join(',')})`);

    // Each image on screen for its second; contain: 640x480 fills the height, black bars beside it.
    const f0 = await frameAt(r.videoPath, 12, W, H);
    assert.ok(near(pixel(f0, W, 427, 300), RED), 'image 0 centre is red');
    assert.ok(near(pixel(f0, W, 107 + 60, 60), [255, 255, 255]), 'its white corner mark sits top-left');
    assert.ok(near(pixel(f0, W, 40, 240), [0, 0, 0], 12), 'letterbox bar in the background colour');
    assert.ok(near(pixel(await frameAt(r.videoPath, 36, W, H), W, 427, 300), GREEN), 'image 1 is green');
    assert.ok(near(pixel(await frameAt(r.videoPath, 60, W, H), W, 427, 300), BLUE), 'image 2 is blue');

    const poster = await sharp(await readFile(r.posterPath)).raw().toBuffer({ resolveWithObject: true });
    assert.equal(poster.info.format, 'raw');
    const meta = await sharp(r.posterPath).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', W, H]);
    assert.ok(near(pixel(poster.data, W, 427, 300), RED), 'poster is the first image');

    assert.ok(progress.length >= 3, 'start, at least one step, end');
    assert.equal(progress[0]!.fraction, 0, 'starts at 0');
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]!.fraction >= progress[i - 1]!.fraction, 'monotonic');
    assert.ok(progress.every((q) => q.fraction >= 0 && q.fraction <= 1));
    assert.equal(progress[progress.length - 1]!.fraction, 1);
    assert.equal(progress.filter((q) => q.fraction === 1).length, 1, 'reaches 1 once, at the end');
  });

  it('applies EXIF orientation (6: stored landscape, shown upright portrait)', async () => {
    // Stored 400x300: top red, bottom blue. Orientation 6 = rotate 90° clockwise: red right, blue left.
    const img = await halves(400, 300, RED, BLUE, 6);
    assert.equal((await sharp(img).metadata()).orientation, 6);
    const r = await renderer.render({ images: inputs([img], 1), options: opts(), maxImagePixels: 1e8, workDir: dir });
    const f = await frameAt(r.videoPath, 5, W, H);
    // Upright 300x400 → 360x480, centred: x from 247 to 607.
    assert.ok(near(pixel(f, W, 337, 120), BLUE), `left half blue, got ${pixel(f, W, 337, 120)}`);
    assert.ok(near(pixel(f, W, 517, 360), RED), 'right half red');
    assert.ok(near(pixel(f, W, 100, 240), [0, 0, 0], 12), 'bars: a portrait picture is letterboxed');
  });

  it('contain letterboxes on the background colour; cover fills the frame', async () => {
    const img = await solid(300, 500, GREEN, 'jpeg');
    const contain = await renderer.render({ images: inputs([img], 1), options: opts({ fit: 'contain', background: '#ff00ff' }), maxImagePixels: 1e8, workDir: dir });
    const fc = await frameAt(contain.videoPath, 3, W, H);
    assert.ok(near(pixel(fc, W, 50, 240), [255, 0, 255]), `bar is #ff00ff, got ${pixel(fc, W, 50, 240)}`);
    assert.ok(near(pixel(fc, W, 427, 400), GREEN));
    const { dir: dir2, cleanup: c2 } = await tempDir();
    try {
      const cover = await renderer.render({ images: inputs([img], 1), options: opts({ fit: 'cover', background: '#ff00ff' }), maxImagePixels: 1e8, workDir: dir2 });
      const fv = await frameAt(cover.videoPath, 3, W, H);
      for (const [x, y] of [[5, 240], [848, 240], [427, 5], [427, 474]] as const) {
        assert.ok(near(pixel(fv, W, x, y, 2), GREEN), `cover: (${x},${y}) is picture, got ${pixel(fv, W, x, y, 2)}`);
      }
    } finally {
      await c2();
    }
  });

  it('composites alpha on the background and normalises grayscale, 16-bit and CMYK to sRGB', async () => {
    const half = await sharp({ create: { width: 100, height: 200, channels: 4, background: { r: 0, g: 200, b: 0, alpha: 1 } } }).png().toBuffer();
    const alpha = await sharp({ create: { width: 200, height: 200, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } })
      .composite([{ input: half, left: 100, top: 0 }])
      .png()
      .toBuffer();
    const gray = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 128, g: 128, b: 128 } } }).toColourspace('b-w').png().toBuffer();
    const deep = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 40, b: 40 } } }).toColourspace('rgb16').png().toBuffer();
    const cmyk = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 40, g: 40, b: 200 } } }).toColourspace('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(gray).metadata()).channels, 1);
    assert.equal((await sharp(deep).metadata()).depth, 'ushort');
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const r = await renderer.render({ images: inputs([alpha, gray, deep, cmyk], 0.5), options: opts({ background: '#0000ff' }), maxImagePixels: 1e8, workDir: dir });
    const a = await frameAt(r.videoPath, 2, W, H); // 200x200 → 480x480 at x 187..667
    assert.ok(near(pixel(a, W, 187 + 120, 240), [0, 0, 255]), `transparent half shows the background, got ${pixel(a, W, 307, 240)}`);
    assert.ok(near(pixel(a, W, 187 + 360, 240), [0, 200, 0]), 'opaque half keeps its colour');
    assert.ok(near(pixel(await frameAt(r.videoPath, 14, W, H), W, 427, 240), [128, 128, 128]), 'grayscale');
    assert.ok(near(pixel(await frameAt(r.videoPath, 26, W, H), W, 427, 240), [200, 40, 40]), '16-bit');
    const c = pixel(await frameAt(r.videoPath, 38, W, H), W, 427, 240);
    assert.ok(c[2] > 110 && c[2] > c[0] + 60 && c[2] > c[1] + 60, `CMYK comes out blue, got ${c}`);
  });

  it('crossfades: a mid-transition frame blends its neighbours; frames away from it are pure', async () => {
    const imgs = [await solid(854, 480, RED, 'png'), await solid(854, 480, BLUE, 'png')];
    const r = await renderer.render({ images: inputs(imgs, 1), options: opts({ transition: 'crossfade', transitionSeconds: 0.5 }), maxImagePixels: 1e8, workDir: dir });
    const p = await probe(r.videoPath);
    assert.equal(p.frames, 48);
    const at = async (n: number) => pixel(await frameAt(r.videoPath, n, W, H), W, 427, 300);
    assert.ok(near(await at(10), RED), 'before the fade: red');
    assert.ok(near(await at(40), BLUE), 'after the fade: blue');
    // Ramp over [0.75 s, 1.25 s]; frame 24's midpoint (1.0208 s) weighs blue 0.5417.
    const w = 0.5417;
    const mid = await at(24);
    const expected = RED.map((v, i) => Math.round(v * (1 - w) + BLUE[i]! * w)) as Rgb;
    assert.ok(near(mid, expected, 16), `frame 24 ≈ ${expected}, got ${mid}`);
    const early = await at(19);
    const late = await at(28);
    assert.ok(early[0] > mid[0] && mid[0] > late[0], 'red fades out');
    assert.ok(early[2] < mid[2] && mid[2] < late[2], 'blue fades in');
  });

  it('still mode: one frame per still (VFR), same duration as constant mode, plays from the right picture', async () => {
    const imgs = [await solid(640, 480, RED, 'png'), await solid(640, 480, GREEN, 'png'), await solid(640, 480, BLUE, 'png')];
    const options = opts({ frameRateMode: 'still', secondsPerImage: 1.5 });
    const r = await renderer.render({ images: inputs(imgs, 1.5), options, maxImagePixels: 1e8, workDir: dir });
    const p = await probe(r.videoPath);
    assert.equal(p.codec, 'h264');
    assert.equal(p.pixFmt, 'yuv420p');
    assert.equal(p.frames, 4, '3 stills + the end frame, instead of 108');
    assert.ok(Math.abs(p.duration - 4.5) <= 1 / 24, `duration ${p.duration}`);
    assert.deepEqual(p.packetTimes.map((t) => Math.round(t * 24)), [0, 36, 72, 107], 'stills start on their frames');
    const boxes = await topLevelBoxes(r.videoPath);
    assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'));
    assert.ok(near(pixel(await frameAt(r.videoPath, 1, W, H), W, 427, 300), GREEN));

    const { dir: dir2, cleanup: c2 } = await tempDir();
    try {
      const fadeOptions = opts({ frameRateMode: 'still', secondsPerImage: 1.5, transition: 'crossfade', transitionSeconds: 0.5 });
      const rf = await renderer.render({ images: inputs(imgs, 1.5), options: fadeOptions, maxImagePixels: 1e8, workDir: dir2 });
      const pf = await probe(rf.videoPath);
      assert.equal(pf.frames, emitCount(planRender(fadeOptions, [1.5, 1.5, 1.5])), 'full rate only while fading');
      assert.ok(pf.frames < 40);
      assert.ok(Math.abs(pf.duration - 4.5) <= 1 / 24, `duration ${pf.duration}`);
    } finally {
      await c2();
    }
  });

  it('loads each image once, in order, only when needed', async () => {
    const imgs = await Promise.all([RED, GREEN, BLUE, RED, GREEN, BLUE].map((c) => solid(160, 120, c, 'jpeg')));
    const order: number[] = [];
    const images = inputs(imgs, 0.5).map((img, i) => ({ ...img, load: async () => (order.push(i), img.load()) }));
    await renderer.render({ images, options: opts({ frameRateMode: 'still' }), maxImagePixels: 1e8, workDir: dir });
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
  });
});

describe('engine: frame cache (memory flat in image count)', () => {
  it('holds the current image plus the read-ahead, and only the two fading images during a crossfade', async () => {
    const img = await solid(64, 48, RED, 'png');
    const loads: number[] = [];
    const images = Array.from({ length: 6 }, (_, i) => ({ label: `i${i}`, durationSeconds: 1, load: async () => (loads.push(i), img) }));
    const spec = { width: 64, height: 48, fit: 'contain' as const, background: '#000000', maxImagePixels: 1e6 };
    const cache = new FrameCache(images, spec, 1);
    await cache.get(0, 0); // still of image 0: loads 0, prefetches 1
    assert.deepEqual([loads, cache.size], [[0, 1], 2]);
    await cache.get(0, 0); // fade 0 → 1: from ...
    await cache.get(1, 0, false); // ... and to, without reading further ahead
    assert.deepEqual([loads, cache.size], [[0, 1], 2], 'two fitted frames while fading');
    await cache.get(1, 1); // still of image 1: releases 0, prefetches 2
    assert.deepEqual([loads, cache.size], [[0, 1, 2], 2]);
    const two = new FrameCache(images, spec, 2);
    await two.get(4, 4);
    assert.equal(two.size, 2, 'read-ahead stops at the last image');
  });
});

describe('engine: failures carry contract codes', function () {
  this.timeout(30_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());
  const renderer = createRenderer();

  async function codeOf(p: Promise<unknown>): Promise<string> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof CodedError, `CodedError, got ${String(err)}`);
      return err.code;
    }
    return 'no error';
  }

  it('image_unreadable for random bytes, empty, truncated JPEG, GIF and SVG', async () => {
    const good = await solid(320, 240, RED, 'jpeg');
    const gif = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#f00' } }).gif().toBuffer();
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    const bad: Record<string, Buffer> = {
      random: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251)),
      empty: Buffer.alloc(0),
      truncated: good.subarray(0, Math.floor(good.length / 2)),
      gif,
      svg,
    };
    for (const [name, bytes] of Object.entries(bad)) {
      const err = renderer.render({ images: inputs([good, bytes], 0.5), options: opts(), maxImagePixels: 1e8, workDir: dir });
      assert.equal(await codeOf(err), 'image_unreadable', name);
    }
  });

  it('image_too_large over the pixel limit, whatever the byte size', async () => {
    const img = await solid(2000, 1500, RED, 'jpeg');
    const err = renderer.render({ images: inputs([img], 0.5), options: opts(), maxImagePixels: 2000 * 1500 - 1, workDir: dir });
    assert.equal(await codeOf(err), 'image_too_large');
    const ok = await renderer.render({ images: inputs([img], 0.5), options: opts(), maxImagePixels: 2000 * 1500, workDir: dir });
    assert.ok(ok.bytes > 0, 'exactly at the limit is fine');
  });

  it('render_timeout when FFmpeg runs past the limit', async () => {
    const imgs = [await solid(640, 480, RED, 'png'), await solid(640, 480, BLUE, 'png')];
    const slow = createRenderer({ timeoutMs: 1 });
    assert.equal(await codeOf(slow.render({ images: inputs(imgs, 5), options: opts(), maxImagePixels: 1e8, workDir: dir })), 'render_timeout');
  });

  it('stops on abort: a TimeoutError reason is render_timeout, anything else render_failed', async () => {
    const imgs = [await solid(640, 480, RED, 'png'), await solid(640, 480, BLUE, 'png')];
    const ac = new AbortController();
    // Abort while the render is under way: when image 1 is being loaded.
    const aborting = inputs(imgs, 20).map((img, i) => ({ ...img, load: async () => (i === 1 && ac.abort(), img.load()) }));
    const p = renderer.render({ images: aborting, options: opts({ fps: 60 }), maxImagePixels: 1e8, workDir: dir, signal: ac.signal });
    assert.equal(await codeOf(p), 'render_failed');
    // A deadline signal (e.g. the Lambda's remaining time) that fires while an image is slow to load.
    const slow = inputs(imgs, 20).map((img, i) => ({ ...img, load: async () => (i === 1 && (await new Promise((r) => setTimeout(r, 300))), img.load()) }));
    const timed = renderer.render({ images: slow, options: opts({ fps: 60 }), maxImagePixels: 1e8, workDir: dir, signal: AbortSignal.timeout(100) });
    assert.equal(await codeOf(timed), 'render_timeout');
  });

  it('out_of_disk when the video or the poster cannot be written (ENOSPC, via /dev/full)', async () => {
    const imgs = [await solid(320, 240, RED, 'png')];
    for (const [mode, file] of [['constant', 'video.mp4'], ['still', 'video.mp4'], ['constant', 'poster.jpg']] as const) {
      const { dir: d, cleanup: c } = await tempDir();
      try {
        await symlink('/dev/full', join(d, file));
        const err = renderer.render({ images: inputs(imgs, 2), options: opts({ frameRateMode: mode }), maxImagePixels: 1e8, workDir: d });
        assert.equal(await codeOf(err), 'out_of_disk', `${mode} ${file}`);
      } finally {
        await c();
      }
    }
  });

  it('render_failed when FFmpeg exits non-zero or cannot start; storage_error when load() fails', async () => {
    const imgs = [await solid(320, 240, RED, 'png')];
    const failing = createRenderer({ ffmpegPath: '/bin/false' });
    assert.equal(await codeOf(failing.render({ images: inputs(imgs, 1), options: opts(), maxImagePixels: 1e8, workDir: dir })), 'render_failed');
    const zero = inputs(imgs, 0);
    assert.equal(await codeOf(renderer.render({ images: zero, options: opts(), maxImagePixels: 1e8, workDir: dir })), 'manifest_invalid', 'impossible timeline');
    const missing = createRenderer({ ffmpegPath: '/nonexistent/ffmpeg' });
    assert.equal(await codeOf(missing.render({ images: inputs(imgs, 1), options: opts(), maxImagePixels: 1e8, workDir: dir })), 'render_failed');
    const images = [{ label: 'x', durationSeconds: 1, load: async () => Promise.reject(new Error('connection reset')) }];
    assert.equal(await codeOf(renderer.render({ images, options: opts(), maxImagePixels: 1e8, workDir: dir })), 'storage_error');
  });
});
