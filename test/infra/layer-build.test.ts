import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LAMBDA_UNZIPPED_LIMIT_BYTES, buildFfmpegLayer, elfArchitecture } from '../../lambdas/layers/ffmpeg/build.ts';
import { readZip } from './zip.ts';

describe('infra: FFmpeg layer build (lambdas/layers/ffmpeg/build.ts)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-layer-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('x86_64: the zip holds an executable bin/ffmpeg that runs -version, under the unzipped limit', async () => {
    const out = path.join(dir, 'ffmpeg-x86_64.zip');
    const result = await buildFfmpegLayer({ architecture: 'x86_64', out, log: () => {} });
    assert.match(result.version ?? '', /^ffmpeg version /);
    const entries = readZip(out);
    assert.deepEqual(entries.map((e) => e.name).sort(), ['bin/ffmpeg', 'share/doc/ffmpeg/NOTICE.txt']);
    const ffmpeg = entries.find((e) => e.name === 'bin/ffmpeg')!;
    assert.equal(ffmpeg.mode, 0o100755, 'regular file, rwxr-xr-x');
    const total = entries.reduce((n, e) => n + e.size, 0);
    assert.equal(total, result.unzippedBytes);
    assert.ok(total < LAMBDA_UNZIPPED_LIMIT_BYTES);
    // Unpack as Lambda does (into /opt), keeping the stored mode, and run it.
    const opt = path.join(dir, 'opt');
    fs.mkdirSync(path.join(opt, 'bin'), { recursive: true });
    const bin = path.join(opt, 'bin', 'ffmpeg');
    fs.writeFileSync(bin, ffmpeg.read(), { mode: ffmpeg.mode & 0o777 });
    assert.equal(fs.statSync(bin).mode & 0o111, 0o111, 'executable once unpacked');
    const version = execFileSync(bin, ['-version'], { encoding: 'utf8' });
    assert.match(version, /^ffmpeg version .*\n.*configuration:.*--enable-libx264/s);
    assert.equal(elfArchitecture(bin), 'x86_64');
    assert.match(entries.find((e) => e.name.endsWith('NOTICE.txt'))!.read().toString(), /@ffmpeg-installer\/linux-x64@4\.1\.0/);
  });

  it('the same input gives a byte-identical zip (stable layer hash, no needless layer versions)', async () => {
    const a = path.join(dir, 'a.zip');
    const b = path.join(dir, 'b.zip');
    await buildFfmpegLayer({ architecture: 'x86_64', out: a, log: () => {} });
    await buildFfmpegLayer({ architecture: 'x86_64', out: b, log: () => {} });
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)));
  });

  it('refuses an unpinned or plain-http URL before downloading anything', async () => {
    const out = path.join(dir, 'x.zip');
    await assert.rejects(buildFfmpegLayer({ architecture: 'arm64', out, url: 'https://example.com/ffmpeg.tar.xz', log: () => {} }), /--url and --sha256 go together/);
    await assert.rejects(
      buildFfmpegLayer({ architecture: 'arm64', out, url: 'http://example.com/ffmpeg.tar.xz', sha256: 'a'.repeat(64), log: () => {} }),
      /must be https/,
    );
    await assert.rejects(buildFfmpegLayer({ architecture: 'arm64', out, url: 'https://example.com/f.tar.xz', sha256: 'abc', log: () => {} }), /64 hex digits/);
    assert.equal(fs.existsSync(out), false);
  });
});
