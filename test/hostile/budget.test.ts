/** The render budget per job (lambdas/src/core/budget.ts): what it accepts and refuses, at the boundaries. */
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, DEFAULT_OPTIONS, type RenderOptions } from '../../contracts/index.ts';
import {
  budgetProblem,
  CROSSFADE_MS_PER_MEGAPIXEL,
  DECODE_SECONDS_PER_IMAGE,
  renderBudgetSeconds,
  renderWork,
  STILL_MS_PER_MEGAPIXEL,
} from '../../lambdas/src/core/budget.ts';
import { parseManifest, validateCreateRequest } from '../../lambdas/src/core/job.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import { countCases } from './count.ts';

const opts = (o: Partial<RenderOptions>): RenderOptions => ({ ...DEFAULT_OPTIONS, ...o });
const images = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `${i}.jpg`, type: 'image/jpeg', size: 1000 }));
const MP_1080 = (1920 * 1080) / 1e6;

describe('hostile: render budget per job', () => {
  it('estimates render time from crossfade frames, still frames and images', () => {
    const w = renderWork(opts({ preset: '1080p', fps: 30, secondsPerImage: 3 }), 10);
    assert.equal(w.frames, 900);
    assert.equal(w.crossfadeFrames, 0);
    assert.ok(Math.abs(w.estimatedSeconds - ((900 * MP_1080 * STILL_MS_PER_MEGAPIXEL) / 1000 + 10 * DECODE_SECONDS_PER_IMAGE)) < 1e-9);
    const f = renderWork(opts({ preset: '1080p', fps: 30, secondsPerImage: 3, transition: 'crossfade', transitionSeconds: 1 }), 10);
    assert.equal(f.crossfadeFrames, 9 * 30);
    const expected = (270 * MP_1080 * CROSSFADE_MS_PER_MEGAPIXEL + 630 * MP_1080 * STILL_MS_PER_MEGAPIXEL) / 1000 + 10 * DECODE_SECONDS_PER_IMAGE;
    assert.ok(Math.abs(f.estimatedSeconds - expected) < 1e-9);
    assert.equal(renderBudgetSeconds(DEFAULT_LIMITS), 450);
  });

  it('at the default limits: long still slideshows pass at any preset, heavy crossfades at high resolution do not', () => {
    const cases: [string, Partial<RenderOptions>, number, boolean][] = [
      ['1080p60 stills, 900 s, 200 images', { preset: '1080p', fps: 60, secondsPerImage: 4.5 }, 200, true],
      ['vertical 60 fps stills, 900 s', { preset: 'vertical', fps: 60, secondsPerImage: 4.5 }, 200, true],
      ['1080p30, 200 x 3 s, 0.5 s fades (the page at 1080p)', { preset: '1080p', fps: 30, secondsPerImage: 3, transition: 'crossfade', transitionSeconds: 0.5 }, 200, true],
      ['720p30, 200 x 4.5 s, 2 s fades', { preset: '720p', fps: 30, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 200, true],
      ['480p24, 900 s of nothing but crossfades', { preset: '480p', fps: 24, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 200, true],
      ['1080p30, 900 s of nothing but crossfades', { preset: '1080p', fps: 30, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 200, false],
      ['1080p60, 2 s fades, 200 x 4.5 s', { preset: '1080p', fps: 60, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 200, false],
      ['1080p60, 2 s fades, 120 x 4.5 s', { preset: '1080p', fps: 60, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 120, false],
      ['1080p60, 2 s fades, 100 x 4.5 s', { preset: '1080p', fps: 60, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 100, true],
      ['1080p60, 2 s fades, 60 x 4.5 s', { preset: '1080p', fps: 60, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 }, 60, true],
      ['any preset, 901 s', { preset: '480p', fps: 24, durations: [...Array(199).fill(4.5), 5.5] }, 200, false],
    ];
    countCases('budget', cases.length);
    for (const [label, o, n, ok] of cases) {
      const problem = budgetProblem(opts(o), n, DEFAULT_LIMITS);
      const v = validateCreateRequest({ images: images(n), options: o }, DEFAULT_LIMITS);
      assert.equal(v.ok, ok, `${label}: ${v.ok ? 'accepted' : v.problem.message}`);
      if (!v.ok) {
        assert.equal(v.problem.code, 'job_budget_exceeded');
        assert.ok(problem || /limit is 900 s/.test(v.problem.message), v.problem.message);
      }
    }
  });

  it('the manifest is checked again (an edited manifest cannot raise the budget): manifest refused', () => {
    const jobId = '3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60';
    const m = {
      version: 1,
      jobId,
      images: Array.from({ length: 200 }, (_, i) => ({ index: i, key: keys.image(jobId, i), name: 'a', type: 'image/jpeg', size: 10, etag: '"x"' })),
      options: { preset: '1080p', fps: 60, secondsPerImage: 4.5, transition: 'crossfade', transitionSeconds: 2 },
    };
    const r = parseManifest(JSON.stringify(m), jobId, DEFAULT_LIMITS);
    assert.ok(!r.ok);
    assert.equal(r.problem.code, 'job_budget_exceeded');
  });

  it('the most expensive accepted job, at measured costs, fits the 900 s timeout on 2 vCPUs with room to spare', () => {
    // Measured on 2 cores (docs/security.md "Cost attacks"): a 1080p crossfade frame ≈ 30 ms (≈ 15 ms/MP,
    // up to twice that on a busy machine), still frames < 0.5 ms/MP, a 100 MP decode ≈ 0.15 s.
    let worst = 0;
    let worstLabel = '';
    for (const preset of ['480p', '720p', '1080p', 'square', 'vertical'] as const) {
      for (const fps of [24, 25, 30, 60] as const) {
        for (const t of [0, 0.5, 1, 2]) {
          // The most images (and so the most fades) the budget accepts for these settings.
          const o = opts({ preset, fps, secondsPerImage: 4.5, transition: t ? 'crossfade' : 'none', transitionSeconds: t || 0.5 });
          let n = 200;
          while (n > 1 && !validateCreateRequest({ images: images(n), options: o }, DEFAULT_LIMITS).ok) n--;
          const w = renderWork(o, n);
          if (w.estimatedSeconds > worst) {
            worst = w.estimatedSeconds;
            worstLabel = `${preset} ${fps} fps, ${t} s fades, ${n} images`;
          }
        }
      }
    }
    assert.ok(worst <= renderBudgetSeconds(DEFAULT_LIMITS));
    // Even if every crossfade frame took twice as long (a busy machine), it would end inside the timeout.
    assert.ok(worst * 2 < 900, `${Math.round(worst)} s`);
    console.log(`      most expensive accepted job: ${worstLabel}, estimated ${Math.round(worst)} s of the 900 s timeout`);
  });
});
