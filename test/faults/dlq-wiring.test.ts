/**
 * After the retries: the handler marks the job failed on its last attempt and rethrows, and the
 * component must route that event to the dead-letter queue. This checks the two sides agree, under
 * Pulumi mocks (reusing test/infra's harness): the handler's attempt count is Lambda's, the failed
 * event goes to the encrypted DLQ, process-media may send only there, and an alarm watches it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ENV } from '../../lambdas/src/core/config.ts';
import { countCases } from '../hostile/count.ts';
import { fakeArtifacts, policyOf, runPipeline, type Run } from '../infra/harness.ts';

describe('faults: dead-letter wiring of the component (mocks)', function () {
  this.timeout(60_000);
  let run: Run;
  let artifacts: string;
  before(async () => {
    artifacts = fakeArtifacts();
    run = await runPipeline('dlqwire', { artifactsDir: artifacts });
  });
  after(() => fs.rmSync(artifacts, { recursive: true, force: true }));

  it('the last attempt the handler counts is the last one Lambda makes, and its failure lands in the DLQ', () => {
    countCases('fault', 1, 'fault suite');
    const fn = run.one('aws:lambda/function:Function', 'dlqwire-process-media');
    const invoke = run.one('aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig', 'dlqwire-process-media-invoke-config').inputs;
    const dlq = run.one('aws:sqs/queue:Queue', 'dlqwire-process-dlq');
    // Handler side: PROCESS_MAX_ATTEMPTS (failed + rethrow on that attempt). Lambda side: 1 + retries.
    assert.equal(Number(fn.inputs.environment.variables[ENV.processMaxAttempts]), invoke.maximumRetryAttempts + 1);
    assert.equal(invoke.functionName, run.outputs.processFunctionName);
    assert.deepEqual(invoke.destinationConfig, { onFailure: { destination: dlq.state.arn } });
    assert.equal(dlq.inputs.sqsManagedSseEnabled, true);
    assert.equal(run.outputs.deadLetterQueueUrl, dlq.state.url);
    // process-media may send to this queue and to no other.
    const sqs = policyOf(run.one('aws:iam/rolePolicy:RolePolicy', 'dlqwire-process-media-policy')).Statement.filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('sqs:')),
    );
    assert.deepEqual(sqs.map((s) => [s.Action, s.Resource]), [['sqs:SendMessage', dlq.state.arn]]);
    // Someone hears about it.
    const alarm = run.one('aws:cloudwatch/metricAlarm:MetricAlarm', 'dlqwire-dead-letter-messages').inputs;
    assert.equal(alarm.namespace, 'AWS/SQS');
    assert.deepEqual(alarm.dimensions, { QueueName: dlq.state.name });
    assert.equal(alarm.threshold, 1);
    assert.ok(alarm.alarmActions.length >= 1);
  });
});
