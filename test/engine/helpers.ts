/** Test helpers for real renders: generated images, ffprobe, frame extraction, MP4 atom order. */
import { execFile } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { RenderInput } from '../../lambdas/src/core/ports.ts';
import { resolveFfmpegPath } from '../../lambdas/src/engine/index.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const FFMPEG = resolveFfmpegPath();
export const FFPROBE = join(dirname(require.resolve('@ffprobe-installer/linux-x64/package.json')), 'ffprobe');

export type Rgb = [number, number, number];

/** A solid image with a contrasting square in its top-left corner (so orientation is visible). */
export async function solid(width: number, height: number, rgb: Rgb, format: 'jpeg' | 'png' | 'webp' = 'png'): Promise<Buffer> {
  const mark = await sharp({ create: { width: Math.round(width / 4), height: Math.round(height / 4), channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .png()
    .toBuffer();
  const img = sharp({ create: { width, height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).composite([{ input: mark, left: 0, top: 0 }]);
  return format === 'jpeg' ? img.jpeg({ quality: 95 }).toBuffer() : format === 'webp' ? img.webp({ quality: 95 }).toBuffer() : img.png().toBuffer();
}

/** Two colour halves (top / bottom), optionally tagged with an EXIF orientation. */
export async function halves(width: number, height: number, top: Rgb, bottom: Rgb, orientation?: number): Promise<Buffer> {
  const half = await sharp({ create: { width, height: height / 2, channels: 3, background: { r: bottom[0], g: bottom[1], b: bottom[2] } } }).png().toBuffer();
  let img = sharp({ create: { width, height, channels: 3, background: { r: top[0], g: top[1], b: top[2] } } }).composite([{ input: half, left: 0, top: height / 2 }]);
  if (orientation) img = img.withMetadata({ orientation });
  return img.jpeg({ quality: 95 }).toBuffer();
}

export function inputs(buffers: Buffer[], seconds: number | number[]): RenderInput[] {
  return buffers.map((b, i) => ({
    label: `image ${i}`,
    durationSeconds: Array.isArray(seconds) ? seconds[i]! : seconds,
    load: async () => b,
  }));
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'engine-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export interface Probe {
  codec: string;
  pixFmt: string;
  width: number;
  height: number;
  frames: number;
  duration: number;
  packetTimes: number[];
  /** Bytes of each video packet, in file order. */
  packetSizes: number[];
}

export async function probe(file: string): Promise<Probe> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-select_streams', 'v:0', '-count_packets', '-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_packets:format=duration', '-show_entries', 'packet=pts_time,size', '-of', 'json', file]);
  const j = JSON.parse(stdout) as { streams: Record<string, string | number>[]; format: { duration: string }; packets: { pts_time: string; size: string }[] };
  const s = j.streams[0]!;
  return {
    codec: String(s.codec_name),
    pixFmt: String(s.pix_fmt),
    width: Number(s.width),
    height: Number(s.height),
    frames: Number(s.nb_read_packets),
    duration: Number(j.format.duration),
    packetTimes: j.packets.map((p) => Number(p.pts_time)).sort((a, b) => a - b),
    packetSizes: j.packets.map((p) => Number(p.size)),
  };
}

/** Decoded output frame number `n` (counting displayed frames) as packed RGB. */
export async function frameAt(file: string, n: number, width: number, height: number): Promise<Buffer> {
  const { stdout } = await run(FFMPEG, ['-v', 'error', '-nostdin', '-i', file, '-vf', `select=eq(n\\,${n})`, '-vsync', '0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (stdout.length !== width * height * 3) throw new Error(`frame ${n}: got ${stdout.length} bytes`);
  return stdout;
}

/** Mean RGB over a small box centred on (x, y). */
export function pixel(rgb: Buffer, width: number, x: number, y: number, r = 3): Rgb {
  const sum = [0, 0, 0];
  let count = 0;
  for (let yy = y - r; yy <= y + r; yy++) {
    for (let xx = x - r; xx <= x + r; xx++) {
      const i = (yy * width + xx) * 3;
      sum[0]! += rgb[i]!;
      sum[1]! += rgb[i + 1]!;
      sum[2]! += rgb[i + 2]!;
      count++;
    }
  }
  return sum.map((v) => Math.round(v / count)) as Rgb;
}

export function near(actual: Rgb, expected: Rgb, tolerance = 24): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

/** Top-level MP4 box types in file order. */
export async function topLevelBoxes(file: string): Promise<string[]> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const boxes: string[] = [];
    let pos = 0;
    const head = Buffer.alloc(16);
    while (pos + 8 <= size) {
      await fh.read(head, 0, 16, pos);
      let len = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      if (len === 1) len = Number(head.readBigUInt64BE(8));
      else if (len === 0) len = size - pos;
      boxes.push(type);
      if (len < 8) break;
      pos += len;
    }
    return boxes;
  } finally {
    await fh.close();
  }
}
