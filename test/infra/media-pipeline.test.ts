/* eslint-disable @typescript-eslint/no-explicit-any -- asserts read untyped resource inputs recorded by the mocks */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ENV, METRIC, METRICS_NAMESPACE } from '../../lambdas/src/core/config.ts';
import { ACCOUNT, fakeArtifacts, fakeSite, policyOf, recorded, runPipeline, valueOf, type Recorded, type Run } from './harness.ts';

const T = {
  component: 'media-pipeline:index:MediaPipeline',
  bucket: 'aws:s3/bucket:Bucket',
  pab: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  sse: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  cors: 'aws:s3/bucketCorsConfiguration:BucketCorsConfiguration',
  notification: 'aws:s3/bucketNotification:BucketNotification',
  object: 'aws:s3/bucketObjectv2:BucketObjectv2',
  layer: 'aws:lambda/layerVersion:LayerVersion',
  fn: 'aws:lambda/function:Function',
  permission: 'aws:lambda/permission:Permission',
  invokeConfig: 'aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig',
  role: 'aws:iam/role:Role',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  queue: 'aws:sqs/queue:Queue',
  api: 'aws:apigatewayv2/api:Api',
  integration: 'aws:apigatewayv2/integration:Integration',
  route: 'aws:apigatewayv2/route:Route',
  stage: 'aws:apigatewayv2/stage:Stage',
  authorizer: 'aws:apigatewayv2/authorizer:Authorizer',
  oac: 'aws:cloudfront/originAccessControl:OriginAccessControl',
  headers: 'aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy',
  distribution: 'aws:cloudfront/distribution:Distribution',
  topic: 'aws:sns/topic:Topic',
  subscription: 'aws:sns/topicSubscription:TopicSubscription',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  dashboard: 'aws:cloudwatch/dashboard:Dashboard',
  query: 'aws:cloudwatch/queryDefinition:QueryDefinition',
};

function bucketChildren(n: string, part: string): string[] {
  return [
    `${T.bucket} ${n}-${part}`,
    `${T.pab} ${n}-${part}-public-access`,
    `${T.sse} ${n}-${part}-encryption`,
    `${T.lifecycle} ${n}-${part}-lifecycle`,
    `${T.bucketPolicy} ${n}-${part}-policy`,
  ];
}

/** Everything but the site, the layer, and the optional authorizer/e-mail. */
function coreChildren(n: string): string[] {
  return [
    `${T.component} ${n}`,
    ...bucketChildren(n, 'input'),
    `${T.cors} ${n}-input-cors`,
    `${T.notification} ${n}-input-notification`,
    ...bucketChildren(n, 'output'),
    `${T.queue} ${n}-process-dlq`,
    ...['api', 'process-media'].flatMap((f) => [
      `${T.fn} ${n}-${f}`,
      `${T.role} ${n}-${f}-role`,
      `${T.rolePolicy} ${n}-${f}-policy`,
      `${T.logGroup} ${n}-${f}-logs`,
    ]),
    `${T.invokeConfig} ${n}-process-media-invoke-config`,
    `${T.permission} ${n}-process-media-s3-permission`,
    `${T.api} ${n}-http-api`,
    `${T.integration} ${n}-api-integration`,
    `${T.route} ${n}-route-create-job`,
    `${T.route} ${n}-route-start-job`,
    `${T.route} ${n}-route-get-job`,
    `${T.stage} ${n}-api-stage`,
    `${T.permission} ${n}-api-invoke-permission`,
    `${T.oac} ${n}-oac`,
    `${T.headers} ${n}-security-headers`,
    `${T.distribution} ${n}-cdn`,
    `${T.topic} ${n}-alarms`,
    ...['process-media-errors', 'process-media-throttles', 'process-media-duration', 'dead-letter-messages', 'api-5xx', 'api-latency'].map(
      (a) => `${T.alarm} ${n}-${a}`,
    ),
    `${T.dashboard} ${n}-dashboard`,
    ...['slowest-jobs', 'failures-by-code', 'duration-vs-images', 'cold-starts'].map((q) => `${T.query} ${n}-query-${q}`),
  ];
}

const names = (run: Run) => run.resources.map((r) => `${r.type} ${r.name}`).sort();

function statements(r: Recorded): any[] {
  return policyOf(r).Statement;
}
const asArray = <V>(v: V | V[]): V[] => (Array.isArray(v) ? v : [v]);

describe('infra: MediaPipeline under mocks', function () {
  this.timeout(60_000);
  let artifacts: string;
  let siteDir: string;
  let def: Run; // defaults + a site
  let variant: Run; // x86_64, existing layer, no site, authorizer, alarm e-mail, custom limits

  before(async () => {
    artifacts = fakeArtifacts();
    siteDir = fakeSite();
    def = await runPipeline('media', { artifactsDir: artifacts, site: siteDir });
    variant = await runPipeline('variant', {
      artifactsDir: artifacts,
      architecture: 'x86_64',
      ffmpegLayerArn: 'arn:aws:lambda:eu-west-1:123456789012:layer:ffmpeg:7',
      allowedOrigins: ['http://localhost:5173', 'https://video.example.com'],
      processTimeoutSeconds: 600,
      maxImages: 50,
      maxImageBytes: 10 * 1024 * 1024,
      grantTtlSeconds: 300,
      apiThrottlingRateLimit: 5,
      apiThrottlingBurstLimit: 10,
      authorizer: { issuer: 'https://issuer.example.com/', audience: ['client-a', 'client-b'] },
      alarmEmail: 'ops@example.com',
      uploadRetentionDays: 1,
      videoRetentionDays: 7,
      logRetentionDays: 14,
    });
  });
  after(() => {
    fs.rmSync(artifacts, { recursive: true, force: true });
    fs.rmSync(siteDir, { recursive: true, force: true });
  });

  describe('children', () => {
    it('default args (with a site): exactly the expected children', () => {
      const expected = [
        ...coreChildren('media'),
        `${T.layer} media-ffmpeg`,
        ...bucketChildren('media', 'site'),
        `${T.object} media-site-index.html`,
        `${T.object} media-site-assets/index-abc123.js`,
        `${T.object} media-site-assets/index-abc123.css`,
        `${T.object} media-site-config.json`,
      ].sort();
      assert.deepEqual(names(def), expected);
    });

    it('variant (x86_64, existing layer, no site, authorizer, e-mail): exactly the expected children', () => {
      const expected = [...coreChildren('variant'), `${T.authorizer} variant-jwt-authorizer`, `${T.subscription} variant-alarm-email`].sort();
      assert.deepEqual(names(variant), expected);
    });

    it('type token and outputs', async () => {
      assert.equal(def.resources[0]?.type, 'media-pipeline:index:MediaPipeline');
      assert.equal(def.outputs.siteUrl, `https://${def.outputs.cdnDomain}`);
      assert.equal(def.outputs.apiUrl, `https://${def.outputs.cdnDomain}/api`);
      assert.match(String(def.outputs.layerArn), /:layer:media-pipeline-test-media-ffmpeg-arm64:1$/);
      assert.equal(variant.outputs.layerArn, 'arn:aws:lambda:eu-west-1:123456789012:layer:ffmpeg:7');
      assert.equal(variant.outputs.siteBucketName, undefined);
      assert.equal(def.outputs.siteBucketName, 'media-site-0000');
      for (const key of ['inputBucketName', 'outputBucketName', 'apiFunctionName', 'processFunctionName', 'dashboardName', 'alarmTopicArn', 'deadLetterQueueUrl']) {
        assert.ok(def.outputs[key], `${key} is set`);
      }
    });

    it('fails with the command to run when a build artifact is missing', async () => {
      const empty = fs.mkdtempSync(`${artifacts}-empty`);
      try {
        fs.mkdirSync(`${empty}/lambdas/api`, { recursive: true });
        fs.mkdirSync(`${empty}/lambdas/process-media`, { recursive: true });
        await assert.rejects(runPipeline('missing', { artifactsDir: empty }), /npm run build:layer -- --arch arm64/);
        fs.rmSync(`${empty}/lambdas`, { recursive: true });
        await assert.rejects(
          runPipeline('missing2', { artifactsDir: empty, ffmpegLayerArn: 'arn:aws:lambda:eu-west-1:1:layer:x:1' }),
          /npm run build:lambdas/,
        );
      } finally {
        fs.rmSync(empty, { recursive: true, force: true });
      }
    });

    it('refuses bundles built for the other architecture (sharp is native)', async () => {
      const armBuilt = fakeArtifacts();
      try {
        fs.writeFileSync(`${armBuilt}/lambdas/build-info.json`, JSON.stringify({ architecture: 'arm64' }));
        const before = recorded.length;
        await assert.rejects(runPipeline('wrongarch', { artifactsDir: armBuilt, architecture: 'x86_64' }), /built for arm64, not x86_64: run `npm run build:lambdas -- --arch x86_64`/);
        await new Promise((r) => setTimeout(r, 100));
        assert.deepEqual(
          recorded.slice(before).filter((r) => r.name.startsWith('wrongarch-')).map((r) => r.name),
          [],
          'nothing registered before the check',
        );
      } finally {
        fs.rmSync(armBuilt, { recursive: true, force: true });
      }
    });
  });

  describe('buckets', () => {
    for (const [label, get, parts] of [
      ['default', () => def, ['input', 'output', 'site']],
      ['variant', () => variant, ['input', 'output']],
    ] as const) {
      it(`${label}: every bucket blocks public access, encrypts, denies non-TLS, has lifecycle rules`, () => {
        const run = get();
        const buckets = run.byType(T.bucket);
        assert.deepEqual(buckets.map((b) => b.name).sort(), parts.map((p) => `${run.resources[0]!.name}-${p}`).sort());
        for (const b of buckets) {
          const id = b.state.bucket;
          const pab = run.byType(T.pab).filter((r) => r.inputs.bucket === id);
          assert.equal(pab.length, 1, `${b.name} has a public access block`);
          for (const k of ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets']) assert.equal(pab[0]!.inputs[k], true, `${b.name} ${k}`);
          const sse = run.byType(T.sse).filter((r) => r.inputs.bucket === id);
          assert.equal(sse.length, 1);
          assert.equal(sse[0]!.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, 'AES256');
          const policies = run.byType(T.bucketPolicy).filter((r) => r.inputs.bucket === id);
          assert.equal(policies.length, 1, `${b.name} has one policy`);
          const deny = statements(policies[0]!).find((s) => s.Effect === 'Deny');
          assert.deepEqual(deny.Condition, { Bool: { 'aws:SecureTransport': 'false' } });
          assert.equal(deny.Principal, '*');
          assert.equal(deny.Action, 's3:*');
          assert.deepEqual(deny.Resource, [b.state.arn, `${b.state.arn}/*`]);
          const lc = run.byType(T.lifecycle).filter((r) => r.inputs.bucket === id);
          assert.equal(lc.length, 1);
          assert.ok(
            lc[0]!.inputs.rules.some((r: any) => r.abortIncompleteMultipartUpload?.daysAfterInitiation === 1 && r.status === 'Enabled'),
            `${b.name} aborts incomplete multipart uploads`,
          );
          assert.equal(b.inputs.forceDestroy, false);
        }
      });
    }

    it('lifecycle: uploads and videos expire after the retention args', () => {
      const rule = (run: Run, part: string, id: string) => run.one(T.lifecycle, `${run.resources[0]!.name}-${part}-lifecycle`).inputs.rules.find((r: any) => r.id === id);
      assert.deepEqual(rule(def, 'input', 'expire-uploads').filter, { prefix: 'jobs/' });
      assert.equal(rule(def, 'input', 'expire-uploads').expiration.days, 2);
      assert.equal(rule(variant, 'input', 'expire-uploads').expiration.days, 1);
      assert.deepEqual(rule(def, 'output', 'expire-videos').filter, { prefix: 'videos/' });
      assert.equal(rule(def, 'output', 'expire-videos').expiration.days, 30);
      assert.equal(rule(variant, 'output', 'expire-videos').expiration.days, 7);
      assert.deepEqual(rule(def, 'output', 'expire-segments').filter, { prefix: 'segments/' });
      assert.equal(rule(def, 'output', 'expire-segments').expiration.days, 1);
    });

    it('input CORS: POST only, from the distribution and allowedOrigins, exposing ETag', () => {
      const rules = def.one(T.cors, 'media-input-cors').inputs.corsRules;
      assert.equal(rules.length, 1);
      assert.deepEqual(rules[0].allowedMethods, ['POST']);
      assert.deepEqual(rules[0].exposeHeaders, ['ETag']);
      assert.deepEqual(rules[0].allowedOrigins, [`https://${def.outputs.cdnDomain}`]);
      const v = variant.one(T.cors, 'variant-input-cors').inputs.corsRules[0];
      assert.deepEqual(v.allowedOrigins, [`https://${variant.outputs.cdnDomain}`, 'http://localhost:5173', 'https://video.example.com']);
      assert.ok(!v.allowedOrigins.includes('*'));
    });

    it('the distribution is the only reader of the output and site buckets; the input bucket has no reader', () => {
      const distArn = def.one(T.distribution, 'media-cdn').state.arn;
      const out = def.one(T.bucket, 'media-output').state.arn;
      const site = def.one(T.bucket, 'media-site').state.arn;
      const allows = (name: string) => statements(def.one(T.bucketPolicy, name)).filter((s) => s.Effect === 'Allow');
      assert.deepEqual(allows('media-output-policy'), [
        {
          Sid: 'AllowCloudFrontRead',
          Effect: 'Allow',
          Principal: { Service: 'cloudfront.amazonaws.com' },
          Action: 's3:GetObject',
          Resource: `${out}/videos/*`,
          Condition: { StringEquals: { 'AWS:SourceArn': distArn } },
        },
      ]);
      assert.deepEqual(allows('media-site-policy')[0].Resource, `${site}/*`);
      assert.deepEqual(allows('media-site-policy')[0].Condition, { StringEquals: { 'AWS:SourceArn': distArn } });
      assert.deepEqual(allows('media-input-policy'), []);
    });
  });

  describe('IAM: one role per function, exact actions and resources', () => {
    const policy = (run: Run, fn: string) => statements(run.one(T.rolePolicy, `${run.resources[0]!.name}-${fn}-policy`));

    it('no statement anywhere has a wildcard action or a whole-bucket object resource', () => {
      for (const run of [def, variant]) {
        for (const fn of ['api', 'process-media']) {
          for (const s of policy(run, fn)) {
            assert.equal(s.Effect, 'Allow');
            for (const a of asArray(s.Action)) assert.ok(!String(a).includes('*'), `${fn}: wildcard action ${a}`);
            for (const r of asArray(s.Resource)) {
              assert.notEqual(r, '*');
              assert.ok(!/:::[^/]+\/\*$/.test(String(r)), `${fn}: resource ${r} covers a whole bucket`);
            }
          }
        }
      }
    });

    it('roles trust only Lambda, and each function uses its own role', () => {
      for (const fn of ['api', 'process-media']) {
        const role = def.one(T.role, `media-${fn}-role`);
        assert.deepEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement, [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ]);
        assert.equal(def.one(T.fn, `media-${fn}`).inputs.role, role.state.arn);
        assert.equal(def.one(T.rolePolicy, `media-${fn}-policy`).inputs.role, role.state.name);
      }
    });

    it('process-media: reads jobs/*, writes only status.json and lease.json in the input bucket, writes videos/*', () => {
      const input = def.one(T.bucket, 'media-input').state.arn;
      const output = def.one(T.bucket, 'media-output').state.arn;
      const dlq = def.one(T.queue, 'media-process-dlq').state.arn;
      const logs = def.one(T.logGroup, 'media-process-media-logs').state.arn;
      assert.deepEqual(policy(def, 'process-media'), [
        { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logs}:*` },
        { Sid: 'ReadJobs', Effect: 'Allow', Action: 's3:GetObject', Resource: `${input}/jobs/*` },
        { Sid: 'WriteJobStatusAndLease', Effect: 'Allow', Action: 's3:PutObject', Resource: [`${input}/jobs/*/status.json`, `${input}/jobs/*/lease.json`] },
        { Sid: 'ReleaseLease', Effect: 'Allow', Action: 's3:DeleteObject', Resource: `${input}/jobs/*/lease.json` },
        { Sid: 'ListInput', Effect: 'Allow', Action: 's3:ListBucket', Resource: input },
        { Sid: 'WriteVideos', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], Resource: `${output}/videos/*` },
        { Sid: 'ListOutput', Effect: 'Allow', Action: 's3:ListBucket', Resource: output },
        { Sid: 'DeadLetter', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: dlq },
      ]);
    });

    it('API: reads and writes jobs/* in the input bucket and nothing in the output bucket', () => {
      const input = def.one(T.bucket, 'media-input').state.arn;
      const output = def.one(T.bucket, 'media-output').state.arn;
      const logs = def.one(T.logGroup, 'media-api-logs').state.arn;
      const st = policy(def, 'api');
      assert.deepEqual(st, [
        { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logs}:*` },
        { Sid: 'ReadWriteJobs', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${input}/jobs/*` },
        { Sid: 'ListInput', Effect: 'Allow', Action: 's3:ListBucket', Resource: input },
      ]);
      assert.ok(!JSON.stringify(st).includes(output), 'API policy never names the output bucket');
    });
  });

  describe('functions and trigger', () => {
    it('process-media: runtime, arch, layer, memory/timeout, ephemeral storage, env', () => {
      const fn = def.one(T.fn, 'media-process-media').inputs;
      assert.equal(fn.runtime, 'nodejs22.x');
      assert.deepEqual(fn.architectures, ['arm64']);
      assert.equal(fn.handler, 'index.handler');
      assert.deepEqual(fn.layers, [def.outputs.layerArn]);
      assert.equal(fn.memorySize, 3008);
      assert.equal(fn.timeout, 900);
      assert.equal(fn.ephemeralStorage.size, 1536); // (900 MB + 4 x 25 MiB) x 1.5 = 1500 MB → 3 x 512
      assert.equal(fn.loggingConfig.logGroup, def.one(T.logGroup, 'media-process-media-logs').state.name);
      const env = fn.environment.variables;
      assert.equal(env[ENV.inputBucket], def.outputs.inputBucketName);
      assert.equal(env[ENV.outputBucket], def.outputs.outputBucketName);
      assert.equal(env[ENV.ffmpegPath], '/opt/bin/ffmpeg');
      assert.equal(env[ENV.processMaxAttempts], '3');
      // the engine's flat-memory settings (docs/architecture.md "Render engine")
      assert.equal(env.NODE_OPTIONS, '--expose-gc');
      assert.equal(env.MALLOC_ARENA_MAX, '2');
      assert.equal(env[ENV.maxImagePixels], '100000000');
      assert.equal(env[ENV.maxVideoSeconds], '900');
      assert.equal(env.POWERTOOLS_METRICS_NAMESPACE, METRICS_NAMESPACE);
      assert.equal(env.POWERTOOLS_SERVICE_NAME, 'media-pipeline-test-media');
      const v = variant.one(T.fn, 'variant-process-media').inputs;
      assert.deepEqual(v.architectures, ['x86_64']);
      assert.deepEqual(v.layers, ['arn:aws:lambda:eu-west-1:123456789012:layer:ffmpeg:7']);
      assert.equal(v.timeout, 600);
      assert.equal(v.reservedConcurrentExecutions, undefined);
    });

    it('API: grant TTL, content-length limit and image count come from args', () => {
      const env = def.one(T.fn, 'media-api').inputs.environment.variables;
      assert.equal(env[ENV.processMaxAttempts], '3'); // status can tell a silently dead last attempt
      assert.equal(env[ENV.grantTtlSeconds], '900');
      assert.equal(env[ENV.maxImageBytes], String(25 * 1024 * 1024));
      assert.equal(env[ENV.maxImages], '200');
      assert.equal(env[ENV.videosBaseUrl], '/videos');
      const v = variant.one(T.fn, 'variant-api').inputs.environment.variables;
      assert.equal(v[ENV.grantTtlSeconds], '300');
      assert.equal(v[ENV.maxImageBytes], String(10 * 1024 * 1024));
      assert.equal(v[ENV.maxImages], '50');
    });

    it('log groups keep logs for the retention arg', () => {
      assert.equal(def.one(T.logGroup, 'media-api-logs').inputs.retentionInDays, 30);
      assert.equal(variant.one(T.logGroup, 'variant-process-media-logs').inputs.retentionInDays, 14);
    });

    it('notification: ObjectCreated on jobs/ + manifest.json → process-media, after the permission', () => {
      const n = def.one(T.notification, 'media-input-notification').inputs;
      assert.equal(n.bucket, def.outputs.inputBucketName);
      assert.deepEqual(n.lambdaFunctions, [
        {
          lambdaFunctionArn: def.one(T.fn, 'media-process-media').state.arn,
          events: ['s3:ObjectCreated:*'],
          filterPrefix: 'jobs/',
          filterSuffix: 'manifest.json',
        },
      ]);
    });

    it('S3 may invoke process-media only from the input bucket, in this account', () => {
      const p = def.one(T.permission, 'media-process-media-s3-permission').inputs;
      assert.equal(p.action, 'lambda:InvokeFunction');
      assert.equal(p.principal, 's3.amazonaws.com');
      assert.equal(p.function, def.outputs.processFunctionName);
      assert.equal(p.sourceArn, def.one(T.bucket, 'media-input').state.arn);
      assert.equal(p.sourceAccount, ACCOUNT);
    });

    it('async invoke: 2 retries, bounded event age, failures to an encrypted SQS dead-letter queue', () => {
      const c = def.one(T.invokeConfig, 'media-process-media-invoke-config').inputs;
      assert.equal(c.functionName, def.outputs.processFunctionName);
      assert.equal(c.maximumRetryAttempts, 2);
      assert.ok(c.maximumEventAgeInSeconds >= 60 && c.maximumEventAgeInSeconds <= 6 * 3600, 'event age bounded');
      const dlq = def.one(T.queue, 'media-process-dlq');
      assert.deepEqual(c.destinationConfig, { onFailure: { destination: dlq.state.arn } });
      assert.equal(dlq.inputs.sqsManagedSseEnabled, true);
    });
  });

  describe('HTTP API', () => {
    it('exactly the three contract routes, all to the API function', () => {
      const integration = def.one(T.integration, 'media-api-integration');
      assert.equal(integration.inputs.integrationType, 'AWS_PROXY');
      assert.equal(integration.inputs.payloadFormatVersion, '2.0');
      assert.equal(integration.inputs.integrationUri, def.one(T.fn, 'media-api').state.invokeArn);
      const routes = def.byType(T.route);
      assert.deepEqual(routes.map((r) => r.inputs.routeKey).sort(), ['GET /api/jobs/{jobId}', 'POST /api/jobs', 'POST /api/jobs/{jobId}/start']);
      for (const r of routes) {
        assert.equal(r.inputs.target, `integrations/${integration.state.id ?? 'media-api-integration-id'}`);
        assert.equal(r.inputs.authorizationType, 'NONE');
      }
    });

    it('stage throttling comes from args', () => {
      assert.deepEqual(
        [def.one(T.stage, 'media-api-stage').inputs.defaultRouteSettings.throttlingRateLimit, def.one(T.stage, 'media-api-stage').inputs.defaultRouteSettings.throttlingBurstLimit],
        [20, 40],
      );
      const s = variant.one(T.stage, 'variant-api-stage').inputs;
      assert.equal(s.name, '$default');
      assert.equal(s.autoDeploy, true);
      assert.equal(s.defaultRouteSettings.throttlingRateLimit, 5);
      assert.equal(s.defaultRouteSettings.throttlingBurstLimit, 10);
    });

    it('optional JWT authorizer is attached to every route', () => {
      const a = variant.one(T.authorizer, 'variant-jwt-authorizer');
      assert.equal(a.inputs.authorizerType, 'JWT');
      assert.deepEqual(a.inputs.identitySources, ['$request.header.Authorization']);
      assert.deepEqual(a.inputs.jwtConfiguration, { issuer: 'https://issuer.example.com/', audiences: ['client-a', 'client-b'] });
      for (const r of variant.byType(T.route)) {
        assert.equal(r.inputs.authorizationType, 'JWT');
        assert.equal(r.inputs.authorizerId, 'variant-jwt-authorizer-id');
      }
    });

    it('API Gateway may invoke the API function', () => {
      const p = def.one(T.permission, 'media-api-invoke-permission').inputs;
      assert.equal(p.principal, 'apigateway.amazonaws.com');
      assert.equal(p.sourceArn, `${def.one(T.api, 'media-http-api').state.executionArn}/*/*`);
    });
  });

  describe('CloudFront', () => {
    it('behaviours: / site, /videos/* output bucket via OAC, /api/* the HTTP API uncached with all methods', () => {
      const d = def.one(T.distribution, 'media-cdn').inputs;
      const oacId = def.one(T.oac, 'media-oac').state.id ?? 'media-oac-id';
      const headersId = 'media-security-headers-id';
      const origin = (id: string) => d.origins.find((o: any) => o.originId === id);
      assert.deepEqual(d.origins.map((o: any) => o.originId), ['site', 'videos', 'api']);
      assert.equal(origin('site').domainName, def.one(T.bucket, 'media-site').state.bucketRegionalDomainName);
      assert.equal(origin('videos').domainName, def.one(T.bucket, 'media-output').state.bucketRegionalDomainName);
      assert.equal(origin('site').originAccessControlId, oacId);
      assert.equal(origin('videos').originAccessControlId, oacId);
      assert.equal(origin('api').domainName, String(def.outputs.apiEndpoint).replace('https://', ''));
      assert.equal(origin('api').customOriginConfig.originProtocolPolicy, 'https-only');
      assert.equal(d.defaultRootObject, 'index.html');
      assert.equal(d.defaultCacheBehavior.targetOriginId, 'site');
      const [videos, api] = d.orderedCacheBehaviors;
      assert.equal(videos.pathPattern, '/videos/*');
      assert.equal(videos.targetOriginId, 'videos');
      assert.deepEqual(videos.allowedMethods, ['GET', 'HEAD']);
      assert.equal(api.pathPattern, '/api/*');
      assert.equal(api.targetOriginId, 'api');
      assert.deepEqual([...api.allowedMethods].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
      assert.equal(api.cachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', 'Managed-CachingDisabled');
      assert.equal(api.originRequestPolicyId, 'b689b0a8-53d0-40ab-baf2-68738e2966ac', 'Managed-AllViewerExceptHostHeader');
      for (const b of [d.defaultCacheBehavior, videos, api]) {
        assert.equal(b.viewerProtocolPolicy, 'redirect-to-https');
        assert.equal(b.compress, true);
        assert.equal(b.responseHeadersPolicyId, headersId);
      }
      assert.deepEqual(d.customErrorResponses, undefined, 'no error page rewriting (it would hide API errors)');
      assert.equal(d.priceClass, 'PriceClass_100');
      const oac = def.one(T.oac, 'media-oac').inputs;
      assert.deepEqual([oac.originAccessControlOriginType, oac.signingBehavior, oac.signingProtocol], ['s3', 'always', 'sigv4']);
    });

    it('without a site, / falls back to the output bucket and there is no site origin', () => {
      const d = variant.one(T.distribution, 'variant-cdn').inputs;
      assert.deepEqual(d.origins.map((o: any) => o.originId), ['videos', 'api']);
      assert.equal(d.defaultCacheBehavior.targetOriginId, 'videos');
      assert.equal(d.defaultRootObject, undefined);
    });

    it('security headers: CSP allowing only the page, its API, its videos and the upload endpoint; HSTS; no framing', () => {
      const h = def.one(T.headers, 'media-security-headers').inputs.securityHeadersConfig;
      const csp: string = h.contentSecurityPolicy.contentSecurityPolicy;
      const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
      assert.deepEqual(directives['default-src'], ["'self'"]);
      assert.deepEqual(directives['script-src'], ["'self'"]);
      assert.deepEqual(directives['style-src'], ["'self'"], 'no unsafe-inline');
      assert.deepEqual(directives['img-src'], ["'self'", 'blob:', 'data:']);
      assert.deepEqual(directives['media-src'], ["'self'"]);
      assert.deepEqual(directives['frame-ancestors'], ["'none'"]);
      assert.deepEqual(directives['object-src'], ["'none'"]);
      const input = def.one(T.bucket, 'media-input').state;
      assert.deepEqual(directives['connect-src'], ["'self'", `https://${input.bucketRegionalDomainName}`, `https://${input.bucketDomainName}`]);
      assert.ok(!csp.includes('*'), 'no wildcard source');
      assert.ok(!csp.includes('unsafe'), 'no unsafe-inline or unsafe-eval anywhere');
      assert.equal(h.contentSecurityPolicy.override, true);
      assert.equal(h.frameOptions.frameOption, 'DENY');
      assert.ok(h.strictTransportSecurity.accessControlMaxAgeSec >= 31_536_000);
      assert.equal(h.contentTypeOptions.override, true);
    });
  });

  describe('site', () => {
    it('uploads every file with its content type and a stack config.json (the directory one is replaced)', () => {
      const obj = (key: string) => def.byType(T.object).find((o) => o.inputs.key === key)!;
      assert.equal(obj('index.html').inputs.contentType, 'text/html; charset=utf-8');
      assert.equal(obj('index.html').inputs.cacheControl, 'no-cache');
      assert.equal(obj('assets/index-abc123.js').inputs.contentType, 'text/javascript; charset=utf-8');
      assert.equal(obj('assets/index-abc123.css').inputs.contentType, 'text/css; charset=utf-8');
      assert.match(obj('assets/index-abc123.js').inputs.cacheControl, /immutable/);
      for (const o of def.byType(T.object)) assert.equal(o.inputs.bucket, def.outputs.siteBucketName);
      const configs = def.byType(T.object).filter((o) => o.inputs.key === 'config.json');
      assert.equal(configs.length, 1);
      assert.equal(configs[0]!.inputs.contentType, 'application/json');
      assert.deepEqual(JSON.parse(configs[0]!.inputs.content), {
        apiBaseUrl: '/api',
        cdnBaseUrl: '',
        limits: { maxImages: 200, maxImageBytes: 25 * 1024 * 1024, maxVideoSeconds: 900 },
      });
    });

    it('refuses a site directory without index.html', async () => {
      await assert.rejects(runPipeline('nosite', { artifactsDir: artifacts, site: artifacts }), /has no index.html/);
    });
  });

  describe('operations', () => {
    const alarm = (run: Run, a: string) => run.one(T.alarm, `${run.resources[0]!.name}-${a}`).inputs;

    it('alarms notify the topic; the e-mail subscription is optional', () => {
      const topic = def.outputs.alarmTopicArn;
      for (const a of def.byType(T.alarm)) {
        assert.deepEqual(a.inputs.alarmActions, [topic]);
        assert.deepEqual(a.inputs.okActions, [topic]);
        assert.equal(a.inputs.treatMissingData, 'notBreaching');
      }
      assert.equal(def.byType(T.subscription).length, 0);
      const sub = variant.one(T.subscription, 'variant-alarm-email').inputs;
      assert.deepEqual([sub.protocol, sub.endpoint, sub.topic], ['email', 'ops@example.com', variant.outputs.alarmTopicArn]);
    });

    it('process-media errors, throttles and duration p95 at 80% of the timeout (from args)', () => {
      const fnName = def.outputs.processFunctionName;
      const errors = alarm(def, 'process-media-errors');
      assert.deepEqual([errors.namespace, errors.metricName, errors.statistic, errors.threshold], ['AWS/Lambda', 'Errors', 'Sum', 1]);
      assert.deepEqual(errors.dimensions, { FunctionName: fnName });
      const throttles = alarm(def, 'process-media-throttles');
      assert.deepEqual([throttles.metricName, throttles.statistic, throttles.threshold], ['Throttles', 'Sum', 1]);
      const duration = alarm(def, 'process-media-duration');
      assert.deepEqual([duration.metricName, duration.extendedStatistic, duration.threshold], ['Duration', 'p95', 720_000]);
      assert.equal(alarm(variant, 'process-media-duration').threshold, 480_000, '80% of the 600 s timeout');
    });

    it('dead-letter queue, API 5xx rate and API latency', () => {
      const dlq = alarm(def, 'dead-letter-messages');
      assert.deepEqual([dlq.namespace, dlq.metricName, dlq.statistic, dlq.threshold], ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 1]);
      assert.deepEqual(dlq.dimensions, { QueueName: def.one(T.queue, 'media-process-dlq').state.name });
      const apiId = def.one(T.api, 'media-http-api').state.id ?? 'media-http-api-id';
      const e5xx = alarm(def, 'api-5xx');
      assert.deepEqual([e5xx.threshold, e5xx.comparisonOperator, e5xx.metricName], [0.05, 'GreaterThanThreshold', undefined]);
      const [errors, requests, rate] = e5xx.metricQueries;
      assert.deepEqual(errors.metric, { namespace: 'AWS/ApiGateway', metricName: '5xx', dimensions: { ApiId: apiId }, period: 300, stat: 'Sum' });
      assert.deepEqual(requests.metric, { namespace: 'AWS/ApiGateway', metricName: 'Count', dimensions: { ApiId: apiId }, period: 300, stat: 'Sum' });
      assert.deepEqual([rate.expression, rate.returnData], ['IF(requests > 0, errors / requests, 0)', true]);
      assert.deepEqual([errors.id, requests.id, errors.returnData, requests.returnData], ['errors', 'requests', false, false]);
      const latency = alarm(def, 'api-latency');
      assert.deepEqual([latency.metricName, latency.extendedStatistic, latency.threshold], ['Latency', 'p95', 2000]);
    });

    it('dashboard shows the alarms, the AWS metrics and every custom metric of the handlers', () => {
      const d = def.one(T.dashboard, 'media-dashboard').inputs;
      assert.equal(d.dashboardName, 'media-pipeline-test-media');
      const body = JSON.parse(d.dashboardBody);
      const metricRows: unknown[][] = body.widgets.flatMap((w: any) => w.properties.metrics ?? []);
      const named = new Set(metricRows.map((m) => `${m[0]}/${m[1]}`));
      for (const name of Object.values(METRIC)) assert.ok(named.has(`${METRICS_NAMESPACE}/${name}`), `dashboard shows ${name}`);
      for (const m of ['AWS/Lambda/Errors', 'AWS/Lambda/Throttles', 'AWS/Lambda/Duration', 'AWS/SQS/ApproximateNumberOfMessagesVisible', 'AWS/ApiGateway/5xx', 'AWS/ApiGateway/Latency']) {
        assert.ok(named.has(m), `dashboard shows ${m}`);
      }
      const custom = metricRows.find((m) => m[0] === METRICS_NAMESPACE)!;
      assert.deepEqual(custom.slice(2, 4), ['service', 'media-pipeline-test-media']);
      const alarmWidget = body.widgets.find((w: any) => w.type === 'alarm');
      assert.equal(alarmWidget.properties.alarms.length, 6);
    });

    it('saved Logs Insights queries: slowest jobs, failures by code, duration vs image count, cold starts', () => {
      const q = (k: string) => def.one(T.query, `media-query-${k}`).inputs;
      const processLogs = def.one(T.logGroup, 'media-process-media-logs').state.name;
      assert.match(q('slowest-jobs').queryString, /sort renderSeconds desc/);
      assert.match(q('slowest-jobs').queryString, /^filter message = "rendered"/);
      assert.match(q('failures-by-code').queryString, /filter message in \["job failed", "attempt failed; the event will be retried"\]/);
      assert.match(q('failures-by-code').queryString, / by code, message\n/);
      assert.match(q('duration-vs-images').queryString, /floor\(images \/ 10\) \* 10 as imagesFrom/);
      assert.match(q('duration-vs-images').queryString, /by imagesFrom/);
      assert.match(q('cold-starts').queryString, /@initDuration/);
      assert.deepEqual(q('slowest-jobs').logGroupNames, [processLogs]);
      assert.equal(q('cold-starts').logGroupNames.length, 2);
      assert.equal(q('slowest-jobs').name, 'media-pipeline/media-pipeline-test-media/Slowest jobs');
    });
  });

  it('outputs resolve to the same values as the component properties', async () => {
    assert.equal(await valueOf(def.component.cdnDomain), def.outputs.cdnDomain);
  });
});
