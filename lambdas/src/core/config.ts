/**
 * Names shared by the handlers, their adapters and the Pulumi component: environment variables
 * the functions read and the custom metrics they emit. Change a name here and both sides follow.
 */
export const ENV = {
  inputBucket: 'INPUT_BUCKET',
  outputBucket: 'OUTPUT_BUCKET',
  maxImages: 'MAX_IMAGES',
  maxImageBytes: 'MAX_IMAGE_BYTES',
  grantTtlSeconds: 'GRANT_TTL_SECONDS',
  maxImagePixels: 'MAX_IMAGE_PIXELS',
  maxVideoSeconds: 'MAX_VIDEO_SECONDS',
  /** Prefix for video URLs in job status, default `/videos` (same-origin CloudFront behaviour). */
  videosBaseUrl: 'VIDEOS_BASE_URL',
  /** FFmpeg binary; default the layer's `/opt/bin/ffmpeg`, else the npm static binary. */
  ffmpegPath: 'FFMPEG_PATH',
  /** Attempts process-media gets (1 + async retries); on the last one a failure also marks the job failed. */
  processMaxAttempts: 'PROCESS_MAX_ATTEMPTS',
  /** Fan-out (core/segments.ts): segments rendered in parallel per long job; 1 (default) = off. */
  renderSegments: 'RENDER_SEGMENTS',
  /** Fan-out: only videos at least this many seconds long are split. @default 60 */
  segmentMinVideoSeconds: 'SEGMENT_MIN_VIDEO_SECONDS',
  /** Fan-out: name of the render-segment function process-media invokes (AWS). */
  segmentFunctionName: 'SEGMENT_FUNCTION_NAME',
} as const;

/** CloudWatch namespace for custom metrics (EMF through Powertools Metrics). */
export const METRICS_NAMESPACE = 'MediaPipeline';

/** Custom metrics the handlers emit; the dashboard and alarms read these names. */
export const METRIC = {
  jobsCreated: 'JobsCreated',
  jobsStarted: 'JobsStarted',
  jobsSucceeded: 'JobsSucceeded',
  jobsFailed: 'JobsFailed',
  imagesPerJob: 'ImagesPerJob',
  renderSeconds: 'RenderSeconds',
  videoSecondsRendered: 'VideoSecondsRendered',
  /** Video seconds rendered per wall second of rendering. */
  renderSpeed: 'VideoSecondsPerRenderSecond',
  bytesOut: 'BytesOut',
} as const;

/**
 * Process settings for anything that runs the render engine (process-media, render-segment, the CLI):
 * `--expose-gc` lets the engine collect released frames at once, and the glibc malloc settings stop
 * freed frame buffers from piling up in per-thread arenas. Together they keep peak RSS flat in the
 * image count (measured in docs/architecture.md "Render engine"). The `render` npm script sets the same.
 */
export const RENDER_PROCESS_ENV = {
  NODE_OPTIONS: '--expose-gc',
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '131072',
} as const;
