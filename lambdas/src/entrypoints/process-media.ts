/**
 * Lambda entry point of process-media (S3 ObjectCreated on jobs/<id>/manifest.json, async invoke).
 * Wiring only: settings from the environment (core/config.ts ENV), AWS adapters, the render engine,
 * the handler from handlers/process-media.ts.
 */
import type { Context, S3Event } from 'aws-lambda';
import { createRenderer } from '../engine/index.ts';
import { createProcessMediaHandler } from '../handlers/process-media.ts';
import { settingsFromEnv } from '../core/settings.ts';
import { createS3Client, S3ObjectStore } from '../adapters/aws/s3.ts';
import { createLogger, createMetrics } from '../adapters/aws/observability.ts';

const settings = settingsFromEnv(process.env);
const client = createS3Client();
const logger = createLogger('process-media');

const processMedia = createProcessMediaHandler(
  {
    input: new S3ObjectStore(client, settings.inputBucket),
    output: new S3ObjectStore(client, settings.outputBucket),
    renderer: createRenderer(settings.ffmpegPath ? { ffmpegPath: settings.ffmpegPath } : {}),
    clock: { now: () => new Date() },
    logger,
    metrics: createMetrics('process-media'),
  },
  { limits: settings.limits, videosBaseUrl: settings.videosBaseUrl, maxAttempts: settings.processMaxAttempts },
);

export async function handler(event: S3Event, context: Context) {
  logger.powertools.addContext(context);
  return processMedia(event, context);
}
