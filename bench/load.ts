/**
 * `npm run load`: many jobs at once against the local stack (issue 6), loopback only, bounded in count
 * and time, stops by itself.
 *
 *   npm run load -- [--jobs 50] [--images 3] [--time-limit 600] [--render-concurrency N]
 *                   [--preset 720p] [--fps 30] [--seconds-per-image 3] [--poll-ms 500] [--json]
 *
 * The stack runs in a child process (this file with `--serve`, which calls `startLocalStack` on
 * 127.0.0.1 with ephemeral ports and a temporary data dir), so its memory is measured alone: peak RSS
 * of the server process and of its whole process tree (render workers are threads; FFmpeg children
 * are processes). The parent creates every job at once, uploads with the POST grants, starts them,
 * polls their status until done or failed, and checks each finished video is really stored.
 *
 * Reports jobs done / failed / lost (accepted but not finished by the time limit, or finished without
 * its video: must be 0), p50/p95 end-to-end latency, status-request latency while renders run, and
 * peak RSS. Exits 1 if any job was lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import type { CreateJobResponse, JobStatus, PostUploadGrant } from '../contracts/index.ts';

interface Args {
  jobs: number;
  images: number;
  timeLimit: number;
  renderConcurrency?: number;
  preset: string;
  fps: number;
  secondsPerImage: number;
  pollMs: number;
  json: boolean;
}

function readArgs(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      jobs: { type: 'string', default: '50' },
      images: { type: 'string', default: '3' },
      'time-limit': { type: 'string', default: '600' },
      'render-concurrency': { type: 'string' },
      preset: { type: 'string', default: '720p' },
      fps: { type: 'string', default: '30' },
      'seconds-per-image': { type: 'string', default: '3' },
      'poll-ms': { type: 'string', default: '500' },
      json: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
    },
  });
  const int = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got ${v}`);
    return n;
  };
  const out: Args = {
    jobs: int('jobs', values.jobs, 1, 1000),
    images: int('images', values.images, 1, 200),
    timeLimit: int('time-limit', values['time-limit'], 5, 3600),
    preset: values.preset!,
    fps: Number(values.fps),
    secondsPerImage: Number(values['seconds-per-image']),
    pollMs: int('poll-ms', values['poll-ms'], 20, 10_000),
    json: values.json!,
  };
  if (values['render-concurrency'] !== undefined) out.renderConcurrency = int('render-concurrency', values['render-concurrency'], 1, 64);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Server side (child process)

async function serve(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { startLocalStack } = await import('../local/stack.ts');
  const dataDir = process.env.LOAD_DATA_DIR!;
  const rc = process.env.LOAD_RENDER_CONCURRENCY ? Number(process.env.LOAD_RENDER_CONCURRENCY) : undefined;
  const stack = await startLocalStack({ port: 0, host: '127.0.0.1', dataDir, uiDir: join(dataDir, 'no-ui'), logLevel: 'warn', ...(rc ? { renderConcurrency: rc } : {}) });
  // How late the server's event loop ran: separates "the API code blocked" from "the machine was busy".
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  process.stdout.write(`${JSON.stringify({ url: stack.url, s3Url: stack.s3Url })}\n`);
  const stop = () => {
    eld.disable();
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    process.stdout.write(`${JSON.stringify({ eventLoopDelayMs: { p50: ms(eld.percentile(50)), p99: ms(eld.percentile(99)), max: ms(eld.max) } })}\n`);
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}

// ---------------------------------------------------------------------------------------------------
// Memory of the server process tree, from /proc

async function rssKb(pid: number): Promise<number> {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function descendants(root: number): Promise<number[]> {
  const parent = new Map<number, number>();
  for (const d of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Client side

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface JobRun {
  index: number;
  jobId?: string;
  created?: number;
  finished?: number;
  state: 'creating' | 'uploading' | 'waiting' | 'done' | 'failed' | 'lost';
  reason?: string;
}

async function startServer(dataDir: string, rc: number | undefined): Promise<{ child: ChildProcess; url: string; lines: string[] }> {
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, '--serve'], {
    env: { ...process.env, LOAD_DATA_DIR: dataDir, ...(rc ? { LOAD_RENDER_CONCURRENCY: String(rc) } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the local stack did not start within 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        lines.push(line);
        if (lines.length === 1) {
          clearTimeout(timer);
          resolve((JSON.parse(line) as { url: string }).url);
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`the local stack exited with ${code}`)));
  });
  return { child, url, lines };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--serve')) {
    await serve();
    return -1; // keep running
  }
  const args = readArgs(argv);
  const dataDir = await mkdtemp(join(tmpdir(), 'load-'));
  const started = performance.now();
  const deadline = started + args.timeLimit * 1000;
  const { child, url, lines } = await startServer(dataDir, args.renderConcurrency);
  const log = (s: string) => {
    if (!args.json) process.stderr.write(`${s}\n`);
  };
  log(`local stack at ${url} (pid ${child.pid}); ${args.jobs} jobs x ${args.images} images, ${args.preset} ${args.fps} fps ${args.secondsPerImage} s/image, limit ${args.timeLimit} s`);

  // Memory sampler.
  let peakServerKb = 0;
  let peakTreeKb = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const own = await rssKb(child.pid!);
      const kids = await descendants(child.pid!);
      const tree = own + (await Promise.all(kids.map(rssKb))).reduce((a, b) => a + b, 0);
      peakServerKb = Math.max(peakServerKb, own);
      peakTreeKb = Math.max(peakTreeKb, tree);
      await sleep(200);
    }
  })();

  // Small distinct images, generated once.
  const images = await Promise.all(
    Array.from({ length: args.images }, (_, i) =>
      sharp({ create: { width: 800, height: 600, channels: 3, background: { r: (i * 80) % 256, g: 120, b: 255 - ((i * 60) % 256) } } })
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );

  const statusLatencies: number[] = [];
  const statusLatenciesRendering: number[] = [];
  let rendering = 0;
  const runs: JobRun[] = Array.from({ length: args.jobs }, (_, index) => ({ index, state: 'creating' }));

  const fetchJson = async <T>(path: string, init?: RequestInit): Promise<{ status: number; body: T; ms: number }> => {
    const t = performance.now();
    const res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(Math.max(1000, Math.round(deadline - performance.now()))) });
    const body = (await res.json()) as T;
    return { status: res.status, body, ms: performance.now() - t };
  };

  async function one(run: JobRun): Promise<void> {
    run.created = performance.now();
    const created = await fetchJson<CreateJobResponse>('/api/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        images: images.map((b, i) => ({ name: `load-${run.index}-${i}.jpg`, type: 'image/jpeg', size: b.length })),
        options: { preset: args.preset, fps: args.fps, secondsPerImage: args.secondsPerImage },
      }),
    });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
    run.jobId = created.body.jobId;
    run.state = 'uploading';
    await Promise.all(
      images.map(async (bytes, i) => {
        const grant = created.body.uploads[i] as PostUploadGrant;
        const form = new FormData();
        for (const [k, v] of Object.entries(grant.fields)) form.append(k, v);
        form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), `load-${i}.jpg`);
        const res = await fetch(grant.url, { method: 'POST', body: form });
        if (!res.ok) throw new Error(`upload ${i} answered ${res.status}`);
        await res.arrayBuffer();
      }),
    );
    const start = await fetchJson<JobStatus>(`/api/jobs/${run.jobId}/start`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`start answered ${start.status}`);
    run.state = 'waiting';
    let counted = false;
    while (performance.now() < deadline) {
      const st = await fetchJson<JobStatus>(`/api/jobs/${run.jobId}`);
      statusLatencies.push(st.ms);
      if (rendering > 0) statusLatenciesRendering.push(st.ms);
      if (st.status !== 200) throw new Error(`status answered ${st.status}`);
      if (st.body.status === 'processing' && !counted) {
        counted = true;
        rendering++;
      }
      if (st.body.status === 'done' || st.body.status === 'failed') {
        if (counted) rendering--;
        run.finished = performance.now();
        if (st.body.status === 'failed') {
          run.state = 'failed';
          run.reason = `${st.body.error?.code}: ${st.body.error?.message}`;
          return;
        }
        // Done means the video is really there, whole.
        const head = await fetch(`${url}${st.body.video!.url}`, { method: 'HEAD' });
        const bytes = Number(head.headers.get('content-length'));
        if (head.status !== 200 || bytes !== st.body.video!.bytes) {
          run.state = 'lost';
          run.reason = `status done but the video answered ${head.status} with ${bytes} bytes`;
          return;
        }
        run.state = 'done';
        return;
      }
      await sleep(args.pollMs);
    }
    if (counted) rendering--;
    throw new Error('not finished within the time limit');
  }

  await Promise.all(
    runs.map((r) =>
      one(r).catch((err: Error) => {
        r.state = 'lost';
        r.reason = err.message;
      }),
    ),
  );
  const wall = (performance.now() - started) / 1000;
  sampling = false;
  await sampler;
  child.kill('SIGTERM');
  await new Promise((r) => {
    const t = setTimeout(() => (child.kill('SIGKILL'), r(null)), 15_000);
    child.once('exit', () => (clearTimeout(t), r(null)));
  });
  await rm(dataDir, { recursive: true, force: true });
  const eld = lines.map((l) => JSON.parse(l) as { eventLoopDelayMs?: { p50: number; p99: number; max: number } }).find((l) => l.eventLoopDelayMs)?.eventLoopDelayMs;
  const load = loadavg()[0] ?? 0;

  const e2e = runs.filter((r) => r.finished !== undefined && r.created !== undefined).map((r) => (r.finished! - r.created!) / 1000);
  const count = (s: JobRun['state']) => runs.filter((r) => r.state === s).length;
  const summary = {
    jobs: args.jobs,
    imagesPerJob: args.images,
    options: { preset: args.preset, fps: args.fps, secondsPerImage: args.secondsPerImage },
    renderConcurrency: args.renderConcurrency ?? Math.max(1, Math.floor(cpus().length / 2)),
    done: count('done'),
    failed: count('failed'),
    lost: count('lost'),
    wallSeconds: round(wall),
    endToEndSeconds: { p50: round(percentile(e2e, 50)), p95: round(percentile(e2e, 95)), max: round(Math.max(...e2e)) },
    statusMs: {
      requests: statusLatencies.length,
      whileRendering: statusLatenciesRendering.length,
      p50: round(percentile(statusLatenciesRendering, 50)),
      p95: round(percentile(statusLatenciesRendering, 95)),
      max: round(Math.max(...statusLatenciesRendering)),
    },
    peakRssMiB: { server: round(peakServerKb / 1024, 0), processTree: round(peakTreeKb / 1024, 0) },
    serverEventLoopDelayMs: eld ?? null,
    machineLoadAverage1m: round(load, 1),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model.trim(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    problems: runs.filter((r) => r.reason).slice(0, 10).map((r) => ({ job: r.index, state: r.state, reason: r.reason })),
  };
  if (args.json) {
    console.log(JSON.stringify(summary));
  } else {
    console.log(`
load: ${summary.jobs} jobs x ${summary.imagesPerJob} images (${args.preset}, ${args.fps} fps, ${args.secondsPerImage} s/image), render concurrency ${summary.renderConcurrency}
  done ${summary.done}   failed ${summary.failed}   lost ${summary.lost}   in ${summary.wallSeconds} s
  end-to-end (create → done)      p50 ${summary.endToEndSeconds.p50} s   p95 ${summary.endToEndSeconds.p95} s   max ${summary.endToEndSeconds.max} s
  status requests while rendering p50 ${summary.statusMs.p50} ms   p95 ${summary.statusMs.p95} ms   max ${summary.statusMs.max} ms   (${summary.statusMs.whileRendering} of ${summary.statusMs.requests})
  peak RSS                        server ${summary.peakRssMiB.server} MiB   with FFmpeg children ${summary.peakRssMiB.processTree} MiB
  server event loop delay         p50 ${eld?.p50 ?? '?'} ms   p99 ${eld?.p99 ?? '?'} ms   max ${eld?.max ?? '?'} ms
  machine                         ${summary.machine.cores} cores, ${summary.machine.memoryGiB} GiB, ${summary.machine.cpu}, Node ${summary.machine.node}, load average ${summary.machineLoadAverage1m} at the end`);
    for (const p of summary.problems) console.log(`  job ${p.job} ${p.state}: ${p.reason}`);
  }
  return summary.lost > 0 ? 1 : 0;
}

function round(n: number, digits = 2): number {
  if (!Number.isFinite(n)) return NaN;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: Error) => {
    console.error(`load: ${err.message}`);
    process.exit(2);
  },
);
