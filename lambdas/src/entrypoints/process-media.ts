/**
 * Lambda entry point of process-media (S3 ObjectCreated on jobs/<id>/manifest.json, async invoke).
 * Wiring only: settings from the environment (core/config.ts ENV), AWS adapters, the render engine,
 * the handler from handlers/process-media.ts.
 */
import type { Context, S3Event } from 'aws-lambda';
import { createRenderer } from '../engine/index.ts';
import { restrictDecoders } from '../engine/image.ts';
import { createProcessMediaHandler } from '../handlers/process-media.ts';
import { settingsFromEnv } from '../core/settings.ts';
import { createS3Client, S3ObjectStore } from '../adapters/aws/s3.ts';
import { createLogger, createMetrics } from '../adapters/aws/observability.ts';
import { createLambdaClient, LambdaSegmentInvoker } from '../adapters/aws/segment-invoker.ts';
import { fanOutSettingsFromEnv } from '../core/segments.ts';
import { joinSegments } from '../engine/segments.ts';
import { createSegmentCoordinator } from '../handlers/segment-coordinator.ts';

const LAMBDA_MAX_TIMEOUT_MS = 15 * 60 * 1000;
// This process only renders: libvips may load JPEG, PNG and WebP only (docs/security.md).
restrictDecoders();
const settings = settingsFromEnv(process.env);
const client = createS3Client();
const logger = createLogger('process-media');
const output = new S3ObjectStore(client, settings.outputBucket);

// Fan-out (opt-in): RENDER_SEGMENTS > 1 and SEGMENT_FUNCTION_NAME set by the component.
const fanOutSettings = fanOutSettingsFromEnv(process.env);
const fanOut =
  fanOutSettings.workers > 1 && fanOutSettings.functionName
    ? createSegmentCoordinator(
        {
          invoker: new LambdaSegmentInvoker(createLambdaClient(), fanOutSettings.functionName),
          output,
          join: (paths, out, o) => joinSegments(paths, out, settings.ffmpegPath, o),
          logger,
        },
        { workers: fanOutSettings.workers, minVideoSeconds: fanOutSettings.minVideoSeconds },
      )
    : undefined;
if (fanOutSettings.workers > 1 && !fanOutSettings.functionName) {
  logger.warn('RENDER_SEGMENTS is above 1 but SEGMENT_FUNCTION_NAME is not set: fan-out is off, every job renders in one piece');
}

const processMedia = createProcessMediaHandler(
  {
    input: new S3ObjectStore(client, settings.inputBucket),
    output,
    // The handler stops a render at the invocation's deadline (minus a margin); the engine's own limit
    // is only a ceiling, set to Lambda's longest timeout so it never cuts a render the handler allows.
    renderer: createRenderer({ ...(settings.ffmpegPath ? { ffmpegPath: settings.ffmpegPath } : {}), timeoutMs: LAMBDA_MAX_TIMEOUT_MS }),
    clock: { now: () => new Date() },
    logger,
    metrics: createMetrics('process-media'),
    ...(fanOut ? { fanOut } : {}),
  },
  { limits: settings.limits, videosBaseUrl: settings.videosBaseUrl, maxAttempts: settings.processMaxAttempts },
);

export async function handler(event: S3Event, context: Context) {
  logger.powertools.addContext(context);
  return processMedia(event, context);
}
