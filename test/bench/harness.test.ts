/**
 * The benchmark's own parts: input generator, measurement, command builders and x264 settings copy,
 * cost arithmetic. (The benchmark itself is a script, `npm run bench`, not a test.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import {
  FFMPEG,
  floorEncodeArgs,
  floorStillArgs,
  oneLinerArgs,
  parseSsim,
  parseX264Options,
  probe,
  ssim,
  x264Differences,
  x264Options,
  x264ParamsFromOptions,
  type Workload,
} from '../../bench/commands.ts';
import { downscaleImages, generateImages, imageName, prng } from '../../bench/generate.ts';
import { defaultIsLauncher, hasGnuTime, measure, parseGnuTime } from '../../bench/measure.ts';
import { bestMemory, invocationCost, lambdaCurve, lambdaSeconds, median, renderApiCost } from '../../bench/stats.ts';

const run = promisify(execFile);
const W720: Workload = { id: '720p-n3-cut', images: 3, preset: '720p', fps: 30, secondsPerImage: 3, transition: 'none', transitionSeconds: 0.5 };

describe('bench harness', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bench-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates the same photo-like JPEGs for the same seed, different ones per index, and reuses them', async () => {
    const a = await generateImages({ dir: join(dir, 'a'), count: 2, width: 400, height: 300, seed: 3 });
    const b = await generateImages({ dir: join(dir, 'b'), count: 2, width: 400, height: 300, seed: 3 });
    const [a0, a1, b0] = await Promise.all([readFile(a[0]!), readFile(a[1]!), readFile(b[0]!)]);
    assert.ok(a0.equals(b0), 'same seed and index → same bytes');
    assert.ok(!a0.equals(a1), 'another index → another picture');
    assert.equal(a[1], join(dir, 'a', imageName(1)));
    const meta = await sharp(a0).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 400, 300]);
    // photo-like: colour spread and fine detail, not a flat fill
    const st = await sharp(a0).stats();
    for (const ch of st.channels.slice(0, 3)) assert.ok(ch.stdev > 15, `channel stdev ${ch.stdev}`);
    assert.ok(a0.length > 400 * 300 * 0.3, `grain keeps the JPEG large: ${a0.length} bytes`);
    const before = (await stat(a[0]!)).mtimeMs;
    await generateImages({ dir: join(dir, 'a'), count: 3, width: 400, height: 300, seed: 3 });
    assert.equal((await stat(a[0]!)).mtimeMs, before, 'existing images are reused');
    assert.ok((await stat(join(dir, 'a', imageName(2)))).size > 0);
    const c = await generateImages({ dir: join(dir, 'a'), count: 1, width: 400, height: 300, seed: 4 });
    assert.ok(!(await readFile(c[0]!)).equals(a0), 'a new seed regenerates');
    const small = await downscaleImages({ from: a.slice(0, 2), dir: join(dir, 'small'), width: 160, height: 120 });
    const sm = await sharp(small[0]!).metadata();
    assert.deepEqual([sm.width, sm.height], [160, 120]);
    const again = await downscaleImages({ from: a.slice(0, 2), dir: join(dir, 'small2'), width: 160, height: 120 });
    assert.ok((await readFile(small[1]!)).equals(await readFile(again[1]!)));
    const r = prng(1);
    const xs = Array.from({ length: 1000 }, r);
    assert.ok(xs.every((x) => x >= 0 && x < 1) && new Set(xs).size > 990);
  });

  it('measures wall, CPU, peak RSS of a process tree and peak bytes in the work folder', async () => {
    // a shell that starts a node child: allocates ~200 MB, burns 0.6 s of CPU, writes 3 MB then deletes it
    const script = `
      const fs = require('fs');
      const keep = Buffer.alloc(200 * 1024 * 1024, 1);
      fs.writeFileSync(${JSON.stringify(join(dir, 'tmp.bin'))}, Buffer.alloc(3 * 1024 * 1024));
      let x = 0; while (process.cpuUsage().user < 600000) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + 1);
      fs.unlinkSync(${JSON.stringify(join(dir, 'tmp.bin'))});
      process.stdout.write(String(keep[5] + (x > 0 ? 1 : 0)));`;
    for (const noGnuTime of [false, true]) {
      const m = await measure('sh', ['-c', `"${process.execPath}" -e "$0"`, script], { workDir: dir, sampleMs: 50, noGnuTime });
      assert.equal(m.exitCode, 0, m.stderrTail);
      assert.equal(m.stdout, '2');
      assert.ok(m.wallSeconds >= 0.6 && m.wallSeconds < 30, `wall ${m.wallSeconds}`);
      assert.ok(m.cpuSeconds >= 0.4, `cpu ${m.cpuSeconds} (${m.cpuSource})`);
      assert.ok(m.peakWorkRssBytes >= 200 * 1024 * 1024, `work rss ${m.peakWorkRssBytes}`);
      assert.ok(m.peakTreeRssBytes >= m.peakWorkRssBytes, 'the tree includes the launcher shell');
      assert.ok((m.peakRssByProgram.node ?? 0) >= 200 * 1024 * 1024, JSON.stringify(m.peakRssByProgram));
      assert.ok(m.peakDiskBytes >= 3 * 1024 * 1024, `disk ${m.peakDiskBytes}`);
      // GNU time (Debian package `time`) may be missing on a fresh machine: then both runs sample /proc
      assert.equal(m.cpuSource, noGnuTime || !hasGnuTime() ? 'proc-sampling' : 'gnu-time');
    }
    const failed = await measure('sh', ['-c', 'exit 3']);
    assert.equal(failed.exitCode, 3);
    const killed = await measure('sleep', ['30'], { timeoutMs: 300 });
    assert.equal(killed.exitCode, 124);
    assert.ok(killed.wallSeconds < 5);
  });

  it('tells launchers from working processes, and parses GNU time', () => {
    assert.ok(defaultIsLauncher('/usr/bin/time\0-f\0x'));
    assert.ok(defaultIsLauncher('sh\0-c\0tsx bench/run.ts'));
    assert.ok(defaultIsLauncher('npm run render'));
    assert.ok(defaultIsLauncher('node\0/usr/lib/node_modules/npm/bin/npm-cli.js\0run\0render'));
    assert.ok(defaultIsLauncher('node\0/work/main/node_modules/tsx/dist/cli.mjs\0lambdas/src/entrypoints/render-cli.ts'));
    assert.ok(!defaultIsLauncher('/usr/bin/node\0--require\0/work/main/node_modules/tsx/dist/preflight.cjs\0--import\0file:///work/main/node_modules/tsx/dist/loader.mjs\0lambdas/src/entrypoints/render-cli.ts'));
    assert.ok(!defaultIsLauncher('/work/main/node_modules/@ffmpeg-installer/linux-x64/ffmpeg\0-i\0pipe:0'));
    assert.deepEqual(parseGnuTime('Command exited with non-zero status 1\n12.34 10.50 0.75 412345\n'), { wall: 12.34, user: 10.5, sys: 0.75, maxRssKb: 412345 });
    assert.equal(parseGnuTime('nothing'), null);
  });

  it('builds the one-liner exactly as documented', () => {
    assert.deepEqual(oneLinerArgs(W720, '/imgs', '/o.mp4', 'scale-first'), [
      '-hide_banner', '-nostdin', '-y', '-framerate', '1/3', '-i', '/imgs/img%03d.jpg',
      '-vf', 'scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,fps=30,format=yuv420p',
      '-c:v', 'libx264', '-movflags', '+faststart', '/o.mp4',
    ]);
    assert.equal(oneLinerArgs(W720, '/imgs', '/o.mp4', 'fps-first')[8], 'fps=30,scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,format=yuv420p');
  });

  it('copies x264 settings from an MP4 into -x264-params, so the floor encodes like the engine', async () => {
    const img = join(dir, 'img.jpg');
    await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3366aa' } }).jpeg().toFile(img);
    const still = join(dir, 'still.yuv');
    await run(FFMPEG, floorStillArgs(W720, img, still));
    assert.equal((await stat(still)).size, 1280 * 720 * 1.5);
    const ref = join(dir, 'ref.mp4');
    // settings unlike any preset default, as an engine might choose them
    await run(FFMPEG, floorEncodeArgs(W720, still, 20, ['-preset', 'veryfast', '-tune', 'stillimage', '-crf', '26', '-x264-params', 'keyint=300:rc-lookahead=10:bframes=2'], ref));
    const refOpts = await x264Options(ref);
    assert.ok(refOpts);
    assert.equal(refOpts.keyint, '300');
    assert.equal(refOpts.rc_lookahead, '10');
    assert.equal(refOpts.crf, '26.0');
    const copy = join(dir, 'copy.mp4');
    await run(FFMPEG, floorEncodeArgs(W720, still, 20, ['-x264-params', x264ParamsFromOptions(refOpts)], copy));
    const copyOpts = await x264Options(copy);
    assert.deepEqual(x264Differences(refOpts, copyOpts!), []);
    // and a plain veryfast encode is told apart
    const plain = join(dir, 'plain.mp4');
    await run(FFMPEG, floorEncodeArgs(W720, still, 20, ['-preset', 'veryfast'], plain));
    const diff = x264Differences(refOpts, (await x264Options(plain))!);
    assert.ok(diff.some((d) => d.startsWith('keyint: 300 vs 250')), diff.join('; '));
    const info = await probe(copy);
    assert.deepEqual([info.frames, info.width, info.height, info.variableFrameRate], [20, 1280, 720, false]);
    assert.ok(Math.abs(info.durationSeconds - 20 / 30) < 0.05);
    assert.ok((await ssim(copy, ref, 30)) > 0.99);
    assert.equal(parseSsim('[Parsed_ssim_4 @ 0x1] SSIM Y:0.990000 (20.0) U:0.99 (20) V:0.99 (20) All:0.987654 (19.1)'), 0.987654);
    assert.throws(() => parseSsim('nothing'), /no SSIM line/);
    assert.equal(parseX264Options('x264 - core 155 - no options here'), null);
    assert.deepEqual(parseX264Options('x264 - core 155 - options: cabac=1 ref=2 deblock=1:-1:-1'), { cabac: '1', ref: '2', deblock: '1:-1:-1' });
    assert.match(x264ParamsFromOptions({ deblock: '1:-1:-1', psy_rd: '1.00:0.15', analyse: '0x3:0x113' }), /deblock=-1,-1:partitions=i4x4,i8x8,p8x8,b8x8:psy-rd=1\.00,0\.15/);
  });

  it('computes medians, Lambda duration and cost by memory size, and the assumed render API price', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
    // 10 CPU-s that took 6 s on 2 cores: CPU-bound below 10/6 vCPU, wall-bound above
    assert.equal(lambdaSeconds(10, 6, 1769), 10);
    assert.equal(lambdaSeconds(10, 6, 3538), 6);
    assert.ok(Math.abs(invocationCost(1000, 1024) - (0.0000133334 + 0.0000002)) < 1e-15);
    assert.ok(Math.abs(invocationCost(1000, 1024, 'x86_64') - (0.0000166667 + 0.0000002)) < 1e-15);
    const curve = lambdaCurve({ cpuSeconds: 10, wallSeconds: 6, peakRssBytes: 400 * 1048576 });
    const at = (mb: number) => curve.find((c) => c.memoryMb === mb)!;
    assert.equal(at(512).fits, false); // 400 MB × 1.5 headroom does not fit 512 MB
    assert.equal(at(1024).fits, true);
    // flat cost while CPU-bound: 1024 and 1769 MB cost the same per video
    assert.ok(Math.abs(at(1024).costUsd - at(1769).costUsd) / at(1769).costUsd < 0.001);
    assert.ok(at(10240).costUsd > at(3008).costUsd * 2);
    const best = bestMemory(curve)!;
    assert.equal(best.memoryMb, 2048, 'the fastest size within 2% of the cheapest');
    assert.ok(Math.abs(renderApiCost(90) - 0.225) < 1e-12);
  });
});
