/**
 * Builds the FFmpeg Lambda layer: a zip with a static binary at `bin/ffmpeg` (→ `/opt/bin/ffmpeg`).
 *
 *   npm run build:layer [-- --arch arm64|x86_64] [--out dist/layers/ffmpeg-<arch>.zip]
 *   npm run build:layer -- --arch arm64 --url <https://…/ffmpeg-…-arm64-static.tar.xz> --sha256 <hex>
 *
 * Default source: the npm static packages @ffmpeg-installer/linux-x64@4.1.0 and linux-arm64@4.1.4
 * (FFmpeg 2018 static builds by John Van Sickle), pinned by version and sha512 integrity; x64 comes
 * from node_modules when installed, otherwise `npm pack` fetches the tarball. `--url` + `--sha256` use
 * any newer static build instead (tar.xz / tar.gz holding an `ffmpeg` file). Checks: the binary runs
 * `-version` (when the architecture is this machine's) and the layer stays under Lambda's 250 MB
 * unzipped limit. See README.md beside this file.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import yazl from 'yazl';

import { parseArchitecture, type Architecture } from '../../architecture.ts';


const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Lambda's limit for a function and all its layers, unzipped. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

/** Pinned npm sources (integrity = the registry's sha512 of the tarball). */
export const NPM_SOURCES: Record<Architecture, { name: string; version: string; integrity: string }> = {
  x86_64: {
    name: '@ffmpeg-installer/linux-x64',
    version: '4.1.0',
    integrity: 'sha512-Y5BWhGLU/WpQjOArNIgXD3z5mxxdV8c41C+U15nsE5yF8tVcdCGet5zPs5Zy3Ta6bU7haGpIzryutqCGQA/W8A==',
  },
  arm64: {
    name: '@ffmpeg-installer/linux-arm64',
    version: '4.1.4',
    integrity: 'sha512-dljEqAOD0oIM6O6DxBW9US/FkvqvQwgJ2lGHOwHDDwu/pX8+V0YsDL1xqHbj1DMX/+nP9rxw7G7gcUvGspSoKg==',
  },
};

/** Fixed timestamp for zip entries: the same binary gives the same zip (and the same layer hash). */
const ZIP_MTIME = new Date('2020-01-01T00:00:00Z');

export interface LayerBuildOptions {
  architecture: Architecture;
  out: string;
  /** A newer static build: archive URL and its pinned sha256 (hex). */
  url?: string;
  sha256?: string;
  /** Where downloads are kept between builds (default `<repo>/dist/.cache/ffmpeg`). */
  cacheDir?: string;
  log?: (line: string) => void;
}

export interface LayerBuildResult {
  zip: string;
  architecture: Architecture;
  source: string;
  unzippedBytes: number;
  zipBytes: number;
  /** First line of `ffmpeg -version`, or null when the architecture is not this machine's. */
  version: string | null;
}

const hostArchitecture = (): Architecture => (process.arch === 'arm64' ? 'arm64' : 'x86_64');

function sri512(file: string): string {
  return `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}`;
}

function sha256Hex(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The binary from the pinned npm package: installed copy if it is the pinned version, else `npm pack`. */
function fromNpm(architecture: Architecture, cacheDir: string, work: string, log: (l: string) => void): { binary: string; source: string } {
  const src = NPM_SOURCES[architecture];
  const installed = path.join(ROOT, 'node_modules', src.name);
  if (fs.existsSync(path.join(installed, 'ffmpeg')) && JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version === src.version) {
    return { binary: path.join(installed, 'ffmpeg'), source: `${src.name}@${src.version} (node_modules)` };
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const tarball = path.join(cacheDir, `${src.name.replace('@', '').replace('/', '-')}-${src.version}.tgz`);
  if (!fs.existsSync(tarball)) {
    log(`  npm pack ${src.name}@${src.version}`);
    const out = execFileSync('npm', ['pack', `${src.name}@${src.version}`, '--json', '--pack-destination', cacheDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [info] = JSON.parse(out) as { filename: string }[];
    if (!info) throw new Error(`npm pack ${src.name}@${src.version} reported nothing`);
    if (path.join(cacheDir, info.filename) !== tarball) fs.renameSync(path.join(cacheDir, info.filename), tarball);
  }
  const integrity = sri512(tarball);
  if (integrity !== src.integrity) {
    fs.rmSync(tarball, { force: true });
    throw new Error(`${src.name}@${src.version}: integrity ${integrity} does not match the pinned ${src.integrity}`);
  }
  execFileSync('tar', ['-xzf', tarball, '-C', work]);
  return { binary: path.join(work, 'package', 'ffmpeg'), source: `${src.name}@${src.version} (${src.integrity})` };
}

/** A static build from a URL, checked against its pinned sha256 before anything is extracted. */
async function fromUrl(url: string, sha256: string, cacheDir: string, work: string, log: (l: string) => void): Promise<{ binary: string; source: string }> {
  if (!/^[0-9a-f]{64}$/i.test(sha256)) throw new Error('--sha256 must be the 64 hex digits of the archive');
  if (!url.startsWith('https://')) throw new Error('--url must be https');
  fs.mkdirSync(cacheDir, { recursive: true });
  const archive = path.join(cacheDir, `${sha256.toLowerCase()}-${path.basename(new URL(url).pathname)}`);
  if (!fs.existsSync(archive)) {
    log(`  downloading ${url}`);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`download failed: HTTP ${res.status} for ${url}`);
    fs.writeFileSync(`${archive}.part`, Buffer.from(await res.arrayBuffer()));
    fs.renameSync(`${archive}.part`, archive);
  }
  const actual = sha256Hex(archive);
  if (actual !== sha256.toLowerCase()) {
    fs.rmSync(archive, { force: true });
    throw new Error(`sha256 mismatch for ${url}: expected ${sha256}, got ${actual}`);
  }
  const flag = /\.tar\.xz$|\.txz$/.test(archive) ? '-xJf' : /\.tar\.gz$|\.tgz$/.test(archive) ? '-xzf' : null;
  if (!flag) throw new Error('--url must point to a .tar.xz or .tar.gz archive');
  execFileSync('tar', [flag, archive, '-C', work]);
  const found = findFile(work, 'ffmpeg');
  if (!found) throw new Error(`no file named ffmpeg in ${url}`);
  return { binary: found, source: `${url} (sha256 ${actual})` };
}

function findFile(dir: string, name: string): string | undefined {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return p;
    if (entry.isDirectory()) {
      const inner = findFile(p, name);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The CPU an ELF executable is built for (e_machine), so a binary for another machine is still checked. */
export function elfArchitecture(file: string): Architecture | 'other' {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(20);
    fs.readSync(fd, head, 0, 20, 0);
    if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF executable`);
    const machine = head.readUInt16LE(18);
    return machine === 0xb7 ? 'arm64' : machine === 0x3e ? 'x86_64' : 'other';
  } finally {
    fs.closeSync(fd);
  }
}

/** `ffmpeg -version`, first line. */
export function ffmpegVersion(binary: string): string {
  const out = execFileSync(binary, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 30_000 });
  return out.split('\n')[0]!.trim();
}

function writeZip(out: string, entries: { file?: string; content?: Buffer; name: string; mode: number }[]): Promise<void> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const opts = { mode: e.mode, mtime: ZIP_MTIME, compress: true };
    if (e.file) zip.addFile(e.file, e.name, opts);
    else zip.addBuffer(e.content!, e.name, opts);
  }
  zip.end();
  const tmp = `${out}.part`;
  return new Promise((resolve, reject) => {
    zip.outputStream
      .pipe(fs.createWriteStream(tmp))
      .on('close', () => {
        fs.renameSync(tmp, out);
        resolve();
      })
      .on('error', reject);
  });
}

export async function buildFfmpegLayer(options: LayerBuildOptions): Promise<LayerBuildResult> {
  const log = options.log ?? ((l: string) => console.log(l));
  const cacheDir = options.cacheDir ?? path.join(ROOT, 'dist', '.cache', 'ffmpeg');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-ffmpeg-layer-'));
  try {
    if ((options.url === undefined) !== (options.sha256 === undefined)) throw new Error('--url and --sha256 go together');
    const { binary, source } = options.url
      ? await fromUrl(options.url, options.sha256!, cacheDir, work, log)
      : fromNpm(options.architecture, cacheDir, work, log);
    const size = fs.statSync(binary).size;
    const elf = elfArchitecture(binary);
    if (elf !== options.architecture) throw new Error(`the ffmpeg binary from ${source} is built for ${elf}, not ${options.architecture}`);
    let version: string | null = null;
    if (options.architecture === hostArchitecture()) {
      // Run a copy with the executable bit (npm tarballs and archives do not always keep it).
      const probe = path.join(work, 'probe-ffmpeg');
      fs.copyFileSync(binary, probe);
      fs.chmodSync(probe, 0o755);
      version = ffmpegVersion(probe);
      log(`  runs: ${version}`);
    } else {
      log(`  not run: ${options.architecture} binary on a ${hostArchitecture()} machine`);
    }
    const notice = Buffer.from(
      [
        'FFmpeg static build for AWS Lambda (media-pipeline FFmpeg layer).',
        `Architecture: ${options.architecture}`,
        `Source: ${source}`,
        `Version: ${version ?? 'not run at build time (other architecture)'}`,
        'FFmpeg is free software under the GNU GPL v3 (this static build includes GPL components such as x264).',
        'Sources: https://ffmpeg.org/download.html and the build notes of the source above.',
        '',
      ].join('\n'),
    );
    await writeZip(options.out, [
      { file: binary, name: 'bin/ffmpeg', mode: 0o100755 },
      { content: notice, name: 'share/doc/ffmpeg/NOTICE.txt', mode: 0o100644 },
    ]);
    const unzippedBytes = size + notice.length;
    if (unzippedBytes >= LAMBDA_UNZIPPED_LIMIT_BYTES) {
      fs.rmSync(options.out, { force: true });
      throw new Error(`layer unzipped size ${unzippedBytes} bytes is over Lambda's ${LAMBDA_UNZIPPED_LIMIT_BYTES}-byte limit`);
    }
    const zipBytes = fs.statSync(options.out).size;
    log(`${options.out}: ${(zipBytes / 1e6).toFixed(1)} MB zipped, ${(unzippedBytes / 1e6).toFixed(1)} MB unzipped (limit 250 MiB with the function)`);
    return { zip: options.out, architecture: options.architecture, source, unzippedBytes, zipBytes, version };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { arch: { type: 'string' }, out: { type: 'string' }, url: { type: 'string' }, sha256: { type: 'string' } } });
  const architecture = parseArchitecture(values.arch);
  buildFfmpegLayer({
    architecture,
    out: path.resolve(values.out ?? path.join(ROOT, 'dist', 'layers', `ffmpeg-${architecture}.zip`)),
    url: values.url,
    sha256: values.sha256,
  }).catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
