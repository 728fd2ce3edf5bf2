/**
 * Shrinks large photos in the browser before upload, to at most twice the chosen preset's size: the render
 * never needs more, and a phone uploads a 12 MP photo as a fraction of its bytes.
 *
 * EXIF orientation: `createImageBitmap(file, { imageOrientation: 'from-image' })` gives the pixels the way
 * the photo is meant to be seen, and a canvas export carries no EXIF, so the uploaded image is upright
 * without an orientation tag. Files that need no shrinking are uploaded untouched (EXIF and all; the
 * server applies the orientation itself).
 */
import { PRESETS } from '../../../contracts/index.ts';
import type { Fit, PresetName } from '../../../contracts/index.ts';

export interface Size {
  width: number;
  height: number;
}

/**
 * The size to shrink a `width`x`height` image (already upright) to, or null when it is small enough.
 * contain: the image must fit inside 2x the frame; cover: it must cover 2x the frame (it gets cropped).
 */
export function downscaleTarget(image: Size, preset: PresetName, fit: Fit): Size | null {
  const frame = PRESETS[preset];
  const sx = (frame.width * 2) / image.width;
  const sy = (frame.height * 2) / image.height;
  const scale = fit === 'cover' ? Math.max(sx, sy) : Math.min(sx, sy);
  if (!(scale < 1)) return null;
  return { width: Math.max(1, Math.round(image.width * scale)), height: Math.max(1, Math.round(image.height * scale)) };
}

export interface DownscaleResult {
  /** What to upload: the shrunk image, or the original file when shrinking did not help. */
  file: File;
  originalBytes: number;
  /** originalBytes - file.size (0 when the original is kept). */
  savedBytes: number;
  shrunk: boolean;
  /** Upright size of what is uploaded, when the image was decoded. */
  size?: Size;
}

const EXTENSIONS: Record<string, string> = { 'image/jpeg': '.jpg', 'image/webp': '.webp', 'image/png': '.png' };

function renamed(name: string, type: string): string {
  const ext = EXTENSIONS[type] ?? '';
  const base = name.replace(/\.[^./\\]*$/, '') || 'image';
  return `${base}${ext}`;
}

type Canvas2D = { canvas: OffscreenCanvas | HTMLCanvasElement; ctx: OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D };

function makeCanvas(size: Size): Canvas2D | null {
  if (typeof OffscreenCanvas !== 'undefined') {
    const canvas = new OffscreenCanvas(size.width, size.height);
    const ctx = canvas.getContext('2d');
    return ctx ? { canvas, ctx } : null;
  }
  const canvas = document.createElement('canvas');
  canvas.width = size.width;
  canvas.height = size.height;
  const ctx = canvas.getContext('2d');
  return ctx ? { canvas, ctx } : null;
}

function toBlob(canvas: OffscreenCanvas | HTMLCanvasElement, type: string, quality: number): Promise<Blob | null> {
  if ('convertToBlob' in canvas) return canvas.convertToBlob({ type, quality });
  return new Promise((resolve) => (canvas as HTMLCanvasElement).toBlob(resolve, type, quality));
}

/**
 * Shrink one image if it is larger than needed. Never throws for a bad image: the original is returned and
 * the server decides (it validates every image anyway).
 */
export async function downscaleImage(file: File, preset: PresetName, fit: Fit, quality = 0.9): Promise<DownscaleResult> {
  const keep: DownscaleResult = { file, originalBytes: file.size, savedBytes: 0, shrunk: false };
  if (typeof createImageBitmap !== 'function') return keep;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return keep;
  }
  try {
    const upright = { width: bitmap.width, height: bitmap.height };
    const target = downscaleTarget(upright, preset, fit);
    if (!target) return { ...keep, size: upright };
    const c = makeCanvas(target);
    if (!c) return keep;
    c.ctx.imageSmoothingEnabled = true;
    c.ctx.imageSmoothingQuality = 'high';
    c.ctx.drawImage(bitmap, 0, 0, target.width, target.height);
    // JPEG stays JPEG; PNG/WebP may have transparency, so they become WebP (or PNG where WebP cannot be encoded).
    const wanted = file.type === 'image/jpeg' ? 'image/jpeg' : 'image/webp';
    const blob = await toBlob(c.canvas, wanted, quality);
    if (!blob || !EXTENSIONS[blob.type] || blob.size >= file.size) return { ...keep, size: upright };
    const out = new File([blob], renamed(file.name, blob.type), { type: blob.type, lastModified: file.lastModified });
    return { file: out, originalBytes: file.size, savedBytes: file.size - out.size, shrunk: true, size: target };
  } finally {
    bitmap.close();
  }
}
