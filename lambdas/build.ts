/**
 * Builds the Lambda bundles: one ESM file per function, plus sharp's native binaries for the TARGET
 * architecture beside process-media (sharp is native, so it is never bundled).
 *
 *   npm run build:lambdas [-- --arch arm64|x86_64] [--out dist]
 *
 * Writes dist/lambdas/<fn>/index.mjs (handler `index.handler`) for api, process-media and render-segment,
 * <fn>/node_modules/{sharp, its JS dependencies, @img/sharp-linux-<cpu>, @img/sharp-libvips-linux-<cpu>}
 * for the two that render, and
 * dist/lambdas/build-info.json (architecture, sizes, sharp versions and integrity). The native packages
 * come from node_modules when they are the installed ones for this machine, else from `npm pack` at the
 * version sharp pins, checked against package-lock.json's integrity (the lock records every platform's
 * optional packages). Needs the npm registry only when building for another architecture.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

import { parseArchitecture, type Architecture } from './architecture.ts';


const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Function name → entry point (wiring only; see lambdas/src/entrypoints). */
export const FUNCTIONS = {
  api: 'lambdas/src/entrypoints/api.ts',
  'process-media': 'lambdas/src/entrypoints/process-media.ts',
  'render-segment': 'lambdas/src/entrypoints/render-segment.ts',
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

/** Functions that load sharp at run time and so carry its native packages. */
const NEEDS_SHARP: readonly FunctionName[] = ['process-media', 'render-segment'];

/** ESM output still meets CommonJS dependencies that call require(): give them one. */
const BANNER = "import { createRequire as __mpCreateRequire } from 'node:module';\nconst require = __mpCreateRequire(import.meta.url);";

export interface BuildOptions {
  architecture: Architecture;
  /** Output root (default `<repo>/dist`); bundles go to `<out>/lambdas/<fn>/`. */
  outDir: string;
  functions?: FunctionName[];
  /** Cache for `npm pack` downloads (default `<out>/.cache/npm`). */
  cacheDir?: string;
  log?: (line: string) => void;
}

export interface BuildInfo {
  architecture: Architecture;
  target: 'node22';
  functions: Record<string, { bundleBytes: number; totalBytes: number }>;
  sharp?: { version: string; packages: Record<string, { version: string; integrity?: string; source: 'node_modules' | 'npm pack' }> };
}

const cpuOf = (a: Architecture) => (a === 'arm64' ? 'arm64' : 'x64');
const hostArchitecture = (): Architecture => (process.arch === 'arm64' ? 'arm64' : 'x86_64');

interface PackageManifest {
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
interface PackageLock {
  packages?: Record<string, { version?: string; integrity?: string }>;
}

function readJson<T = PackageManifest>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += dirBytes(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

/** Where `name` resolves from `fromDir` (Node's node_modules walk), or undefined. */
function packageDir(name: string, fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Files a package needs at run time: no C++ sources, build scripts, type declarations or readmes. */
function runtimeFilter(src: string): boolean {
  const base = path.basename(src);
  if (/\.(d\.ts|d\.mts|d\.cts|md|map)$/.test(base)) return false;
  return !['src', 'install', 'docs', 'test', '.github'].includes(base);
}

/** Copy a package and (recursively) its non-optional dependencies, keeping Node's resolution layout. */
function copyPackageTree(name: string, fromDir: string, destNodeModules: string, seen = new Set<string>()): void {
  const src = packageDir(name, fromDir);
  if (!src) throw new Error(`build: cannot find package ${name} from ${fromDir} (run npm install)`);
  const key = fs.realpathSync(src);
  if (seen.has(key)) return;
  seen.add(key);
  const dest = path.join(destNodeModules, name);
  fs.cpSync(src, dest, { recursive: true, filter: (s) => s === src || runtimeFilter(s) });
  const pkg = readJson(path.join(src, 'package.json'));
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const depSrc = packageDir(dep, src);
    if (!depSrc) throw new Error(`build: ${name} needs ${dep}, which is not installed`);
    // Nested under the package (its own node_modules): already copied with it.
    if (depSrc.startsWith(path.join(src, 'node_modules'))) continue;
    copyPackageTree(dep, src, destNodeModules, seen);
  }
}

/** Integrity recorded for `node_modules/<name>` in package-lock.json, if any. */
function lockIntegrity(name: string, version: string): string | undefined {
  const lockFile = path.join(ROOT, 'package-lock.json');
  if (!fs.existsSync(lockFile)) return undefined;
  const entry = readJson<PackageLock>(lockFile).packages?.[`node_modules/${name}`];
  return entry && entry.version === version ? entry.integrity : undefined;
}

/** sha512 SRI of a file, as npm writes it. */
export function integrityOf(file: string): string {
  return `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

/**
 * `npm pack name@version` into the cache (once), check the tarball against `expectedIntegrity`, and
 * extract its `package/` directory to `dest`.
 */
export function npmPackPackage(name: string, version: string, dest: string, cacheDir: string, expectedIntegrity: string | undefined): string {
  fs.mkdirSync(cacheDir, { recursive: true });
  const tarball = path.join(cacheDir, `${name.replace('@', '').replace('/', '-')}-${version}.tgz`);
  if (!fs.existsSync(tarball)) {
    const out = execFileSync('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', cacheDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [info] = JSON.parse(out) as { filename: string }[];
    if (!info) throw new Error(`npm pack ${name}@${version} reported nothing`);
    const packed = path.join(cacheDir, info.filename);
    if (packed !== tarball) fs.renameSync(packed, tarball);
  }
  const integrity = integrityOf(tarball);
  if (expectedIntegrity && integrity !== expectedIntegrity) {
    fs.rmSync(tarball, { force: true });
    throw new Error(`build: ${name}@${version} integrity mismatch: expected ${expectedIntegrity}, got ${integrity}`);
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-pack-'));
  try {
    execFileSync('tar', ['-xzf', tarball, '-C', tmp]);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.cpSync(path.join(tmp, 'package'), dest, { recursive: true });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return integrity;
}

/** sharp + its JS dependencies + the two native packages for `architecture` into `<fnDir>/node_modules`. */
function packageSharp(fnDir: string, architecture: Architecture, cacheDir: string, log: (l: string) => void): NonNullable<BuildInfo['sharp']> {
  const nodeModules = path.join(fnDir, 'node_modules');
  copyPackageTree('sharp', ROOT, nodeModules);
  const sharpPkg = readJson(path.join(nodeModules, 'sharp', 'package.json'));
  const cpu = cpuOf(architecture);
  const natives = [`@img/sharp-linux-${cpu}`, `@img/sharp-libvips-linux-${cpu}`];
  const packages: NonNullable<BuildInfo['sharp']>['packages'] = {};
  for (const name of natives) {
    const version: string | undefined = sharpPkg.optionalDependencies?.[name];
    if (!version) throw new Error(`build: sharp ${sharpPkg.version} has no ${name}`);
    const dest = path.join(nodeModules, name);
    const installed = packageDir(name, path.join(ROOT, 'node_modules', 'sharp'));
    const expected = lockIntegrity(name, version);
    if (installed && readJson(path.join(installed, 'package.json')).version === version) {
      fs.cpSync(installed, dest, { recursive: true, filter: (s) => s === installed || runtimeFilter(s) });
      packages[name] = { version, integrity: expected, source: 'node_modules' };
    } else {
      log(`  npm pack ${name}@${version}`);
      packages[name] = { version, integrity: npmPackPackage(name, version, dest, cacheDir, expected), source: 'npm pack' };
    }
  }
  return { version: sharpPkg.version, packages };
}

/** When the bundle's architecture is this machine's: load sharp from the bundle directory, as Lambda will. */
export function checkSharpLoads(fnDir: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', "const s = (await import('sharp')).default; console.log(JSON.stringify(s.versions))"], {
    cwd: fnDir,
    encoding: 'utf8',
  }).trim();
}

export async function buildLambdas(options: BuildOptions): Promise<BuildInfo> {
  const log = options.log ?? ((l: string) => console.log(l));
  const functions = options.functions ?? (Object.keys(FUNCTIONS) as FunctionName[]);
  const lambdasDir = path.join(options.outDir, 'lambdas');
  const cacheDir = options.cacheDir ?? path.join(options.outDir, '.cache', 'npm');
  const info: BuildInfo = { architecture: options.architecture, target: 'node22', functions: {} };
  for (const fn of functions) {
    const entry = path.join(ROOT, FUNCTIONS[fn]);
    if (!fs.existsSync(entry)) throw new Error(`build: entry point ${FUNCTIONS[fn]} for ${fn} does not exist`);
    const fnDir = path.join(lambdasDir, fn);
    fs.rmSync(fnDir, { recursive: true, force: true });
    await esbuild.build({
      entryPoints: [entry],
      outfile: path.join(fnDir, 'index.mjs'),
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      banner: { js: BANNER },
      // sharp: native, shipped beside the bundle. FFmpeg installers: never used on Lambda (FFMPEG_PATH → layer).
      external: ['sharp', '@ffmpeg-installer/*', '@ffprobe-installer/*'],
      mainFields: ['module', 'main'],
      legalComments: 'none',
      logLevel: 'warning',
    });
    if (NEEDS_SHARP.includes(fn)) {
      info.sharp = packageSharp(fnDir, options.architecture, cacheDir, log);
      if (options.architecture === hostArchitecture()) log(`  sharp loads from the bundle: ${checkSharpLoads(fnDir)}`);
    }
    const bundleBytes = fs.statSync(path.join(fnDir, 'index.mjs')).size;
    const totalBytes = dirBytes(fnDir);
    info.functions[fn] = { bundleBytes, totalBytes };
    log(`${fn}: index.mjs ${(bundleBytes / 1e6).toFixed(2)} MB, directory ${(totalBytes / 1e6).toFixed(1)} MB unzipped (${options.architecture})`);
  }
  fs.writeFileSync(path.join(lambdasDir, 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { arch: { type: 'string' }, out: { type: 'string' }, only: { type: 'string' } } });
  buildLambdas({
    architecture: parseArchitecture(values.arch),
    outDir: path.resolve(values.out ?? path.join(ROOT, 'dist')),
    functions: values.only ? (values.only.split(',') as FunctionName[]) : undefined,
  }).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
