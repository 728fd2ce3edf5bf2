/// <reference types="svelte" />
// (the reference: root tsc checks the imported *.svelte.ts modules, which use the runes)
/**
 * The page's run orchestrator (`Session`, a Svelte 5 state class in session.svelte.ts), compiled by Svelte's
 * own compiler (test/ui/svelte-module-hooks.mjs) and driven with a fake API, fake XHRs and manual timers.
 */
import assert from 'node:assert/strict';
import { register } from 'node:module';
import type { CreateJobRequest, CreateJobResponse, JobStatus, RenderOptions } from '../../contracts/index.ts';
import { DEFAULT_OPTIONS } from '../../contracts/index.ts';
import { ApiError, type ApiClient } from '../../ui/src/lib/api.ts';
import type { DownscaleResult } from '../../ui/src/lib/downscale.ts';
import type { ImageItem } from '../../ui/src/lib/images.svelte.ts';
import type { Session as SessionType } from '../../ui/src/lib/session.svelte.ts';
import { ManualTimers, XhrFactory } from './fakes.ts';

register('./svelte-module-hooks.mjs', import.meta.url);
const { Session } = (await import('../../ui/src/lib/session.svelte.ts')) as { Session: typeof SessionType };

const JOB_A = '0b8f7a6e-2c1d-4e5f-9a8b-7c6d5e4f3a2b';
const JOB_B = '1c9f8a6e-2c1d-4e5f-9a8b-7c6d5e4f3a2b';
const options: RenderOptions = { ...DEFAULT_OPTIONS, preset: '480p' };

function item(id: string, size: number): ImageItem {
  return { id, file: new File([new Uint8Array(size)], `${id}.jpg`, { type: 'image/jpeg' }), url: '', duration: null };
}

/** Resolve once `cond()` holds (the session works through promises and real zero-delay hops). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`timed out waiting for: ${what}`);
}

class FakeApi implements ApiClient {
  created: CreateJobRequest[] = [];
  started: string[] = [];
  ids = [JOB_A, JOB_B];
  createError?: Error;
  startError?: Error;
  statuses: JobStatus[] = [];
  createJob = async (req: CreateJobRequest): Promise<CreateJobResponse> => {
    if (this.createError) throw this.createError;
    this.created.push(req);
    const jobId = this.ids[this.created.length - 1]!;
    return {
      jobId,
      uploads: req.images.map((_, i) => ({ method: 'POST', url: 'http://s3.test/in', fields: { key: `jobs/${jobId}/images/00${i}` } })),
      expiresAt: new Date(Date.now() + 15 * 60_000).toISOString(),
    };
  };
  startJob = async (jobId: string): Promise<JobStatus> => {
    this.started.push(jobId);
    if (this.startError) throw this.startError;
    return { jobId, status: 'queued', progress: 0 };
  };
  getJob = async (jobId: string): Promise<JobStatus> => {
    const s = this.statuses.shift();
    return s ? { ...s, jobId } : { jobId, status: 'processing', progress: 0.5 };
  };
}

describe('ui: Session (create → upload → start → poll), compiled by Svelte', () => {
  let api: FakeApi;
  let xhrs: XhrFactory;
  let timers: ManualTimers;
  let urlJob: (string | null)[];
  let session: SessionType;
  const shrink = async (file: File): Promise<DownscaleResult> =>
    file.size > 1000
      ? { file: new File([new Uint8Array(400)], file.name, { type: file.type }), originalBytes: file.size, savedBytes: file.size - 400, shrunk: true }
      : { file, originalBytes: file.size, savedBytes: 0, shrunk: false };

  beforeEach(() => {
    api = new FakeApi();
    xhrs = new XhrFactory();
    timers = new ManualTimers();
    urlJob = [];
    session = new Session({
      api: () => api,
      onJobId: (id) => urlJob.push(id),
      queueOptions: { createXhr: xhrs.create, timers, maxAttempts: 2, baseDelayMs: 100, random: () => 1 },
      downscale: shrink,
    });
  });
  afterEach(() => session.reset());

  it('shrinks, declares the shrunk sizes, uploads, starts and follows the job to the video', async () => {
    api.statuses = [{ jobId: '', status: 'done', progress: 1, video: { url: '/videos/x/video.mp4', posterUrl: '/videos/x/poster.jpg', durationSeconds: 6, width: 854, height: 480, bytes: 9 } }];
    const run = session.create([item('a', 5000), item('b', 300)], options, true);
    await until(() => xhrs.all.length === 2, 'two uploads');
    assert.equal(session.phase, 'uploading');
    assert.deepEqual(api.created[0]!.images, [
      { name: 'a.jpg', type: 'image/jpeg', size: 400 },
      { name: 'b.jpg', type: 'image/jpeg', size: 300 },
    ]);
    assert.deepEqual(api.created[0]!.options, options);
    assert.deepEqual({ ...session.prepare }, { done: 2, total: 2, shrunk: 1, savedBytes: 4600 });
    assert.deepEqual(urlJob, [JOB_A]);
    xhrs.all[0]!.progress(200, 400);
    assert.equal(session.upload!.loaded, 200, 'the page follows the queue');
    xhrs.respond(xhrs.all[0]!, 204);
    xhrs.respond(xhrs.all[1]!, 204);
    await run;
    await until(() => session.phase === 'done', 'done');
    assert.deepEqual(api.started, [JOB_A]);
    assert.equal(session.job?.video?.durationSeconds, 6);
    assert.equal(session.error, null);
  });

  it('without shrinking the originals go up as they are', async () => {
    void session.create([item('a', 5000)], options, false);
    await until(() => xhrs.all.length === 1, 'upload');
    assert.equal(api.created[0]!.images[0]!.size, 5000);
    assert.equal(session.prepare.total, 0);
  });

  it('a photo that keeps failing waits for Retry; the job starts once everything is up', async () => {
    void session.create([item('a', 10), item('b', 10)], options, true);
    await until(() => xhrs.all.length === 2, 'two uploads');
    xhrs.respond(xhrs.all[0]!, 204);
    xhrs.respond(xhrs.all[1]!, 500);
    await timers.advance(100);
    xhrs.respond(xhrs.all[2]!, 500);
    await until(() => session.error !== null, 'the error');
    assert.equal(session.error, '1 photo could not be uploaded. Retry it, or cancel and start again.');
    assert.equal(session.phase, 'uploading');
    assert.deepEqual(api.started, []);
    const retried = session.retryUpload('b');
    assert.equal(xhrs.all.length, 4, 'only the failed photo is sent again');
    xhrs.respond(xhrs.all[3]!, 204);
    await retried;
    await until(() => session.phase === 'rendering', 'rendering');
    assert.deepEqual(api.started, [JOB_A]);
  });

  it('Cancel, then Create with the same photos and options: the same job, only the missing photo is sent', async () => {
    const items = [item('a', 10), item('b', 10)];
    void session.create(items, options, true);
    await until(() => xhrs.all.length === 2, 'two uploads');
    xhrs.respond(xhrs.all[0]!, 204);
    session.cancel();
    assert.equal(session.phase, 'edit');
    assert.equal(xhrs.all[1]!.aborted, true);
    assert.deepEqual(urlJob, [JOB_A, null]);

    void session.create(items, options, true);
    await until(() => xhrs.all.length === 3, 'the resumed upload');
    assert.equal(api.created.length, 1, 'no new job');
    assert.deepEqual(urlJob, [JOB_A, null, JOB_A]);
    assert.equal((xhrs.all[2]!.body as FormData).get('key'), `jobs/${JOB_A}/images/001`);
    xhrs.respond(xhrs.all[2]!, 204);
    await until(() => session.phase === 'rendering', 'rendering');

    // Other options: a new job.
    session.reset();
    void session.create(items, { ...options, fps: 24 }, true);
    await until(() => api.created.length === 2, 'a second job');
  });

  it('a refused job request returns to the editor with the reason', async () => {
    api.createError = new ApiError(400, 'too_many_images', 'At most 200 images per job.', { code: 'too_many_images', message: 'At most 200 images per job.' });
    await session.create([item('a', 10)], options, true);
    assert.equal(session.phase, 'edit');
    assert.equal(session.error, 'Could not create the video: At most 200 images per job.');
    assert.deepEqual(urlJob, [null]);
  });

  it('start answering uploads_missing returns to the editor and the next Create makes a new job', async () => {
    api.startError = new ApiError(409, 'uploads_missing', 'Image 1 was not uploaded.', { code: 'uploads_missing', message: 'Image 1 was not uploaded.', missing: [0] });
    const items = [item('a', 10)];
    void session.create(items, options, true);
    await until(() => xhrs.all.length === 1, 'upload');
    xhrs.respond(xhrs.all[0]!, 204);
    await until(() => session.phase === 'edit', 'back to edit');
    assert.equal(session.error, 'Could not start the render: Some photos did not arrive (#1). Retry them or start again.');
    api.startError = undefined;
    void session.create(items, options, true);
    await until(() => api.created.length === 2, 'a new job');
  });

  it('a failed render shows the job error; Try again sends the same photos as a new job', async () => {
    api.statuses = [{ jobId: '', status: 'failed', progress: 0.3, error: { code: 'render_failed', message: 'FFmpeg exited with code 1.' } }];
    void session.create([item('a', 10)], options, true);
    await until(() => xhrs.all.length === 1, 'upload');
    xhrs.respond(xhrs.all[0]!, 204);
    await until(() => session.phase === 'failed', 'failed');
    assert.equal(session.error, 'FFmpeg exited with code 1.');
    assert.equal(session.canRetry, true);
    void session.tryAgain();
    await until(() => api.created.length === 2, 'a new job');
    assert.deepEqual(api.created[1]!.images, api.created[0]!.images);
  });

  it('a shared link to an unknown job ends in a clear message, with no photos to resend', async () => {
    api.getJob = async () => {
      throw new ApiError(404, 'job_not_found', 'No such job.', { code: 'job_not_found', message: 'No such job.' });
    };
    session.watch(JOB_B);
    await until(() => session.phase === 'failed', 'failed');
    assert.equal(session.error, 'This video does not exist (the link may be wrong or expired).');
    assert.equal(session.canRetry, false);
    assert.deepEqual(urlJob, [], 'watching a link does not rewrite it');
  });
});
