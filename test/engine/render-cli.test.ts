import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { probe, solid, tempDir } from './helpers.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['tsx', 'lambdas/src/entrypoints/render-cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('render CLI (npm run render)', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => Promise<void>;
  let a: string;
  let b: string;
  before(async () => {
    ({ dir, cleanup } = await tempDir());
    a = join(dir, 'a.jpg');
    b = join(dir, 'b.png');
    await writeFile(a, await solid(640, 480, [200, 30, 30], 'jpeg'));
    await writeFile(b, await solid(300, 500, [30, 30, 200], 'png'));
  });
  after(async () => cleanup());

  it('rejects bad options with exit 2 and the error code', async () => {
    for (const args of [
      ['--fps', '31'],
      ['--preset', '4k'],
      ['--seconds-per-image', 'abc'],
      ['--transition', 'crossfade', '--transition-seconds', '1', '--seconds-per-image', '0.5'],
      ['--frame-rate-mode', 'sometimes'],
      ['--no-such-flag'],
    ]) {
      const r = await cli([...args, '-o', join(dir, 'x.mp4'), a, b]);
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /invalid_options/);
      assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'invalid_options');
    }
    assert.ok(!existsSync(join(dir, 'x.mp4')));
  });

  it('exits non-zero with a code for no images, a missing file and unreadable bytes', async () => {
    const none = await cli(['-o', join(dir, 'x.mp4')]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no_images/);
    const missing = await cli(['-o', join(dir, 'x.mp4'), join(dir, 'nope.jpg')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /image_unreadable/);
    const junk = join(dir, 'junk.jpg');
    await writeFile(junk, 'not an image at all');
    const bad = await cli(['-o', join(dir, 'x.mp4'), a, junk]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /image_unreadable/);
    assert.ok(!readdirSync(dir).some((f) => f.includes('.render-')), 'temp work dir removed');
  });

  it('renders a video and poster, progress on stderr, JSON summary on stdout', async () => {
    const out = join(dir, 'out.mp4');
    const r = await cli(['--preset', '480p', '--fps', '25', '--seconds-per-image', '1', '--fit', 'cover', '--background', '#102030', '--transition', 'crossfade', '--transition-seconds', '0.4', '--frame-rate-mode', 'constant', '-o', out, a, b]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /rendering 100%/);
    const summary = JSON.parse(r.stdout) as { videoPath: string; posterPath: string; durationSeconds: number; width: number; height: number; bytes: number };
    assert.equal(summary.videoPath, out);
    assert.equal(summary.posterPath, join(dir, 'out.jpg'));
    assert.ok(existsSync(out) && existsSync(summary.posterPath));
    assert.deepEqual([summary.width, summary.height, summary.durationSeconds], [854, 480, 2]);
    const p = await probe(out);
    assert.deepEqual([p.codec, p.width, p.height, p.frames], ['h264', 854, 480, 50]);
    assert.ok(!readdirSync(dir).some((f) => f.includes('.render-')), 'temp work dir removed');
  });
});
