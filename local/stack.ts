/**
 * The local stack: the same handlers as on AWS, with s3rver as S3, on one machine.
 *
 *   http://127.0.0.1:PORT/             the UI (dist/ui, built by `vite build`)
 *                        /config.json  SiteConfig for the UI
 *                        /api/*        → API Gateway v2 event → handlers/api.ts (the Lambda handler)
 *                        /videos/*     output bucket, with HTTP Range
 *   http://127.0.0.1:S3PORT/           s3rver: input + output buckets; the browser uploads here (CORS)
 *
 * s3rver emits an S3 event for every write; `jobs/<id>/manifest.json` events go to process-media
 * through a queue that behaves like Lambda's asynchronous invocation (bounded concurrency, retries,
 * dead-letter file).
 */
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { S3Event } from 'aws-lambda';
import S3rver from 's3rver';
import { DEFAULT_LIMITS, type Limits, type SiteConfig } from '../contracts/index.ts';
import { S3ObjectStore, S3UploadSigner } from '../lambdas/src/adapters/aws/s3.ts';
import { createS3rverClient } from '../lambdas/src/adapters/local/s3rver-client.ts';
import { ConditionalWriteStore } from '../lambdas/src/adapters/local/conditional-store.ts';
import { createConsoleLogger, MemoryMetrics, type LogLevel } from '../lambdas/src/adapters/local/console.ts';
import { DEFAULT_PROCESS_MAX_ATTEMPTS } from '../lambdas/src/core/settings.ts';
import { jobIdFromManifestKey, keys, JOBS_PREFIX, MANIFEST_SUFFIX } from '../lambdas/src/core/keys.ts';
import { parseStatusRecord, isTerminal } from '../lambdas/src/core/job.ts';
import type { Logger, Renderer } from '../lambdas/src/core/ports.ts';
import { createApiHandler } from '../lambdas/src/handlers/api.ts';
import { createProcessMediaHandler, type ProcessMediaResult } from '../lambdas/src/handlers/process-media.ts';
import { createLocalFanOut } from '../lambdas/src/adapters/local/fan-out.ts';
import { fanOutSettingsFromEnv } from '../lambdas/src/core/segments.ts';
import { Dispatcher } from './dispatcher.ts';
import { BodyTooLargeError, readBody, toApiGatewayEvent, writeApiGatewayResult } from './http-event.ts';
import { serveStatic } from './static.ts';
import { serveVideo } from './videos.ts';

export const INPUT_BUCKET = 'media-input';
export const OUTPUT_BUCKET = 'media-output';
/** The `npm run dev:ui` server (ui/vite.config.ts): allowed to upload by default, so hot-reload development works against `npm start`. */
export const DEV_UI_ORIGINS: readonly string[] = ['http://127.0.0.1:5173', 'http://localhost:5173'];

export interface LocalStackOptions {
  /** HTTP port of the site; 0 picks a free one. @default 3000 */
  port?: number;
  /** Interface to listen on. `0.0.0.0` opens the stack to the network (no authentication!). @default '127.0.0.1' */
  host?: string;
  /**
   * Host name that goes into URLs the browser uses (the site URL, CORS origins, upload grants), e.g. the
   * machine's LAN address to try the page from a phone with host `0.0.0.0`. @default host, or 127.0.0.1 for 0.0.0.0
   */
  publicHost?: string;
  /** Where s3rver keeps the buckets (and the dead-letter file). @default process.env.DATA_DIR ?? '.data' */
  dataDir?: string;
  /**
   * Extra origins allowed to upload to the buckets (S3 CORS), like the component's `allowedOrigins`; the
   * stack's own origin always is. @default DEV_UI_ORIGINS (the `npm run dev:ui` server)
   */
  allowedOrigins?: readonly string[];
  /** s3rver's port; 0 picks a free one. @default 0 */
  s3Port?: number;
  /** Renders at once. @default max(1, floor(cores / 2)) */
  renderConcurrency?: number;
  /** FFmpeg binary for the engine. @default FFMPEG_PATH, else the engine's own choice */
  ffmpegPath?: string;
  /** Built UI. @default 'dist/ui' */
  uiDir?: string;
  /** Overrides of the API limits. */
  limits?: Partial<Limits>;
  /** The render engine; defaults to the real engine in worker threads (renders never block this event loop). */
  renderer?: Renderer;
  /**
   * Fan-out for long jobs: videos at least `minVideoSeconds` long are split into `workers` segments
   * rendered in parallel worker threads, then joined (docs/architecture.md "Long jobs: fan-out").
   * @default from RENDER_SEGMENTS and SEGMENT_MIN_VIDEO_SECONDS (off)
   */
  fanOut?: { workers: number; minVideoSeconds?: number };
  /** process-media attempts per event (Lambda: 1 + 2 retries). @default 3 */
  maxAttempts?: number;
  /** Delays before retries, ms. @default [2000, 10000] */
  retryDelaysMs?: number[];
  /** Time each process-media invocation gets, ms (Lambda's function timeout). @default 900000 */
  processTimeoutMs?: number;
  /** @default 'info' (LOG_LEVEL) */
  logLevel?: LogLevel;
}

export interface LocalStack {
  /** The site, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /** s3rver, where upload grants point. */
  s3Url: string;
  stop(): Promise<void>;
}

/** Internals for tests and tools (not part of the stable API). */
export interface LocalStackInternals extends LocalStack {
  dispatcher: Dispatcher<S3Event>;
  metrics: MemoryMetrics;
  limits: Limits;
  dataDir: string;
  /** Resolves when no render is queued, running or waiting for a retry. */
  idle(): Promise<void>;
  /** Results of every process-media invocation so far. */
  invocations: { event: S3Event; attempt: number; result?: ProcessMediaResult; error?: string }[];
  /** Deliver an S3 event to process-media exactly as s3rver's notifications do. */
  dispatch(event: S3Event): void;
}

function corsXml(origins: string[]): string {
  return `<CORSConfiguration>
  <CORSRule>
    ${origins.map((o) => `<AllowedOrigin>${o}</AllowedOrigin>`).join('\n    ')}
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen(server.address() as AddressInfo);
    });
  });
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { code, message } }));
}

export function isManifestEvent(event: S3Event): boolean {
  return Array.isArray(event?.Records) && event.Records.some((r) => r?.s3?.bucket?.name === INPUT_BUCKET && jobIdFromManifestKey(r.s3.object.key) !== null);
}

/** An S3 event record like the one S3 (and s3rver) sends for a new manifest. */
export function manifestEvent(jobId: string): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'local',
          bucket: { name: INPUT_BUCKET, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${INPUT_BUCKET}` },
          object: { key: keys.manifest(jobId), size: 0, eTag: '', sequencer: Date.now().toString(16) },
        },
      },
    ],
  };
}

async function defaultRenderer(ffmpegPath: string | undefined, concurrency: number, timeoutMs: number): Promise<Renderer & { close?: () => Promise<void> }> {
  const { WorkerRenderer } = await import('../lambdas/src/adapters/local/worker-renderer.ts');
  return new WorkerRenderer({ ffmpegPath, maxWorkers: concurrency, timeoutMs });
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  return startLocalStackInternal(options);
}

export async function startLocalStackInternal(options: LocalStackOptions = {}): Promise<LocalStackInternals> {
  const host = options.host ?? '127.0.0.1';
  const publicHost = options.publicHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const dataDir = resolve(options.dataDir ?? process.env.DATA_DIR ?? '.data');
  const uiDir = resolve(options.uiDir ?? 'dist/ui');
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const concurrency = Math.max(1, options.renderConcurrency ?? Math.floor(availableParallelism() / 2));
  const maxAttempts = options.maxAttempts ?? DEFAULT_PROCESS_MAX_ATTEMPTS;
  const logger: Logger = createConsoleLogger({ service: 'local', level: options.logLevel ?? ((process.env.LOG_LEVEL as LogLevel) || 'info') });
  const metrics = new MemoryMetrics();
  await mkdir(join(dataDir, 's3'), { recursive: true });

  // 1. The site server first, so its origin (port 0 → real port) can go into the bucket CORS rules.
  const server = createServer();
  const addr = await listen(server, options.port ?? 3000, host);
  const url = `http://${publicHost}:${addr.port}`;
  const origins = [...new Set([url, `http://127.0.0.1:${addr.port}`, `http://localhost:${addr.port}`, ...(options.allowedOrigins ?? DEV_UI_ORIGINS)])];

  // 2. s3rver with the two buckets.
  const s3rver = new S3rver({
    address: host,
    port: options.s3Port ?? 0,
    directory: join(dataDir, 's3'),
    silent: true,
    configureBuckets: [
      { name: INPUT_BUCKET, configs: [corsXml(origins)] },
      { name: OUTPUT_BUCKET, configs: [corsXml(origins)] },
    ],
  });
  let s3Addr: AddressInfo;
  try {
    s3Addr = (await s3rver.run()) as AddressInfo;
  } catch (err) {
    server.close();
    throw err;
  }
  const s3Url = `http://${publicHost}:${s3Addr.port}`;
  const client = createS3rverClient(s3Url);
  const input = new ConditionalWriteStore(new S3ObjectStore(client, INPUT_BUCKET));
  const output = new ConditionalWriteStore(new S3ObjectStore(client, OUTPUT_BUCKET));

  const processTimeoutMs = options.processTimeoutMs ?? 900_000;
  const renderer = options.renderer ?? (await defaultRenderer(options.ffmpegPath ?? process.env.FFMPEG_PATH, concurrency, processTimeoutMs));
  const clock = { now: () => new Date() };
  const fanOutSettings = options.fanOut ?? fanOutSettingsFromEnv(process.env);
  const fanOut =
    fanOutSettings.workers > 1
      ? createLocalFanOut({ input, output, logger, limits, ...fanOutSettings, ffmpegPath: options.ffmpegPath ?? process.env.FFMPEG_PATH, timeoutMs: processTimeoutMs })
      : undefined;

  // 3. The very same handlers as the Lambda entry points, with local adapters.
  const api = createApiHandler(
    { input, signer: new S3UploadSigner(client, INPUT_BUCKET), clock, ids: { jobId: () => randomUUID() }, logger, metrics },
    { limits, processMaxAttempts: maxAttempts },
  );
  const processMedia = createProcessMediaHandler(
    { input, output, renderer, clock, logger, metrics, ...(fanOut ? { fanOut: fanOut.coordinator } : {}) },
    { limits, videosBaseUrl: '/videos', maxAttempts, safetyMarginMs: 5_000 },
  );

  const invocations: LocalStackInternals['invocations'] = [];
  const shutdown = new AbortController();
  const deadLetterFile = join(dataDir, 'dead-letter.jsonl');
  const dispatcher = new Dispatcher<S3Event>({
    concurrency,
    maxAttempts,
    retryDelaysMs: options.retryDelaysMs ?? [2_000, 10_000],
    invoke: async (event, attempt) => {
      const deadline = Date.now() + processTimeoutMs;
      const entry: LocalStackInternals['invocations'][number] = { event, attempt };
      invocations.push(entry);
      if (invocations.length > 1000) invocations.splice(0, invocations.length - 1000); // a long-running stack keeps the last 1000
      try {
        entry.result = await processMedia(event, {
          getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
          awsRequestId: randomUUID(),
          shutdownSignal: shutdown.signal,
        });
      } catch (err) {
        entry.error = (err as Error).message;
        throw err;
      }
    },
    onError: (_event, err, attempt) => logger.warn('process-media invocation failed', { attempt, error: (err as Error).message }),
    onDeadLetter: async (event, err) => {
      logger.error('event sent to the dead-letter file', { file: deadLetterFile, error: (err as Error).message });
      await appendFile(deadLetterFile, `${JSON.stringify({ time: new Date().toISOString(), error: (err as Error).message, event })}\n`).catch(() => {});
    },
  });
  s3rver.on('event', (event: S3Event) => {
    if (isManifestEvent(event)) dispatcher.push(event);
  });

  // 4. HTTP routes.
  const siteConfig: SiteConfig = {
    apiBaseUrl: '/api',
    cdnBaseUrl: '',
    limits: { maxImages: limits.maxImages, maxImageBytes: limits.maxImageBytes, maxVideoSeconds: limits.maxVideoSeconds },
  };
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://local').pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    if (pathname === '/api' || pathname.startsWith('/api/')) {
      let body: Buffer;
      try {
        body = await readBody(req);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          // The rest of the body is still on the socket: answer, then close the connection (else the
          // client's next request on this keep-alive connection would be read from the leftover bytes).
          res.setHeader('connection', 'close');
          return sendError(res, 413, 'payload_too_large', 'The request body is over 10 MB.');
        }
        throw err;
      }
      const result = await api(toApiGatewayEvent(req, body));
      return writeApiGatewayResult(res, result);
    }
    if (pathname.startsWith('/videos/')) return serveVideo(req, res, client, OUTPUT_BUCKET, pathname);
    if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'method_not_allowed', 'Only GET and HEAD here.');
    if (pathname === '/config.json') {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(JSON.stringify(siteConfig));
      return;
    }
    if (await serveStatic(res, uiDir, pathname, method)) return;
    sendError(res, 404, 'not_found', `Nothing at ${pathname}.`);
  }
  server.on('request', (req, res) => {
    handle(req, res).catch((err: Error) => {
      logger.error('request failed', { path: req.url?.split('?')[0], error: err.message });
      sendError(res, 500, 'internal_error', 'Something went wrong on our side.');
    });
  });

  // 5. Jobs started before a restart and never finished: clear their stale lease (nothing else renders
  //    here) and deliver their manifest event again.
  await redispatchUnfinished(input, dispatcher, logger);

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      server.close();
      server.closeAllConnections();
      // Running renders stop now; their jobs go back to queued and are picked up at the next start.
      shutdown.abort();
      const pending = dispatcher.stop();
      const grace = new Promise<void>((r) => setTimeout(r, 10_000).unref());
      await Promise.race([pending, grace]);
      await (renderer as { close?: () => Promise<void> }).close?.();
      await fanOut?.close();
      await Promise.race([pending, grace]);
      await s3rver.close().catch(() => {});
      client.destroy();
    })());

  return {
    url,
    s3Url,
    stop,
    dispatcher,
    metrics,
    limits,
    dataDir,
    idle: () => dispatcher.idle(),
    invocations,
    dispatch: (event) => dispatcher.push(event),
  };
}

async function redispatchUnfinished(input: ConditionalWriteStore, dispatcher: Dispatcher<S3Event>, logger: Logger): Promise<void> {
  const objects = await input.list(JOBS_PREFIX);
  const names = new Set(objects.map((o) => o.key));
  let count = 0;
  for (const o of objects) {
    if (!o.key.endsWith(MANIFEST_SUFFIX)) continue;
    const jobId = jobIdFromManifestKey(o.key);
    if (!jobId) continue;
    if (names.has(keys.status(jobId))) {
      const st = await input.getBytes(keys.status(jobId));
      const rec = st ? parseStatusRecord(Buffer.from(st.body).toString('utf8'), jobId) : null;
      if (rec && isTerminal(rec.status)) continue;
    }
    if (names.has(keys.lease(jobId))) await input.delete(keys.lease(jobId));
    dispatcher.push(manifestEvent(jobId));
    count++;
  }
  if (count) logger.info('re-dispatched unfinished jobs from the last run', { jobs: count });
}
