/** What machine a benchmark ran on, and how busy it was with other work while it ran. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import sharp from 'sharp';
import { FFMPEG, run } from './commands.ts';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  ffmpeg: string;
  sharp: string;
  libvips: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  let os = 'unknown';
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux?
  }
  let kernel: string;
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    kernel = '';
  }
  const { stdout } = await run(FFMPEG, ['-hide_banner', '-version']).catch(() => ({ stdout: '' }));
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os,
    kernel,
    node: process.version,
    ffmpeg: stdout.split('\n')[0]?.trim() ?? '',
    sharp: sharp.versions.sharp ?? '',
    libvips: sharp.versions.vips,
  };
}

/** Busy and total CPU seconds of the whole machine since boot (all cores), from /proc/stat. */
export function cpuCounters(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** The commit benchmarked, and the last commit that touched the engine (so a reader knows which engine the figures are for). */
export async function gitInfo(root: string): Promise<{ head: string; engineCommit: string; dirtyEngine: boolean }> {
  const git = (args: string[]) => run('git', ['-C', root, ...args]).then((r) => r.stdout.trim()).catch(() => '');
  const head = await git(['log', '-1', '--format=%h %s']);
  const engineCommit = await git(['log', '-1', '--format=%h %cI %s', '--', 'lambdas/src/engine', 'lambdas/src/core/render-plan.ts', 'lambdas/src/entrypoints/render-cli.ts']);
  const dirty = await git(['status', '--porcelain', '--', 'lambdas/src/engine', 'lambdas/src/core/render-plan.ts', 'lambdas/src/entrypoints/render-cli.ts']);
  return { head, engineCommit, dirtyEngine: dirty !== '' };
}

export function load1(): number {
  return loadavg()[0] ?? 0;
}
