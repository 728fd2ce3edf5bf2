/**
 * Lambda entry point of render-segment (fan-out worker, invoked synchronously by process-media with a
 * SegmentRequest). Wiring only: settings from the environment, S3 stores, the render engine, the
 * handler from handlers/render-segment.ts.
 */
import type { Context } from 'aws-lambda';
import { createRenderer } from '../engine/index.ts';
import { restrictDecoders } from '../engine/image.ts';
import { createRenderSegmentHandler } from '../handlers/render-segment.ts';
import { settingsFromEnv } from '../core/settings.ts';
import type { SegmentRequest } from '../core/ports.ts';
import { createS3Client, S3ObjectStore } from '../adapters/aws/s3.ts';
import { createLogger } from '../adapters/aws/observability.ts';

// This process only renders: libvips may load JPEG, PNG and WebP only (docs/security.md).
restrictDecoders();
const settings = settingsFromEnv(process.env);
const client = createS3Client();
const logger = createLogger('render-segment');

const renderSegment = createRenderSegmentHandler(
  {
    input: new S3ObjectStore(client, settings.inputBucket),
    output: new S3ObjectStore(client, settings.outputBucket),
    renderer: createRenderer(settings.ffmpegPath ? { ffmpegPath: settings.ffmpegPath } : {}),
    logger,
  },
  { limits: settings.limits },
);

export async function handler(event: SegmentRequest, context: Context) {
  logger.powertools.addContext(context);
  return renderSegment(event, context);
}
