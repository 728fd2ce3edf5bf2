/**
 * Decode, validate and fit one user image with sharp (libvips). This is the only place user bytes are
 * parsed: FFmpeg later sees the fitted frames we produce.
 */
import sharp from 'sharp';
sharp.cache(false);
import type { Metadata } from 'sharp';
import { CodedError } from '../core/ports.ts';
import { i420Size, rgbToI420 } from './yuv.ts';

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp']);

/**
 * JPEG, PNG or WebP by their first bytes. Checked before sharp sees the bytes, so libvips never runs
 * its other loaders (SVG, TIFF, HEIF, GIF, ...) on user input: a smaller attack surface (issue 6).
 */
export function hasAcceptedSignature(b: Uint8Array): boolean {
  const jpeg = b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
  const png = b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a;
  const riff = b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46;
  const webp = riff && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50;
  return jpeg || png || webp;
}

/**
 * Process-wide: let libvips load only JPEG, PNG and WebP (and raw pixels), whatever the bytes claim.
 * Called by the Lambda entry points, whose process does nothing else; not by the engine itself,
 * because it would also block every other sharp user in a shared process (tests, the local stack).
 */
export function restrictDecoders(): void {
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: ['VipsForeignLoadJpegBuffer', 'VipsForeignLoadPngBuffer', 'VipsForeignLoadWebpBuffer'] });
}

export interface FitSpec {
  width: number;
  height: number;
  fit: 'contain' | 'cover';
  /** `#rrggbb` */
  background: string;
  maxImagePixels: number;
}

/** One image fitted to the output size, as planar I420 (what the encoder gets) and optionally packed RGB. */
export interface FittedFrame {
  width: number;
  height: number;
  yuv: Buffer;
  rgb?: Buffer;
}

function parseHex(hex: string): { r: number; g: number; b: number } {
  const v = Number.parseInt(hex.slice(1), 16);
  return { r: (v >> 16) & 255, g: (v >> 8) & 255, b: v & 255 };
}

/** sharp/libvips failure → contract code. */
function classify(err: unknown, label: string): CodedError {
  const msg = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(msg)) {
    return new CodedError('image_too_large', `${label}: the decoded image is larger than the pixel limit`, { image: label });
  }
  return new CodedError('image_unreadable', `${label}: not a readable JPEG, PNG or WebP image (${msg.split('\n')[0]})`, { image: label });
}

/**
 * Decode `bytes`, apply EXIF orientation, flatten alpha onto the background, normalise to 8-bit sRGB,
 * and fit to `spec` once (contain: letterbox on the background; cover: centre crop). Large JPEGs are
 * shrunk while decoding (libvips shrink-on-load), so the cost barely depends on the input resolution.
 */
export async function fitImage(bytes: Uint8Array, label: string, spec: FitSpec, keepRgb = false): Promise<FittedFrame> {
  if (bytes.length === 0) throw new CodedError('image_unreadable', `${label}: the file is empty`, { image: label });
  if (!hasAcceptedSignature(bytes)) {
    throw new CodedError('image_unreadable', `${label}: not a JPEG, PNG or WebP file (its first bytes say otherwise)`, { image: label });
  }
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meta: Metadata;
  try {
    meta = await sharp(input, { limitInputPixels: spec.maxImagePixels }).metadata();
  } catch (err) {
    throw classify(err, label);
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    throw new CodedError('image_unreadable', `${label}: format "${meta.format ?? 'unknown'}" is not JPEG, PNG or WebP`, { image: label });
  }
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (pixels > spec.maxImagePixels) {
    throw new CodedError('image_too_large', `${label}: ${meta.width}x${meta.height} is over the limit of ${spec.maxImagePixels} pixels`, { image: label });
  }
  const background = { ...parseHex(spec.background), alpha: 1 };
  let rgb: Buffer;
  try {
    const { data, info } = await sharp(input, { limitInputPixels: spec.maxImagePixels, failOn: 'truncated', sequentialRead: true })
      .rotate()
      .resize(spec.width, spec.height, { fit: spec.fit, position: 'centre', background, kernel: 'lanczos3', fastShrinkOnLoad: true })
      .flatten({ background })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== spec.width || info.height !== spec.height || info.channels !== 3) {
      throw new Error(`unexpected fitted shape ${info.width}x${info.height}x${info.channels}`);
    }
    rgb = data;
  } catch (err) {
    throw classify(err, label);
  }
  const yuv = rgbToI420(rgb, spec.width, spec.height, Buffer.allocUnsafe(i420Size(spec.width, spec.height)));
  return keepRgb ? { width: spec.width, height: spec.height, yuv, rgb } : { width: spec.width, height: spec.height, yuv };
}

/** Poster JPEG from a fitted frame's RGB. */
export async function writePoster(frame: FittedFrame, path: string): Promise<void> {
  if (!frame.rgb) throw new Error('poster needs the RGB of the fitted frame');
  await sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality: 85, mozjpeg: false }).toFile(path);
}
