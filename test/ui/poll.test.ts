import assert from 'node:assert/strict';
import type { JobStatus } from '../../contracts/index.ts';
import { ApiError, NetworkError } from '../../ui/src/lib/api.ts';
import { pollJob, PollStopped } from '../../ui/src/lib/poll.ts';
import { flush, ManualTimers } from './fakes.ts';

const JOB = '0b8f7a6e-2c1d-4e5f-9a8b-7c6d5e4f3a2b';
const st = (status: JobStatus['status'], progress = 0, extra: Partial<JobStatus> = {}): JobStatus => ({ jobId: JOB, status, progress, ...extra });

/** getJob answering from a script, one entry per call. */
function scripted(answers: (JobStatus | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    getJob: async (): Promise<JobStatus> => {
      const a = answers[Math.min(calls++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

describe('ui: job polling (poll.ts)', () => {
  it('polls until done, backing off while nothing changes and starting over when progress moves', async () => {
    const timers = new ManualTimers();
    const api = scripted([st('queued'), st('queued'), st('queued'), st('processing', 0.2), st('processing', 0.2), st('done', 1)]);
    const updates: number[] = [];
    const p = pollJob({ jobId: JOB, getJob: api.getJob, onUpdate: (s) => updates.push(s.progress), timers, initialDelayMs: 500, factor: 2, maxDelayMs: 1500 });
    await flush();
    await timers.advance(10_000);
    const final = await p.result;
    assert.equal(final.status, 'done');
    assert.equal(api.calls, 6);
    // queued (new) → 500, queued same → 1000, same → 1500 (cap), processing (new) → 500, same → 1000
    assert.deepEqual(timers.delays, [500, 1000, 1500, 500, 1000]);
    assert.deepEqual(updates, [0, 0, 0, 0.2, 0.2, 1]);
  });

  it('a failed job ends the poll with its error', async () => {
    const timers = new ManualTimers();
    const api = scripted([st('failed', 0.4, { error: { code: 'image_unreadable', message: 'Image 2 is not a JPEG, PNG or WebP image.' } })]);
    const p = pollJob({ jobId: JOB, getJob: api.getJob, onUpdate: () => {}, timers });
    const final = await p.result;
    assert.equal(final.error?.code, 'image_unreadable');
    assert.equal(timers.pending, 0);
  });

  it('keeps going through network errors and 5xx, with growing delays', async () => {
    const timers = new ManualTimers();
    const api = scripted([new NetworkError(), new ApiError(503, 'storage_unavailable', 'x', { code: 'storage_unavailable', message: 'x' }), st('done', 1)]);
    const errors: number[] = [];
    const p = pollJob({ jobId: JOB, getJob: api.getJob, onUpdate: () => {}, onRetryableError: (_e, n) => errors.push(n), timers, initialDelayMs: 100, factor: 2 });
    await flush();
    await timers.advance(1000);
    assert.equal((await p.result).status, 'done');
    assert.deepEqual(errors, [1, 2]);
    assert.deepEqual(timers.delays, [200, 400]);
  });

  it('stops on a non-retryable error (404) and after too many errors in a row', async () => {
    const notFound = new ApiError(404, 'job_not_found', 'No such job.', { code: 'job_not_found', message: 'No such job.' });
    const p1 = pollJob({ jobId: JOB, getJob: scripted([notFound]).getJob, onUpdate: () => {}, timers: new ManualTimers() });
    await assert.rejects(p1.result, (e) => e === notFound);

    const timers = new ManualTimers();
    const p2 = pollJob({ jobId: JOB, getJob: scripted([new NetworkError()]).getJob, onUpdate: () => {}, timers, maxConsecutiveErrors: 3 });
    await flush();
    await timers.advance(60_000);
    await assert.rejects(p2.result, (e) => e instanceof NetworkError);
  });

  it('stop() ends it: no more requests, the result rejects with PollStopped', async () => {
    const timers = new ManualTimers();
    const api = scripted([st('processing', 0.1)]);
    const p = pollJob({ jobId: JOB, getJob: api.getJob, onUpdate: () => {}, timers });
    await flush();
    p.stop();
    await assert.rejects(p.result, (e) => e instanceof PollStopped);
    await timers.advance(60_000);
    assert.equal(api.calls, 1);
  });
});
