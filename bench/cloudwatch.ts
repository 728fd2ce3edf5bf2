/**
 * `npm run bench:cloudwatch -- --stack <name> [--region r] [--since 24h] [--log-group g] [--arch arm64] [--write-docs]`
 *
 * The benchmark table from real invocations of a deployed stack: one CloudWatch Logs Insights query
 * (AWS SDK v3, StartQuery + GetQueryResults) over process-media's log group reads Lambda's REPORT
 * lines (duration, billed duration, max memory used, memory size, init duration) and the summary line
 * the handler logs when a job's video is written (images, video seconds, render seconds), pairs them
 * per invocation, and prints duration, max memory used, billed cost, images and video seconds grouped
 * by image count. `--write-docs` puts the table into docs/benchmarks.md "From your account".
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
  type ResultField,
} from '@aws-sdk/client-cloudwatch-logs';
import { replaceAccountSection } from './report.ts';
import { fmtSeconds, fmtUsd, invocationCost, median, renderApiCost, RENDER_API, pricePerGbSecond } from './stats.ts';

/**
 * Messages of the per-job summary line process-media writes (Powertools Logger JSON). The handler logs
 * `rendered` with `images`, `durationSeconds`, `renderSeconds`; the component's saved queries document
 * `job finished` with `videoSeconds`: both are read, so either side can settle on one.
 */
export const SUMMARY_MESSAGES = ['rendered', 'job finished'] as const;

/** The Logs Insights query: REPORT lines and summary lines, raw, oldest first (paired in code). */
export function buildQuery(limit = 10_000): string {
  return [
    'fields @timestamp, @logStream, @type, @requestId, @duration, @billedDuration, @maxMemoryUsed, @memorySize, @initDuration, ' +
      'message, function_request_id, jobId, images, videoSeconds, durationSeconds, renderSeconds',
    `filter @type = "REPORT" or message in [${SUMMARY_MESSAGES.map((m) => `"${m}"`).join(', ')}]`,
    'sort @timestamp asc',
    `limit ${limit}`,
  ].join('\n| ');
}

/** One row of GetQueryResults as a plain object. */
export type Row = Record<string, string>;

export function toRow(fields: ResultField[]): Row {
  const r: Row = {};
  for (const f of fields) if (f.field && f.value !== undefined) r[f.field] = f.value;
  return r;
}

/** The subset of the SDK client this tool calls (a mock in tests). */
export interface LogsClient {
  send(command: StartQueryCommand | GetQueryResultsCommand | DescribeLogGroupsCommand): Promise<unknown>;
}

export interface QueryInput {
  logGroupNames: string[];
  startTime: Date;
  endTime: Date;
  queryString: string;
  pollMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export async function runQuery(client: LogsClient, q: QueryInput): Promise<Row[]> {
  const started = (await client.send(
    new StartQueryCommand({
      logGroupNames: q.logGroupNames,
      startTime: Math.floor(q.startTime.getTime() / 1000),
      endTime: Math.ceil(q.endTime.getTime() / 1000),
      queryString: q.queryString,
      limit: 10_000,
    }),
  )) as { queryId?: string };
  if (!started.queryId) throw new Error('StartQuery returned no queryId');
  const sleep = q.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (q.timeoutMs ?? 300_000);
  for (;;) {
    const res = (await client.send(new GetQueryResultsCommand({ queryId: started.queryId }))) as {
      status?: string;
      results?: ResultField[][];
    };
    if (res.status === 'Complete') return (res.results ?? []).map(toRow);
    if (res.status === 'Failed' || res.status === 'Cancelled' || res.status === 'Timeout') {
      throw new Error(`Logs Insights query ${started.queryId} ended with status ${res.status}`);
    }
    if (Date.now() > deadline) throw new Error(`Logs Insights query ${started.queryId} still ${res.status ?? 'pending'} after ${q.timeoutMs ?? 300_000} ms`);
    await sleep(q.pollMs ?? 1000);
  }
}

/** One process-media invocation that rendered a video. */
export interface Invocation {
  requestId: string;
  jobId?: string;
  durationMs: number;
  billedMs: number;
  maxMemoryMb: number;
  memorySizeMb: number;
  initMs?: number;
  images: number;
  videoSeconds: number;
  renderSeconds?: number;
}

function n(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const x = Number(v);
  return Number.isFinite(x) ? x : undefined;
}

/** Logs Insights reports @maxMemoryUsed and @memorySize in bytes (the REPORT line says MB). */
function mb(bytes: number | undefined): number {
  return bytes === undefined ? NaN : bytes / 1_000_000;
}

/**
 * Pair each summary line with its invocation's REPORT line: by request id when the line carries one
 * (Powertools `function_request_id`), else the next REPORT in the same log stream (an execution
 * environment runs one invocation at a time, and REPORT is the last line of an invocation).
 */
export function pairInvocations(rows: Row[]): Invocation[] {
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => (a.r['@timestamp'] ?? '').localeCompare(b.r['@timestamp'] ?? '') || a.i - b.i);
  const reports = sorted.filter((x) => x.r['@type'] === 'REPORT');
  const byRequest = new Map(reports.filter((x) => x.r['@requestId']).map((x) => [x.r['@requestId']!, x]));
  const used = new Set<number>();
  const out: Invocation[] = [];
  for (const s of sorted) {
    const r = s.r;
    if (r['@type'] === 'REPORT' || !(SUMMARY_MESSAGES as readonly string[]).includes(r.message ?? '')) continue;
    const images = n(r.images);
    const videoSeconds = n(r.videoSeconds) ?? n(r.durationSeconds);
    if (images === undefined || videoSeconds === undefined) continue;
    const rid = r.function_request_id ?? r['@requestId'];
    let report = rid ? byRequest.get(rid) : undefined;
    if (!report) {
      report = reports.find(
        (x) => !used.has(x.i) && x.r['@logStream'] === r['@logStream'] && (x.r['@timestamp'] ?? '') >= (r['@timestamp'] ?? '') && x.i !== s.i,
      );
    }
    if (!report || used.has(report.i)) continue;
    used.add(report.i);
    const rep = report.r;
    const durationMs = n(rep['@duration']);
    const billedMs = n(rep['@billedDuration']);
    if (durationMs === undefined || billedMs === undefined) continue;
    out.push({
      requestId: rep['@requestId'] ?? rid ?? '',
      jobId: r.jobId,
      durationMs,
      billedMs,
      maxMemoryMb: mb(n(rep['@maxMemoryUsed'])),
      memorySizeMb: mb(n(rep['@memorySize'])),
      initMs: n(rep['@initDuration']),
      images,
      videoSeconds,
      renderSeconds: n(r.renderSeconds),
    });
  }
  return out;
}

/** Image-count groups, matching the local benchmark's sizes (10, 30, 100, 300). */
export const BUCKETS = [
  { label: '1–10', max: 10 },
  { label: '11–30', max: 30 },
  { label: '31–100', max: 100 },
  { label: '101–300', max: 300 },
  { label: '301+', max: Infinity },
] as const;

export interface TableRow {
  images: string;
  invocations: number;
  coldStarts: number;
  medianImages: number;
  medianVideoSeconds: number;
  medianDurationSeconds: number;
  medianBilledSeconds: number;
  maxMemoryUsedMb: number;
  memorySizeMb: number;
  medianCostUsd: number;
  costPerVideoMinuteUsd: number;
  renderApiUsd: number;
}

export function summariseInvocations(inv: Invocation[], arch: 'arm64' | 'x86_64' = 'arm64'): TableRow[] {
  const rows: TableRow[] = [];
  let lo = 0;
  for (const b of BUCKETS) {
    const g = inv.filter((x) => x.images > lo && x.images <= b.max);
    lo = b.max;
    if (!g.length) continue;
    // memory size is the configured MB (Logs Insights gives it as MB × 10^6 bytes); Lambda prices it as MB / 1024 GB
    const costs = g.map((x) => invocationCost(x.billedMs, x.memorySizeMb, arch));
    const totalCost = costs.reduce((a, c) => a + c, 0);
    const totalMinutes = g.reduce((a, x) => a + x.videoSeconds, 0) / 60;
    rows.push({
      images: b.label,
      invocations: g.length,
      coldStarts: g.filter((x) => x.initMs !== undefined).length,
      medianImages: median(g.map((x) => x.images)),
      medianVideoSeconds: median(g.map((x) => x.videoSeconds)),
      medianDurationSeconds: median(g.map((x) => x.durationMs / 1000)),
      medianBilledSeconds: median(g.map((x) => x.billedMs / 1000)),
      maxMemoryUsedMb: Math.max(...g.map((x) => x.maxMemoryMb)),
      memorySizeMb: Math.max(...g.map((x) => x.memorySizeMb)),
      medianCostUsd: median(costs),
      costPerVideoMinuteUsd: totalMinutes > 0 ? totalCost / totalMinutes : NaN,
      renderApiUsd: renderApiCost(median(g.map((x) => x.videoSeconds))),
    });
  }
  return rows;
}

export function formatTable(rows: TableRow[]): string {
  const L = [
    '| images | invocations (cold) | median images | median video | median duration | median billed | max memory used | memory size | median cost per video | cost per output minute | render API (assumed) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    L.push(
      `| ${r.images} | ${r.invocations} (${r.coldStarts}) | ${r.medianImages} | ${fmtSeconds(r.medianVideoSeconds)} | ${fmtSeconds(r.medianDurationSeconds)} | ` +
        `${fmtSeconds(r.medianBilledSeconds)} | ${Math.round(r.maxMemoryUsedMb)} MB | ${Math.round(r.memorySizeMb)} MB | ${fmtUsd(r.medianCostUsd)} | ` +
        `${fmtUsd(r.costPerVideoMinuteUsd)} | ${fmtUsd(r.renderApiUsd)} |`,
    );
  }
  return L.join('\n');
}

/** "24h", "90m", "7d", "30s" or an ISO date → the start of the window. */
export function parseSince(since: string, now: Date): Date {
  const m = /^(\d+(?:\.\d+)?)\s*([smhd])$/.exec(since.trim());
  if (m) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(m[1]) * unit * 1000);
  }
  const d = new Date(since);
  if (Number.isNaN(d.getTime())) throw new Error(`--since must look like 24h, 90m, 7d or an ISO date, got "${since}"`);
  return d;
}

export type PulumiOutputs = (stack: string) => Promise<Record<string, unknown>>;

/** `pulumi stack output --json --stack <name>` (no shell). */
export const pulumiOutputs: PulumiOutputs = (stack) =>
  new Promise((resolve, reject) => {
    execFile('pulumi', ['stack', 'output', '--json', '--stack', stack], { maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
        reject(new Error(missing ? 'the pulumi CLI is not installed: pass --log-group <process-media log group> instead' : `pulumi stack output failed: ${stderr || err.message}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as Record<string, unknown>);
      } catch {
        reject(new Error('pulumi stack output did not print JSON'));
      }
    });
  });

/**
 * process-media's log group: `--log-group`, else a stack output named like `processLogGroupName`, else
 * the one log group the component created for this stack (`/media-pipeline/<project>-<stack>-<name>/process-media-*`).
 */
export async function resolveLogGroup(opts: {
  stack?: string;
  logGroup?: string;
  client: LogsClient;
  outputs?: PulumiOutputs;
}): Promise<string> {
  if (opts.logGroup) return opts.logGroup;
  if (!opts.stack) throw new Error('give --stack <name> or --log-group <name>');
  const outputs = await (opts.outputs ?? pulumiOutputs)(opts.stack);
  const named = Object.entries(outputs).find(([k, v]) => /process.*log.*group/i.test(k) && typeof v === 'string');
  if (named) return named[1] as string;
  const groups: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = (await opts.client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/media-pipeline/', nextToken }))) as {
      logGroups?: { logGroupName?: string }[];
      nextToken?: string;
    };
    for (const g of page.logGroups ?? []) if (g.logGroupName) groups.push(g.logGroupName);
    nextToken = page.nextToken;
  } while (nextToken);
  const mine = groups.filter((g) => g.includes(`-${opts.stack}-`) && /\/process-media-[^/]*$/.test(g));
  if (mine.length === 1) return mine[0]!;
  if (mine.length === 0) throw new Error(`no process-media log group for stack "${opts.stack}" under /media-pipeline/: pass --log-group`);
  throw new Error(`several process-media log groups match stack "${opts.stack}": ${mine.join(', ')}; pass --log-group`);
}

export interface MainDeps {
  client?: LogsClient;
  outputs?: PulumiOutputs;
  now?: () => Date;
  stdout?: (s: string) => void;
  docPath?: string;
  sleep?: (ms: number) => Promise<void>;
}

export async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: 'string' },
      region: { type: 'string' },
      since: { type: 'string', default: '24h' },
      'log-group': { type: 'string' },
      arch: { type: 'string', default: 'arm64' },
      'write-docs': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const print = deps.stdout ?? ((s: string) => process.stdout.write(s));
  if (values.help) {
    print('npm run bench:cloudwatch -- --stack <name> [--region r] [--since 24h|7d|ISO] [--log-group g] [--arch arm64|x86_64] [--write-docs] [--json]\n');
    return 0;
  }
  const arch = values.arch === 'x86_64' ? 'x86_64' : values.arch === 'arm64' ? 'arm64' : undefined;
  if (!arch) throw new Error('--arch must be arm64 or x86_64');
  const now = (deps.now ?? (() => new Date()))();
  const startTime = parseSince(values.since!, now);
  const client = deps.client ?? new CloudWatchLogsClient(values.region ? { region: values.region } : {});
  const logGroup = await resolveLogGroup({ stack: values.stack, logGroup: values['log-group'], client, outputs: deps.outputs });
  const queryString = buildQuery();
  const rows = await runQuery(client, { logGroupNames: [logGroup], startTime, endTime: now, queryString, sleep: deps.sleep });
  const invocations = pairInvocations(rows);
  const table = summariseInvocations(invocations, arch);
  if (values.json) {
    print(JSON.stringify({ logGroup, since: startTime.toISOString(), until: now.toISOString(), arch, invocations, table }, null, 2) + '\n');
  } else {
    print(`${logGroup}, ${startTime.toISOString()} → ${now.toISOString()}: ${invocations.length} rendering invocations (${rows.length} log rows)\n\n`);
    print(invocations.length ? `${formatTable(table)}\n` : 'No rendering invocations in this window: run a few jobs, or widen --since.\n');
  }
  if (values['write-docs']) {
    const docPath = deps.docPath ?? join(import.meta.dirname, '..', 'docs', 'benchmarks.md');
    const doc = readFileSync(docPath, 'utf8');
    const body = [
      `Stack \`${values.stack ?? '-'}\`, log group \`${logGroup}\`, ${startTime.toISOString()} → ${now.toISOString()}, ${arch} at ` +
        `$${pricePerGbSecond(arch)} per GB-second; ${invocations.length} rendering invocations. ` +
        `Render API column: ${RENDER_API.name} at $${RENDER_API.usdPerOutputMinute}/min (assumption).`,
      '',
      invocations.length ? formatTable(table) : 'No rendering invocations in that window.',
    ].join('\n');
    writeFileSync(docPath, replaceAccountSection(doc, body));
    print(`wrote the "From your account" section of ${docPath}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`bench:cloudwatch: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
