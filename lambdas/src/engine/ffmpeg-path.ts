/**
 * Which FFmpeg binary the engine runs: `FFMPEG_PATH`, else the Lambda layer's `/opt/bin/ffmpeg`,
 * else the npm static build (`@ffmpeg-installer/linux-<arch>`), made executable if the package
 * manager dropped the mode bit.
 */
import { accessSync, chmodSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ENV } from '../core/config.ts';

export const LAYER_FFMPEG_PATH = '/opt/bin/ffmpeg';

function ensureExecutable(path: string): string {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    chmodSync(path, 0o755);
  }
  return path;
}

/** The npm static binary for this CPU, or undefined when its package is not installed. */
export function npmFfmpegPath(arch: string = process.arch): string | undefined {
  const pkg = `@ffmpeg-installer/linux-${arch === 'arm64' ? 'arm64' : 'x64'}`;
  try {
    const require = createRequire(import.meta.url);
    const path = join(dirname(require.resolve(`${pkg}/package.json`)), 'ffmpeg');
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

export function resolveFfmpegPath(env: NodeJS.ProcessEnv = process.env, layerPath: string = LAYER_FFMPEG_PATH): string {
  const fromEnv = env[ENV.ffmpegPath];
  if (fromEnv) return fromEnv;
  if (existsSync(layerPath)) return layerPath;
  const npm = npmFfmpegPath();
  if (npm) return ensureExecutable(npm);
  throw new Error(`no FFmpeg found: set ${ENV.ffmpegPath}, add the layer at ${layerPath}, or install @ffmpeg-installer/linux-${process.arch}`);
}
