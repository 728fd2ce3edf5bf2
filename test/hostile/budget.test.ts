/** The render budget per job (lambdas/src/core/budget.ts): what it accepts and refuses, at the boundaries. */
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, DEFAULT_OPTIONS, type RenderOptions } from '../../contracts/index.ts';
import { budgetProblem, CROSSFADE_FRAME_WEIGHT, renderWork } from '../../lambdas/src/core/budget.ts';
import { parseManifest, validateCreateRequest } from '../../lambdas/src/core/job.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import { countCases } from './count.ts';

const opts = (o: Partial<RenderOptions>): RenderOptions => ({ ...DEFAULT_OPTIONS, ...o });
const images = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `${i}.jpg`, type: 'image/jpeg', size: 1000 }));

describe('hostile: render budget per job', () => {
  it('counts frames, crossfade frames and 1080p30-equivalent seconds', () => {
    const w = renderWork(opts({ preset: '1080p', fps: 30, secondsPerImage: 3 }), 10);
    assert.deepEqual(w, { frames: 900, crossfadeFrames: 0, equivalentSeconds: 30 });
    const f = renderWork(opts({ preset: '1080p', fps: 30, secondsPerImage: 3, transition: 'crossfade', transitionSeconds: 1 }), 10);
    assert.equal(f.crossfadeFrames, 9 * 30);
    assert.equal(f.equivalentSeconds, (900 - 270 + CROSSFADE_FRAME_WEIGHT * 270) / 30);
    const small = renderWork(opts({ preset: '720p', fps: 30, secondsPerImage: 3 }), 10);
    assert.ok(Math.abs(small.equivalentSeconds - 30 * (1280 * 720) / (1920 * 1080)) < 1e-9);
  });

  it('at the default limits: 900 s of 1080p30 or 720p60 stills pass, 1080p60 only up to 450 s, crossfades cost more', () => {
    const cases: [string, Partial<RenderOptions>, number, boolean][] = [
      ['1080p30 900 s', { preset: '1080p', fps: 30, secondsPerImage: 4.5 }, 200, true],
      ['vertical 30 fps 900 s', { preset: 'vertical', fps: 30, secondsPerImage: 4.5 }, 200, true],
      ['720p60 900 s', { preset: '720p', fps: 60, secondsPerImage: 4.5 }, 200, true],
      ['1080p60 450 s', { preset: '1080p', fps: 60, secondsPerImage: 4.5 }, 100, true],
      ['1080p60 451 s', { preset: '1080p', fps: 60, durations: [...Array(99).fill(4.5), 5.5] }, 100, false],
      ['1080p60 900 s', { preset: '1080p', fps: 60, secondsPerImage: 4.5 }, 200, false],
      ['1080p30 900 s all crossfade', { preset: '1080p', fps: 30, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 200, false],
      ['1080p30 300 s, 0.5 s fades', { preset: '1080p', fps: 30, secondsPerImage: 3, transition: 'crossfade', transitionSeconds: 0.5 }, 100, true],
      ['480p24 900 s all crossfade', { preset: '480p', fps: 24, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 200, true],
    ];
    countCases('budget', cases.length);
    for (const [label, o, n, ok] of cases) {
      const problem = budgetProblem(opts(o), n, DEFAULT_LIMITS);
      assert.equal(problem === null, ok, `${label}: ${problem?.message}`);
      const v = validateCreateRequest({ images: images(n), options: o }, DEFAULT_LIMITS);
      assert.equal(v.ok, ok, label);
      if (!v.ok) {
        assert.equal(v.problem.code, 'job_budget_exceeded');
        assert.match(v.problem.message, /limit is 900 s/);
      }
    }
  });

  it('the manifest is checked again (an edited manifest cannot raise the budget): manifest refused', () => {
    const jobId = '3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60';
    const m = {
      version: 1,
      jobId,
      images: Array.from({ length: 200 }, (_, i) => ({ index: i, key: keys.image(jobId, i), name: 'a', type: 'image/jpeg', size: 10, etag: '"x"' })),
      options: { preset: '1080p', fps: 60, secondsPerImage: 4.5 },
    };
    const r = parseManifest(JSON.stringify(m), jobId, DEFAULT_LIMITS);
    assert.ok(!r.ok);
    assert.equal(r.problem.code, 'job_budget_exceeded');
  });

  it('the largest accepted job fits the 900 s function timeout with room to spare (measured costs, docs/security.md)', () => {
    // Pessimistic costs on 2 cores (docs/security.md "Cost attacks"; measured: still frames well under
    // 1 ms, crossfade frame ≈ 30 ms, decoding a 100 MP PNG or JPEG ≈ 0.15 s): 5 ms, 30 ms, 1.5 s.
    const STILL_MS_PER_MP = 5 / 2.0736;
    const DECODE_S = 1.5;
    let worst = 0;
    for (const preset of ['480p', '720p', '1080p', 'square', 'vertical'] as const) {
      for (const fps of [24, 25, 30, 60] as const) {
        for (const t of [0, 0.5, 2]) {
          // The longest video the budget allows for these settings.
          const o = opts({ preset, fps, secondsPerImage: 4.5, transition: t ? 'crossfade' : 'none', transitionSeconds: t || 0.5 });
          let n = 200;
          while (n > 1 && (budgetProblem(o, n, DEFAULT_LIMITS) || 4.5 * n > DEFAULT_LIMITS.maxVideoSeconds)) n--;
          const w = renderWork(o, n);
          const mp = (w.equivalentSeconds * 30 * 2.0736) / (w.frames - w.crossfadeFrames + CROSSFADE_FRAME_WEIGHT * w.crossfadeFrames); // MP per frame
          const seconds = ((w.frames - w.crossfadeFrames) * mp * STILL_MS_PER_MP + w.crossfadeFrames * mp * STILL_MS_PER_MP * 6) / 1000 + n * DECODE_S;
          worst = Math.max(worst, seconds);
        }
      }
    }
    assert.ok(worst < 900 * 0.75, `worst accepted job ≈ ${Math.round(worst)} s`);
    console.log(`      largest accepted job, estimated: ${Math.round(worst)} s of the 900 s timeout`);
  });
});
