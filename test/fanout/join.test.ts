/**
 * Real renders: the timeline split into 2 and 3 segments (with and without a crossfade across the
 * borders), each rendered with `frames`, joined by stream copy, and compared with the single render.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_OPTIONS, type RenderOptions } from '../../contracts/index.ts';
import { planRender, type RenderPlan } from '../../lambdas/src/core/render-plan.ts';
import { planSegments, type SegmentSpec } from '../../lambdas/src/core/segments.ts';
import type { RenderInput } from '../../lambdas/src/core/ports.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { concatList, joinArgs, joinSegments } from '../../lambdas/src/engine/segments.ts';
import { FFMPEG, frameAt, near, pixel, solid, tempDir, topLevelBoxes, type Rgb } from '../engine/helpers.ts';
import { COLOURS, decodeErrors, streamFacts } from './helpers.ts';


const SECONDS = 2;
const W = 854;
const H = 480;
/** A sample point inside the fitted image, away from its white corner mark. */
const SX = W / 2;
const SY = H / 2 + 60;

/** The colour the plan puts at the sample point of frame n (solid images; blends mix linearly). */
function expectedColour(plan: RenderPlan, n: number): Rgb {
  const seg = plan.segments.find((p) => n >= p.startFrame && n < p.startFrame + p.frames)!;
  if (seg.kind === 'still') return COLOURS[seg.image]!;
  const w = seg.weights[n - seg.startFrame]!;
  const a = COLOURS[seg.from]!;
  const b = COLOURS[seg.to]!;
  return a.map((v, i) => Math.round(v * (1 - w) + b[i]! * w)) as Rgb;
}

function images(loads: number[]): RenderInput[] {
  return COLOURS.map((c, i) => ({
    label: `image ${i}`,
    durationSeconds: SECONDS,
    load: async () => {
      loads.push(i);
      return solid(320, 240, c);
    },
  }));
}

describe('fan-out: segments rendered apart and joined by stream copy (real FFmpeg)', function () {
  this.timeout(240_000);
  const renderer = createRenderer({ ffmpegPath: FFMPEG });
  let tmp: { dir: string; cleanup: () => Promise<void> };
  before(async () => {
    tmp = await tempDir();
  });
  after(async () => {
    await tmp.cleanup();
  });

  async function renderWhole(name: string, options: RenderOptions): Promise<string> {
    const workDir = join(tmp.dir, name);
    await mkdir(workDir);
    const r = await renderer.render({ images: images([]), options, maxImagePixels: 1e8, workDir });
    return r.videoPath;
  }

  async function renderJoined(name: string, options: RenderOptions, segs: SegmentSpec[]): Promise<{ path: string; loads: number[][] }> {
    const loads: number[][] = [];
    const paths = await Promise.all(
      segs.map(async (s) => {
        const workDir = join(tmp.dir, `${name}-seg${s.index}`);
        await mkdir(workDir);
        const l: number[] = [];
        loads[s.index] = l;
        const r = await renderer.render({ images: images(l), options, maxImagePixels: 1e8, workDir, frames: s.frames });
        assert.equal(r.durationSeconds, s.durationSeconds, 'a segment reports its own length');
        return r.videoPath;
      }),
    );
    const out = join(tmp.dir, `${name}-joined.mp4`);
    const joined = await joinSegments(paths, out, FFMPEG, { durations: segs.map((s) => s.durationSeconds) });
    assert.ok(joined.bytes > 0);
    return { path: out, loads };
  }

  const cases: { count: number; transition: RenderOptions['transition']; mode: RenderOptions['frameRateMode'] }[] = [
    { count: 2, transition: 'none', mode: 'constant' },
    { count: 3, transition: 'none', mode: 'constant' },
    { count: 2, transition: 'crossfade', mode: 'constant' },
    { count: 3, transition: 'crossfade', mode: 'constant' },
    { count: 3, transition: 'crossfade', mode: 'still' },
  ];
  for (const c of cases) {
    it(`${c.count} segments, transition ${c.transition}, ${c.mode}: same frames and duration as one render, IDR at every border, plays`, async () => {
      const options: RenderOptions = { ...DEFAULT_OPTIONS, preset: '480p', fps: 30, secondsPerImage: SECONDS, transition: c.transition, transitionSeconds: 0.5, frameRateMode: c.mode };
      const plan = planRender(options, COLOURS.map(() => SECONDS));
      const segs = planSegments(plan, { count: c.count });
      const name = `${c.count}-${c.transition}-${c.mode}`;
      const [whole, joined] = await Promise.all([renderWhole(`${name}-whole`, options), renderJoined(name, options, segs)]);

      const a = await streamFacts(whole);
      const b = await streamFacts(joined.path);
      const frame = 1 / plan.fps;
      assert.equal(b.frames, a.frames, 'same decoded frame count as the single render');
      if (c.mode === 'constant') assert.equal(b.frames, plan.totalFrames);
      assert.ok(Math.abs(b.duration - plan.durationSeconds) < frame, `duration ${b.duration} within one frame of ${plan.durationSeconds}`);
      assert.ok(Math.abs(b.duration - a.duration) < frame);
      // Monotonic timestamps: decode order strictly increasing, presentation times unique.
      for (let i = 1; i < b.packets.length; i++) assert.ok(b.packets[i]!.dts > b.packets[i - 1]!.dts, `dts increases at packet ${i}`);
      const pts = b.packets.map((p) => p.pts).sort((x, y) => x - y);
      for (let i = 1; i < pts.length; i++) assert.ok(pts[i]! > pts[i - 1]!, 'unique pts');
      // Every segment starts with a key frame exactly at its first frame's time.
      for (const s of segs) {
        const t = s.frames.start / plan.fps;
        assert.ok(b.packets.some((p) => p.key && Math.abs(p.pts - t) < frame / 4), `key frame at ${t.toFixed(3)} s (segment ${s.index})`);
      }
      assert.deepEqual((await topLevelBoxes(joined.path)).filter((x) => x === 'moov' || x === 'mdat'), ['moov', 'mdat'], '+faststart');
      assert.equal(await decodeErrors(joined.path), '', 'the whole file decodes without errors');

      // Each segment loaded only its own images.
      segs.forEach((s) => assert.deepEqual([...new Set(joined.loads[s.index])].sort(), s.images));
      if (c.transition === 'none') {
        const all = joined.loads.flat();
        assert.equal(all.length, COLOURS.length, 'no image decoded twice without transitions');
      }

      // Pixels: both sides of every border show what the plan says (constant mode: output frame n = plan
      // frame n), and a frame inside each segment matches the single render.
      if (c.mode === 'constant') {
        for (const s of segs.slice(1)) {
          for (const n of [s.frames.start - 1, s.frames.start]) {
            const got = pixel(await frameAt(joined.path, n, W, H), W, SX, SY);
            assert.ok(near(got, expectedColour(plan, n), 10), `frame ${n}: joined ${got} vs plan ${expectedColour(plan, n)}`);
          }
        }
        for (const s of segs) {
          const n = s.frames.start + 10;
          const pa = pixel(await frameAt(whole, n, W, H), W, SX, SY);
          const pb = pixel(await frameAt(joined.path, n, W, H), W, SX, SY);
          assert.ok(near(pa, pb, 6), `frame ${n}: joined ${pb} vs single ${pa}`);
        }
      }
    });
  }

  it('a cut inside a crossfade (no clean cut near) still gives the single render’s frames', async () => {
    const options: RenderOptions = { ...DEFAULT_OPTIONS, preset: '480p', fps: 30, secondsPerImage: SECONDS, transition: 'crossfade', transitionSeconds: 1 };
    const plan = planRender(options, COLOURS.map(() => SECONDS));
    // Frame 60 is the middle of the first fade (image 0 → 1, frames 45..74).
    const mid = 60;
    assert.equal(plan.segments.find((p) => mid >= p.startFrame && mid < p.startFrame + p.frames)?.kind, 'blend');
    const segs: SegmentSpec[] = [
      { index: 0, frames: { start: 0, end: mid }, images: [0, 1], durationSeconds: mid / 30, cleanStart: true },
      { index: 1, frames: { start: mid, end: plan.totalFrames }, images: [0, 1, 2, 3, 4, 5], durationSeconds: (plan.totalFrames - mid) / 30, cleanStart: false },
    ];
    const [whole, joined] = await Promise.all([renderWhole('midfade-whole', options), renderJoined('midfade', options, segs)]);
    const b = await streamFacts(joined.path);
    assert.equal(b.frames, plan.totalFrames);
    assert.equal(await decodeErrors(joined.path), '');
    for (const n of [mid - 1, mid, mid + 1]) {
      const pa = pixel(await frameAt(whole, n, W, H), W, SX, SY);
      const pb = pixel(await frameAt(joined.path, n, W, H), W, SX, SY);
      assert.ok(near(pa, pb, 6), `blend frame ${n}: joined ${pb} vs single ${pa}`);
      assert.ok(near(pb, expectedColour(plan, n), 10), `blend frame ${n}: joined ${pb} vs plan ${expectedColour(plan, n)}`);
    }
  });

  it('the concat list quotes paths, pins durations and refuses relative or control-character paths; FFmpeg reads local files only', () => {
    const list = concatList(['/tmp/a b/0.mp4', "/tmp/it's/1.mp4"], [4.2333333333, 8]);
    assert.equal(list, "ffconcat version 1.0\nfile '/tmp/a b/0.mp4'\nduration 4.233333\nfile '/tmp/it'\\''s/1.mp4'\nduration 8.000000\n");
    assert.throws(() => concatList(['rel/0.mp4']), /absolute/);
    assert.throws(() => concatList(['/tmp/a\nfile /etc/passwd']), /control character/);
    const args = joinArgs('/tmp/l.ffconcat', '/tmp/out.mp4');
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(at('-protocol_whitelist'), 'file');
    assert.equal(at('-c'), 'copy');
    assert.equal(at('-movflags'), '+faststart');
    assert.ok(args.indexOf('-protocol_whitelist') < args.indexOf('-i'), 'the whitelist applies to the input');
  });

  it('a bad segment fails the join with render_failed', async () => {
    const bogus = join(tmp.dir, 'bogus.mp4');
    await import('node:fs/promises').then((fs) => fs.writeFile(bogus, 'not an mp4'));
    await assert.rejects(joinSegments([bogus], join(tmp.dir, 'bad-join.mp4'), FFMPEG), (e: Error & { code?: string }) => e.code === 'render_failed');
  });
});
