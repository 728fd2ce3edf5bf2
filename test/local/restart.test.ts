/** Stopping and restarting the local stack on the same data directory: nothing accepted is lost. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { CreateJobResponse, JobStatus, PostUploadGrant } from '../../contracts/index.ts';
import { startLocalStackInternal, type LocalStackInternals } from '../../local/stack.ts';
import { FakeRenderer, TINY_PNG, api, tempDir, uploadPost, waitFor } from './support.ts';

describe('local stack: restart keeps finished jobs and finishes interrupted ones', function () {
  this.timeout(60_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const stacks: LocalStackInternals[] = [];
  before(async () => {
    dir = await tempDir('restart-test-');
  });
  after(async () => {
    for (const s of stacks) await s.stop();
    await dir.remove();
  });

  async function start(renderer: FakeRenderer) {
    const s = await startLocalStackInternal({ port: 0, dataDir: join(dir.path, 'data'), uiDir: dir.path, renderer, logLevel: 'silent', retryDelaysMs: [20] });
    stacks.push(s);
    return s;
  }

  async function newJob(s: LocalStackInternals): Promise<string> {
    const c = await api<CreateJobResponse>(s.url, 'POST', '/api/jobs', { images: [{ name: 'a.png', type: 'image/png', size: TINY_PNG.length }] });
    assert.equal((await uploadPost(c.body.uploads[0] as PostUploadGrant, TINY_PNG, 'image/png')).status, 204);
    assert.equal((await api(s.url, 'POST', `/api/jobs/${c.body.jobId}/start`)).status, 202);
    return c.body.jobId;
  }

  it('stops mid-render, restarts, re-dispatches the unfinished job and still serves the finished one', async () => {
    const r1 = new FakeRenderer();
    const s1 = await start(r1);
    const doneJob = await newJob(s1);
    await s1.idle();
    const doneStatus = (await api<JobStatus>(s1.url, 'GET', `/api/jobs/${doneJob}`)).body;
    assert.equal(doneStatus.status, 'done');

    r1.delayMs = 60_000; // the next render hangs until we stop
    const interrupted = await newJob(s1);
    await waitFor(async () => (await api<JobStatus>(s1.url, 'GET', `/api/jobs/${interrupted}`)).body.status === 'processing');
    const t0 = Date.now();
    await s1.stop();
    assert.ok(Date.now() - t0 < 5000, 'stops promptly');

    const r2 = new FakeRenderer();
    const s2 = await start(r2);
    const st = await waitFor(async () => {
      const b = (await api<JobStatus>(s2.url, 'GET', `/api/jobs/${interrupted}`)).body;
      return b.status === 'done' || b.status === 'failed' ? b : null;
    });
    assert.equal(st.status, 'done');
    assert.equal(r2.calls, 1, 'only the interrupted job rendered again');
    assert.deepEqual((await api<JobStatus>(s2.url, 'GET', `/api/jobs/${doneJob}`)).body, doneStatus);
    const video = await fetch(`${s2.url}${doneStatus.video!.url}`);
    assert.equal(video.status, 200);
    assert.equal((await video.arrayBuffer()).byteLength, doneStatus.video!.bytes);
  });
});
