/** `npm run load` keeps working: a small run (3 jobs) through the real script, its JSON summary checked. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

describe('hostile: the load script (3 jobs)', function () {
  this.timeout(120_000);
  it('creates, uploads, starts and finishes every job, loses none, and reports the figures', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/load.ts', '--jobs', '3', '--images', '2', '--preset', '480p', '--seconds-per-image', '1', '--time-limit', '100', '--json'], {
      cwd: new URL('../../', import.meta.url),
      encoding: 'utf8',
      timeout: 110_000,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    assert.equal(r.status, 0, r.stderr.slice(-2000));
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.deepEqual([s.done, s.failed, s.lost], [3, 0, 0]);
    assert.ok(s.endToEndSeconds.p50 > 0 && s.endToEndSeconds.p95 >= s.endToEndSeconds.p50);
    assert.ok(s.statusMs.requests >= 3);
    assert.ok(s.peakRssMiB.server > 30 && s.peakRssMiB.processTree >= s.peakRssMiB.server);
    assert.ok(s.serverEventLoopDelayMs && s.serverEventLoopDelayMs.max >= 0);
  });
});
