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

/**
 * Save `<name>-phone.png` or `<name>-desktop.png`. Phones get what is on screen (sticky bars where they
 * really are); desktops the whole page, unless `fullPage` says otherwise.
 */
export async function screenshot(page: Page, name: string, fullPage?: boolean, animations: 'disabled' | 'allow' = 'disabled'): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const vp = page.viewportSize();
  const phone = !!vp && vp.width <= 400;
  const file = join(ARTIFACTS, `${name}-${phone ? 'phone' : 'desktop'}.png`);
  await page.screenshot({ path: file, fullPage: fullPage ?? !phone, animations });
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

/** A photo-like picture (sky, sun, hills) for screenshots that should look like real use. */
export function scene(width: number, height: number, palette: { sky: [string, string]; sun: string; hills: [string, string] }, seed: number): Sharp {
  const sunX = Math.round(width * (0.2 + ((seed * 37) % 60) / 100));
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${palette.sky[0]}"/><stop offset="1" stop-color="${palette.sky[1]}"/></linearGradient></defs>
  <rect width="100%" height="100%" fill="url(#s)"/>
  <circle cx="${sunX}" cy="${Math.round(height * 0.35)}" r="${Math.round(height * 0.12)}" fill="${palette.sun}"/>
  <path d="M0 ${height * 0.7} Q ${width * 0.25} ${height * 0.45} ${width * 0.5} ${height * 0.65} T ${width} ${height * 0.6} V ${height} H 0 Z" fill="${palette.hills[0]}"/>
  <path d="M0 ${height * 0.85} Q ${width * 0.35} ${height * 0.7} ${width * 0.7} ${height * 0.82} T ${width} ${height * 0.8} V ${height} H 0 Z" fill="${palette.hills[1]}"/>
</svg>`;
  return sharp(Buffer.from(svg));
}

export const SCENES = [
  { name: 'sunrise.jpg', palette: { sky: ['#fbbf24', '#f97316'], sun: '#fef3c7', hills: ['#9a3412', '#431407'] } },
  { name: 'lake.jpg', palette: { sky: ['#38bdf8', '#e0f2fe'], sun: '#fffbeb', hills: ['#15803d', '#14532d'] } },
  { name: 'dusk.jpg', palette: { sky: ['#312e81', '#db2777'], sun: '#fde68a', hills: ['#1e1b4b', '#0f172a'] } },
  { name: 'meadow.jpg', palette: { sky: ['#a5f3fc', '#ecfeff'], sun: '#fef9c3', hills: ['#65a30d', '#3f6212'] } },
] as const satisfies readonly { name: string; palette: Parameters<typeof scene>[2] }[];

/**
 * axe-core (WCAG 2.1 A/AA rules: contrast, labels, names, landmarks…) run inside the page, injected from
 * node_modules (no network). Throws with every violation listed.
 */
export async function audit(page: Page, state: string): Promise<void> {
  await page.addScriptTag({ path: resolve('node_modules/axe-core/axe.min.js') });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: { id: string; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => `${v.id} (${v.help}): ${v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('; ')}`);
  });
  if (violations.length) throw new Error(`accessibility violations in "${state}":\n- ${violations.join('\n- ')}`);
}
