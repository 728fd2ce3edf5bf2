import assert from 'node:assert/strict';
import type { UploadGrant } from '../../contracts/index.ts';
import { retryDelayMs, s3ErrorMessage, UploadQueue, type QueueSnapshot } from '../../ui/src/lib/s3Upload.ts';
import { flush, ManualTimers, XhrFactory } from './fakes.ts';

const post = (i: number): UploadGrant => ({ method: 'POST', url: 'http://s3.test/media-input', fields: { key: `jobs/x/images/00${i}`, 'Content-Type': 'image/jpeg', policy: 'p' } });

function files(sizes: number[]) {
  return sizes.map((size, i) => ({ id: `f${i}`, name: `f${i}.jpg`, body: new Blob([new Uint8Array(size)], { type: 'image/jpeg' }), grant: post(i) }));
}

function setup(sizes: number[], options: { concurrency?: number; maxAttempts?: number } = {}) {
  const xhrs = new XhrFactory();
  const timers = new ManualTimers();
  const snapshots: QueueSnapshot[] = [];
  const queue = new UploadQueue(files(sizes), {
    concurrency: options.concurrency ?? 2,
    maxAttempts: options.maxAttempts ?? 3,
    baseDelayMs: 1000,
    maxDelayMs: 8000,
    createXhr: xhrs.create,
    timers,
    random: () => 0.5,
    onChange: (s) => snapshots.push(s),
  });
  return { queue, xhrs, timers, snapshots };
}

describe('ui: upload queue (s3Upload.ts)', () => {
  it('never has more than `concurrency` requests in flight, and starts the next one as one finishes', async () => {
    const { queue, xhrs } = setup([10, 10, 10, 10, 10], { concurrency: 2 });
    const done = queue.start();
    assert.equal(xhrs.all.length, 2);
    let maxOpen = xhrs.open.length;
    while (xhrs.open.length) {
      xhrs.respond(xhrs.open[0]!, 204);
      maxOpen = Math.max(maxOpen, xhrs.open.length);
    }
    const snap = await done;
    assert.equal(maxOpen, 2);
    assert.equal(xhrs.all.length, 5);
    assert.equal(snap.done, 5);
    assert.equal(snap.progress, 1);
  });

  it('sends a POST form: every grant field, then the file last', () => {
    const { queue, xhrs } = setup([3]);
    void queue.start();
    const x = xhrs.all[0]!;
    assert.equal(x.method, 'POST');
    assert.equal(x.url, 'http://s3.test/media-input');
    const form = x.body as FormData;
    assert.deepEqual([...form.keys()], ['key', 'Content-Type', 'policy', 'file']);
    assert.equal((form.get('file') as File).name, 'f0.jpg');
  });

  it('sends a PUT grant with its headers, minus those the browser sets itself', () => {
    const xhrs = new XhrFactory();
    const body = new Blob([new Uint8Array(7)]);
    const q = new UploadQueue(
      [{ id: 'a', name: 'a.png', body, grant: { method: 'PUT', url: 'http://s3.test/k?sig', headers: { 'Content-Type': 'image/png', 'Content-Length': '7' } } }],
      { createXhr: xhrs.create, timers: new ManualTimers() },
    );
    void q.start();
    const x = xhrs.all[0]!;
    assert.equal(x.method, 'PUT');
    assert.deepEqual(x.headers, { 'Content-Type': 'image/png' });
    assert.equal(x.body, body);
  });

  it('progress: per file scaled from the request body to the file size, overall over all bytes', async () => {
    const { queue, xhrs } = setup([1000, 3000], { concurrency: 2 });
    void queue.start();
    const [a, b] = xhrs.all as [NonNullable<(typeof xhrs.all)[0]>, NonNullable<(typeof xhrs.all)[0]>];
    // The form adds 200 bytes of fields: half the body sent = half the file.
    a.progress(600, 1200);
    b.progress(800, 3200);
    let s = queue.snapshot();
    assert.deepEqual(s.items.map((i) => i.loaded), [500, 750]);
    assert.equal(s.loaded, 1250);
    assert.equal(s.total, 4000);
    assert.equal(s.progress, 1250 / 4000);
    // Progress without a known total is ignored, not treated as 0 or 100 %.
    a.upload.onprogress?.({ loaded: 5, total: 0, lengthComputable: false });
    assert.equal(queue.snapshot().items[0]!.loaded, 500);
    xhrs.respond(a, 204);
    s = queue.snapshot();
    assert.equal(s.items[0]!.loaded, 1000);
    assert.equal(s.progress, 1750 / 4000);
  });

  it('retries network errors and 5xx with growing delays, then succeeds', async () => {
    const { queue, xhrs, timers, snapshots } = setup([100], { maxAttempts: 3 });
    const done = queue.start();
    xhrs.all[0]!.progress(50, 100);
    xhrs.networkError(xhrs.all[0]!);
    assert.equal(queue.snapshot().items[0]!.status, 'retrying');
    assert.equal(queue.snapshot().items[0]!.loaded, 0, 'a failed attempt counts no bytes');
    assert.match(queue.snapshot().items[0]!.error!, /connection failed/);
    assert.equal(timers.delays.at(-1), 750, 'first retry: 1000 ms base, half of it jittered (random = 0.5)');
    await timers.advance(749);
    assert.equal(xhrs.all.length, 1, 'waits the backoff delay');
    await timers.advance(1);
    assert.equal(xhrs.all.length, 2);
    xhrs.respond(xhrs.all[1]!, 503, '<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>');
    assert.equal(timers.delays.at(-1), 1500, 'second retry waits twice as long');
    await timers.advance(1500);
    xhrs.respond(xhrs.all[2]!, 204);
    const snap = await done;
    assert.equal(snap.items[0]!.status, 'done');
    assert.equal(snap.items[0]!.attempts, 3);
    assert.equal(snap.items[0]!.error, undefined);
    assert.ok(snapshots.some((s) => s.items[0]!.status === 'retrying'));
  });

  it('gives up after maxAttempts, and does not retry a 4xx at all', async () => {
    const { queue, xhrs, timers } = setup([10, 10], { maxAttempts: 2, concurrency: 2 });
    const done = queue.start();
    xhrs.respond(xhrs.all[0]!, 403, '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy expired.</Message></Error>');
    xhrs.respond(xhrs.all[1]!, 500);
    await timers.advance(1000);
    xhrs.respond(xhrs.all[2]!, 500);
    const snap = await done;
    assert.equal(xhrs.all.length, 3, 'the 403 file was sent once, the 500 file twice');
    assert.deepEqual(snap.items.map((i) => i.status), ['failed', 'failed']);
    assert.equal(snap.items[0]!.error, 'The upload link expired. Start again to get a new one.');
    assert.equal(snap.failed, 2);
    assert.equal(timers.pending, 0);
  });

  it('retry(id) sends only that failed file again; files that succeeded are never re-sent', async () => {
    const { queue, xhrs } = setup([10, 10, 10], { maxAttempts: 1, concurrency: 3 });
    const first = queue.start();
    xhrs.respond(xhrs.all[0]!, 204);
    xhrs.respond(xhrs.all[1]!, 400, '<Error><Code>EntityTooLarge</Code></Error>');
    xhrs.respond(xhrs.all[2]!, 204);
    const snap = await first;
    assert.deepEqual(snap.items.map((i) => i.status), ['done', 'failed', 'done']);
    assert.equal(snap.idle, true);

    queue.retry('f0'); // done: ignored
    assert.equal(xhrs.all.length, 3);
    const again = queue.retry('f1');
    assert.equal(xhrs.all.length, 4);
    assert.equal((xhrs.all[3]!.body as FormData).get('key'), 'jobs/x/images/001');
    xhrs.respond(xhrs.all[3]!, 204);
    const final = await again;
    assert.equal(final.done, 3);
    assert.equal(xhrs.all.length, 4);
  });

  it('cancel aborts requests in flight and pending retries; resume sends only what is not done', async () => {
    const { queue, xhrs, timers } = setup([10, 10, 10], { concurrency: 2 });
    void queue.start();
    xhrs.respond(xhrs.all[0]!, 204);
    // f1 in flight, f2 in flight now; make f2 wait for a retry.
    xhrs.networkError(xhrs.all[2]!);
    assert.equal(timers.pending, 1);
    const idle = queue.whenIdle();
    queue.cancel();
    const snap = await idle;
    assert.equal(xhrs.all[1]!.aborted, true);
    assert.equal(timers.pending, 0, 'the retry timer is cleared');
    assert.deepEqual(snap.items.map((i) => i.status), ['done', 'canceled', 'canceled']);
    await timers.advance(60_000);
    assert.equal(xhrs.all.length, 3, 'nothing is sent after cancel');
    // An aborted request's late events change nothing.
    xhrs.all[1]!.respond(204);
    assert.equal(queue.snapshot().items[1]!.status, 'canceled');

    const resumed = queue.resume();
    assert.equal(xhrs.all.length, 5);
    assert.deepEqual(
      xhrs.all.slice(3).map((x) => (x.body as FormData).get('key')),
      ['jobs/x/images/001', 'jobs/x/images/002'],
    );
    xhrs.respond(xhrs.all[3]!, 204);
    xhrs.respond(xhrs.all[4]!, 204);
    assert.equal((await resumed).done, 3);
  });

  it('an empty queue is idle at once', async () => {
    const q = new UploadQueue([], { timers: new ManualTimers(), createXhr: new XhrFactory().create });
    const s = await q.start();
    assert.equal(s.idle, true);
    assert.equal(s.total, 0);
    await flush();
  });

  it('backoff: doubles per attempt, capped, with half of it random', () => {
    assert.equal(retryDelayMs(1, 1000, 8000, () => 0), 500);
    assert.equal(retryDelayMs(1, 1000, 8000, () => 1), 1000);
    assert.equal(retryDelayMs(3, 1000, 8000, () => 1), 4000);
    assert.equal(retryDelayMs(10, 1000, 8000, () => 1), 8000);
  });

  it('S3 error bodies become sentences', () => {
    assert.equal(s3ErrorMessage(500, ''), 'Storage answered HTTP 500.');
    assert.equal(s3ErrorMessage(0, ''), 'The connection failed.');
    assert.match(s3ErrorMessage(403, '<Error><Code>AccessDenied</Code><Message>Invalid according to Policy: Policy Condition failed</Message></Error>'), /^Storage refused the file \(403 AccessDenied\): Invalid according to Policy/);
  });
});
