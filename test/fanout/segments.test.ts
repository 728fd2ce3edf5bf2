import assert from 'node:assert/strict';
import { DEFAULT_OPTIONS, type RenderOptions } from '../../contracts/index.ts';
import { emittedFrames, planRender, type RenderPlan } from '../../lambdas/src/core/render-plan.ts';
import {
  cleanCuts,
  estimateRenderSeconds,
  imagesForRange,
  planSegments,
  segmentCount,
  slicePlan,
  type SegmentSpec,
} from '../../lambdas/src/core/segments.ts';

const opts = (o: Partial<RenderOptions> = {}): RenderOptions => ({ ...DEFAULT_OPTIONS, ...o });

/** What every output frame shows, frame by frame: "i3" or "b3>4@0.25". */
function pictures(plan: RenderPlan): string[] {
  const out: string[] = [];
  for (const s of plan.segments) {
    for (let i = 0; i < s.frames; i++) out.push(s.kind === 'still' ? `i${s.image}` : `b${s.from}>${s.to}@${s.weights[i]!.toFixed(6)}`);
  }
  return out;
}

function assertCovers(plan: RenderPlan, segs: SegmentSpec[]) {
  assert.equal(segs[0]!.frames.start, 0);
  assert.equal(segs[segs.length - 1]!.frames.end, plan.totalFrames);
  segs.forEach((s, i) => {
    assert.equal(s.index, i);
    assert.ok(s.frames.end > s.frames.start, 'no empty segment');
    if (i > 0) assert.equal(s.frames.start, segs[i - 1]!.frames.end, 'contiguous');
    assert.equal(s.durationSeconds, (s.frames.end - s.frames.start) / plan.fps);
  });
  const total = segs.reduce((a, s) => a + s.durationSeconds, 0);
  assert.ok(Math.abs(total - plan.durationSeconds) < 1e-9, 'durations add up to the whole video');
}

describe('fan-out: segment planning (pure)', () => {
  const hundred = Array.from({ length: 100 }, () => 3); // 300 s at 30 fps = 9000 frames

  it('segmentCount: the worker count, capped by the shortest worthwhile segment and by maxSegments', () => {
    const plan = planRender(opts(), hundred);
    assert.equal(segmentCount(plan, { workers: 1 }), 1);
    assert.equal(segmentCount(plan, { workers: 4 }), 4);
    assert.equal(segmentCount(plan, { workers: 4, maxSegments: 3 }), 3);
    // 300 s with 100 s minimum: at most 3.
    assert.equal(segmentCount(plan, { workers: 8, minSegmentSeconds: 100 }), 3);
    // A 9 s video is never split with the 10 s default.
    assert.equal(segmentCount(planRender(opts(), [3, 3, 3]), { workers: 4 }), 1);
    assert.throws(() => segmentCount(plan, { workers: 0 }), RangeError);
    assert.throws(() => segmentCount(plan, { workers: 1.5 }), RangeError);
  });

  it('segmentCount: a time budget per invocation raises the count until each segment fits', () => {
    const plan = planRender(opts(), hundred);
    const cost = { secondsPerFrame: 0.01, secondsPerImage: 0.5 }; // 90 + 50 = 140 s of work
    assert.equal(estimateRenderSeconds(cost, plan.totalFrames, plan.imageCount), 140);
    assert.equal(segmentCount(plan, { workers: 1, budget: { seconds: 60, cost } }), 3);
    assert.equal(segmentCount(plan, { workers: 4, budget: { seconds: 60, cost } }), 4, 'workers still win when larger');
    assert.equal(segmentCount(plan, { workers: 1, budget: { seconds: 200, cost } }), 1);
    assert.throws(() => segmentCount(plan, { workers: 1, budget: { seconds: 0, cost } }), RangeError);
  });

  it('without transitions cuts fall on image boundaries and no image is loaded twice', () => {
    const plan = planRender(opts(), hundred);
    const segs = planSegments(plan, { workers: 4 });
    assertCovers(plan, segs);
    assert.deepEqual(
      segs.map((s) => s.frames),
      [
        { start: 0, end: 2250 },
        { start: 2250, end: 4500 },
        { start: 4500, end: 6750 },
        { start: 6750, end: 9000 },
      ],
    );
    for (const s of segs) {
      assert.ok(plan.boundaries.includes(s.frames.start));
      assert.ok(s.cleanStart);
    }
    const all = segs.flatMap((s) => s.images);
    assert.equal(new Set(all).size, all.length, 'disjoint image sets');
    assert.deepEqual(all, Array.from({ length: 100 }, (_, i) => i));
  });

  it('uneven images: cuts snap to the nearest image boundary', () => {
    const plan = planRender(opts({ fps: 25 }), [7, 2, 2, 5, 9, 5]); // 30 s, boundaries at 0,175,225,275,400,625,750
    const segs = planSegments(plan, { count: 2 });
    assertCovers(plan, segs);
    assert.equal(segs[1]!.frames.start, 400, 'ideal 375 → the nearest boundary within a quarter segment');
    assert.deepEqual(segs[0]!.images, [0, 1, 2, 3]);
    assert.deepEqual(segs[1]!.images, [4, 5]);
    // One 28 s image and a 2 s one: no boundary near the middle, so the cut lands exactly on it.
    const lopsided = planRender(opts({ fps: 25 }), [28, 2]);
    const two = planSegments(lopsided, { count: 2 });
    assertCovers(lopsided, two);
    assert.equal(two[1]!.frames.start, 375);
    assert.equal(two[1]!.cleanStart, true, 'mid-still: no fade moves there');
    assert.deepEqual(two[1]!.images, [0, 1]);
  });

  it('with crossfades cuts fall on the first frame of a still run: no fade moves across a border', () => {
    const plan = planRender(opts({ transition: 'crossfade', transitionSeconds: 1 }), Array.from({ length: 20 }, () => 3));
    const segs = planSegments(plan, { count: 3 });
    assertCovers(plan, segs);
    const cuts = new Set(cleanCuts(plan));
    for (const s of segs.slice(1)) {
      assert.ok(s.cleanStart && cuts.has(s.frames.start), `segment ${s.index} starts on a still`);
      const atCut = plan.segments.find((p) => p.startFrame === s.frames.start)!;
      assert.equal(atCut.kind, 'still');
      // The frame before the cut is the last frame of the fade into this image.
      const before = plan.segments.find((p) => p.startFrame + p.frames === s.frames.start)!;
      assert.equal(before.kind, 'blend');
    }
    // Neighbours share exactly the image the border fade leads into.
    for (let i = 1; i < segs.length; i++) {
      const shared = segs[i]!.images.filter((k) => segs[i - 1]!.images.includes(k));
      assert.equal(shared.length, 1);
      assert.equal(shared[0], segs[i]!.images[0]);
    }
  });

  it('fades as long as the images leave no clean cut: it cuts inside a fade, still covering every frame', () => {
    const plan = planRender(opts({ transition: 'crossfade', transitionSeconds: 2 }), Array.from({ length: 10 }, () => 2));
    const segs = planSegments(plan, { count: 4 });
    assertCovers(plan, segs);
    assert.ok(segs.some((s) => !s.cleanStart));
  });

  it('imagesForRange lists exactly the images whose pixels appear', () => {
    const plan = planRender(opts({ transition: 'crossfade', transitionSeconds: 1, fps: 30 }), [3, 3, 3]);
    // Image 1 owns [90, 180); its fades are centred on 90 and 180, 15 frames each side.
    assert.deepEqual(imagesForRange(plan, { start: 0, end: 60 }), [0]);
    assert.deepEqual(imagesForRange(plan, { start: 80, end: 100 }), [0, 1]);
    assert.deepEqual(imagesForRange(plan, { start: 110, end: 160 }), [1]);
    assert.deepEqual(imagesForRange(plan, { start: 0, end: 270 }), [0, 1, 2]);
  });

  for (const transition of ['none', 'crossfade'] as const) {
    it(`slices rebuild the whole plan frame for frame (${transition}), at clean and at arbitrary cuts`, () => {
      const plan = planRender(opts({ transition, transitionSeconds: 0.7, fps: 24 }), [2, 3.3, 1.5, 4, 2.2]);
      const whole = pictures(plan);
      for (const cuts of [planSegments(plan, { count: 3 }).map((s) => s.frames), [{ start: 0, end: 37 }, { start: 37, end: 101 }, { start: 101, end: plan.totalFrames }]]) {
        const joined: string[] = [];
        for (const range of cuts) {
          const slice = slicePlan(plan, range);
          assert.equal(slice.totalFrames, range.end - range.start);
          assert.equal(slice.durationSeconds, slice.totalFrames / plan.fps);
          // The engine's emission of the slice starts at pts 0 and stays inside the slice.
          const emitted = [...emittedFrames(slice)];
          assert.equal(emitted[0]!.pts, 0);
          assert.ok(emitted.every((e) => e.pts >= 0 && e.pts < slice.totalFrames));
          assert.equal(emitted[emitted.length - 1]!.pts + emitted[emitted.length - 1]!.duration, slice.totalFrames);
          joined.push(...pictures(slice));
        }
        assert.deepEqual(joined, whole);
      }
    });
  }

  it('rejects ranges outside the plan and impossible counts', () => {
    const plan = planRender(opts(), [1, 1]);
    assert.throws(() => slicePlan(plan, { start: 0, end: 0 }), RangeError);
    assert.throws(() => slicePlan(plan, { start: -1, end: 10 }), RangeError);
    assert.throws(() => slicePlan(plan, { start: 10, end: 61 }), RangeError);
    assert.throws(() => planSegments(plan, { count: 0 }), RangeError);
    assert.throws(() => planSegments(plan, { count: 61 }), RangeError);
  });
});
