/**
 * Fan-out in the local stack: a job over HTTP against s3rver, split into segments rendered in parallel
 * worker threads by the render-segment handler, joined, served from /videos.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CreateJobResponse, JobStatus, PutUploadGrant } from '../../contracts/index.ts';
import { WorkerRenderer } from '../../lambdas/src/adapters/local/worker-renderer.ts';
import type { Renderer } from '../../lambdas/src/core/ports.ts';
import { startLocalStackInternal, type LocalStackInternals } from '../../local/stack.ts';
import { solid } from '../engine/helpers.ts';
import { api, tempDir, uploadPut, waitFor } from '../local/support.ts';
import { decodeErrors, streamFacts } from './helpers.ts';

/** Every file under `dir` (relative paths). */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1));
  return out;
}

describe('fan-out: local stack (s3rver, worker threads)', function () {
  this.timeout(180_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let stack: LocalStackInternals;
  let workers: WorkerRenderer;
  let singleRenders = 0;

  before(async () => {
    dir = await tempDir('fanout-stack-');
    workers = new WorkerRenderer({ maxWorkers: 1 });
    const counting: Renderer = { render: (i) => (singleRenders++, workers.render(i)) };
    stack = await startLocalStackInternal({
      port: 0,
      dataDir: join(dir.path, 'data'),
      uiDir: join(dir.path, 'no-ui'),
      renderer: counting,
      logLevel: 'silent',
      retryDelaysMs: [50],
      fanOut: { workers: 2, minVideoSeconds: 10 },
    });
  });

  after(async () => {
    await stack?.stop();
    await workers?.close();
    await dir?.remove();
  });

  async function run(seconds: number): Promise<{ jobId: string; status: JobStatus }> {
    const images = await Promise.all(
      [
        [200, 40, 40],
        [40, 200, 40],
        [40, 40, 200],
        [200, 200, 40],
      ].map((c) => solid(320, 240, c as [number, number, number], 'jpeg')),
    );
    const created = await api<CreateJobResponse>(stack.url, 'POST', '/api/jobs', {
      images: images.map((b, i) => ({ name: `p${i}.jpg`, type: 'image/jpeg', size: b.length })),
      options: { preset: '480p', fps: 24, secondsPerImage: seconds, transition: 'crossfade', transitionSeconds: 0.5 },
      grant: 'put',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const job = created.body;
    for (const [i, g] of job.uploads.entries()) {
      const res = await uploadPut(g as PutUploadGrant, images[i]!);
      assert.equal(res.status, 200, await res.text());
    }
    assert.equal((await api(stack.url, 'POST', `/api/jobs/${job.jobId}/start`)).status, 202);
    const status = await waitFor(async () => {
      const r = await api<JobStatus>(stack.url, 'GET', `/api/jobs/${job.jobId}`);
      return r.body.status === 'done' || r.body.status === 'failed' ? r.body : null;
    }, 150_000);
    return { jobId: job.jobId, status };
  }

  it('a 20 s job is split in two, joined, served, and leaves no segment in the output bucket', async () => {
    const { jobId, status } = await run(5);
    assert.equal(status.status, 'done', JSON.stringify(status));
    assert.equal(singleRenders, 0, 'process-media did not render it in one piece');
    assert.equal(status.video?.durationSeconds, 20);
    const res = await fetch(`${stack.url}${status.video!.url}`);
    assert.equal(res.status, 200);
    const file = join(dir.path, 'fanned.mp4');
    await writeFile(file, Buffer.from(await res.arrayBuffer()));
    const facts = await streamFacts(file);
    assert.equal(facts.frames, 480);
    assert.ok(Math.abs(facts.duration - 20) < 1 / 24);
    assert.equal(await decodeErrors(file), '');
    const poster = await fetch(`${stack.url}${status.video!.posterUrl}`);
    assert.equal(poster.status, 200);
    const stored = await files(join(dir.path, 'data'));
    assert.deepEqual(stored.filter((f) => f.includes('segments')), [], 'segments deleted');
    assert.ok(stored.some((f) => f.includes(jobId) && f.includes('video.mp4')));
  });

  it('a job shorter than the threshold renders in one piece', async () => {
    const { status } = await run(2); // 8 s < 10 s
    assert.equal(status.status, 'done', JSON.stringify(status));
    assert.equal(singleRenders, 1);
    assert.equal(status.video?.durationSeconds, 8);
  });
});
