import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeLogGroupsCommand, GetQueryResultsCommand, StartQueryCommand, type ResultField } from '@aws-sdk/client-cloudwatch-logs';
import {
  buildQuery,
  main,
  pairInvocations,
  parseSince,
  resolveLogGroup,
  summariseInvocations,
  type LogsClient,
  type Row,
} from '../../bench/cloudwatch.ts';
import { ACCOUNT_END, ACCOUNT_START } from '../../bench/report.ts';

/** A fake Logs client: records every command, answers from scripted replies. */
class FakeLogs implements LogsClient {
  readonly sent: unknown[] = [];
  constructor(private readonly reply: (cmd: unknown, n: number) => unknown) {}
  async send(cmd: StartQueryCommand | GetQueryResultsCommand | DescribeLogGroupsCommand): Promise<unknown> {
    this.sent.push(cmd);
    return this.reply(cmd, this.sent.length);
  }
}

function fields(r: Record<string, string | number | undefined>): ResultField[] {
  return Object.entries(r)
    .filter(([, v]) => v !== undefined)
    .map(([field, value]) => ({ field, value: String(value) }));
}

const MB = 1_000_000; // Logs Insights reports memory as MB × 10^6 bytes

/** Canned Logs Insights rows: three rendering invocations, one failed job, one API-ish noise line. */
function cannedRows(): ResultField[][] {
  return [
    // invocation 1 (cold start), summary carries no request id: paired by log stream order
    fields({ '@timestamp': '2026-11-24 10:00:05.000', '@logStream': 's1', message: 'rendered', jobId: 'j1', images: 30, durationSeconds: 90, renderSeconds: 8 }),
    fields({ '@timestamp': '2026-11-24 10:00:06.000', '@logStream': 's1', '@type': 'REPORT', '@requestId': 'r1', '@duration': 9500.5, '@billedDuration': 9501, '@maxMemoryUsed': 290 * MB, '@memorySize': 3008 * MB, '@initDuration': 420.1 }),
    // invocation 2, warm, same stream, uses the component's documented message and field names
    fields({ '@timestamp': '2026-11-24 11:00:05.000', '@logStream': 's1', message: 'job finished', jobId: 'j2', images: 30, videoSeconds: 90, renderSeconds: 7 }),
    fields({ '@timestamp': '2026-11-24 11:00:06.000', '@logStream': 's1', '@type': 'REPORT', '@requestId': 'r2', '@duration': 8500, '@billedDuration': 8500, '@maxMemoryUsed': 270 * MB, '@memorySize': 3008 * MB }),
    // invocation 3 in another stream, with Powertools' function_request_id: paired by request id even though REPORT comes first in the list
    fields({ '@timestamp': '2026-11-24 12:00:09.000', '@logStream': 's2', '@type': 'REPORT', '@requestId': 'r3', '@duration': 40000, '@billedDuration': 40000, '@maxMemoryUsed': 300 * MB, '@memorySize': 3008 * MB }),
    fields({ '@timestamp': '2026-11-24 12:00:08.000', '@logStream': 's2', message: 'rendered', function_request_id: 'r3', jobId: 'j3', images: 120, durationSeconds: 360, renderSeconds: 38 }),
    // an invocation without a summary (failed job): not a rendering invocation
    fields({ '@timestamp': '2026-11-24 13:00:00.000', '@logStream': 's3', '@type': 'REPORT', '@requestId': 'r4', '@duration': 1200, '@billedDuration': 1200, '@maxMemoryUsed': 150 * MB, '@memorySize': 3008 * MB }),
  ];
}

describe('bench:cloudwatch', () => {
  it('queries REPORT lines and both summary messages, oldest first', () => {
    const q = buildQuery();
    assert.match(q, /^fields @timestamp, @logStream, @type, @requestId, @duration, @billedDuration, @maxMemoryUsed, @memorySize, @initDuration, /);
    assert.match(q, /\| filter @type = "REPORT" or message in \["rendered", "job finished"\]/);
    assert.match(q, /\| sort @timestamp asc/);
    assert.match(q, /\| limit 10000$/);
    for (const f of ['images', 'videoSeconds', 'durationSeconds', 'renderSeconds', 'function_request_id']) assert.ok(q.includes(f), f);
  });

  it('pairs summaries with their REPORT line by request id or by log stream order', () => {
    const rows: Row[] = cannedRows().map((fs) => Object.fromEntries(fs.map((f) => [f.field!, f.value!])));
    const inv = pairInvocations(rows);
    assert.deepEqual(
      inv.map((i) => [i.jobId, i.requestId, i.durationMs, i.billedMs, i.maxMemoryMb, i.memorySizeMb, i.initMs, i.images, i.videoSeconds]),
      [
        ['j1', 'r1', 9500.5, 9501, 290, 3008, 420.1, 30, 90],
        ['j2', 'r2', 8500, 8500, 270, 3008, undefined, 30, 90],
        ['j3', 'r3', 40000, 40000, 300, 3008, undefined, 120, 360],
      ],
    );
  });

  it('groups by image count and prices billed duration × memory at the arm64 rate', () => {
    const rows: Row[] = cannedRows().map((fs) => Object.fromEntries(fs.map((f) => [f.field!, f.value!])));
    const table = summariseInvocations(pairInvocations(rows), 'arm64');
    assert.deepEqual(table.map((r) => [r.images, r.invocations, r.coldStarts, r.medianImages, r.medianVideoSeconds]), [
      ['11–30', 2, 1, 30, 90],
      ['101–300', 1, 0, 120, 360],
    ]);
    const gb = 3008 / 1024;
    const cost1 = 9.501 * gb * 0.0000133334 + 0.0000002;
    const cost2 = 8.5 * gb * 0.0000133334 + 0.0000002;
    assert.ok(Math.abs(table[0]!.medianCostUsd - (cost1 + cost2) / 2) < 1e-12);
    assert.ok(Math.abs(table[0]!.costPerVideoMinuteUsd - (cost1 + cost2) / 3) < 1e-12); // 180 s of video = 3 minutes
    assert.equal(table[0]!.medianDurationSeconds, (9.5005 + 8.5) / 2);
    assert.equal(table[0]!.maxMemoryUsedMb, 290);
    assert.equal(table[1]!.medianBilledSeconds, 40);
    assert.ok(Math.abs(table[1]!.renderApiUsd - 6 * 0.15) < 1e-12);
    const x86 = summariseInvocations(pairInvocations(rows), 'x86_64');
    assert.ok(x86[1]!.medianCostUsd > table[1]!.medianCostUsd * 1.2);
  });

  it('runs the query through the injected client, polls until Complete, prints the table and fills the doc section', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-cw-'));
    try {
      const doc = join(dir, 'benchmarks.md');
      await writeFile(doc, `# B\n\n## From your account\n\n${ACCOUNT_START}\nold text\n${ACCOUNT_END}\n\n## Rerun it\nkeep me\n`);
      const client = new FakeLogs((cmd, n) => {
        if (cmd instanceof DescribeLogGroupsCommand) {
          return { logGroups: [{ logGroupName: '/media-pipeline/app-prod-media/process-media-1a2b' }, { logGroupName: '/media-pipeline/app-dev-media/process-media-9f9f' }, { logGroupName: '/media-pipeline/app-dev-media/api-77' }] };
        }
        if (cmd instanceof StartQueryCommand) return { queryId: 'q-1' };
        if (cmd instanceof GetQueryResultsCommand) return n < 4 ? { status: 'Running' } : { status: 'Complete', results: cannedRows() };
        throw new Error('unexpected command');
      });
      let out = '';
      let slept = 0;
      const code = await main(['--stack', 'dev', '--since', '2h', '--write-docs'], {
        client,
        outputs: async (stack) => {
          assert.equal(stack, 'dev');
          return { processFunctionName: 'media-process-media-abc' };
        },
        now: () => new Date('2026-11-24T14:00:00Z'),
        stdout: (s) => (out += s),
        docPath: doc,
        sleep: async () => void (slept += 1),
      });
      assert.equal(code, 0);
      const start = client.sent.find((c) => c instanceof StartQueryCommand) as StartQueryCommand;
      assert.deepEqual(start.input.logGroupNames, ['/media-pipeline/app-dev-media/process-media-9f9f']);
      assert.equal(start.input.startTime, Date.parse('2026-11-24T12:00:00Z') / 1000);
      assert.equal(start.input.endTime, Date.parse('2026-11-24T14:00:00Z') / 1000);
      assert.equal(start.input.queryString, buildQuery());
      assert.equal(client.sent.filter((c) => c instanceof GetQueryResultsCommand).length, 2);
      assert.equal(slept, 1);
      assert.match(out, /3 rendering invocations \(7 log rows\)/);
      assert.match(out, /\| 11–30 \| 2 \(1\) \| 30 \| 90\.0 s \| 9\.00 s \| 9\.00 s \| 290 MB \| 3008 MB \| \$0\.000353 \| \$0\.000235 \| \$0\.22 \|/);
      assert.match(out, /\| 101–300 \| 1 \(0\) \| 120 \| 360 s \| 40\.0 s \| 40\.0 s \| 300 MB \| 3008 MB \| \$0\.0016 \| \$0\.000261 \| \$0\.90 \|/);
      const written = await readFile(doc, 'utf8');
      assert.ok(!written.includes('old text'));
      assert.match(written, /Stack `dev`, log group `\/media-pipeline\/app-dev-media\/process-media-9f9f`/);
      assert.match(written, /\| 101–300 \| 1 \(0\) \|/);
      assert.match(written, /## Rerun it\nkeep me\n$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly when the query fails or the log group is ambiguous', async () => {
    const failing = new FakeLogs((cmd) => (cmd instanceof StartQueryCommand ? { queryId: 'q-2' } : { status: 'Failed' }));
    await assert.rejects(main(['--log-group', 'g'], { client: failing, stdout: () => {}, sleep: async () => {} }), /q-2 ended with status Failed/);
    const two = new FakeLogs(() => ({ logGroups: [{ logGroupName: '/media-pipeline/a-dev-x/process-media-1' }, { logGroupName: '/media-pipeline/b-dev-y/process-media-2' }] }));
    await assert.rejects(resolveLogGroup({ stack: 'dev', client: two, outputs: async () => ({}) }), /several process-media log groups match stack "dev"/);
    const named = await resolveLogGroup({ stack: 'dev', client: two, outputs: async () => ({ processLogGroupName: '/explicit/group' }) });
    assert.equal(named, '/explicit/group');
    await assert.rejects(resolveLogGroup({ client: two }), /give --stack/);
  });

  it('reads --since as a duration or a date', () => {
    const now = new Date('2026-11-24T14:00:00Z');
    assert.equal(parseSince('24h', now).toISOString(), '2026-11-23T14:00:00.000Z');
    assert.equal(parseSince('7d', now).toISOString(), '2026-11-17T14:00:00.000Z');
    assert.equal(parseSince('90m', now).toISOString(), '2026-11-24T12:30:00.000Z');
    assert.equal(parseSince('2026-11-01T00:00:00Z', now).toISOString(), '2026-11-01T00:00:00.000Z');
    assert.throws(() => parseSince('yesterday', now), /--since must look like/);
  });
});
