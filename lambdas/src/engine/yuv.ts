/**
 * Pixel arithmetic on fitted frames: RGB → I420 (yuv420p) and crossfade blends.
 * BT.601 limited range, the matrix FFmpeg's swscale uses by default, tagged in the MP4 so players agree.
 * Converting here (once per image) means FFmpeg never converts a repeated frame.
 */

/** Bytes of one I420 frame. */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * ((width >> 1) * (height >> 1));
}

/** Packed 8-bit RGB (3 channels) to planar I420. Width and height must be even. */
export function rgbToI420(rgb: Uint8Array, width: number, height: number, out?: Buffer): Buffer {
  const yPlane = width * height;
  const cw = width >> 1;
  const ch = height >> 1;
  const dst = out ?? Buffer.allocUnsafe(yPlane + 2 * cw * ch);
  const uBase = yPlane;
  const vBase = yPlane + cw * ch;
  for (let cy = 0; cy < ch; cy++) {
    const row0 = 2 * cy * width;
    const row1 = row0 + width;
    for (let cx = 0; cx < cw; cx++) {
      const x = 2 * cx;
      let i = (row0 + x) * 3;
      let r = rgb[i]!, g = rgb[i + 1]!, b = rgb[i + 2]!;
      dst[row0 + x] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
      let sr = r, sg = g, sb = b;
      i += 3;
      r = rgb[i]!; g = rgb[i + 1]!; b = rgb[i + 2]!;
      dst[row0 + x + 1] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
      sr += r; sg += g; sb += b;
      i = (row1 + x) * 3;
      r = rgb[i]!; g = rgb[i + 1]!; b = rgb[i + 2]!;
      dst[row1 + x] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
      sr += r; sg += g; sb += b;
      i += 3;
      r = rgb[i]!; g = rgb[i + 1]!; b = rgb[i + 2]!;
      dst[row1 + x + 1] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
      sr += r; sg += g; sb += b;
      // Averages of the 2x2 block, still ×4: fold the /4 into the shift.
      const c = cy * cw + cx;
      dst[uBase + c] = ((-38 * sr - 74 * sg + 112 * sb + 512) >> 10) + 128;
      dst[vBase + c] = ((112 * sr - 94 * sg - 18 * sb + 512) >> 10) + 128;
    }
  }
  return dst;
}

/**
 * out = a·(1−w) + b·w per byte (w in 0..1, quantised to 1/256). Works on any two same-size frames.
 * Four bytes per step: two 16-bit lanes per 32-bit word (255·256 fits a lane), when the buffers allow.
 */
export function blendFrames(a: Uint8Array, b: Uint8Array, weight: number, out: Buffer): Buffer {
  const wb = Math.min(256, Math.max(0, Math.round(weight * 256)));
  const wa = 256 - wb;
  const n = a.length;
  let i = 0;
  if (n % 4 === 0 && a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    const a32 = new Uint32Array(a.buffer, a.byteOffset, n / 4);
    const b32 = new Uint32Array(b.buffer, b.byteOffset, n / 4);
    const o32 = new Uint32Array(out.buffer, out.byteOffset, n / 4);
    const M = 0x00ff00ff;
    const R = 0x00800080; // +0.5 in each lane
    for (let j = 0; j < o32.length; j++) {
      const x = a32[j]!;
      const y = b32[j]!;
      const lo = (((x & M) * wa + (y & M) * wb + R) >>> 8) & M;
      const hi = ((((x >>> 8) & M) * wa + ((y >>> 8) & M) * wb + R) >>> 8) & M;
      o32[j] = (lo | (hi << 8)) >>> 0;
    }
    i = n;
  }
  for (; i < n; i++) out[i] = (a[i]! * wa + b[i]! * wb + 128) >> 8;
  return out;
}
