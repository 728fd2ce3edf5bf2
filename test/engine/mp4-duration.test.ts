import assert from 'node:assert/strict';
import { DEFAULT_OPTIONS, type Fps } from '../../contracts/index.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { mp4Timescale } from '../../lambdas/src/engine/renderer.ts';
import { inputs, probe, solid, tempDir } from './helpers.ts';

// Players show whole seconds rounded down: a 15 s video stored as 14.99985 s reads "0:14" next to our "0:15".
describe('engine: constant-mode MP4 duration is exact (one timescale tick per frame)', function () {
  this.timeout(120_000);

  it('picks the frame rate as the timescale unless microsecond rounding could stack two frames on a tick', () => {
    assert.equal(mp4Timescale({ fps: 30, totalFrames: 27_000 }), 30); // 900 s: drift 0.27 tick
    assert.equal(mp4Timescale({ fps: 30, totalFrames: 60_000 }), undefined); // 33 333 µs rounds down: would collide
    assert.equal(mp4Timescale({ fps: 24, totalFrames: 1_000_000 }), 24); // 41 667 µs rounds up: never collides
    assert.equal(mp4Timescale({ fps: 25, totalFrames: 1_000_000 }), 25); // exact
    assert.equal(mp4Timescale({ fps: 60, totalFrames: 1_000_000 }), 60); // 16 667 µs rounds up
  });

  for (const fps of [24, 30, 60] as Fps[]) {
    it(`${fps} fps: 3 stills x 1.5 s → exactly 4.5 s`, async () => {
      const dir = await tempDir();
      try {
        const imgs = await Promise.all([solid(320, 240, [200, 30, 30]), solid(320, 240, [30, 200, 30]), solid(320, 240, [30, 30, 200])]);
        const r = await createRenderer().render({
          images: inputs(imgs, 1.5),
          options: { ...DEFAULT_OPTIONS, preset: '480p', fps },
          maxImagePixels: 1e8,
          workDir: dir.dir,
        });
        const p = await probe(r.videoPath);
        assert.equal(p.frames, 4.5 * fps);
        assert.ok(Math.abs(p.duration - 4.5) < 1e-6, `duration ${p.duration}`);
      } finally {
        await dir.cleanup();
      }
    });
  }
});
