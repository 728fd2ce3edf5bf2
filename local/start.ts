/**
 * `npm start`: builds the upload page (ui/ → dist/ui, unless SKIP_UI_BUILD=1 or there is no ui/), then
 * runs the local stack on http://127.0.0.1:${PORT:-3000}. Ctrl-C stops it cleanly; finished jobs stay in
 * DATA_DIR (default .data/) for the next start.
 */
import { existsSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// PORT, DATA_DIR, FFMPEG_PATH… from .env (see .env.example); variables already set win.
if (existsSync('.env')) process.loadEnvFile('.env');

const UI_CONFIG = 'ui/vite.config.ts';
if (process.env.SKIP_UI_BUILD !== '1' && existsSync(UI_CONFIG)) {
  console.log('Building the upload page (ui/ → dist/ui)…');
  const { build } = await import('vite');
  try {
    await build({ configFile: UI_CONFIG, logLevel: 'warn' });
  } catch (err) {
    console.error(`The UI build failed (${(err as Error).message}); starting anyway with what dist/ui has.`);
  }
}

const { limitsFromEnv } = await import('../lambdas/src/core/settings.ts');
const { startLocalStack } = await import('./stack.ts');
const { DEFAULT_LIMITS } = await import('../contracts/index.ts');

function intEnv(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`${name} must be a whole number, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

try {
  const stack = await startLocalStack({
    port: intEnv('PORT') ?? 3000,
    host: process.env.HOST || '127.0.0.1',
    publicHost: process.env.PUBLIC_HOST || undefined,
    s3Port: intEnv('S3_PORT') ?? 0,
    dataDir: process.env.DATA_DIR || '.data',
    renderConcurrency: intEnv('RENDER_CONCURRENCY'),
    ffmpegPath: process.env.FFMPEG_PATH || undefined,
    uiDir: process.env.UI_DIR || 'dist/ui',
    allowedOrigins: process.env.ALLOWED_ORIGINS ? process.env.ALLOWED_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean) : undefined,
    limits: limitsFromEnv(process.env, DEFAULT_LIMITS),
  });
  console.log(`\n  Media pipeline running at ${stack.url}  (S3: ${stack.s3Url}, data: ${process.env.DATA_DIR || '.data'})\n  Ctrl-C to stop.\n`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log('Forced exit.');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    stack.stop().then(
      () => process.exit(0),
      (err: Error) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') console.error(`Port in use: ${e.message}. Set PORT (or S3_PORT) to another port.`);
  else console.error(err);
  process.exit(1);
}
