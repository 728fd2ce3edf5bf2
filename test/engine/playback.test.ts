/**
 * The engine's videos play and seek in Chromium (Debian chromium via playwright-core): the constant
 * mode stream with spliced skip pictures, and the variable frame rate `still` mode, with a crossfade.
 * Pixels are read back through a canvas at several seek points.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { DEFAULT_OPTIONS } from '../../contracts/index.ts';
import type { FrameRateMode } from '../../contracts/index.ts';
import { createRenderer } from '../../lambdas/src/engine/index.ts';
import { inputs, near, solid, tempDir } from './helpers.ts';
import type { Rgb } from './helpers.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RED: Rgb = [220, 30, 30];
const GREEN: Rgb = [30, 200, 60];
const BLUE: Rgb = [30, 40, 220];

const PAGE = `<!doctype html><video id="v" src="video.mp4" muted preload="auto" poster="poster.jpg"></video><canvas id="c" width="854" height="480"></canvas>
<script>
const v = document.getElementById('v');
window.ready = new Promise((ok, ko) => { v.addEventListener('loadeddata', ok, { once: true }); v.addEventListener('error', () => ko(new Error('video error ' + (v.error && v.error.code))), { once: true }); });
window.colourAt = async (t) => {
  // Register for the next presented frame before seeking: 'seeked' can fire before the compositor has the
  // new picture, and drawImage would then read the previous one (seen about once in ten runs).
  const presented = new Promise((ok) => { v.requestVideoFrameCallback(() => ok()); setTimeout(ok, 1000); });
  await new Promise((ok) => { v.addEventListener('seeked', ok, { once: true }); v.currentTime = t; });
  await presented;
  const c = document.getElementById('c').getContext('2d');
  c.drawImage(v, 0, 0, 854, 480);
  const d = c.getImageData(420, 300, 8, 8).data;
  const s = [0, 0, 0];
  for (let i = 0; i < d.length; i += 4) { s[0] += d[i]; s[1] += d[i + 1]; s[2] += d[i + 2]; }
  return s.map((x) => Math.round(x / (d.length / 4)));
};
window.playFor = async (ms) => { await v.play(); await new Promise((ok) => setTimeout(ok, ms)); v.pause(); return { t: v.currentTime, err: v.error && v.error.code }; };
</script>`;

describe('engine: videos play and seek in Chromium', function () {
  this.timeout(60_000);
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}`);

  for (const mode of ['constant', 'still'] as FrameRateMode[]) {
    it(`${mode} mode with a crossfade: duration, seeks land on the right picture, plays`, async () => {
      const { dir, cleanup } = await tempDir();
      const profile = await mkdtemp(join(tmpdir(), 'engine-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--allow-file-access-from-files'],
      });
      try {
        const imgs = [await solid(854, 480, RED, 'png'), await solid(854, 480, GREEN, 'png'), await solid(854, 480, BLUE, 'png')];
        const options = { ...DEFAULT_OPTIONS, preset: '480p' as const, fps: 30 as const, secondsPerImage: 2, transition: 'crossfade' as const, transitionSeconds: 0.5, frameRateMode: mode };
        await createRenderer().render({ images: inputs(imgs, 2), options, maxImagePixels: 1e8, workDir: dir });
        await writeFile(join(dir, 'index.html'), PAGE);
        const page = await context.newPage();
        await page.goto(`file://${dir}/index.html`);
        await page.evaluate('window.ready');
        const duration = await page.evaluate('document.getElementById("v").duration');
        assert.ok(Math.abs(Number(duration) - 6) <= 1 / 30 + 1e-6, `duration ${String(duration)}`);
        // Seek out of order, including into the middle of long stills (skip pictures) and back.
        for (const [t, rgb] of [[1.0, RED], [5.5, BLUE], [3.0, GREEN], [0.2, RED], [4.6, BLUE], [2.9, GREEN]] as [number, Rgb][]) {
          const got = (await page.evaluate(`window.colourAt(${t})`)) as Rgb;
          assert.ok(near(got, rgb, 30), `${mode} at ${t}s: expected ${rgb}, got ${got}`);
        }
        const mid = (await page.evaluate('window.colourAt(2.0)')) as Rgb;
        assert.ok(mid[0] > 60 && mid[1] > 60, `${mode}: 2.0 s is mid-fade red→green, got ${mid}`);
        await page.evaluate('window.colourAt(0)');
        const played = (await page.evaluate('window.playFor(600)')) as { t: number; err: number | null };
        assert.equal(played.err, null);
        assert.ok(played.t > 0.2, `playback advanced to ${played.t}`);
      } finally {
        await context.close();
        await rm(profile, { recursive: true, force: true });
        await cleanup();
      }
    });
  }
});
