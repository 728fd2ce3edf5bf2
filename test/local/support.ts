/** Shared helpers for the handler and local-stack tests: temp dirs, a fake renderer, tiny images, uploads. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CodedError, type RenderResult, type Renderer } from '../../lambdas/src/core/ports.ts';
import type { CreateJobResponse, PostUploadGrant, PutUploadGrant } from '../../contracts/index.ts';

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The smallest valid PNG (1x1 black), for tests that need "an image" but not a render. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

function looksLikeImage(b: Uint8Array): boolean {
  const jpeg = b[0] === 0xff && b[1] === 0xd8;
  const png = b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
  const webp = Buffer.from(b.subarray(0, 4)).toString() === 'RIFF' && Buffer.from(b.subarray(8, 12)).toString() === 'WEBP';
  return jpeg || png || webp;
}

/**
 * A renderer that loads every image (so the handler's lazy loading is exercised), rejects bytes that
 * are not JPEG/PNG/WebP with image_unreadable, reports progress and writes placeholder outputs.
 */
export class FakeRenderer implements Renderer {
  calls = 0;
  loaded = 0;
  delayMs = 0;
  failWith: Error | null = null;

  async render(input: Parameters<Renderer['render']>[0]): Promise<RenderResult> {
    this.calls++;
    const started = Date.now();
    for (const [i, img] of input.images.entries()) {
      const bytes = await img.load();
      this.loaded++;
      if (!looksLikeImage(bytes)) throw new CodedError('image_unreadable', `${img.label}: not a readable JPEG, PNG or WebP image`);
      input.onProgress?.({ fraction: (i + 1) / input.images.length, outSeconds: 0 });
    }
    if (this.delayMs) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, this.delayMs);
        input.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(input.signal?.reason);
        });
      });
    }
    if (this.failWith) throw this.failWith;
    const videoPath = join(input.workDir, 'video.mp4');
    const posterPath = join(input.workDir, 'poster.jpg');
    const video = Buffer.alloc(4096, 7);
    await writeFile(videoPath, video);
    await writeFile(posterPath, Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
    const durationSeconds = input.images.reduce((a, im) => a + im.durationSeconds, 0);
    return { videoPath, posterPath, durationSeconds, width: 1280, height: 720, bytes: video.length, renderSeconds: (Date.now() - started) / 1000 };
  }
}

/** Upload with a pre-signed POST grant: every field, then `file` last (what browsers do). */
export async function uploadPost(grant: PostUploadGrant, bytes: Uint8Array, type: string, filename = 'upload'): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), filename);
  return fetch(grant.url, { method: 'POST', body: form });
}

export async function uploadPut(grant: PutUploadGrant, bytes: Uint8Array): Promise<Response> {
  const headers = { ...grant.headers };
  delete headers['Content-Length']; // fetch sets it from the body; it must match the signed value
  return fetch(grant.url, { method: 'PUT', headers, body: new Uint8Array(bytes) });
}

export async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

export type Created = CreateJobResponse;

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
