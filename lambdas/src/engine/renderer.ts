/**
 * The render engine (implements the `Renderer` port): sharp decodes and fits each image once,
 * we convert it to I420 and hand FFmpeg one picture per still (plus each crossfade frame, blended
 * here from two fitted frames) in a Matroska stream on a pipe. FFmpeg encodes H.264 yuv420p MP4 with
 * +faststart: at the output frame rate (`constant`) or keeping the stills as long frames (`still`).
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { RenderOptions } from '../../../contracts/index.ts';
import { CodedError } from '../core/ports.ts';
import type { Renderer, RenderInput, RenderProgress, RenderResult } from '../core/ports.ts';
import { emittedFrames, planRender } from '../core/render-plan.ts';
import type { RenderPlan } from '../core/render-plan.ts';
import { imagesForRange, slicePlan } from '../core/segments.ts';
import { startFfmpeg } from './ffmpeg.ts';
import { resolveFfmpegPath } from './ffmpeg-path.ts';
import { fitImage, writePoster } from './image.ts';
import type { FitSpec, FittedFrame } from './image.ts';
import { mkvFrameHeader, mkvHeader } from './mkv.ts';
import { blendFrames, i420Size } from './yuv.ts';

export interface RendererConfig {
  /** FFmpeg binary; default from `resolveFfmpegPath()` (FFMPEG_PATH, /opt/bin/ffmpeg, npm static). */
  ffmpegPath?: string;
  /** Kill FFmpeg after this long. @default 600000 (10 min) */
  timeoutMs?: number;
  /** x264 preset. @default 'veryfast' */
  x264Preset?: string;
  /** Extra `-x264-params` (see docs/architecture.md "Render engine" for how the default was chosen). */
  x264Params?: string;
  /** Constant rate factor. @default 23 */
  crf?: number;
}

export const DEFAULT_X264_PRESET = 'veryfast';
export const DEFAULT_X264_PARAMS = 'keyint=300:rc-lookahead=10:bframes=2';
export const DEFAULT_TIMEOUT_MS = 600_000;

/** FFmpeg arguments for one render (exported for tests and the docs). */
export function ffmpegArgs(plan: RenderPlan, mode: RenderOptions['frameRateMode'], outPath: string, cfg: RendererConfig = {}): string[] {
  const still = mode === 'still';
  const params = [cfg.x264Params ?? DEFAULT_X264_PARAMS, still ? 'bframes=0' : ''].filter(Boolean).join(':');
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel', 'error',
    '-progress', 'pipe:1',
    // Input: only our Matroska stream of raw I420 frames on stdin.
    '-protocol_whitelist', 'pipe',
    '-f', 'matroska',
    '-i', 'pipe:0',
    '-map', '0:v:0',
    '-an', '-sn', '-dn',
    '-r', String(plan.fps),
    '-vsync', still ? 'vfr' : 'cfr',
    ...(still ? [] : ['-frames:v', String(plan.totalFrames)]),
    '-c:v', 'libx264',
    '-preset', cfg.x264Preset ?? DEFAULT_X264_PRESET,
    '-tune', 'stillimage',
    '-crf', String(cfg.crf ?? 23),
    '-x264-params', params,
    '-pix_fmt', 'yuv420p',
    '-color_range', 'tv',
    '-colorspace', 'smpte170m',
    '-movflags', '+faststart',
    '-f', 'mp4',
    '-y',
    `file:${resolve(outPath)}`,
  ];
}

/** Fitted frames by image index, loaded lazily with a small read-ahead, released as soon as passed. */
class FrameCache {
  private readonly frames = new Map<number, Promise<FittedFrame>>();
  constructor(
    private readonly images: RenderInput[],
    private readonly spec: FitSpec,
    private readonly ahead: number,
    private readonly signal?: AbortSignal,
    /** Last image index the read-ahead may load (a fan-out segment needs only its own images). */
    private readonly last = images.length - 1,
  ) {}

  private load(k: number): Promise<FittedFrame> {
    let p = this.frames.get(k);
    if (!p) {
      const img = this.images[k]!;
      p = (async () => {
        if (this.signal?.aborted) throw new CodedError('render_failed', 'the render was aborted');
        let bytes: Uint8Array;
        try {
          bytes = await img.load();
        } catch (err) {
          if (err instanceof CodedError) throw err;
          throw new CodedError('storage_error', `${img.label}: could not load the image (${err instanceof Error ? err.message : String(err)})`);
        }
        return fitImage(bytes, img.label, this.spec, k === 0);
      })();
      p.catch(() => {}); // awaited by get(); a prefetch that is never used must not crash the process
      this.frames.set(k, p);
    }
    return p;
  }

  /** Frame k, dropping every frame before `keepFrom` and starting the read-ahead after k. */
  get(k: number, keepFrom: number): Promise<FittedFrame> {
    for (const key of this.frames.keys()) if (key < keepFrom) this.frames.delete(key);
    const p = this.load(k);
    for (let j = k + 1; j <= k + this.ahead && j <= this.last; j++) this.load(j);
    return p;
  }

  clear(): void {
    this.frames.clear();
  }
}

export function createRenderer(config: RendererConfig = {}): Renderer {
  return {
    async render({ images, options, maxImagePixels, workDir, onProgress, signal, frames }): Promise<RenderResult> {
      const started = performance.now();
      if (images.length === 0) throw new CodedError('manifest_invalid', 'a render needs at least one image');
      const full = planRender(options, images.map((i) => i.durationSeconds));
      // Fan-out: one segment of the timeline, rebased to start at frame 0 (core/segments.ts).
      const plan = frames ? slicePlan(full, frames) : full;
      const videoPath = join(workDir, 'video.mp4');
      const posterPath = join(workDir, 'poster.jpg');
      const spec: FitSpec = { width: plan.width, height: plan.height, fit: options.fit, background: options.background, maxImagePixels };
      // Read-ahead: one image while encoding (decode overlaps encode). Without crossfades a second one,
      // so `still` mode keeps both cores decoding; with crossfades at most two fitted frames exist.
      const ahead = options.transition === 'crossfade' ? 1 : 2;
      const cache = new FrameCache(images, spec, ahead, signal, frames ? Math.max(...imagesForRange(full, frames)) : images.length - 1);

      let reported = 0;
      const report = (fraction: number) => {
        const f = Math.min(1, Math.max(reported, fraction));
        if (f > reported || (f === 1 && reported < 1)) {
          reported = f;
          onProgress?.({ fraction: f, outSeconds: f * plan.durationSeconds } satisfies RenderProgress);
        }
      };
      report(0);

      const ff = startFfmpeg({
        path: config.ffmpegPath ?? resolveFfmpegPath(),
        args: ffmpegArgs(plan, options.frameRateMode, videoPath, config),
        timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        signal,
        // Keep 1 for "finished": reached only once the file is complete.
        onOutTime: (s) => report(Math.min(0.99, s / plan.durationSeconds)),
      });

      let poster: Promise<void> | undefined;
      try {
        await ff.write(mkvHeader(plan.width, plan.height));
        const frameBytes = i420Size(plan.width, plan.height);
        const blendBuffers = [Buffer.allocUnsafe(frameBytes), Buffer.allocUnsafe(frameBytes)];
        const inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
        let nextBlend = 0;
        for (const e of emittedFrames(plan)) {
          if (signal?.aborted) break;
          const header = mkvFrameHeader(e.pts / plan.fps, frameBytes);
          if (e.kind === 'still') {
            const frame = await cache.get(e.image, e.image);
            if (e.image === 0 && !poster) {
              poster = writePoster(frame, posterPath);
              poster.catch(() => {});
              delete frame.rgb;
            }
            await ff.write(header);
            await ff.write(frame.yuv);
          } else {
            const a = await cache.get(e.from, e.from);
            const b = await cache.get(e.to, e.from);
            if (e.from === 0 && !poster) {
              poster = writePoster(a, posterPath);
              poster.catch(() => {});
              delete a.rgb;
            }
            const slot = nextBlend;
            nextBlend = 1 - nextBlend;
            await inFlight[slot]; // that buffer must be out of the pipe before it is overwritten
            const out = blendFrames(a.yuv, b.yuv, e.weight, blendBuffers[slot]!);
            await ff.write(header);
            inFlight[slot] = ff.writeFlushed(out);
          }
        }
        await Promise.all(inFlight);
        cache.clear();
        ff.stdin.end();
        await ff.done;
        await poster;
      } catch (err) {
        cache.clear();
        ff.kill();
        await ff.done.catch(() => {});
        if (err instanceof CodedError) throw err;
        if (err instanceof RangeError) throw new CodedError('manifest_invalid', err.message);
        const code = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'out_of_disk' : 'internal_error';
        throw new CodedError(code, `render failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (signal?.aborted) throw new CodedError('render_failed', 'the render was aborted');
      const { size } = await stat(videoPath);
      report(1);
      return {
        videoPath,
        posterPath,
        durationSeconds: plan.durationSeconds,
        width: plan.width,
        height: plan.height,
        bytes: size,
        renderSeconds: (performance.now() - started) / 1000,
      };
    },
  };
}
