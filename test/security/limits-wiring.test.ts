/**
 * The limits are checked twice (the API at create, process-media on the manifest): both functions must
 * get the same values from the component args, or a job accepted by one is refused by the other.
 * Under Pulumi mocks, reusing test/infra's harness.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ENV } from '../../lambdas/src/core/config.ts';
import { limitsFromEnv } from '../../lambdas/src/core/settings.ts';
import { fakeArtifacts, runPipeline } from '../infra/harness.ts';

describe('security: limits reach both functions alike (mocks)', function () {
  this.timeout(60_000);
  let artifacts: string;
  before(() => {
    artifacts = fakeArtifacts();
  });
  after(() => fs.rmSync(artifacts, { recursive: true, force: true }));

  it('custom limits: identical MAX_* and GRANT_TTL_SECONDS in the API and process-media environments', async () => {
    const args = { maxImages: 40, maxImageBytes: 5_000_000, grantTtlSeconds: 300, maxImagePixels: 50_000_000, maxVideoSeconds: 240 };
    const run = await runPipeline('seclimits', { artifactsDir: artifacts, ...args });
    const env = (fn: string) => run.one('aws:lambda/function:Function', `seclimits-${fn}`).inputs.environment.variables as Record<string, string>;
    const api = limitsFromEnv(env('api'));
    const pm = limitsFromEnv(env('process-media'));
    assert.deepEqual(api, args);
    assert.deepEqual(pm, args);
    for (const k of [ENV.maxImages, ENV.maxImageBytes, ENV.grantTtlSeconds, ENV.maxImagePixels, ENV.maxVideoSeconds]) assert.ok(env('api')[k] !== undefined, k);
  });
});
