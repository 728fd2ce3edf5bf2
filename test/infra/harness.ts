/* eslint-disable @typescript-eslint/no-explicit-any -- mocked resource inputs and state are untyped JSON */
/**
 * Runs the MediaPipeline component under `pulumi.runtime.setMocks` and records every resource it
 * registers (type, name, inputs). Mocks are set before the component module is imported.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import type { MediaPipelineArgs } from '../../components/index.ts';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
}

export const recorded: Recorded[] = [];
let mocksSet = false;

/** Outputs a real provider would compute, derived from the name so tests can predict them. */
function computed(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
  const physical = `${name}-0000`;
  const arnOf = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  switch (type) {
    case 'aws:s3/bucket:Bucket':
      return {
        bucket: physical,
        arn: `arn:aws:s3:::${physical}`,
        bucketDomainName: `${physical}.s3.amazonaws.com`,
        bucketRegionalDomainName: `${physical}.s3.${REGION}.amazonaws.com`,
      };
    case 'aws:lambda/function:Function':
      return {
        name: physical,
        arn: arnOf('lambda', `function:${physical}`),
        invokeArn: `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${arnOf('lambda', `function:${physical}`)}/invocations`,
      };
    case 'aws:lambda/layerVersion:LayerVersion':
      return { arn: arnOf('lambda', `layer:${inputs.layerName}:1`) };
    case 'aws:iam/role:Role':
      return { name: physical, arn: `arn:aws:iam::${ACCOUNT}:role/${physical}` };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { name: `${inputs.namePrefix ?? ''}${physical}`, arn: arnOf('logs', `log-group:${inputs.namePrefix ?? ''}${physical}`) };
    case 'aws:sqs/queue:Queue':
      return { name: physical, arn: arnOf('sqs', physical), url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${physical}` };
    case 'aws:sns/topic:Topic':
      return { name: physical, arn: arnOf('sns', physical) };
    case 'aws:apigatewayv2/api:Api':
      return {
        apiEndpoint: `https://api${name.length}.execute-api.${REGION}.amazonaws.com`,
        executionArn: arnOf('execute-api', `api${name.length}`),
        arn: `arn:aws:apigateway:${REGION}::/apis/api${name.length}`,
      };
    case 'aws:cloudfront/distribution:Distribution':
      return { domainName: `d${name.length}.cloudfront.net`, arn: `arn:aws:cloudfront::${ACCOUNT}:distribution/E${name.length}` };
    case 'aws:cloudwatch/metricAlarm:MetricAlarm':
      return { arn: arnOf('cloudwatch', `alarm:${physical}`) };
    default:
      return { arn: arnOf('mock', physical) };
  }
}

export function setMocksOnce(): void {
  if (mocksSet) return;
  mocksSet = true;
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = { ...args.inputs, ...computed(args.type, args.name, args.inputs) };
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs, state });
        return { id: String(state.bucket ?? state.name ?? `${args.name}-id`), state };
      },
      call(args) {
        switch (args.token) {
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return { accountId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test`, userId: 'AIDTEST', id: ACCOUNT };
          case 'aws:index/getRegion:getRegion':
            return { name: REGION, region: REGION, id: REGION, endpoint: `ec2.${REGION}.amazonaws.com`, description: 'test' };
          case 'aws:index/getPartition:getPartition':
            return { partition: 'aws', dnsSuffix: 'amazonaws.com', id: 'aws', reverseDnsPrefix: 'com.amazonaws' };
          default:
            throw new Error(`unexpected invoke ${args.token}`);
        }
      },
    },
    'media-pipeline',
    'test',
    false,
  );
}

/** Resolve an Output (mocks resolve everything, even in a preview). */
export function valueOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output as pulumi.Input<T>).apply((v) => resolve(v as T)));
}

/** Wait until no new resource has been registered for a few turns of the event loop. */
export async function settle(): Promise<void> {
  let last = -1;
  let stable = 0;
  while (stable < 5) {
    await new Promise((r) => setTimeout(r, 20));
    if (recorded.length === last) stable += 1;
    else {
      stable = 0;
      last = recorded.length;
    }
  }
}

/** Fake build artifacts (the mocks never read archives, but the component checks the paths exist). */
export function fakeArtifacts(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-artifacts-'));
  for (const fn of ['api', 'process-media']) {
    fs.mkdirSync(path.join(dir, 'lambdas', fn), { recursive: true });
    fs.writeFileSync(path.join(dir, 'lambdas', fn, 'index.mjs'), 'export const handler = async () => ({});\n');
  }
  fs.mkdirSync(path.join(dir, 'layers'), { recursive: true });
  for (const arch of ['arm64', 'x86_64']) fs.writeFileSync(path.join(dir, 'layers', `ffmpeg-${arch}.zip`), 'not a real zip');
  return dir;
}

/** A built UI: index.html, a hashed asset, and a development config.json that must be replaced. */
export function fakeSite(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-site-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/index-abc123.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'assets', 'index-abc123.css'), 'body{}');
  fs.writeFileSync(path.join(dir, 'config.json'), '{"apiBaseUrl":"http://localhost:3000/api"}');
  return dir;
}

export interface Run {
  component: import('../../components/index.ts').MediaPipeline;
  resources: Recorded[];
  /** Children of this run (by name prefix), excluding the component itself. */
  byType(type: string): Recorded[];
  one(type: string, name: string): Recorded;
  outputs: Record<string, unknown>;
}

/** Instantiate the component under mocks and collect what it registered. Names must be unique per test file. */
export async function runPipeline(name: string, args: MediaPipelineArgs): Promise<Run> {
  setMocksOnce();
  const { MediaPipeline } = await import('../../components/index.ts');
  const start = recorded.length;
  const component = new MediaPipeline(name, args);
  const outputNames = [
    'siteUrl',
    'apiUrl',
    'apiEndpoint',
    'cdnDomain',
    'distributionId',
    'inputBucketName',
    'outputBucketName',
    'siteBucketName',
    'apiFunctionName',
    'processFunctionName',
    'layerArn',
    'deadLetterQueueUrl',
    'dashboardName',
    'alarmTopicArn',
  ] as const;
  const outputs: Record<string, unknown> = {};
  for (const key of outputNames) outputs[key] = await valueOf(component[key]);
  await settle();
  const resources = recorded.slice(start).filter((r) => r.name === name || r.name.startsWith(`${name}-`));
  return {
    component,
    resources,
    outputs,
    byType: (type) => resources.filter((r) => r.type === type),
    one(type, n) {
      const found = resources.filter((r) => r.type === type && r.name === n);
      if (found.length !== 1) throw new Error(`expected exactly one ${type} named ${n}, found ${found.length}`);
      return found[0]!;
    },
  };
}

/** Parse a JSON policy input (our policies are JSON strings). */
export function policyOf(r: Recorded, field = 'policy'): { Statement: any[] } {
  const raw = r.inputs[field];
  return typeof raw === 'string' ? JSON.parse(raw) : raw;
}
