/**
 * The fan-out wiring of MediaPipeline under Pulumi mocks (test/infra's harness), plus the
 * render-segment bundle answering in a fresh Node.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLambdas } from '../../lambdas/build.ts';
import { ENV } from '../../lambdas/src/core/config.ts';
import { fakeArtifacts, policyOf, runPipeline, type Recorded, type Run } from '../infra/harness.ts';

const T = {
  fn: 'aws:lambda/function:Function',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  bucket: 'aws:s3/bucket:Bucket',
  layer: 'aws:lambda/layerVersion:LayerVersion',
};
const asArray = <V>(v: V | V[]): V[] => (Array.isArray(v) ? v : [v]);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- policy JSON as recorded by the mocks
const statements = (r: Recorded): any[] => policyOf(r).Statement;
const names = (run: Run) => new Set(run.resources.map((r) => `${r.type} ${r.name}`));

describe('fan-out: MediaPipeline wiring under mocks', function () {
  this.timeout(60_000);
  let artifacts: string;
  let off: Run;
  let on: Run;
  let tuned: Run;

  before(async () => {
    artifacts = fakeArtifacts();
    fs.mkdirSync(path.join(artifacts, 'lambdas', 'render-segment'), { recursive: true });
    fs.writeFileSync(path.join(artifacts, 'lambdas', 'render-segment', 'index.mjs'), 'export const handler = async () => ({});\n');
    off = await runPipeline('fo-off', { artifactsDir: artifacts });
    on = await runPipeline('fo-on', { artifactsDir: artifacts, segmentWorkers: 4 });
    tuned = await runPipeline('fo-tuned', {
      artifactsDir: artifacts,
      segmentWorkers: 8,
      segmentMinVideoSeconds: 120,
      segmentMemoryMb: 5308,
      segmentTimeoutSeconds: 300,
      processMemoryMb: 1769,
      processTimeoutSeconds: 600,
    });
  });
  after(() => fs.rmSync(artifacts, { recursive: true, force: true }));

  it('off by default: no segment function, no invoke grant, no fan-out variables on process-media', () => {
    const n = names(off);
    for (const part of ['render-segment', 'render-segment-role', 'render-segment-policy', 'render-segment-logs', 'process-media-fan-out-policy']) {
      assert.ok(![...n].some((x) => x.endsWith(` fo-off-${part}`)), part);
    }
    const env = off.one(T.fn, 'fo-off-process-media').inputs.environment.variables;
    for (const v of [ENV.renderSegments, ENV.segmentFunctionName, ENV.segmentMinVideoSeconds]) assert.equal(env[v], undefined, v);
  });

  it('segmentWorkers > 1 adds exactly the segment function, its role, policy, log group and one grant on process-media', () => {
    const added = [...names(on)].filter((x) => !names(off).has(x.replace(/fo-on/g, 'fo-off'))).sort();
    assert.deepEqual(added, [
      `${T.logGroup} fo-on-render-segment-logs`,
      `${T.fn} fo-on-render-segment`,
      `${T.role} fo-on-render-segment-role`,
      `${T.rolePolicy} fo-on-process-media-fan-out-policy`,
      `${T.rolePolicy} fo-on-render-segment-policy`,
    ].sort());
    // Every child of the default stack is still there.
    for (const x of names(off)) assert.ok(names(on).has(x.replace(/fo-off/g, 'fo-on')), x);
  });

  it('the segment function: runtime, arch, FFmpeg layer, buckets, limits; memory and timeout like process-media, /tmp for one segment', () => {
    const seg = on.one(T.fn, 'fo-on-render-segment').inputs;
    const pm = on.one(T.fn, 'fo-on-process-media').inputs;
    assert.equal(seg.runtime, 'nodejs22.x');
    assert.deepEqual(seg.architectures, ['arm64']);
    assert.equal(seg.handler, 'index.handler');
    assert.deepEqual(seg.layers, pm.layers);
    assert.equal(seg.memorySize, pm.memorySize);
    assert.equal(seg.timeout, pm.timeout);
    // A segment holds one segment; process-media holds the segments and the joined file during the join.
    assert.deepEqual(seg.ephemeralStorage, { size: 1536 });
    assert.deepEqual(pm.ephemeralStorage, { size: 3072 }); // (2 x 900 MB + 4 x 25 MiB) x 1.5, in 512 MB steps
    assert.deepEqual(off.one(T.fn, 'fo-off-process-media').inputs.ephemeralStorage, { size: 1536 });
    assert.equal(seg.role, on.one(T.role, 'fo-on-render-segment-role').state.arn);
    assert.equal(seg.loggingConfig.logGroup, on.one(T.logGroup, 'fo-on-render-segment-logs').state.name);
    const env = seg.environment.variables;
    assert.equal(env[ENV.inputBucket], on.one(T.bucket, 'fo-on-input').state.bucket);
    assert.equal(env[ENV.outputBucket], on.one(T.bucket, 'fo-on-output').state.bucket);
    assert.equal(env[ENV.ffmpegPath], '/opt/bin/ffmpeg');
    for (const v of [ENV.maxImages, ENV.maxImageBytes, ENV.maxImagePixels, ENV.maxVideoSeconds]) assert.equal(env[v], pm.environment.variables[v], v);
    // It is not the one S3 triggers, and it invokes nothing.
    assert.equal(env[ENV.segmentFunctionName], undefined);

    const t = tuned.one(T.fn, 'fo-tuned-render-segment').inputs;
    assert.equal(t.memorySize, 5308);
    assert.equal(t.timeout, 300);
  });

  it('process-media gets the fan-out settings and the segment function name', () => {
    const env = on.one(T.fn, 'fo-on-process-media').inputs.environment.variables;
    assert.equal(env[ENV.renderSegments], '4');
    assert.equal(env[ENV.segmentMinVideoSeconds], '60');
    assert.equal(env[ENV.segmentFunctionName], on.one(T.fn, 'fo-on-render-segment').state.name);
    const t = tuned.one(T.fn, 'fo-tuned-process-media').inputs.environment.variables;
    assert.equal(t[ENV.renderSegments], '8');
    assert.equal(t[ENV.segmentMinVideoSeconds], '120');
  });

  it('segment role: reads only job images, writes only segments/*, no wildcard actions', () => {
    const input = on.one(T.bucket, 'fo-on-input').state.arn;
    const output = on.one(T.bucket, 'fo-on-output').state.arn;
    const logs = on.one(T.logGroup, 'fo-on-render-segment-logs').state.arn;
    assert.deepEqual(statements(on.one(T.rolePolicy, 'fo-on-render-segment-policy')), [
      { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logs}:*` },
      { Sid: 'ReadJobImages', Effect: 'Allow', Action: 's3:GetObject', Resource: `${input}/jobs/*/images/*` },
      { Sid: 'WriteSegments', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], Resource: `${output}/segments/*` },
      { Sid: 'ListOutput', Effect: 'Allow', Action: 's3:ListBucket', Resource: output },
    ]);
    assert.equal(on.one(T.rolePolicy, 'fo-on-render-segment-policy').inputs.role, on.one(T.role, 'fo-on-render-segment-role').state.name);
  });

  it('process-media may invoke exactly the segment function and read/delete segments; its main policy is unchanged', () => {
    const grant = on.one(T.rolePolicy, 'fo-on-process-media-fan-out-policy');
    assert.equal(grant.inputs.role, on.one(T.role, 'fo-on-process-media-role').state.name);
    const output = on.one(T.bucket, 'fo-on-output').state.arn;
    assert.deepEqual(statements(grant), [
      { Sid: 'InvokeSegmentWorker', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: on.one(T.fn, 'fo-on-render-segment').state.arn },
      { Sid: 'JoinAndDeleteSegments', Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: `${output}/segments/*` },
    ]);
    const main = (run: Run, n: string) => JSON.stringify(statements(run.one(T.rolePolicy, `${n}-process-media-policy`))).replace(new RegExp(n, 'g'), 'X');
    assert.equal(main(on, 'fo-on'), main(off, 'fo-off'));
    for (const run of [on, tuned]) {
      for (const r of run.byType(T.rolePolicy)) {
        for (const s of statements(r)) for (const a of asArray(s.Action)) assert.ok(!String(a).includes('*'), `${r.name}: wildcard action ${a}`);
      }
    }
  });

  it('refuses a bad segmentWorkers and a missing render-segment bundle, with the command to run', async () => {
    for (const bad of [0, 1.5, 65]) {
      await assert.rejects(runPipeline(`fo-bad-${String(bad).replace('.', '')}`, { artifactsDir: artifacts, segmentWorkers: bad }), /segmentWorkers/);
    }
    const noBundle = fakeArtifacts();
    try {
      await assert.rejects(runPipeline('fo-nobundle', { artifactsDir: noBundle, segmentWorkers: 2 }), /render-segment.*npm run build:lambdas/s);
      // With fan-out off the bundle is not needed.
      await runPipeline('fo-nobundle-off', { artifactsDir: noBundle });
    } finally {
      fs.rmSync(noBundle, { recursive: true, force: true });
    }
  });
});

describe('fan-out: the render-segment bundle', function () {
  this.timeout(180_000);
  it('builds with sharp beside it and answers a bad request with a coded error in a fresh Node', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-seg-bundle-'));
    try {
      await buildLambdas({ architecture: 'x86_64', outDir: out, functions: ['render-segment'], log: () => {} });
      const dir = path.join(out, 'lambdas', 'render-segment');
      assert.ok(fs.existsSync(path.join(dir, 'node_modules', 'sharp')), 'sharp ships beside the bundle');
      const code = `const { handler } = await import(${JSON.stringify(path.join(dir, 'index.mjs'))});
const ctx = { getRemainingTimeInMillis: () => 60000, functionName: 'f', awsRequestId: 'r' };
console.log(JSON.stringify(await handler({ jobId: 'nope' }, ctx)));`;
      const res = execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', code], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', INPUT_BUCKET: 'in', OUTPUT_BUCKET: 'out', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      });
      const answer = JSON.parse(res.trim().split('\n').pop()!);
      assert.equal(answer.ok, false);
      assert.equal(answer.error.code, 'internal_error');
      assert.match(answer.error.message, /Invalid segment request: jobId/);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
