/**
 * WorkerRenderer survives a render worker that throws after its render has already ended (seen with
 * Ctrl-C during a crossfade render: the engine's render rejected, then a stray rejection killed the
 * worker thread, and with no 'error' listener left on the Worker Node rethrew it in the main thread,
 * taking the whole local stack down). A fake engine module makes that happen on purpose.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WorkerRenderer } from '../../lambdas/src/adapters/local/worker-renderer.ts';
import { DEFAULT_OPTIONS } from '../../contracts/index.ts';
import { tempDir } from './support.ts';

const FAKE_ENGINE = `
export function createRenderer() {
  return {
    async render({ workDir }) {
      if (workDir.endsWith('crash')) {
        // The render fails, and something left behind throws a moment later.
        setTimeout(() => { throw new Error('stray error after the render ended'); }, 30);
        throw new Error('render failed on purpose');
      }
      return { videoPath: workDir + '/video.mp4', posterPath: workDir + '/poster.jpg', durationSeconds: 3, width: 1280, height: 720, bytes: 1, renderSeconds: 0 };
    },
  };
}
`;

describe('local WorkerRenderer: a worker that dies after its render ended', function () {
  this.timeout(30_000);

  it('does not crash the process, and the next render gets a fresh worker', async () => {
    const dir = await tempDir('worker-renderer-');
    const engine = join(dir.path, 'fake-engine.mjs');
    await writeFile(engine, FAKE_ENGINE);
    const renderer = new WorkerRenderer({ engineModule: pathToFileURL(engine).href });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // Mocha's own handler would also see it; record it so the assertion names the problem.
    process.prependListener('uncaughtException', onUncaught);
    try {
      const input = { images: [{ label: 'a.jpg', durationSeconds: 3, load: async () => new Uint8Array(1) }], options: { ...DEFAULT_OPTIONS }, maxImagePixels: 1e8 };
      await assert.rejects(renderer.render({ ...input, workDir: join(dir.path, 'crash') }), /render failed on purpose/);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(uncaught, []);
      const ok = await renderer.render({ ...input, workDir: join(dir.path, 'ok') });
      assert.equal(ok.durationSeconds, 3);
    } finally {
      process.off('uncaughtException', onUncaught);
      await renderer.close();
      await dir.remove();
    }
  });
});
