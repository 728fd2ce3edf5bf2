/** The local stack's async-invocation semantics: transient failures are retried, exhausted ones dead-lettered. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CreateJobResponse, JobStatus, PostUploadGrant } from '../../contracts/index.ts';
import { CodedError, type Renderer } from '../../lambdas/src/core/ports.ts';
import { startLocalStackInternal, type LocalStackInternals } from '../../local/stack.ts';
import { FakeRenderer, TINY_PNG, api, tempDir, uploadPost } from './support.ts';

/** Fails the first `failures` renders with render_failed (a transient code), then renders. */
class FlakyRenderer extends FakeRenderer {
  constructor(private failures: number) {
    super();
  }
  override async render(input: Parameters<Renderer['render']>[0]) {
    if (this.failures-- > 0) {
      this.calls++;
      throw new CodedError('render_failed', 'FFmpeg was killed (simulated)');
    }
    return super.render(input);
  }
}

describe('local stack: Lambda-like retries and dead letters', function () {
  this.timeout(30_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const stacks: LocalStackInternals[] = [];
  beforeEach(async () => {
    dir = await tempDir('retries-test-');
  });
  afterEach(async () => {
    for (const s of stacks.splice(0)) await s.stop();
    await dir.remove();
  });

  async function run(renderer: Renderer) {
    const s = await startLocalStackInternal({ port: 0, dataDir: join(dir.path, 'data'), uiDir: dir.path, renderer, logLevel: 'silent', retryDelaysMs: [30, 60] });
    stacks.push(s);
    const c = await api<CreateJobResponse>(s.url, 'POST', '/api/jobs', { images: [{ name: 'a.png', type: 'image/png', size: TINY_PNG.length }] });
    await uploadPost(c.body.uploads[0] as PostUploadGrant, TINY_PNG, 'image/png');
    await api(s.url, 'POST', `/api/jobs/${c.body.jobId}/start`);
    await s.idle();
    return { s, jobId: c.body.jobId, status: (await api<JobStatus>(s.url, 'GET', `/api/jobs/${c.body.jobId}`)).body };
  }

  it('retries a transient failure and finishes the job', async () => {
    const r = new FlakyRenderer(2);
    const { s, status } = await run(r);
    assert.equal(status.status, 'done');
    assert.deepEqual(
      s.invocations.map((i) => [i.attempt, i.error ? 'error' : i.result?.results[0]?.outcome]),
      [
        [1, 'error'],
        [2, 'error'],
        [3, 'rendered'],
      ],
    );
    assert.equal(r.calls, 3);
  });

  it('marks the job failed after the last attempt and writes the event to the dead-letter file', async () => {
    const { s, jobId, status } = await run(new FlakyRenderer(99));
    assert.equal(status.status, 'failed');
    assert.equal(status.error?.code, 'render_failed');
    assert.equal(s.invocations.length, 3);
    const lines = (await readFile(join(s.dataDir, 'dead-letter.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 1);
    const dead = JSON.parse(lines[0]!) as { error: string; event: { Records: { s3: { object: { key: string } } }[] } };
    assert.equal(dead.event.Records[0]?.s3.object.key, `jobs/${jobId}/manifest.json`);
    assert.match(dead.error, /FFmpeg was killed/);
  });
});
