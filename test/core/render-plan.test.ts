import assert from 'node:assert/strict';
import { DEFAULT_OPTIONS, OPTION_BOUNDS, PRESETS, FPS_VALUES } from '../../contracts/index.ts';
import type { RenderOptions } from '../../contracts/index.ts';
import { emitCount, emittedFrames, encodedFrameCount, planRender, roundFrames } from '../../lambdas/src/core/render-plan.ts';
import type { RenderPlan } from '../../lambdas/src/core/render-plan.ts';

const opts = (o: Partial<RenderOptions> = {}): RenderOptions => ({ ...DEFAULT_OPTIONS, ...o });

/** Every frame covered once, in order, and each segment inside the images it names. */
function assertWellFormed(plan: RenderPlan) {
  let next = 0;
  for (const s of plan.segments) {
    assert.equal(s.startFrame, next, 'segments are contiguous');
    assert.ok(s.frames >= 1);
    if (s.kind === 'blend') {
      assert.equal(s.to, s.from + 1);
      assert.equal(s.weights.length, s.frames);
      s.weights.forEach((w, i) => {
        assert.ok(w > 0 && w < 1, `weight ${w} strictly inside (0,1)`);
        if (i > 0) assert.ok(w > s.weights[i - 1]!, 'weights increase');
      });
      // A fade lies within the two images' frame ranges.
      assert.ok(s.startFrame >= plan.boundaries[s.from]!);
      assert.ok(s.startFrame + s.frames <= plan.boundaries[s.to + 1]!);
    } else {
      assert.ok(s.startFrame >= plan.boundaries[s.image]! - plan.transitionFrames);
    }
    next += s.frames;
  }
  assert.equal(next, plan.totalFrames, 'segments cover every frame');
}

describe('core: render plan', () => {
  it('gives each image fps × seconds frames and the preset size', () => {
    const plan = planRender(opts({ preset: '1080p', fps: 30 }), [3, 3, 3]);
    assert.equal(plan.width, PRESETS['1080p'].width);
    assert.equal(plan.height, PRESETS['1080p'].height);
    assert.equal(plan.totalFrames, 270);
    assert.equal(plan.durationSeconds, 9);
    assert.deepEqual(plan.boundaries, [0, 90, 180, 270]);
    assert.deepEqual(
      plan.segments.map((s) => (s.kind === 'still' ? [s.image, s.startFrame, s.frames] : null)),
      [
        [0, 0, 90],
        [1, 90, 90],
        [2, 180, 90],
      ],
    );
    assertWellFormed(plan);
  });

  it('rounds cumulative boundaries, so errors never accumulate (halves round up)', () => {
    // 0.5 s at 25 fps = 12.5 frames: boundaries at 12.5 → 13, 25, 37.5 → 38, 50.
    const plan = planRender(opts({ fps: 25 }), [0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(plan.boundaries, [0, 13, 25, 38, 50]);
    assert.equal(plan.totalFrames, 50);
    // Binary fractions do not bite: 0.1-steps sum exactly.
    assert.equal(roundFrames((0.1 + 0.2) * 10), 3);
    assert.equal(roundFrames(2.5), 3);
    assert.equal(roundFrames(2.4999), 2);
    // Per-image rounding would give 30 × round(0.7×24=16.8)=17 → 510 frames; cumulative gives the exact 504.
    const p = planRender(opts({ fps: 24 }), Array.from({ length: 30 }, () => 0.7));
    assert.equal(p.totalFrames, 504);
    assertWellFormed(p);
  });

  it('keeps the total duration within half a frame of the sum for every fps and awkward durations', () => {
    const durations = [0.5, 1.37, 20, 2.71, 0.55, 3.333];
    const sum = durations.reduce((a, b) => a + b, 0);
    for (const fps of FPS_VALUES) {
      for (const transition of ['none', 'crossfade'] as const) {
        const plan = planRender(opts({ fps, transition, transitionSeconds: 0.5 }), durations);
        assert.ok(Math.abs(plan.durationSeconds - sum) <= 0.5 / fps + 1e-9, `${fps} fps ${transition}`);
        assertWellFormed(plan);
      }
    }
  });

  it('centres crossfades on image boundaries without adding time', () => {
    const plan = planRender(opts({ fps: 30, transition: 'crossfade', transitionSeconds: 0.5 }), [3, 3, 3]);
    assert.equal(plan.totalFrames, 270);
    assert.equal(plan.transitionFrames, 15);
    const blends = plan.segments.filter((s) => s.kind === 'blend');
    assert.equal(blends.length, 2);
    for (const [i, b] of blends.entries()) {
      assert.equal(b.from, i);
      const boundary = plan.boundaries[i + 1]!;
      // The ramp spans 15 frame lengths; sampled at frame midpoints, 14 frames lie strictly inside it
      // (the two ends land exactly on 0 and 1), 7 each side of the boundary.
      assert.equal(b.frames, 14);
      assert.equal(b.startFrame, boundary - 7);
      b.weights.forEach((w, j) => {
        assert.ok(Math.abs(w - (j + 1) / 15) < 1e-9, 'linear ramp in steps of 1/15');
        assert.ok(Math.abs(w + b.weights[13 - j]! - 1) < 1e-9, 'symmetric around the boundary');
      });
    }
    assertWellFormed(plan);
  });

  it('fits fades that use a whole image (transition = shortest duration), with no still of it left', () => {
    const plan = planRender(opts({ fps: 24, transition: 'crossfade', transitionSeconds: 1 }), [2, 1, 2]);
    assertWellFormed(plan);
    const stills = plan.segments.filter((s) => s.kind === 'still').map((s) => (s.kind === 'still' ? s.image : -1));
    assert.deepEqual(stills, [0, 2], 'image 1 is only ever seen mid-fade');
    // A 1 s ramp at 24 fps has its ends on frame edges: 24 frames, and the two fades touch.
    const blends = plan.segments.filter((s) => s.kind === 'blend');
    assert.deepEqual(blends.map((b) => [b.startFrame, b.frames]), [[36, 24], [60, 24]]);
  });

  it('handles the smallest transition at every fps (at least a frame of fade)', () => {
    for (const fps of FPS_VALUES) {
      const plan = planRender(opts({ fps, transition: 'crossfade', transitionSeconds: OPTION_BOUNDS.transitionSeconds.min }), [1, 1]);
      const blend = plan.segments.find((s) => s.kind === 'blend');
      assert.ok(blend && blend.frames >= 2, `${fps} fps`);
      assertWellFormed(plan);
    }
  });

  it('ignores transitions with a single image and with transition none', () => {
    assert.equal(planRender(opts({ transition: 'crossfade' }), [3]).segments.length, 1);
    const none = planRender(opts({ transition: 'none', transitionSeconds: 2 }), [3, 3]);
    assert.equal(none.transitionFrames, 0);
    assert.ok(none.segments.every((s) => s.kind === 'still'));
  });

  it('covers the bounds: shortest and longest images, highest fps', () => {
    const { min, max } = OPTION_BOUNDS.secondsPerImage;
    const plan = planRender(opts({ fps: 60, transition: 'crossfade', transitionSeconds: OPTION_BOUNDS.transitionSeconds.max }), [max, max, max]);
    assert.equal(plan.totalFrames, 3 * max * 60);
    assertWellFormed(plan);
    const short = planRender(opts({ fps: 24, transition: 'crossfade', transitionSeconds: min }), [min, min, min]);
    assert.equal(short.totalFrames, 36);
    assertWellFormed(short);
  });

  it('refuses impossible input', () => {
    assert.throws(() => planRender(opts(), []), RangeError);
    assert.throws(() => planRender(opts(), [0]), RangeError);
    assert.throws(() => planRender(opts(), [Number.NaN]), RangeError);
    assert.throws(() => planRender(opts({ transition: 'crossfade', transitionSeconds: 2 }), [1, 3]), RangeError);
  });

  it('emits one picture per still and one per blend frame, ending on the last frame', () => {
    const plan = planRender(opts({ fps: 30, transition: 'crossfade', transitionSeconds: 0.5 }), [3, 3, 3]);
    const frames = [...emittedFrames(plan)];
    // 3 stills + 2 × 14 blend frames + the end marker.
    assert.equal(frames.length, 3 + 28 + 1);
    assert.equal(emitCount(plan), frames.length);
    assert.equal(encodedFrameCount(plan, 'still'), frames.length);
    assert.equal(encodedFrameCount(plan, 'constant'), 270);
    let t = 0;
    for (const f of frames) {
      assert.equal(f.pts, t, 'pictures tile the timeline');
      t += f.duration;
    }
    assert.equal(t, plan.totalFrames);
    const last = frames[frames.length - 1]!;
    assert.deepEqual([last.kind, last.pts, last.duration], ['still', 269, 1]);
  });

  it('needs no end marker when the video ends on a one-frame still', () => {
    const plan = planRender(opts({ fps: 24 }), [1 / 24]);
    assert.deepEqual([...emittedFrames(plan)], [{ kind: 'still', image: 0, pts: 0, duration: 1 }]);
  });
});
