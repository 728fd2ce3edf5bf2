import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { fakeArtifacts, fakeSite, recorded, setMocksOnce, settle, valueOf } from './harness.ts';

/** The root program (index.ts) under mocks: config keys reach the component, stack outputs are exported. */
describe('infra: root program (index.ts) under mocks', function () {
  this.timeout(60_000);
  let artifacts: string;
  let site: string;

  before(() => {
    artifacts = fakeArtifacts();
    fs.mkdirSync(path.join(artifacts, 'lambdas', 'render-segment'));
    fs.writeFileSync(path.join(artifacts, 'lambdas', 'render-segment', 'index.mjs'), 'export const handler = async () => ({});\n');
    site = fakeSite();
  });
  after(() => {
    fs.rmSync(artifacts, { recursive: true, force: true });
    fs.rmSync(site, { recursive: true, force: true });
  });

  it('reads Pulumi config and exports every output', async () => {
    setMocksOnce();
    pulumi.runtime.setAllConfig({
      'media-pipeline:architecture': 'x86_64',
      'media-pipeline:artifactsDir': artifacts,
      'media-pipeline:site': site,
      'media-pipeline:allowedOrigins': '["http://localhost:5173"]',
      'media-pipeline:maxImages': '12',
      'media-pipeline:processTimeoutSeconds': '300',
      'media-pipeline:alarmEmail': 'ops@example.com',
      'media-pipeline:authorizerIssuer': 'https://issuer.example.com/',
      'media-pipeline:authorizerAudience': '["aud-1"]',
      'media-pipeline:tags': '{"owner":"team"}',
      'media-pipeline:segmentWorkers': '3',
    });
    const start = recorded.length;
    const program = await import('../../index.ts');
    const outputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(program)) outputs[key] = await valueOf(value as pulumi.Output<unknown>);
    await settle();
    assert.deepEqual(Object.keys(outputs).sort(), [
      'alarmTopicArn', 'apiEndpoint', 'apiFunctionName', 'apiUrl', 'cdnDomain', 'dashboardName', 'deadLetterQueueUrl',
      'distributionId', 'inputBucketName', 'layerArn', 'outputBucketName', 'processFunctionName', 'siteBucketName', 'siteUrl',
    ]);
    assert.equal(outputs.apiUrl, `https://${outputs.cdnDomain}/api`);
    const mine = recorded.slice(start).filter((r) => r.name === 'media' || r.name.startsWith('media-'));
    const one = (type: string, name: string) => mine.find((r) => r.type === type && r.name === name)!;
    const fn = one('aws:lambda/function:Function', 'media-process-media').inputs;
    assert.deepEqual(fn.architectures, ['x86_64']);
    assert.equal(fn.timeout, 300);
    assert.equal(fn.environment.variables.MAX_IMAGES, '12');
    assert.deepEqual(fn.tags, { project: 'media-pipeline', stack: 'test', owner: 'team' });
    assert.deepEqual(one('aws:s3/bucketCorsConfiguration:BucketCorsConfiguration', 'media-input-cors').inputs.corsRules[0].allowedOrigins, [
      `https://${outputs.cdnDomain}`,
      'http://localhost:5173',
    ]);
    assert.ok(one('aws:sns/topicSubscription:TopicSubscription', 'media-alarm-email'));
    assert.ok(one('aws:apigatewayv2/authorizer:Authorizer', 'media-jwt-authorizer'));
    assert.ok(one('aws:lambda/layerVersion:LayerVersion', 'media-ffmpeg'));
    assert.equal(fn.environment.variables.RENDER_SEGMENTS, '3');
    assert.equal(fn.environment.variables.SEGMENT_FUNCTION_NAME, one('aws:lambda/function:Function', 'media-render-segment').state.name);
    assert.equal(JSON.parse(mine.find((r) => r.inputs.key === 'config.json')!.inputs.content).limits.maxImages, 12);
  });

  it('Pulumi.dev.yaml shows every config key the program reads, and no other', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const program = fs.readFileSync(path.join(root, 'index.ts'), 'utf8');
    const read = new Set([...program.matchAll(/config\.(?:get|require)\w*(?:<.*?>)?\('(\w+)'\)/g)].map((m) => m[1]!));
    const yaml = fs.readFileSync(path.join(root, 'Pulumi.dev.yaml'), 'utf8');
    const shown = new Set([...yaml.matchAll(/^\s*#?\s*media-pipeline:(\w+):/gm)].map((m) => m[1]!));
    assert.ok(read.size >= 25, `found ${read.size} keys in index.ts`);
    assert.deepEqual([...shown].sort(), [...read].sort());
    assert.match(yaml, /^\s+aws:region: /m);
  });
});
