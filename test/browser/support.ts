/**
 * Browser-test support: Debian chromium through playwright-core (never a downloaded browser), a UI build into a
 * temp dir (so tests never clobber dist/ui), generated images, and screenshots into test-artifacts/ui/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import sharp, { type Sharp } from 'sharp';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = resolve('test-artifacts/ui');
export const VIEWPORTS = {
  phone: { width: 360, height: 740 },
  desktop: { width: 1280, height: 800 },
} as const;

/** Build the page with the project's Vite config into `outDir`. */
export async function buildUi(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: resolve('ui/vite.config.ts'), logLevel: 'error', build: { outDir, emptyOutDir: true } });
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Debian chromium with a fresh profile. Fails loudly when chromium is missing: these tests are never skipped. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does). Browser tests are not optional.`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: VIEWPORTS.desktop,
    acceptDownloads: true,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const vp = page.viewportSize();
  const file = join(ARTIFACTS, `${name}-${vp && vp.width <= 400 ? 'phone' : 'desktop'}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}

export const RGB = { red: [220, 30, 30], green: [30, 180, 60], blue: [30, 60, 220] } as const;

/** A solid-colour image. */
export function solid(width: number, height: number, rgb: readonly number[]): Sharp {
  return sharp({ create: { width, height, channels: 3, background: { r: rgb[0]!, g: rgb[1]!, b: rgb[2]! } } });
}

/** A colour with pixel noise: compresses like a real photo (MBs as JPEG), still clearly that colour on average. */
export function noisy(width: number, height: number, rgb: readonly number[], amplitude: number, seed = 1): Sharp {
  const buf = Buffer.alloc(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < buf.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = rgb[i % 3]! + ((s >>> 24) / 255 - 0.5) * 2 * amplitude;
    buf[i] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return sharp(buf, { raw: { width, height, channels: 3 } });
}
