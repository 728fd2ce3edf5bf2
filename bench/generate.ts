/**
 * Deterministic, photo-like benchmark inputs: smooth colour fields (a low-resolution random grid
 * upscaled), soft shapes, a horizon-like gradient and fine sensor-like noise, encoded as JPEG by sharp.
 * Same seed and size give the same bytes (with the same sharp/libvips build), so every run and every
 * machine benchmarks the same work. Nothing is downloaded.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

export interface GenerateOptions {
  /** Output folder; files are `img000.jpg`, `img001.jpg`, ... */
  dir: string;
  count: number;
  width?: number;
  height?: number;
  seed?: number;
  /** JPEG quality; 90 gives ≈3 MB at 4000x3000 with the default noise. */
  quality?: number;
  /** Print one line per generated image. */
  log?: (line: string) => void;
}

export const DEFAULT_IMAGE = Object.freeze({ width: 4000, height: 3000, seed: 7, quality: 90 });

/** mulberry32: small, fast, seeded PRNG; returns floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function imageName(index: number): string {
  return `img${String(index).padStart(3, '0')}.jpg`;
}

/** Grain amplitude: two uniform terms of 0..NOISE_MASK around 128 (a triangular distribution). */
const NOISE_MASK = 0x0f;

function hex(n: number): string {
  return Math.round(Math.max(0, Math.min(255, n))).toString(16).padStart(2, '0');
}

/** One photo-like JPEG. `index` picks the image within the seeded set. */
export async function renderImage(index: number, width: number, height: number, seed: number, quality: number): Promise<Buffer> {
  const rnd = prng(seed * 100_003 + index * 7919 + 1);
  // Work at a quarter of the size for the soft parts (cheap blur), then upscale: photos are mostly smooth.
  const sw = Math.max(8, Math.round(width / 4));
  const sh = Math.max(8, Math.round(height / 4));
  // 1. Smooth colour field: a coarse random grid, upscaled with a cubic kernel.
  const gw = 12 + Math.floor(rnd() * 8);
  const gh = Math.max(2, Math.round((gw * height) / width));
  const base = [40 + rnd() * 180, 40 + rnd() * 180, 40 + rnd() * 180];
  const grid = Buffer.alloc(gw * gh * 3);
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const sky = y < gh * 0.45 ? 40 : -30; // a horizon: brighter top, darker bottom
      const light = (rnd() - 0.5) * 120; // brightness varies a lot, hue a little, as in photos
      for (let c = 0; c < 3; c++) {
        grid[(y * gw + x) * 3 + c] = Math.max(0, Math.min(255, base[c]! * 0.8 + sky + light + (rnd() - 0.5) * 50));
      }
    }
  }
  const field = await sharp(grid, { raw: { width: gw, height: gh, channels: 3 } })
    .resize(sw, sh, { kernel: 'cubic', fit: 'fill' })
    .blur(Math.max(1, sw / 60))
    .raw()
    .toBuffer();

  // 2. Soft shapes (ellipses and rectangles, some blurred) drawn at the small size.
  const soft: string[] = [];
  const n = 10 + Math.floor(rnd() * 14);
  for (let i = 0; i < n; i++) {
    const colour = `#${hex(rnd() * 255)}${hex(rnd() * 255)}${hex(rnd() * 255)}`;
    const opacity = (0.25 + rnd() * 0.6).toFixed(2);
    const x = Math.round(rnd() * sw);
    const y = Math.round(rnd() * sh);
    const s = Math.round((0.03 + rnd() * 0.25) * sw);
    const blur = rnd() < 0.5 ? ` filter="url(#b${i % 3})"` : '';
    if (rnd() < 0.55) {
      soft.push(`<ellipse cx="${x}" cy="${y}" rx="${s}" ry="${Math.round(s * (0.4 + rnd()))}" fill="${colour}" fill-opacity="${opacity}"${blur}/>`);
    } else {
      const rot = Math.round(rnd() * 90);
      soft.push(`<rect x="${x}" y="${y}" width="${s}" height="${Math.round(s * (0.3 + rnd()))}" fill="${colour}" fill-opacity="${opacity}" transform="rotate(${rot} ${x} ${y})"${blur}/>`);
    }
  }
  const softSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="${sw}" height="${sh}"><defs>${[2, 5, 15]
    .map((d, i) => `<filter id="b${i}"><feGaussianBlur stdDeviation="${d}"/></filter>`)
    .join('')}</defs>${soft.join('')}</svg>`;
  // (sharp composites after resizing, so the soft layer is flattened at the small size first)
  const small = await sharp(field, { raw: { width: sw, height: sh, channels: 3 } })
    .composite([{ input: Buffer.from(softSvg), blend: 'over' }])
    .removeAlpha()
    .raw()
    .toBuffer();
  const scene = await sharp(small, { raw: { width: sw, height: sh, channels: 3 } })
    .resize(width, height, { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();

  // 3. Sharp details at full size: thin lines give the encoder the edges real photos have (branches, wires).
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const x1 = Math.round(rnd() * width), y1 = Math.round(rnd() * height);
    const x2 = Math.round(x1 + (rnd() - 0.5) * width * 0.4), y2 = Math.round(y1 + (rnd() - 0.5) * height * 0.4);
    lines.push(`<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#${hex(rnd() * 255)}${hex(rnd() * 255)}${hex(rnd() * 255)}" stroke-width="${1 + Math.round(rnd() * 6)}" stroke-opacity="0.7"/>`);
  }
  const lineSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${lines.join('')}</svg>`;

  const composed = await sharp(scene, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(lineSvg), blend: 'over' }])
    .removeAlpha()
    .raw()
    .toBuffer();

  // 4. Fine grain, per pixel and seeded (xorshift32): what makes real photos cost bytes and decode time.
  let state = (seed * 2_654_435_761 + index * 40_503 + 17) >>> 0 || 1;
  for (let i = 0; i < composed.length; i += 3) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const g = (state & NOISE_MASK) + ((state >>> 8) & NOISE_MASK) - NOISE_MASK; // triangular, centred on 0
    const c = (state >>> 16) & 3; // a little colour noise on one channel as well
    for (let k = 0; k < 3; k++) {
      const v = composed[i + k]! + g + (k === c ? ((state >>> 20) & 3) - 1 : 0);
      composed[i + k] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return sharp(composed, { raw: { width, height, channels: 3 } }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
}

interface Stamp {
  width: number;
  height: number;
  seed: number;
  quality: number;
  sharp: string;
}

/**
 * Make sure `dir` holds `count` images for these settings; reuse what an earlier run generated
 * (a stamp file records the settings). Returns the file paths in order.
 */
export async function generateImages(opts: GenerateOptions): Promise<string[]> {
  const width = opts.width ?? DEFAULT_IMAGE.width;
  const height = opts.height ?? DEFAULT_IMAGE.height;
  const seed = opts.seed ?? DEFAULT_IMAGE.seed;
  const quality = opts.quality ?? DEFAULT_IMAGE.quality;
  await mkdir(opts.dir, { recursive: true });
  const stamp: Stamp = { width, height, seed, quality, sharp: sharp.versions.sharp ?? '' };
  const stampPath = join(opts.dir, 'stamp.json');
  const reuse = await readFile(stampPath, 'utf8')
    .then((text) => JSON.stringify(JSON.parse(text)) === JSON.stringify(stamp))
    .catch(() => false);
  if (!reuse) await writeFile(stampPath, JSON.stringify(stamp));
  const paths: string[] = [];
  for (let i = 0; i < opts.count; i++) {
    const path = join(opts.dir, imageName(i));
    paths.push(path);
    if (reuse) {
      const st = await stat(path).catch(() => null);
      if (st && st.size > 0) continue;
    }
    const t0 = performance.now();
    const bytes = await renderImage(i, width, height, seed, quality);
    // write to a temp name first so an interrupted run never leaves a truncated image behind
    await writeFile(`${path}.part`, bytes);
    await rename(`${path}.part`, path);
    opts.log?.(`generated ${imageName(i)} ${(bytes.length / 1e6).toFixed(2)} MB in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
  return paths;
}

/**
 * The same pictures at a smaller size (resized from the originals, so the fitted frames match and only
 * the decode work differs). Reuses files an earlier run made for the same settings.
 */
export async function downscaleImages(opts: { from: string[]; dir: string; width: number; height: number; quality?: number }): Promise<string[]> {
  const quality = opts.quality ?? DEFAULT_IMAGE.quality;
  await mkdir(opts.dir, { recursive: true });
  const stamp = JSON.stringify({ from: 'downscaled', width: opts.width, height: opts.height, quality, sharp: sharp.versions.sharp ?? '' });
  const stampPath = join(opts.dir, 'stamp.json');
  const reuse = await readFile(stampPath, 'utf8').then((t) => t === stamp).catch(() => false);
  if (!reuse) await writeFile(stampPath, stamp);
  const out: string[] = [];
  for (let i = 0; i < opts.from.length; i++) {
    const path = join(opts.dir, imageName(i));
    out.push(path);
    if (reuse && ((await stat(path).catch(() => null))?.size ?? 0) > 0) continue;
    const bytes = await sharp(opts.from[i]!).resize(opts.width, opts.height, { fit: 'fill', kernel: 'lanczos3' }).jpeg({ quality, chromaSubsampling: '4:2:0' }).toBuffer();
    await writeFile(`${path}.part`, bytes);
    await rename(`${path}.part`, path);
  }
  return out;
}
