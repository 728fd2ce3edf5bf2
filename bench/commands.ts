/**
 * The commands the benchmark compares, as argument arrays (no shell), plus the probes it needs
 * (ffprobe, SSIM, the x264 settings an MP4 was encoded with).
 * All three sides use the same FFmpeg binary: the npm static build the engine falls back to.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { PRESETS, type PresetName } from '../contracts/index.ts';

const require = createRequire(import.meta.url);
export const REPO_ROOT = resolve(import.meta.dirname, '..');

/** The npm static FFmpeg (2018, no xfade) used for (a), (c) and, through FFMPEG_PATH, the engine (b). */
export const FFMPEG: string = join(dirname(require.resolve('@ffmpeg-installer/linux-x64/package.json')), 'ffmpeg');
export const FFPROBE: string = join(dirname(require.resolve('@ffprobe-installer/linux-x64/package.json')), 'ffprobe');

export interface Workload {
  /** e.g. `720p-n30-cut` */
  id: string;
  images: number;
  preset: PresetName;
  fps: number;
  secondsPerImage: number;
  transition: 'none' | 'crossfade';
  transitionSeconds: number;
  /** Inputs are 1600x1200 instead of 4000x3000 (checks that time does not follow input resolution). */
  smallInputs?: boolean;
}

export function workloadId(w: Omit<Workload, 'id'>): string {
  return `${w.preset}-n${w.images}-${w.transition === 'crossfade' ? 'xfade' : 'cut'}${w.smallInputs ? '-small' : ''}`;
}

/** Size of the smaller inputs of the "does time follow input resolution?" workload (the same pictures, resized). */
export const SMALL_INPUT = Object.freeze({ width: 1600, height: 1200 });

export function outputFrames(w: Workload): number {
  return Math.round(w.images * w.secondsPerImage * w.fps);
}

/** Where the one-liner's FFmpeg pattern and the scaling expression are defined, so the doc quotes the same text. */
export type OneLinerOrder = 'scale-first' | 'fps-first';

export function oneLinerFilter(w: Workload, order: OneLinerOrder): string {
  const { width, height } = PRESETS[w.preset];
  const scale = `scale=${width}:${height}:force_original_aspect_ratio=decrease`;
  const pad = `pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2`;
  const fps = `fps=${w.fps}`;
  return order === 'fps-first' ? `${fps},${scale},${pad},format=yuv420p` : `${scale},${pad},${fps},format=yuv420p`;
}

/**
 * (a) The usual one-liner on the originals: image2 demuxer at 1/secondsPerImage frames per second,
 * scale+pad to the preset, duplicate to the output rate, libx264 at its defaults (preset medium, CRF 23).
 * `dir` holds img000.jpg... (the first `w.images` of the generated set).
 */
export function oneLinerArgs(w: Workload, dir: string, out: string, order: OneLinerOrder): string[] {
  return [
    '-hide_banner', '-nostdin', '-y',
    '-framerate', `1/${w.secondsPerImage}`,
    '-i', join(dir, 'img%03d.jpg'),
    '-vf', oneLinerFilter(w, order),
    '-c:v', 'libx264',
    '-movflags', '+faststart',
    out,
  ];
}

/** How the doc shows a command: quoted where a shell would need it. */
export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** (b) Our engine through `npm run render` (flags mirror the job options). */
export function engineArgs(w: Workload, images: string[], out: string, mode: 'constant' | 'still'): string[] {
  return [
    'run', '--silent', 'render', '--',
    '--preset', w.preset,
    '--fps', String(w.fps),
    '--seconds-per-image', String(w.secondsPerImage),
    '--fit', 'contain',
    '--background', '#000000',
    '--transition', w.transition,
    '--transition-seconds', String(w.transitionSeconds),
    '--frame-rate-mode', mode,
    '-o', out,
    ...images,
  ];
}

/**
 * (c) The floor, part 1: decode every original once and scale+pad it to the preset, output discarded.
 * One frame per image (`-framerate 1`), nothing duplicated.
 */
export function floorDecodeArgs(w: Workload, dir: string): string[] {
  const { width, height } = PRESETS[w.preset];
  return [
    '-hide_banner', '-nostdin', '-y',
    '-framerate', '1',
    '-i', join(dir, 'img%03d.jpg'),
    '-vf', `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,format=yuv420p`,
    '-f', 'null', '-',
  ];
}

/** Prepares the floor's single still: the first image fitted to the preset, as one raw yuv420p frame (not timed). */
export function floorStillArgs(w: Workload, image: string, out: string): string[] {
  const { width, height } = PRESETS[w.preset];
  return [
    '-hide_banner', '-nostdin', '-y',
    '-i', image,
    '-vf', `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,format=yuv420p`,
    '-frames:v', '1', '-f', 'rawvideo', out,
  ];
}

/**
 * (c) The floor, part 2: encode `frames` output frames of that one still, with `encoder` settings
 * (the engine's). The still is one raw frame lasting `frames / fps` seconds and FFmpeg duplicates it
 * at the output rate (`-r`): no decoding, no scaling, no frame copies, only x264's work.
 * (`-loop 1` on an image would decode it again for every frame; the `loop` filter was measured slower.)
 */
export function floorEncodeArgs(w: Workload, still: string, frames: number, encoder: string[], out: string): string[] {
  const { width, height } = PRESETS[w.preset];
  return [
    '-hide_banner', '-nostdin', '-y',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-framerate', `${w.fps}/${Math.max(1, frames)}`,
    '-i', still,
    '-r', String(w.fps),
    '-frames:v', String(frames),
    '-c:v', 'libx264', ...encoder,
    '-pix_fmt', 'yuv420p',
    '-movflags', '+faststart',
    out,
  ];
}

/** Run a helper command (not measured); resolves with stdout+stderr, rejects on non-zero exit. */
export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.slice(0, 8).join(' ')} ... exited ${code}: ${stderr.slice(-1500)}`));
    });
  });
}

export interface VideoInfo {
  durationSeconds: number;
  frames: number;
  width: number;
  height: number;
  bytes: number;
  /** Average frame rate differs from the stream's base rate by more than 1% (still mode). */
  variableFrameRate: boolean;
}

function rate(r: string | undefined): number {
  const [n, d] = (r ?? '0/1').split('/').map(Number);
  return d ? (n ?? 0) / d : 0;
}

export async function probe(file: string): Promise<VideoInfo> {
  const { stdout } = await run(FFPROBE, [
    '-v', 'error', '-select_streams', 'v:0',
    '-show_entries', 'stream=width,height,nb_frames,avg_frame_rate,r_frame_rate:format=duration,size',
    '-of', 'json', file,
  ]);
  const j = JSON.parse(stdout) as {
    streams: { width: number; height: number; nb_frames?: string; avg_frame_rate?: string; r_frame_rate?: string }[];
    format: { duration: string; size: string };
  };
  const s = j.streams[0]!;
  return {
    durationSeconds: Number(j.format.duration),
    frames: Number(s.nb_frames ?? 0),
    width: s.width,
    height: s.height,
    bytes: Number(j.format.size),
    variableFrameRate: Math.abs(rate(s.avg_frame_rate) - rate(s.r_frame_rate)) > 0.01 * rate(s.r_frame_rate),
  };
}

/** Mean SSIM ("All") of `a` against `b`, both resampled to `fps` (so a variable-frame-rate file compares frame for frame). */
export async function ssim(a: string, b: string, fps: number): Promise<number> {
  const { stderr } = await run(FFMPEG, [
    '-hide_banner', '-nostdin',
    '-i', a, '-i', b,
    '-lavfi', `[0:v]fps=${fps},setpts=PTS-STARTPTS[x];[1:v]fps=${fps},setpts=PTS-STARTPTS[y];[x][y]ssim=shortest=1`,
    '-f', 'null', '-',
  ]);
  return parseSsim(stderr);
}

export function parseSsim(stderr: string): number {
  const m = /SSIM Y:[\d.]+ .*All:([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`no SSIM line in ffmpeg output: ${stderr.slice(-500)}`);
  return Number(m[1]);
}

/**
 * The x264 settings an MP4 was encoded with: x264 writes them into the stream as a SEI text
 * ("x264 - core 155 ... - options: cabac=1 ref=1 ..."). Used to check (b) and (c) really use the same settings.
 */
export async function x264Options(file: string): Promise<Record<string, string> | null> {
  const buf = await readFile(file);
  const at = buf.indexOf('x264 - core');
  if (at < 0) return null;
  const end = buf.indexOf(0, at);
  const text = buf.subarray(at, end < 0 ? at + 4000 : end).toString('latin1');
  return parseX264Options(text);
}

export function parseX264Options(text: string): Record<string, string> | null {
  const i = text.indexOf('options: ');
  if (i < 0) return null;
  const out: Record<string, string> = {};
  for (const kv of text.slice(i + 9).trim().split(/\s+/)) {
    const eq = kv.indexOf('=');
    if (eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Settings that differ between two x264 option sets, ignoring thread counts (they follow the input, not the choice). */
export function x264Differences(a: Record<string, string>, b: Record<string, string>): string[] {
  const ignore = new Set(['threads', 'lookahead_threads', 'sliced_threads']);
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !ignore.has(k) && a[k] !== b[k]).sort().map((k) => `${k}: ${a[k] ?? '-'} vs ${b[k] ?? '-'}`);
}

/**
 * Turns x264's SEI option text back into `-x264-params` for FFmpeg's libx264, so the floor can use
 * exactly the engine's settings without knowing how the engine chose them. Covers what x264 prints.
 */
export function x264ParamsFromOptions(o: Record<string, string>): string {
  const p: string[] = [];
  const put = (name: string, v: string | undefined): void => {
    if (v !== undefined) p.push(`${name}=${v}`);
  };
  put('cabac', o.cabac);
  put('ref', o.ref);
  if (o.deblock) {
    const [on, a, b] = o.deblock.split(':');
    if (on === '0') p.push('no-deblock=1');
    else p.push(`deblock=${a},${b}`);
  }
  if (o.analyse) {
    // analyse=I:P flags; x264's partitions: i4x4=0x1, i8x8=0x2, p8x8=0x10, p4x4=0x20, b8x8=0x100
    const [i, pb] = o.analyse.split(':').map((x) => parseInt(x, 16));
    const flags = (i ?? 0) | (pb ?? 0);
    const parts: string[] = [];
    if (flags & 0x1) parts.push('i4x4');
    if (flags & 0x2) parts.push('i8x8');
    if (flags & 0x10) parts.push('p8x8');
    if (flags & 0x20) parts.push('p4x4');
    if (flags & 0x100) parts.push('b8x8');
    p.push(`partitions=${parts.length ? parts.join(',') : 'none'}`);
  }
  put('me', o.me);
  put('subme', o.subme);
  put('psy', o.psy);
  if (o.psy_rd) p.push(`psy-rd=${o.psy_rd.replace(':', ',')}`);
  put('mixed-refs', o.mixed_ref);
  put('merange', o.me_range);
  put('chroma-me', o.chroma_me);
  put('trellis', o.trellis);
  put('8x8dct', o['8x8dct']);
  if (o.deadzone) {
    const [inter, intra] = o.deadzone.split(',');
    put('deadzone-inter', inter);
    put('deadzone-intra', intra);
  }
  put('fast-pskip', o.fast_pskip);
  put('nr', o.nr);
  put('dct-decimate', o.decimate);
  put('constrained-intra', o.constrained_intra);
  put('bframes', o.bframes);
  if (o.bframes && o.bframes !== '0') {
    put('b-pyramid', o.b_pyramid);
    put('b-adapt', o.b_adapt);
    put('b-bias', o.b_bias);
    put('direct', o.direct === '1' ? 'spatial' : o.direct === '2' ? 'temporal' : o.direct === '3' ? 'auto' : o.direct === '0' ? 'none' : undefined);
    put('weightb', o.weightb);
  }
  put('open-gop', o.open_gop);
  put('weightp', o.weightp);
  put('keyint', o.keyint === 'infinite' ? 'infinite' : o.keyint);
  put('min-keyint', o.keyint_min);
  put('scenecut', o.scenecut);
  put('intra-refresh', o.intra_refresh);
  put('rc-lookahead', o.rc_lookahead);
  put('mbtree', o.mbtree);
  if (o.rc === 'crf') put('crf', o.crf);
  else if (o.rc === 'cqp') put('qp', o.qp);
  else if (o.rc === 'abr' || o.rc === '2pass') put('bitrate', o.bitrate);
  put('qcomp', o.qcomp);
  put('qpmin', o.qpmin);
  put('qpmax', o.qpmax);
  put('qpstep', o.qpstep);
  put('ipratio', o.ip_ratio);
  put('pbratio', o.pb_ratio);
  if (o.aq) {
    const [mode, strength] = o.aq.split(':');
    put('aq-mode', mode);
    put('aq-strength', strength);
  }
  if (o.vbv_maxrate) put('vbv-maxrate', o.vbv_maxrate);
  if (o.vbv_bufsize) put('vbv-bufsize', o.vbv_bufsize);
  return p.join(':');
}

export { PRESETS };
export const RENDER_CLI = join(REPO_ROOT, 'lambdas/src/entrypoints/render-cli.ts');
