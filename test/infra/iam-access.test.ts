/* eslint-disable @typescript-eslint/no-explicit-any -- policy JSON recorded by the mocks */
/**
 * What each role can actually do, not just what its policy text says: the recorded policies are
 * evaluated like IAM does for identity policies (Allow statements, `*` and `?` wildcards in actions and
 * resources, no Deny in ours) against a matrix of requests a role must or must not be able to make.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { keys } from '../../lambdas/src/core/keys.ts';
import { fakeArtifacts, policyOf, runPipeline, type Run } from './harness.ts';

const JOB = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f';

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** IAM identity-policy evaluation for our statements: allowed if some Allow matches and no Deny does. */
export function allowed(statements: any[], action: string, resource: string): boolean {
  const matches = (s: any) =>
    list<string>(s.Action).some((a) => globToRegExp(a.toLowerCase()).test(action.toLowerCase())) &&
    list<string>(s.Resource).some((r) => globToRegExp(r).test(resource)) &&
    s.Condition === undefined;
  if (statements.some((s) => s.Effect === 'Deny' && matches(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && matches(s));
}

describe('infra: what each role can do (policies evaluated)', function () {
  this.timeout(60_000);
  let run: Run;
  let artifacts: string;
  let input: string;
  let output: string;
  const can = (fn: string, action: string, resource: string) =>
    allowed(policyOf(run.one('aws:iam/rolePolicy:RolePolicy', `iam-${fn}-policy`)).Statement, action, resource);

  before(async () => {
    artifacts = fakeArtifacts();
    run = await runPipeline('iam', { artifactsDir: artifacts });
    input = run.one('aws:s3/bucket:Bucket', 'iam-input').state.arn;
    output = run.one('aws:s3/bucket:Bucket', 'iam-output').state.arn;
  });
  after(() => fs.rmSync(artifacts, { recursive: true, force: true }));

  it('the evaluator itself: wildcards span slashes, actions are case-insensitive, no match means no', () => {
    const st = [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/jobs/*/status.json' }];
    assert.equal(allowed(st, 's3:getobject', 'arn:aws:s3:::b/jobs/x/status.json'), true);
    assert.equal(allowed(st, 's3:GetObject', 'arn:aws:s3:::b/jobs/x/y/status.json'), true);
    assert.equal(allowed(st, 's3:GetObject', 'arn:aws:s3:::b/jobs/x/status.jsonx'), false);
    assert.equal(allowed(st, 's3:PutObject', 'arn:aws:s3:::b/jobs/x/status.json'), false);
  });

  it('process-media writes only the job status and lease in the input bucket, and videos in the output bucket', () => {
    const inKey = (k: string) => `${input}/${k}`;
    const outKey = (k: string) => `${output}/${k}`;
    // Reads everything of a job.
    for (const k of [keys.manifest(JOB), keys.job(JOB), keys.image(JOB, 0), keys.status(JOB), keys.lease(JOB)]) {
      assert.ok(can('process-media', 's3:GetObject', inKey(k)), `read ${k}`);
    }
    // Writes only status and lease.
    assert.ok(can('process-media', 's3:PutObject', inKey(keys.status(JOB))));
    assert.ok(can('process-media', 's3:PutObject', inKey(keys.lease(JOB))));
    assert.ok(can('process-media', 's3:DeleteObject', inKey(keys.lease(JOB))));
    for (const k of [keys.manifest(JOB), keys.job(JOB), keys.image(JOB, 0), 'elsewhere/x', 'jobs/status.json.bak']) {
      assert.equal(can('process-media', 's3:PutObject', inKey(k)), false, `must not write ${k}`);
      assert.equal(can('process-media', 's3:DeleteObject', inKey(k)), false, `must not delete ${k}`);
    }
    // Videos: write and read back; nothing outside videos/ (fan-out off).
    assert.ok(can('process-media', 's3:PutObject', outKey(keys.video(JOB))));
    assert.ok(can('process-media', 's3:PutObject', outKey(keys.poster(JOB))));
    assert.ok(can('process-media', 's3:GetObject', outKey(keys.video(JOB))));
    assert.equal(can('process-media', 's3:PutObject', outKey('index.html')), false);
    assert.equal(can('process-media', 's3:DeleteObject', outKey(keys.video(JOB))), false);
    assert.equal(can('process-media', 's3:PutBucketPolicy', output), false);
  });

  it('the API reads and writes job files but can neither read nor write videos, nor delete anything', () => {
    for (const k of [keys.job(JOB), keys.manifest(JOB), keys.image(JOB, 3)]) {
      assert.ok(can('api', 's3:PutObject', `${input}/${k}`), `write ${k}`);
      assert.ok(can('api', 's3:GetObject', `${input}/${k}`), `read ${k}`);
      assert.equal(can('api', 's3:DeleteObject', `${input}/${k}`), false);
    }
    assert.ok(can('api', 's3:ListBucket', input));
    for (const k of [keys.video(JOB), keys.poster(JOB)]) {
      assert.equal(can('api', 's3:GetObject', `${output}/${k}`), false, `must not read ${k}`);
      assert.equal(can('api', 's3:PutObject', `${output}/${k}`), false, `must not write ${k}`);
    }
    assert.equal(can('api', 's3:ListBucket', output), false);
    assert.equal(can('api', 'lambda:InvokeFunction', run.one('aws:lambda/function:Function', 'iam-process-media').state.arn), false);
    assert.equal(can('api', 'sqs:SendMessage', run.one('aws:sqs/queue:Queue', 'iam-process-dlq').state.arn), false);
  });

  it('each role writes only its own log group', () => {
    const apiLogs = run.one('aws:cloudwatch/logGroup:LogGroup', 'iam-api-logs').state.arn;
    const processLogs = run.one('aws:cloudwatch/logGroup:LogGroup', 'iam-process-media-logs').state.arn;
    assert.ok(can('api', 'logs:PutLogEvents', `${apiLogs}:log-stream:2026/11/24/x`));
    assert.equal(can('api', 'logs:PutLogEvents', `${processLogs}:log-stream:x`), false);
    assert.ok(can('process-media', 'logs:CreateLogStream', `${processLogs}:log-stream:x`));
    assert.equal(can('process-media', 'logs:CreateLogGroup', processLogs), false);
  });
});
