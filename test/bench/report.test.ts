import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workloadId, type Workload } from '../../bench/commands.ts';
import { ACCOUNT_END, ACCOUNT_START, charts, linearFit, replaceAccountSection, targets, writeReport } from '../../bench/report.ts';
import { METHOD_IDS, summarise, type BenchResults, type MethodId, type RunRecord, type WorkloadResult } from '../../bench/results.ts';
import { lineChart } from '../../bench/svg.ts';

const MB = 1048576;

function rec(run: number, wall: number, rss: number, out: number, frames: number, disk = out + MB): RunRecord {
  return {
    run, wallSeconds: wall, cpuSeconds: wall * 1.5, userSeconds: wall * 1.4, sysSeconds: wall * 0.1,
    peakTreeRssBytes: rss + 100 * MB, peakWorkRssBytes: rss, maxProcessRssBytes: rss, peakDiskBytes: disk, outputBytes: out,
    video: { durationSeconds: frames / 30, frames, width: 1280, height: 720, bytes: out, variableFrameRate: false },
    exitCode: 0, cpuSource: 'gnu-time', otherCpuSeconds: 0, loadBefore: 0.1, detail: {},
  };
}

/** Synthetic results: engine time linear in images, one-liner 10x slower, fps-first 20x. */
function results(): BenchResults {
  const sizes = [10, 30, 100];
  const list: WorkloadResult[] = [];
  for (const n of sizes) {
    for (const transition of ['none', 'crossfade'] as const) {
      const w0 = { images: n, preset: '720p' as const, fps: 30, secondsPerImage: 3, transition, transitionSeconds: 0.5 };
      const w: Workload = { ...w0, id: workloadId(w0) };
      const runs = Object.fromEntries(METHOD_IDS.map((m) => [m, [] as RunRecord[]])) as Record<MethodId, RunRecord[]>;
      const b = 0.5 + n * 0.25 + (transition === 'crossfade' ? n * 0.05 : 0);
      for (const r of [1, 2, 3]) {
        const jitter = r === 2 ? 1.2 : 1; // the median must ignore one slow run
        runs['engine-constant'].push(rec(r, b * jitter, 250 * MB + n * 10_000, n * 80_000, n * 90));
        runs['engine-still'].push(rec(r, b * 0.7 * jitter, 240 * MB, n * 100_000, n + 1));
        if (transition === 'none') {
          runs.oneliner.push(rec(r, b * 10 * jitter, 240 * MB, n * 120_000, n * 90));
          runs.floor.push(rec(r, b * 0.9, 100 * MB, n * 20_000, n * 90));
          if (n === 30) runs['oneliner-fps-first'].push(rec(r, b * 20, 250 * MB, n * 120_000, n * 90));
        }
      }
      list.push({ workload: w, frames: n * 90, runs, ssim: { constantVsOneLiner: 0.985, stillVsConstant: 0.99 }, notes: [] });
    }
  }
  {
    const w0 = { images: 30, preset: '720p' as const, fps: 30, secondsPerImage: 3, transition: 'none' as const, transitionSeconds: 0.5, smallInputs: true };
    const runs = Object.fromEntries(METHOD_IDS.map((m) => [m, [] as RunRecord[]])) as Record<MethodId, RunRecord[]>;
    runs['engine-constant'].push(rec(1, 8 * 0.95, 250 * MB, 2.4e6, 2700));
    runs.oneliner.push(rec(1, 20, 200 * MB, 3e6, 2700));
    list.push({ workload: { ...w0, id: workloadId(w0) }, frames: 2700, runs, ssim: {}, notes: [] });
  }
  return {
    version: 1, generatedAt: '2026-11-24T14:00:00.000Z', quick: false,
    settings: { runs: 3, runsLarge: 1, largeFrom: 300, sizes, hdSizes: [], crossfade: true, fpsFirstAt: [30], engine: true },
    machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 24, os: 'Debian', kernel: '6', node: 'v20', ffmpeg: 'ffmpeg N-1', sharp: '0.35.5', libvips: '8.18' },
    inputs: { width: 4000, height: 3000, seed: 7, quality: 90, medianBytes: 3.3e6, generateSeconds: 100 },
    benchSeconds: 1500, load: { start: 0.5, end: 0.7 }, gnuTime: true,
    workloads: list.map((r) => summarise(r, list)),
  };
}

describe('bench report', () => {
  it('summarises medians and ratios; crossfade rows borrow (a) and (c) from the cut row', () => {
    const r = results();
    const cut = r.workloads.find((w) => w.workload.id === '720p-n30-cut')!;
    assert.equal(cut.median['engine-constant']!.wallSeconds, 8); // 0.5 + 30 × 0.25, median of 8, 9.6, 8
    assert.equal(cut.ratios.oneLinerOverConstant, 10);
    assert.equal(cut.ratios.fpsFirstOverConstant, 20);
    assert.ok(Math.abs(cut.ratios.constantOverFloor - 1 / 0.9) < 1e-12);
    assert.ok(Math.abs(cut.ratios.constantBytesOverOneLiner - 80 / 120) < 1e-12);
    const xf = r.workloads.find((w) => w.workload.id === '720p-n30-xfade')!;
    assert.equal(xf.reference, '720p-n30-cut');
    assert.equal(xf.median.oneliner!.wallSeconds, 80);
    assert.equal(xf.ratios.oneLinerOverConstant, 80 / 9.5);
    assert.ok(cut.lambda['engine-constant']!.best, 'a Lambda size is chosen');
    assert.ok(Math.abs(cut.renderApiUsd - 0.225) < 1e-12);
  });

  it('judges the targets from the figures, saying by how much a missed one is missed', () => {
    const t = targets(results());
    const by = (s: string) => t.find((x) => x.what.startsWith(s))!;
    assert.equal(by('constant mode ≥ 8x').ok, true);
    assert.match(by('constant mode ≥ 8x').measured, /^20\.0x vs the fps-first one-liner/);
    assert.equal(by('constant mode: mean SSIM').ok, true);
    assert.equal(by('constant mode: file').ok, true);
    assert.equal(by('constant mode within 1.3x').ok, true);
    assert.equal(by('still mode ≥ 30x').ok, false);
    assert.match(by('still mode ≥ 30x').measured, /missing by/);
    assert.equal(by('peak RSS < 300 MB').ok, true);
    assert.equal(by('peak RSS flat').ok, true);
    assert.equal(by('temp disk').ok, true);
    assert.equal(by('time grows linearly').ok, true);
    assert.match(by('crossfades add time').measured, /720p-n30-xfade: \+1\.50 s wall, \+2\.25 s CPU for 435 moving frames \(5\.2 ms CPU each\); file 2\.4 MB vs 2\.4 MB/);
    assert.match(by('time does not grow with input resolution').measured, /^engine CPU 12\.0 s vs 11\.4 s \(\+5%\)/);
    const fit = linearFit([{ x: 1, y: 3 }, { x: 2, y: 5 }, { x: 3, y: 7 }]);
    assert.deepEqual([fit.slope, fit.intercept, fit.r2], [2, 1, 1]);
  });

  it('writes the doc and the SVG plots, keeping the "From your account" section', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-report-'));
    try {
      const docPath = join(dir, 'docs', 'benchmarks.md');
      await writeReport(results(), dir, { docPath, imgDir: join(dir, 'docs', 'img') });
      let doc = await readFile(docPath, 'utf8');
      assert.match(doc, /\| 30 × 720p \| 90\.0 s \| 80\.0 s \| 8\.00 s \|/);
      assert.match(doc, /ffmpeg -hide_banner -nostdin -y -framerate 1\/3 -i img%03d\.jpg -vf 'scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:\(ow-iw\)\/2:\(oh-ih\)\/2,fps=30,format=yuv420p' -c:v libx264 -movflags \+faststart out\.mp4/);
      assert.match(doc, /\$0\.0000133334 per GB-second/);
      assert.match(doc, /an assumption, not a quote/);
      assert.ok(doc.includes(`${ACCOUNT_START}\nNo figures from a deployed stack yet.`));
      // a filled account section survives a regeneration
      await writeFile(docPath, replaceAccountSection(doc, '| my | table |'));
      await writeReport(results(), dir, { docPath, imgDir: join(dir, 'docs', 'img') });
      doc = await readFile(docPath, 'utf8');
      assert.ok(doc.includes(`${ACCOUNT_START}\n| my | table |\n${ACCOUNT_END}`));
      // sections other tools own (fan-out, load) survive a regeneration, each once
      await writeFile(docPath, doc.replace('## From your account', '## Load\n\n<!-- load:start -->\nload table\n<!-- load:end -->\n\n## From your account'));
      await writeReport(results(), dir, { docPath, imgDir: join(dir, 'docs', 'img') });
      await writeReport(results(), dir, { docPath, imgDir: join(dir, 'docs', 'img') });
      doc = await readFile(docPath, 'utf8');
      assert.equal(doc.split('<!-- load:start -->').length, 2);
      assert.ok(doc.includes('## Load\n\n<!-- load:start -->\nload table\n<!-- load:end -->\n\n## From your account'));
      assert.ok(doc.includes(`${ACCOUNT_START}\n| my | table |\n${ACCOUNT_END}`));
      const svg = await readFile(join(dir, 'docs', 'img', 'bench-time.svg'), 'utf8');
      assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      assert.equal((svg.match(/<polyline /g) ?? []).length, 6); // a, b constant, b still, c; b constant and still with crossfade
      assert.ok((await readFile(join(dir, 'docs', 'img', 'bench-memory.svg'), 'utf8')).includes('Peak RSS vs image count'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('draws a deterministic chart with one polyline per series and log ticks', () => {
    const svg = lineChart({
      title: 'T <&>', xLabel: 'x', yLabel: 'y', logX: true, logY: true,
      series: [{ name: 'a', colour: '#f00', points: [{ x: 10, y: 1 }, { x: 100, y: 10 }] }, { name: 'b', colour: '#00f', dashed: true, points: [{ x: 10, y: 2 }] }],
    });
    assert.equal(svg, lineChart({
      title: 'T <&>', xLabel: 'x', yLabel: 'y', logX: true, logY: true,
      series: [{ name: 'a', colour: '#f00', points: [{ x: 10, y: 1 }, { x: 100, y: 10 }] }, { name: 'b', colour: '#00f', dashed: true, points: [{ x: 10, y: 2 }] }],
    }));
    assert.ok(svg.includes('<title>T &lt;&amp;&gt;</title>'));
    assert.equal((svg.match(/<polyline /g) ?? []).length, 1);
    assert.equal((svg.match(/<circle /g) ?? []).length, 3);
    assert.ok(svg.includes('stroke-dasharray'));
    for (const tick of ['>10<', '>20<', '>50<', '>100<']) assert.ok(svg.includes(tick), tick);
    const { time } = charts(results());
    assert.ok(time.includes('(a) one-liner'));
  });
});
