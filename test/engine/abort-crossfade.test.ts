/**
 * Aborting a render while crossfade frames are in flight leaves no unhandled rejection behind. The
 * engine queues each blended frame with writeFlushed() and awaits it only later; when the abort made
 * the next write throw first, that queued promise rejected with nobody listening. In a worker thread
 * that killed the thread (and, before WorkerRenderer kept an error listener, the local stack), and on
 * Lambda (Node 22) an unhandled rejection ends the invocation as Runtime.UnhandledPromiseRejection.
 */
import assert from 'node:assert/strict';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { CodedError } from '../../lambdas/src/core/ports.ts';
import { DEFAULT_OPTIONS, type RenderOptions } from '../../contracts/index.ts';
import { halves, inputs, tempDir } from './helpers.ts';

describe('engine: abort during crossfades', function () {
  this.timeout(120_000);

  for (const frameRateMode of ['constant', 'still'] as const) {
    it(`${frameRateMode}: rejects with a code and leaves no unhandled rejection`, async () => {
      const { dir, cleanup } = await tempDir();
      const stray: unknown[] = [];
      const onStray = (reason: unknown) => stray.push(reason);
      process.prependListener('unhandledRejection', onStray);
      try {
        const imgs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => halves(1600, 1200, [i * 40, 200, 90], [30, i * 40, 220])));
        const options: RenderOptions = { ...DEFAULT_OPTIONS, preset: '1080p', transition: 'crossfade', transitionSeconds: 2, frameRateMode };
        for (const at of [0.15, 0.4, 0.7]) {
          const ac = new AbortController();
          const renderer = createRenderer();
          const run = renderer.render({
            images: inputs(imgs, 3),
            options,
            maxImagePixels: 1e8,
            workDir: dir,
            signal: ac.signal,
            onProgress: (p) => {
              if (p.fraction >= at && !ac.signal.aborted) ac.abort(new Error('shutting down'));
            },
          });
          await assert.rejects(run, (err: unknown) => err instanceof CodedError && err.code === 'render_failed');
          await new Promise((r) => setTimeout(r, 300));
        }
        assert.deepEqual(stray.map((e) => String(e)), []);
      } finally {
        process.off('unhandledRejection', onStray);
        await cleanup();
      }
    });
  }
});
