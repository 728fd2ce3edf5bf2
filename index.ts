/**
 * The root Pulumi program: one MediaPipeline per stack, configured from Pulumi.<stack>.yaml
 * (every key is listed in Pulumi.dev.yaml). Build first: `npm run build:deploy` (docs/deploy.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { MediaPipeline, type MediaPipelineArgs } from './components/index.ts';

const config = new pulumi.Config();
const root = path.dirname(fileURLToPath(import.meta.url));

/** `site`: a directory relative to the project (default `dist/ui`); "" deploys no site. */
function siteDir(): string | undefined {
  const value = config.get('site') ?? 'dist/ui';
  if (value === '') return undefined;
  const dir = path.resolve(root, value);
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new Error(`site directory ${dir} has no index.html: run \`npm run build:ui\` (or set media-pipeline:site to "" to deploy no site)`);
  }
  return dir;
}

function authorizer(): MediaPipelineArgs['authorizer'] {
  const issuer = config.get('authorizerIssuer');
  if (!issuer) return undefined;
  return { issuer, audience: config.requireObject<string[]>('authorizerAudience') };
}

const architecture = config.get('architecture') ?? 'arm64';
if (architecture !== 'arm64' && architecture !== 'x86_64') {
  throw new Error(`media-pipeline:architecture must be arm64 or x86_64, got ${architecture}`);
}

const pipeline = new MediaPipeline('media', {
  architecture,
  processMemoryMb: config.getNumber('processMemoryMb'),
  processTimeoutSeconds: config.getNumber('processTimeoutSeconds'),
  processEphemeralStorageMb: config.getNumber('processEphemeralStorageMb'),
  processReservedConcurrency: config.getNumber('processReservedConcurrency'),
  segmentWorkers: config.getNumber('segmentWorkers'),
  segmentMinVideoSeconds: config.getNumber('segmentMinVideoSeconds'),
  segmentMemoryMb: config.getNumber('segmentMemoryMb'),
  segmentTimeoutSeconds: config.getNumber('segmentTimeoutSeconds'),
  apiMemoryMb: config.getNumber('apiMemoryMb'),
  apiTimeoutSeconds: config.getNumber('apiTimeoutSeconds'),
  maxImages: config.getNumber('maxImages'),
  maxImageBytes: config.getNumber('maxImageBytes'),
  grantTtlSeconds: config.getNumber('grantTtlSeconds'),
  maxImagePixels: config.getNumber('maxImagePixels'),
  maxVideoSeconds: config.getNumber('maxVideoSeconds'),
  allowedOrigins: config.getObject<string[]>('allowedOrigins'),
  apiThrottlingRateLimit: config.getNumber('apiThrottlingRateLimit'),
  apiThrottlingBurstLimit: config.getNumber('apiThrottlingBurstLimit'),
  authorizer: authorizer(),
  site: siteDir(),
  ffmpegLayerArn: config.get('ffmpegLayerArn') || undefined,
  artifactsDir: config.get('artifactsDir') ? path.resolve(root, config.require('artifactsDir')) : undefined,
  uploadRetentionDays: config.getNumber('uploadRetentionDays'),
  videoRetentionDays: config.getNumber('videoRetentionDays'),
  logRetentionDays: config.getNumber('logRetentionDays'),
  alarmEmail: config.get('alarmEmail') || undefined,
  alarmTopicArn: config.get('alarmTopicArn') || undefined,
  apiLatencyAlarmMs: config.getNumber('apiLatencyAlarmMs'),
  priceClass: config.get('priceClass'),
  contentSecurityPolicy: config.get('contentSecurityPolicy') || undefined,
  tags: { project: 'media-pipeline', stack: pulumi.getStack(), ...config.getObject<Record<string, string>>('tags') },
  protect: config.getBoolean('protect'),
  retainOnDelete: config.getBoolean('retainOnDelete'),
  forceDestroy: config.getBoolean('forceDestroy'),
});

export const siteUrl = pipeline.siteUrl;
export const apiUrl = pipeline.apiUrl;
export const apiEndpoint = pipeline.apiEndpoint;
export const cdnDomain = pipeline.cdnDomain;
export const distributionId = pipeline.distributionId;
export const inputBucketName = pipeline.inputBucketName;
export const outputBucketName = pipeline.outputBucketName;
export const siteBucketName = pipeline.siteBucketName;
export const apiFunctionName = pipeline.apiFunctionName;
export const processFunctionName = pipeline.processFunctionName;
export const layerArn = pipeline.layerArn;
export const deadLetterQueueUrl = pipeline.deadLetterQueueUrl;
export const dashboardName = pipeline.dashboardName;
export const alarmTopicArn = pipeline.alarmTopicArn;
