/**
 * Lambda entry point of the HTTP API (API Gateway HTTP API, payload v2). Wiring only: settings from
 * the environment (core/config.ts ENV), AWS adapters, the handler from handlers/api.ts.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createApiHandler } from '../handlers/api.ts';
import { settingsFromEnv } from '../core/settings.ts';
import { createS3Client, S3ObjectStore, S3UploadSigner } from '../adapters/aws/s3.ts';
import { createLogger, createMetrics } from '../adapters/aws/observability.ts';

const settings = settingsFromEnv(process.env);
const client = createS3Client();
const logger = createLogger('api');

const api = createApiHandler(
  {
    input: new S3ObjectStore(client, settings.inputBucket),
    signer: new S3UploadSigner(client, settings.inputBucket),
    clock: { now: () => new Date() },
    ids: { jobId: () => randomUUID() },
    logger,
    metrics: createMetrics('api'),
  },
  { limits: settings.limits, processMaxAttempts: settings.processMaxAttempts },
);

export async function handler(event: APIGatewayProxyEventV2, context: Context) {
  logger.powertools.addContext(context);
  return api(event);
}
