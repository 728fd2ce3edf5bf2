/**
 * One run from "Create video" to the finished video: shrink photos, create the job, upload, start, poll.
 * The work is done by plain modules (api, s3Upload, downscale, poll); this class only holds what the page shows.
 */
import type { JobStatus, RenderOptions } from '../../../contracts/index.ts';
import { ApiError, describeError, type ApiClient } from './api.ts';
import { announcer } from './announcer.svelte.ts';
import { downscaleImage, type DownscaleResult } from './downscale.ts';
import type { ImageItem } from './images.svelte.ts';
import { pollJob, PollStopped, type Poller } from './poll.ts';
import { UploadQueue, type QueueSnapshot, type UploadQueueOptions } from './s3Upload.ts';

export type Phase = 'edit' | 'preparing' | 'uploading' | 'starting' | 'rendering' | 'done' | 'failed';

interface PendingJob {
  signature: string;
  jobId: string;
  expiresAt: string;
  queue: UploadQueue;
}

export interface SessionDeps {
  /** A getter, so the page can hand over its current client. */
  api: () => ApiClient;
  /** The job id to put in the URL (null to remove it). */
  onJobId: (jobId: string | null) => void;
  queueOptions?: UploadQueueOptions;
  downscale?: (file: File, preset: RenderOptions['preset'], fit: RenderOptions['fit']) => Promise<DownscaleResult>;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class Session {
  phase = $state<Phase>('edit');
  jobId = $state<string | null>(null);
  job = $state<JobStatus | null>(null);
  upload = $state<QueueSnapshot | null>(null);
  prepare = $state({ done: 0, total: 0, shrunk: 0, savedBytes: 0 });
  /** What went wrong, in words (shown next to the action that can fix it). */
  error = $state<string | null>(null);
  /** The photos of this run are still in memory, so "Try again" can resend them. */
  canRetry = $state(false);
  startedAt = $state<number | null>(null);
  now = $state(Date.now());

  elapsedSeconds = $derived(this.startedAt === null ? 0 : Math.max(0, (this.now - this.startedAt) / 1000));

  #deps: SessionDeps;
  #run = 0;
  #pending: PendingJob | undefined;
  #queue: UploadQueue | undefined;
  #poller: Poller | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #lastItems: ImageItem[] = [];
  #lastOptions: RenderOptions | undefined;
  #lastDownscale = true;
  #announced = -1;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
  }

  get busy(): boolean {
    return this.phase === 'preparing' || this.phase === 'uploading' || this.phase === 'starting';
  }

  async create(items: ImageItem[], options: RenderOptions, downscale: boolean): Promise<void> {
    const run = ++this.#run;
    const live = () => run === this.#run;
    this.#lastItems = [...items];
    this.#lastOptions = options;
    this.#lastDownscale = downscale;
    this.canRetry = true;
    this.error = null;
    this.job = null;
    this.#startClock();
    const signature = JSON.stringify([items.map((i) => [i.id, i.duration]), options, downscale]);
    let queue: UploadQueue;
    let jobId: string;
    const pending = this.#pending;
    if (pending && pending.signature === signature && Date.parse(pending.expiresAt) - Date.now() > 60_000) {
      // Same photos and options as a canceled or stalled run: finish that job, sending only what is missing.
      queue = pending.queue;
      jobId = pending.jobId;
      this.#setJobId(jobId);
      this.phase = 'uploading';
      this.upload = queue.snapshot();
      this.#queue = queue;
      announcer.say('Resuming the upload.');
      const snap = await queue.resume();
      if (live()) await this.#afterUpload(run, snap);
      return;
    }
    this.#pending = undefined;
    this.upload = null;
    let files: File[];
    try {
      if (downscale) {
        this.phase = 'preparing';
        this.prepare = { done: 0, total: items.length, shrunk: 0, savedBytes: 0 };
        announcer.say(`Preparing ${items.length} photos.`);
        const shrink = this.#deps.downscale ?? downscaleImage;
        const results = await mapLimit(items, 2, async (item) => {
          const r = await shrink(item.file, options.preset, options.fit);
          if (live()) {
            this.prepare.done++;
            if (r.shrunk) {
              this.prepare.shrunk++;
              this.prepare.savedBytes += r.savedBytes;
            }
          }
          return r;
        });
        if (!live()) return;
        files = results.map((r) => r.file);
      } else {
        files = items.map((i) => i.file);
      }
      this.phase = 'uploading';
      this.upload = {
        items: items.map((i, n) => ({ id: i.id, name: i.file.name, size: files[n]!.size, status: 'waiting', loaded: 0, attempts: 0 })),
        loaded: 0,
        total: files.reduce((a, f) => a + f.size, 0),
        progress: 0,
        done: 0,
        failed: 0,
        idle: false,
      };
      const created = await this.#deps.api().createJob({
        images: files.map((f) => ({ name: f.name, type: f.type, size: f.size })),
        options,
      });
      if (!live()) return;
      jobId = created.jobId;
      const q = new UploadQueue(
        files.map((f, n) => ({ id: items[n]!.id, name: items[n]!.file.name, body: f, grant: created.uploads[n]! })),
        this.#deps.queueOptions,
      );
      // Follows the queue for as long as it is this session's queue (a resumed run reuses it).
      q.subscribe((s) => {
        if (this.#queue === q) this.#onUpload(s);
      });
      queue = q;
      this.#pending = { signature, jobId, expiresAt: created.expiresAt, queue };
      this.#queue = queue;
      this.#setJobId(jobId);
    } catch (err) {
      if (!live()) return;
      this.#backToEdit(`Could not create the video: ${describeError(err)}`);
      return;
    }
    announcer.say(`Uploading ${items.length} photos.`);
    const snap = await queue.start();
    if (live()) await this.#afterUpload(run, snap);
  }

  /** Send one failed photo again. */
  async retryUpload(id: string): Promise<void> {
    const queue = this.#queue;
    if (!queue) return;
    const run = this.#run;
    this.error = null;
    const snap = await queue.retry(id);
    if (run === this.#run) await this.#afterUpload(run, snap);
  }

  /** Stop uploading (or stop watching) and go back to the photos. Uploaded photos are kept for a resume. */
  cancel(): void {
    this.#run++;
    this.#queue?.cancel();
    this.#poller?.stop();
    this.#poller = undefined;
    this.#stopClock();
    this.phase = 'edit';
    this.error = null;
    this.#setJobId(null);
    announcer.say('Canceled. Your photos are still here.');
  }

  /** After a failed render: the same photos and options as a new job. */
  async tryAgain(): Promise<void> {
    if (!this.#lastOptions || !this.canRetry) return;
    this.#pending = undefined;
    await this.create(this.#lastItems, this.#lastOptions, this.#lastDownscale);
  }

  /** Show a job from the URL (`?job=`): status, then the video. */
  watch(jobId: string): void {
    const run = ++this.#run;
    this.canRetry = false;
    this.#setJobId(jobId, false);
    this.phase = 'rendering';
    this.job = null;
    this.error = null;
    this.#startClock();
    this.#poll(run, jobId);
  }

  /** Forget the job (the photos are the caller's). */
  reset(): void {
    this.#run++;
    this.#queue?.cancel();
    this.#poller?.stop();
    this.#poller = undefined;
    this.#pending = undefined;
    this.#queue = undefined;
    this.#stopClock();
    this.phase = 'edit';
    this.job = null;
    this.upload = null;
    this.error = null;
    this.canRetry = false;
    this.#setJobId(null);
  }

  #onUpload(s: QueueSnapshot): void {
    this.upload = s;
    const step = Math.floor(s.progress * 4); // announce at 25 % steps, not on every progress event
    if (step !== this.#announced && step < 4) {
      this.#announced = step;
      announcer.say(`Uploading: ${Math.round(s.progress * 100)} percent.`);
    }
  }

  async #afterUpload(run: number, snap: QueueSnapshot): Promise<void> {
    // Two Retry clicks can both see the queue go idle: only one of them starts the job.
    if (run !== this.#run || this.phase !== 'uploading') return;
    if (snap.done < snap.items.length) {
      const failed = snap.items.filter((i) => i.status === 'failed').length;
      if (failed > 0) {
        this.error = `${failed === 1 ? '1 photo' : `${failed} photos`} could not be uploaded. Retry ${failed === 1 ? 'it' : 'them'}, or cancel and start again.`;
        announcer.say(this.error);
      }
      return;
    }
    const jobId = this.#pending?.jobId ?? this.jobId;
    if (!jobId) return;
    this.phase = 'starting';
    announcer.say('All photos uploaded. Starting the render.');
    let status: JobStatus;
    try {
      status = await this.#deps.api().startJob(jobId);
    } catch (err) {
      if (run !== this.#run) return;
      if (err instanceof ApiError && err.code === 'uploads_missing') this.#pending = undefined;
      this.#backToEdit(`Could not start the render: ${describeError(err)}`);
      return;
    }
    if (run !== this.#run) return;
    this.#pending = undefined;
    this.job = status;
    this.phase = 'rendering';
    this.#poll(run, jobId);
  }

  #poll(run: number, jobId: string): void {
    let lastStep = -1;
    this.#poller?.stop();
    const poller = pollJob({
      jobId,
      getJob: (id) => this.#deps.api().getJob(id),
      onUpdate: (s) => {
        if (run !== this.#run) return;
        this.job = s;
        if (s.status === 'processing') {
          const step = Math.floor(s.progress * 4);
          if (step !== lastStep && step < 4) {
            lastStep = step;
            announcer.say(`Rendering: ${Math.round(s.progress * 100)} percent.`);
          }
        }
      },
    });
    this.#poller = poller;
    poller.result.then(
      (s) => {
        if (run !== this.#run) return;
        this.#stopClock();
        if (s.status === 'done') {
          this.phase = 'done';
          announcer.say('Your video is ready.');
        } else {
          this.phase = 'failed';
          const m = s.error?.message || 'The render failed.';
          this.error = m.charAt(0).toUpperCase() + m.slice(1); // server messages may start with "image 2 (…)"
          announcer.say(`The video could not be made: ${this.error}`);
        }
      },
      (err) => {
        if (err instanceof PollStopped || run !== this.#run) return;
        this.#stopClock();
        this.phase = 'failed';
        this.error = describeError(err);
        announcer.say(this.error);
      },
    );
  }

  #backToEdit(message: string): void {
    this.#stopClock();
    this.phase = 'edit';
    this.error = message;
    this.#setJobId(null);
    announcer.say(message);
  }

  #setJobId(jobId: string | null, notify = true): void {
    this.jobId = jobId;
    if (notify) this.#deps.onJobId(jobId);
  }

  #startClock(): void {
    this.startedAt = Date.now();
    this.now = this.startedAt;
    this.#announced = -1;
    if (this.#ticker === undefined) this.#ticker = setInterval(() => (this.now = Date.now()), 1000);
  }

  #stopClock(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.now = Date.now();
  }
}
