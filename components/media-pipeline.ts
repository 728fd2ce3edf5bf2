import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { resolveArgs, type MediaPipelineArgs } from './args.ts';
import type { Ctx } from './context.ts';
import {
  createBucketPolicy,
  createInputBucket,
  createOutputBucket,
  createSiteBucket,
  createUploadCors,
  distributionReadStatement,
  type SecureBucket,
} from './buckets.ts';
import { createFfmpegLayer, requireArtifacts } from './layer.ts';
import {
  createApiFunction,
  createAsyncInvokeConfig,
  createDeadLetterQueue,
  createManifestTrigger,
  createProcessFunction,
  limitsEnvironment,
} from './functions.ts';
import { createSegmentFunction, grantSegmentInvoke } from './segments.ts';
import { createHttpApi, type HttpApi } from './api.ts';
import { createDistribution, createSecurityHeaders, type Cdn } from './cdn.ts';
import { uploadSite } from './site.ts';
import { pipelineMetrics } from './metrics.ts';
import { createAlarmTopic, createAlarms } from './alarms.ts';
import { createDashboard } from './dashboard.ts';
import { createQueries } from './queries.ts';
import { VIDEOS_PREFIX } from '../lambdas/src/core/keys.ts';

export type { MediaPipelineArgs } from './args.ts';

/**
 * Images in, MP4 out: buckets, FFmpeg layer, API and render functions, one CloudFront distribution
 * (site, videos, API on one origin), alarms, dashboard and saved queries. See docs/architecture.md.
 */
export class MediaPipeline extends pulumi.ComponentResource {
  /** `https://<cdn domain>`: the page (when a site is deployed). */
  readonly siteUrl: pulumi.Output<string>;
  /** `https://<cdn domain>/api`: the HTTP API, same origin as the page. */
  readonly apiUrl: pulumi.Output<string>;
  /** The API Gateway endpoint itself (bypasses CloudFront). */
  readonly apiEndpoint: pulumi.Output<string>;
  readonly cdnDomain: pulumi.Output<string>;
  readonly distributionId: pulumi.Output<string>;
  readonly inputBucketName: pulumi.Output<string>;
  readonly outputBucketName: pulumi.Output<string>;
  /** Undefined when no site is deployed. */
  readonly siteBucketName: pulumi.Output<string | undefined>;
  readonly apiFunctionName: pulumi.Output<string>;
  readonly processFunctionName: pulumi.Output<string>;
  readonly layerArn: pulumi.Output<string>;
  readonly deadLetterQueueUrl: pulumi.Output<string>;
  readonly dashboardName: pulumi.Output<string>;
  readonly alarmTopicArn: pulumi.Output<string>;

  private readonly ctx: Ctx;

  constructor(name: string, args: MediaPipelineArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    super('media-pipeline:index:MediaPipeline', name, {}, opts);
    this.ctx = this.createContext(name, args);

    // Storage
    const input = createInputBucket(this.ctx);
    const output = createOutputBucket(this.ctx);
    const site = this.ctx.args.site === undefined ? undefined : createSiteBucket(this.ctx);

    // Compute
    const layer = createFfmpegLayer(this.ctx);
    const deadLetterQueue = createDeadLetterQueue(this.ctx);
    const apiFunction = createApiFunction(this.ctx, input, output);
    // Fan-out (opt-in, `segmentWorkers`): the segment worker process-media invokes; see components/segments.ts.
    const segmentWorker = createSegmentFunction(this.ctx, input, output, layer.arn, limitsEnvironment(this.ctx));
    const processMedia = createProcessFunction(this.ctx, input, output, deadLetterQueue, layer.arn, segmentWorker?.processEnvironment);
    if (segmentWorker) grantSegmentInvoke(this.ctx, processMedia, segmentWorker, output);
    createAsyncInvokeConfig(this.ctx, processMedia, deadLetterQueue);
    createManifestTrigger(this.ctx, input, processMedia);

    // Edge
    const api = createHttpApi(this.ctx, apiFunction);
    const cdn = this.createCdn(input, output, site, api);
    if (site && this.ctx.args.site !== undefined) uploadSite(this.ctx, site, this.ctx.args.site);

    // Operations
    const metrics = pipelineMetrics(this.ctx, processMedia.fn, apiFunction.fn, deadLetterQueue, api.api);
    const alarms = createAlarms(this.ctx, metrics, createAlarmTopic(this.ctx));
    const dashboard = createDashboard(this.ctx, metrics, alarms.alarms);
    createQueries(this.ctx, processMedia, apiFunction);

    this.cdnDomain = cdn.distribution.domainName;
    this.distributionId = cdn.distribution.id;
    this.siteUrl = pulumi.interpolate`https://${this.cdnDomain}`;
    this.apiUrl = pulumi.interpolate`https://${this.cdnDomain}/api`;
    this.apiEndpoint = api.endpoint;
    this.inputBucketName = input.bucket.id;
    this.outputBucketName = output.bucket.id;
    this.siteBucketName = site ? site.bucket.id : pulumi.output(undefined);
    this.apiFunctionName = apiFunction.fn.name;
    this.processFunctionName = processMedia.fn.name;
    this.layerArn = layer.arn;
    this.deadLetterQueueUrl = deadLetterQueue.url;
    this.dashboardName = dashboard.dashboardName;
    this.alarmTopicArn = alarms.topicArn;
    this.registerOutputs(this.outputs());
  }

  /** Args with defaults, account/region, and the per-stack service name. */
  private createContext(name: string, args: MediaPipelineArgs): Ctx {
    const resolved = resolveArgs(args);
    requireArtifacts(resolved); // before any resource or lookup: a missing build fails cleanly
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    return {
      name,
      parent: this,
      args: resolved,
      accountId: identity.accountId,
      region: region.region,
      partition: partition.partition,
      serviceName: `${pulumi.getProject()}-${pulumi.getStack()}-${name}`.replace(/[^A-Za-z0-9_-]/g, '-'),
    };
  }

  /**
   * The distribution, then what names it: bucket policies that let only it read, and upload CORS for
   * its origin plus `allowedOrigins`.
   */
  private createCdn(input: SecureBucket, output: SecureBucket, site: SecureBucket | undefined, api: HttpApi): Cdn {
    const ctx = this.ctx;
    const cdn = createDistribution(ctx, output, site, api, createSecurityHeaders(ctx, input));
    const arn = cdn.distribution.arn;
    createBucketPolicy(ctx, 'input', input);
    createBucketPolicy(ctx, 'output', output, [distributionReadStatement(pulumi.interpolate`${output.bucket.arn}/${VIDEOS_PREFIX}*`, arn)]);
    if (site) createBucketPolicy(ctx, 'site', site, [distributionReadStatement(pulumi.interpolate`${site.bucket.arn}/*`, arn)]);
    const origins = pulumi
      .all([cdn.distribution.domainName, pulumi.output(ctx.args.allowedOrigins)])
      .apply(([domain, extra]) => [`https://${domain}`, ...extra.filter((o) => o !== `https://${domain}`)]);
    createUploadCors(ctx, input, origins);
    return cdn;
  }

  private outputs(): Record<string, pulumi.Output<unknown>> {
    return {
      siteUrl: this.siteUrl,
      apiUrl: this.apiUrl,
      apiEndpoint: this.apiEndpoint,
      cdnDomain: this.cdnDomain,
      distributionId: this.distributionId,
      inputBucketName: this.inputBucketName,
      outputBucketName: this.outputBucketName,
      siteBucketName: this.siteBucketName,
      apiFunctionName: this.apiFunctionName,
      processFunctionName: this.processFunctionName,
      layerArn: this.layerArn,
      deadLetterQueueUrl: this.deadLetterQueueUrl,
      dashboardName: this.dashboardName,
      alarmTopicArn: this.alarmTopicArn,
    };
  }
}
