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
import { AnnexBSplitter, SkipSplicer } from './h264.ts';
import { mkvFrameHeader, mkvHeader } from './mkv.ts';
import { blendFrames, i420Size } from './yuv.ts';

export interface RendererConfig {
  /** FFmpeg binary; default from `resolveFfmpegPath()` (FFMPEG_PATH, /opt/bin/ffmpeg, npm static). */
  ffmpegPath?: string;
  /** Kill FFmpeg after this long. @default 600000 (10 min) */
  timeoutMs?: number;
  /** x264 preset. @default 'veryfast' */
  x264Preset?: string;
  /** Constant rate factor. @default 25 */
  crf?: number;
  /** Extra `-x264-params`, appended after the engine's own (which the skip-picture splicer relies on). */
  x264Params?: string;
}

export const DEFAULT_X264_PRESET = 'veryfast';
export const DEFAULT_CRF = 25;
export const DEFAULT_TIMEOUT_MS = 600_000;

/**
 * x264 settings every render uses. Each unique picture is encoded once: CAVLC, no weighted prediction,
 * no B-frames and one reference make the stream one the skip-picture splicer can extend (h264.ts);
 * `min-keyint=1` lets every new still start with an IDR frame (cheap, exact seeking).
 */
export function x264Params(fps: number, extra?: string): string {
  return [`keyint=${fps * 10}:min-keyint=1:bframes=0:ref=1:cabac=0:weightp=0:rc-lookahead=5`, extra].filter(Boolean).join(':');
}

/** FFmpeg#1: our Matroska stream of unique pictures → H.264 (`still`: a VFR MP4 file; `constant`: Annex B on stdout). */
export function encoderArgs(plan: RenderPlan, mode: RenderOptions['frameRateMode'], outPath: string, cfg: RendererConfig = {}): string[] {
  const output =
    mode === 'still'
      ? ['-progress', 'pipe:1', '-movflags', '+faststart', '-f', 'mp4', '-y', `file:${resolve(outPath)}`]
      : ['-f', 'h264', 'pipe:1'];
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel', 'error',
    // Input: only our Matroska stream of raw I420 frames on stdin.
    '-protocol_whitelist', 'pipe',
    '-f', 'matroska',
    '-i', 'pipe:0',
    '-map', '0:v:0',
    '-an', '-sn', '-dn',
    // Keep one frame per picture, timestamps on the output frame grid.
    '-r', String(plan.fps),
    '-vsync', 'vfr',
    '-c:v', 'libx264',
    '-preset', cfg.x264Preset ?? DEFAULT_X264_PRESET,
    '-tune', 'stillimage',
    '-crf', String(cfg.crf ?? DEFAULT_CRF),
    '-x264-params', x264Params(plan.fps, cfg.x264Params),
    '-pix_fmt', 'yuv420p',
    '-color_range', 'tv',
    '-colorspace', 'smpte170m',
    ...output,
  ];
}

/** FFmpeg#2 (`constant` mode): the spliced constant-rate Annex B stream → MP4 by stream copy. */
/**
 * MP4 timescale for the stream-copy mux: one tick per frame, so the file's duration is exact (FFmpeg
 * times a raw H.264 input in whole microseconds: 33 333 µs a frame at 30 fps made a 15 s video
 * 14.99985 s long, which players show as 0:14). Ticks come from rounding those microsecond stamps, so
 * if a frame's microseconds round *down* (30 fps) enough frames would land two on one tick: then keep
 * FFmpeg's default timescale (never within the default 900 s limit at any of the contract's frame rates).
 */
export function mp4Timescale(plan: Pick<RenderPlan, 'fps' | 'totalFrames'>): number | undefined {
  const micros = Math.round(1e6 / plan.fps);
  const driftTicksPerFrame = (micros * plan.fps) / 1e6 - 1;
  return driftTicksPerFrame < 0 && plan.totalFrames * -driftTicksPerFrame >= 0.5 ? undefined : plan.fps;
}

export function muxerArgs(plan: RenderPlan, outPath: string): string[] {
  const timescale = mp4Timescale(plan);
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel', 'error',
    '-protocol_whitelist', 'pipe',
    '-f', 'h264',
    '-framerate', String(plan.fps),
    '-i', 'pipe:0',
    '-map', '0:v:0',
    '-c', 'copy',
    ...(timescale ? ['-video_track_timescale', String(timescale)] : []),
    '-movflags', '+faststart',
    '-f', 'mp4',
    '-y',
    `file:${resolve(outPath)}`,
  ];
}

/** Fitted frames by image index, loaded lazily with a small read-ahead, released as soon as passed. */
export class FrameCache {
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

  /** Images currently held (loaded, loading or prefetched). */
  get size(): number {
    return this.frames.size;
  }

  /** Frame k, dropping every frame before `keepFrom` and (unless `prefetch` is false) starting the read-ahead after k. */
  get(k: number, keepFrom: number, prefetch = true): Promise<FittedFrame> {
    let dropped = false;
    for (const key of this.frames.keys()) {
      if (key < keepFrom) {
        this.frames.delete(key);
        dropped = true;
      }
    }
    if (dropped) (globalThis as { gc?: () => void }).gc?.();
    const p = this.load(k);
    if (prefetch) for (let j = k + 1; j <= k + this.ahead && j <= this.last; j++) this.load(j);
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
      let full: RenderPlan;
      let plan: RenderPlan;
      let ffmpegPath: string;
      try {
        full = planRender(options, images.map((i) => i.durationSeconds));
        // Fan-out: one segment of the timeline, rebased to start at frame 0 (core/segments.ts).
        plan = frames ? slicePlan(full, frames) : full;
      } catch (err) {
        throw new CodedError('manifest_invalid', `cannot plan this render: ${err instanceof Error ? err.message : String(err)}`);
      }
      try {
        ffmpegPath = config.ffmpegPath ?? resolveFfmpegPath();
      } catch (err) {
        throw new CodedError('render_failed', err instanceof Error ? err.message : String(err));
      }
      const videoPath = join(workDir, 'video.mp4');
      const posterPath = join(workDir, 'poster.jpg');
      const spec: FitSpec = { width: plan.width, height: plan.height, fit: options.fit, background: options.background, maxImagePixels };
      // Read-ahead: one image while encoding (decode overlaps encode). Without crossfades a second one,
      // so `still` mode keeps both cores decoding; with crossfades at most two fitted frames exist.
      const ahead = options.transition === 'crossfade' ? 1 : 2;
      const cache = new FrameCache(images, spec, ahead, signal, frames ? Math.max(...imagesForRange(full, frames)) : images.length - 1);

      let reported = -1; // so the first report (0) goes out
      const report = (fraction: number) => {
        const f = Math.min(1, Math.max(reported, fraction));
        if (f > reported) {
          reported = f;
          onProgress?.({ fraction: f, outSeconds: f * plan.durationSeconds } satisfies RenderProgress);
        }
      };
      report(0);

      const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const constant = options.frameRateMode === 'constant';
      const emitted = [...emittedFrames(plan)];
      const enc = startFfmpeg({
        path: ffmpegPath,
        args: encoderArgs(plan, options.frameRateMode, videoPath, config),
        timeoutMs,
        signal,
        // Keep 1 for "finished": reached only once the file is complete.
        ...(constant ? {} : { onOutTime: (s: number) => report(Math.min(0.99, s / plan.durationSeconds)) }),
      });
      const mux = constant ? startFfmpeg({ path: ffmpegPath, args: muxerArgs(plan, videoPath), timeoutMs, signal }) : undefined;

      /** constant mode: encoder's Annex B → skip-picture splicer → muxer. */
      const splice = async (): Promise<void> => {
        if (!mux) return;
        const splitter = new AnnexBSplitter();
        let out: Buffer[] = [];
        const splicer = new SkipSplicer(
          emitted.map((e) => e.duration),
          (b) => out.push(b),
        );
        const flush = async () => {
          if (out.length === 0) return;
          const chunk = Buffer.concat(out);
          out = [];
          await mux.write(chunk);
          report(Math.min(0.99, splicer.outFrames / plan.totalFrames));
        };
        let ended = false;
        try {
          for await (const chunk of enc.stdout) {
            for (const nal of splitter.push(chunk as Buffer)) splicer.nal(nal);
            await flush();
          }
          ended = true;
          for (const nal of splitter.end()) splicer.nal(nal);
          splicer.end();
        } catch (err) {
          // The encoder closed its output early: its own failure (exit status, killed, ENOSPC, time
          // limit) is the real cause, not the short stream (issue 6 fault tests).
          if (ended) await enc.done;
          if (err instanceof CodedError) throw err;
          throw new CodedError('render_failed', `could not re-time the encoded stream: ${err instanceof Error ? err.message : String(err)}`);
        }
        await flush();
        if (splicer.outFrames !== plan.totalFrames) throw new CodedError('render_failed', `spliced ${splicer.outFrames} frames, expected ${plan.totalFrames}`);
        mux.stdin.end();
        await mux.done;
      };

      const feed = async (): Promise<void> => {
        await enc.write(mkvHeader(plan.width, plan.height));
        const frameBytes = i420Size(plan.width, plan.height);
        const blendBuffers = [Buffer.allocUnsafe(frameBytes), Buffer.allocUnsafe(frameBytes)];
        const inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
        let nextBlend = 0;
        for (const e of emitted) {
          if (signal?.aborted) break;
          const header = mkvFrameHeader(e.pts / plan.fps, frameBytes);
          if (e.kind === 'still') {
            const frame = await cache.get(e.image, e.image);
            if (e.image === 0 && !poster) startPoster(frame);
            await enc.write(header);
            await enc.write(frame.yuv);
            // Decoding is most of the work and happens before a picture is written, so pictures written
            // is a fair measure; x264 and the splicer/-progress (which lag it by a few pictures) only push it further.
            report(Math.min(0.99, e.pts / plan.totalFrames));
          } else {
            const a = await cache.get(e.from, e.from);
            // No read-ahead past `to` while fading: the two fitted frames are all that is held.
            const b = await cache.get(e.to, e.from, false);
            if (e.from === 0 && !poster) startPoster(a);
            const slot = nextBlend;
            nextBlend = 1 - nextBlend;
            await inFlight[slot]; // that buffer must be out of the pipe before it is overwritten
            const out = blendFrames(a.yuv, b.yuv, e.weight, blendBuffers[slot]!);
            await enc.write(header);
            const flushed = enc.writeFlushed(out);
            flushed.catch(() => {}); // awaited below; if a later write throws first, its failure is already on enc.done
            inFlight[slot] = flushed;
          }
        }
        await Promise.all(inFlight);
        cache.clear();
        enc.stdin.end();
        await enc.done;
      };

      let poster: Promise<void> | undefined;
      const startPoster = (frame: FittedFrame) => {
        poster = writePoster(frame, posterPath).catch((err: unknown) => {
          const msg = err instanceof Error ? err.message : String(err);
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || /no space left/i.test(msg)) {
            throw new CodedError('out_of_disk', 'the temporary disk filled up while writing the poster');
          }
          throw new CodedError('internal_error', `could not write the poster: ${msg}`);
        });
        poster.catch(() => {});
        delete frame.rgb;
      };
      try {
        await Promise.all([feed(), splice()]);
        await poster;
      } catch (err) {
        cache.clear();
        enc.kill();
        mux?.kill();
        // Nothing may still be writing into workDir once we return (the caller removes it).
        const [encErr, muxErr] = await Promise.all([
          enc.done.then(() => undefined, (e: unknown) => e),
          mux?.done.then(() => undefined, (e: unknown) => e),
          poster?.catch(() => {}),
        ]);
        // A time limit, an abort or a full disk explains whatever broke downstream of it.
        const cause = [encErr, muxErr].find((e) => e instanceof CodedError && (e.code === 'render_timeout' || e.code === 'out_of_disk'));
        if (cause) throw cause;
        if (signal?.aborted && encErr instanceof CodedError) throw encErr;
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
