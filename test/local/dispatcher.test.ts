import assert from 'node:assert/strict';
import { Dispatcher } from '../../local/dispatcher.ts';
import { parseRange } from '../../local/videos.ts';

describe('local: async invocation queue', () => {
  it('runs at most `concurrency` at once and everything eventually', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const d = new Dispatcher<number>({
      concurrency: 2,
      maxAttempts: 1,
      retryDelaysMs: [0],
      invoke: async (n) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        done.push(n);
      },
    });
    for (let i = 0; i < 7; i++) d.push(i);
    await d.idle();
    assert.equal(peak, 2);
    assert.deepEqual([...done].sort(), [0, 1, 2, 3, 4, 5, 6]);
  });

  it('retries failures after the delays, then dead-letters the event', async () => {
    const attempts: number[] = [];
    const dead: unknown[] = [];
    const times: number[] = [];
    const d = new Dispatcher<string>({
      concurrency: 1,
      maxAttempts: 3,
      retryDelaysMs: [20, 40],
      invoke: async (_e, attempt) => {
        attempts.push(attempt);
        times.push(Date.now());
        throw new Error('boom');
      },
      onDeadLetter: (e, err) => void dead.push([e, (err as Error).message]),
    });
    d.push('x');
    await d.idle();
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(dead, [['x', 'boom']]);
    assert.ok(times[1]! - times[0]! >= 18 && times[2]! - times[1]! >= 38);
    assert.deepEqual(d.stats, { invocations: 3, failures: 3, deadLetters: 1 });
  });

  it('stops: drops queued events and pending retries, waits for running ones', async () => {
    let finished = 0;
    const d = new Dispatcher<number>({
      concurrency: 1,
      maxAttempts: 3,
      retryDelaysMs: [10_000],
      invoke: async (n) => {
        await new Promise((r) => setTimeout(r, 20));
        finished++;
        if (n === 0) throw new Error('retry me later');
      },
    });
    d.push(0);
    d.push(1);
    d.push(2);
    await new Promise((r) => setTimeout(r, 5));
    await d.stop();
    assert.equal(finished, 1);
    assert.equal(d.pending, 0);
  });
});

describe('local: Range header parsing', () => {
  it('handles start-end, open ends, suffixes and bad ranges', () => {
    assert.deepEqual(parseRange('bytes=0-9', 100), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=90-', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=95-200', 100), { start: 95, end: 99 });
    assert.deepEqual(parseRange('bytes=-10', 100), { start: 90, end: 99 });
    assert.deepEqual(parseRange('bytes=-500', 100), { start: 0, end: 99 });
    assert.equal(parseRange('bytes=100-', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=50-10', 100), 'unsatisfiable');
    assert.equal(parseRange('bytes=-0', 100), 'unsatisfiable');
    assert.equal(parseRange(undefined, 100), null);
    assert.equal(parseRange('bytes=0-1,5-6', 100), null);
    assert.equal(parseRange('items=0-1', 100), null);
  });
});
