/**
 * Run FFmpeg safely: an argument array (never a shell), no interactive stdin, our pipe as the only
 * input, a time limit, AbortSignal support, `-progress` parsed from stdout, and exit status mapped to
 * contract codes (render_failed, render_timeout, out_of_disk).
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { CodedError } from '../core/ports.ts';

export interface FfmpegProcess {
  /** Where the input goes (FFmpeg reads it as `pipe:0`). */
  stdin: Writable;
  /** FFmpeg's `pipe:1`: `-progress` lines when `onOutTime` is set, else the output stream. */
  stdout: Readable;
  /** Resolves when FFmpeg exits 0; rejects with a CodedError otherwise. */
  done: Promise<void>;
  /** Write a chunk, waiting for the pipe to drain; rejects if FFmpeg already failed. */
  write(chunk: Buffer): Promise<void>;
  /** Resolves once `chunk` has been handed to the OS (it may be reused after that). */
  writeFlushed(chunk: Buffer): Promise<void>;
  /** Kill FFmpeg now (used when frame production fails). */
  kill(): void;
}

export interface FfmpegRunOptions {
  path: string;
  args: string[];
  timeoutMs: number;
  signal?: AbortSignal;
  /** Output seconds FFmpeg has written, from `-progress pipe:1`. */
  onOutTime?: (seconds: number) => void;
}

const STDERR_KEEP = 16 * 1024;

function abortError(signal: AbortSignal): CodedError {
  const reason: unknown = signal.reason;
  if (reason instanceof CodedError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') return new CodedError('render_timeout', 'the render ran past its time limit');
  return new CodedError('render_failed', `the render was aborted${reason instanceof Error ? `: ${reason.message}` : ''}`);
}

export function startFfmpeg(opts: FfmpegRunOptions): FfmpegProcess {
  const child = spawn(opts.path, opts.args, { stdio: ['pipe', 'pipe', 'pipe'], shell: false, windowsHide: true });
  let stderr = '';
  let failure: CodedError | undefined;
  let settled = false;

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    stderr = (stderr + s).slice(-STDERR_KEEP);
  });
  let pending = '';
  if (opts.onOutTime) child.stdout.setEncoding('utf8');
  if (opts.onOutTime) child.stdout.on('data', (s: string) => {
    pending += s;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      // out_time_ms is in microseconds despite its name (FFmpeg ≤ 4); out_time_us in newer builds.
      const m = /^out_time_(?:ms|us)=(\d+)$/.exec(line);
      if (m && opts.onOutTime) opts.onOutTime(Number(m[1]) / 1e6);
    }
  });
  // EPIPE when FFmpeg exits early: its exit status tells the real story.
  child.stdin.on('error', () => {});

  const fail = (err: CodedError) => {
    if (!failure) failure = err;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(() => fail(new CodedError('render_timeout', `FFmpeg ran longer than ${Math.round(opts.timeoutMs / 1000)} s and was stopped`)), opts.timeoutMs);
  timer.unref();
  const onAbort = () => fail(abortError(opts.signal!));
  if (opts.signal) {
    if (opts.signal.aborted) queueMicrotask(onAbort);
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }

  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => {
      fail(new CodedError('render_failed', `could not run FFmpeg (${opts.path}): ${err.message}`));
    });
    child.on('close', (code, sig) => {
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (failure) return reject(failure);
      if (code === 0) return resolve();
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      if (/No space left on device/i.test(stderr)) return reject(new CodedError('out_of_disk', 'the temporary disk filled up while writing the video'));
      reject(new CodedError('render_failed', `FFmpeg exited with ${code ?? sig}: ${tail || 'no message'}`, { exitCode: code, signal: sig }));
    });
  });
  done.catch(() => {}); // observed by callers through write()/done

  const write = (chunk: Buffer): Promise<void> => {
    if (failure || settled) return done.then(() => Promise.reject(new CodedError('render_failed', 'FFmpeg stopped reading frames')));
    if (child.stdin.write(chunk)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onDrain = () => resolve();
      child.stdin.once('drain', onDrain);
      done.then(
        () => reject(new CodedError('render_failed', 'FFmpeg exited before reading every frame')),
        (e: unknown) => {
          child.stdin.off('drain', onDrain);
          reject(e);
        },
      );
    });
  };
  const writeFlushed = (chunk: Buffer): Promise<void> => {
    if (failure || settled) return write(chunk);
    return new Promise<void>((resolve, reject) => {
      child.stdin.write(chunk, (err) => (err ? done.then(() => reject(err), reject) : resolve()));
    });
  };
  return { stdin: child.stdin, stdout: child.stdout, done, write, writeFlushed, kill: () => fail(new CodedError('render_failed', 'render stopped')) };
}
