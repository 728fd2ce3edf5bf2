/**
 * Runs one command and measures it: wall time, CPU seconds of the whole process tree, peak RSS of the
 * tree (sampled from /proc), the largest single process (from GNU time), and the peak bytes in a work
 * folder (sampled). Linux only (it reads /proc).
 *
 * CPU seconds come from GNU time (`/usr/bin/time`, Debian package `time`): the kernel's rusage of every
 * waited-for descendant, so nothing between samples is lost. Without it we fall back to summing
 * utime+stime of the sampled processes, which misses each process's last sampling interval.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

export const GNU_TIME = '/usr/bin/time';
const PAGE = 4096;
const TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

export interface Measurement {
  wallSeconds: number;
  userSeconds: number;
  sysSeconds: number;
  /** user + sys of the whole process tree. */
  cpuSeconds: number;
  /** Peak of the summed RSS of every process in the tree (sampled). */
  peakTreeRssBytes: number;
  /** Same, leaving out launcher processes (npm, sh, the tsx CLI relay): what does the work. */
  peakWorkRssBytes: number;
  /** Largest single process (GNU time %M); 0 without GNU time. */
  maxProcessRssBytes: number;
  /** Peak bytes in `workDir` (sampled), including the output being written. */
  peakDiskBytes: number;
  /** Peak RSS per program (basename of argv[0], e.g. `node`, `ffmpeg`), summed over its processes (sampled). */
  peakRssByProgram: Record<string, number>;
  exitCode: number;
  /** How CPU seconds were measured. */
  cpuSource: 'gnu-time' | 'proc-sampling';
  stdout: string;
  stderrTail: string;
}

export interface MeasureOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Folder whose size is sampled (the command's outputs and temp files should go here). */
  workDir?: string;
  sampleMs?: number;
  timeoutMs?: number;
  /** Processes that only launch the real work (counted in tree RSS, not in work RSS). */
  isLauncher?: (cmdline: string) => boolean;
  /** Force the /proc fallback even when GNU time is installed (tests). */
  noGnuTime?: boolean;
}

/** npm, the shell npm runs scripts with, the tsx CLI relay, and GNU time itself. */
export function defaultIsLauncher(cmdline: string): boolean {
  const argv0 = cmdline.split('\0')[0] ?? '';
  const joined = cmdline.replace(/\0/g, ' ');
  return (
    argv0 === GNU_TIME ||
    /(^|\/)(sh|bash|dash)$/.test(argv0) ||
    /(^|\/)npm(-cli\.js)?( |$)/.test(joined) ||
    /npm-cli\.js/.test(joined) ||
    /(^|\/)npm$/.test(argv0) ||
    /tsx\/dist\/cli\.m?js/.test(joined) ||
    /node_modules\/\.bin\/tsx( |$)/.test(joined)
  );
}

export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

interface ProcInfo {
  ppid: number;
  rssBytes: number;
  cpuTicks: number;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields resume after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const rssPages = Number(rest[21]);
    return { ppid, rssBytes: rssPages * PAGE, cpuTicks: utime + stime };
  } catch {
    return null; // exited between readdir and read
  }
}

/** Every live descendant of `root` (and root itself), with its info. */
export function processTree(root: number): Map<number, ProcInfo> {
  const all = new Map<number, ProcInfo>();
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const info = readProc(Number(name));
    if (info) all.set(Number(name), info);
  }
  const children = new Map<number, number[]>();
  for (const [pid, info] of all) {
    const list = children.get(info.ppid);
    if (list) list.push(pid);
    else children.set(info.ppid, [pid]);
  }
  const out = new Map<number, ProcInfo>();
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const info = all.get(pid);
    if (!info || out.has(pid)) continue;
    out.set(pid, info);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Bytes of every regular file under `dir` (0 if it does not exist). */
export function dirBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    try {
      if (e.isDirectory()) total += dirBytes(p);
      else if (e.isFile()) total += statSync(p).size;
    } catch {
      // removed while we looked
    }
  }
  return total;
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** `node`, `ffmpeg`, `npm`, `sh`, ...: what a process runs, for the per-program RSS breakdown. */
function programOf(pid: number): string {
  const raw = cmdlineOf(pid).replace(/\0+$/, '');
  // a process that set its title (npm, tsx) has one space-separated string instead of NUL-separated argv
  const argv = raw.includes('\0') ? raw.split('\0') : raw.split(' ');
  const argv0 = (argv[0] ?? '').split('/').pop() ?? '';
  if (argv0 === 'node' && argv.some((a) => /tsx\/dist\/cli\.m?js|npm-cli\.js/.test(a))) return argv.some((a) => /npm-cli/.test(a)) ? 'npm' : 'tsx-cli';
  return argv0 || 'unknown';
}

/** Parse GNU time's `-f '%e %U %S %M'` line. */
export function parseGnuTime(text: string): { wall: number; user: number; sys: number; maxRssKb: number } | null {
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => /^[\d.]+ [\d.]+ [\d.]+ \d+$/.test(l.trim()));
  if (!line) return null;
  const [wall, user, sys, rss] = line.trim().split(' ').map(Number) as [number, number, number, number];
  return { wall, user, sys, maxRssKb: rss };
}

export async function measure(cmd: string, args: string[], opts: MeasureOptions = {}): Promise<Measurement> {
  const sampleMs = opts.sampleMs ?? 100;
  const isLauncher = opts.isLauncher ?? defaultIsLauncher;
  const useTime = !opts.noGnuTime && hasGnuTime();
  const timeFile = join(tmpdir(), `bench-time-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.txt`);
  const argv = useTime ? [GNU_TIME, '-f', '%e %U %S %M', '-o', timeFile, cmd, ...args] : [cmd, ...args];

  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group, so a timeout can end the whole tree
  });
  const rootPid = child.pid!;
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
  });

  let peakTree = 0;
  let peakWork = 0;
  let peakDisk = 0;
  const launcherCache = new Map<number, boolean>();
  const peakByProgram: Record<string, number> = {};
  const lastTicks = new Map<number, number>();
  const sample = (): void => {
    const tree = processTree(rootPid);
    let sumTree = 0;
    let sumWork = 0;
    const byProgram: Record<string, number> = {};
    const cmdlines = new Map<number, string>();
    const cmd = (pid: number): string => {
      let c = cmdlines.get(pid);
      if (c === undefined) cmdlines.set(pid, (c = cmdlineOf(pid)));
      return c;
    };
    for (const [pid, info] of tree) {
      lastTicks.set(pid, info.cpuTicks);
      // A fork that has not exec'd yet (no cmdline, or its parent's) shares its parent's pages:
      // counting its RSS would count the parent twice for a moment.
      if (pid !== rootPid && (cmd(pid) === '' || (tree.has(info.ppid) && cmd(pid) === cmd(info.ppid)))) continue;
      sumTree += info.rssBytes;
      const program = programOf(pid);
      byProgram[program] = (byProgram[program] ?? 0) + info.rssBytes;
      let launcher = launcherCache.get(pid);
      if (launcher === undefined) {
        const cl = cmdlineOf(pid);
        launcher = isLauncher(cl);
        // a fork keeps its parent's cmdline until exec: re-check later if it looks like a launcher
        if (!launcher) launcherCache.set(pid, launcher);
      }
      if (!launcher) sumWork += info.rssBytes;
    }
    for (const [k, v] of Object.entries(byProgram)) peakByProgram[k] = Math.max(peakByProgram[k] ?? 0, v);
    peakTree = Math.max(peakTree, sumTree);
    peakWork = Math.max(peakWork, sumWork);
    if (opts.workDir) peakDisk = Math.max(peakDisk, dirBytes(opts.workDir));
  };
  const timer = setInterval(sample, sampleMs);
  sample();

  let timedOut = false;
  const killer = opts.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-rootPid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, opts.timeoutMs)
    : undefined;

  const exitCode: number = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const wall = (performance.now() - t0) / 1000;
  clearInterval(timer);
  if (killer) clearTimeout(killer);
  if (opts.workDir) peakDisk = Math.max(peakDisk, dirBytes(opts.workDir));

  let user = 0;
  let sys = 0;
  let maxProcessRssBytes = 0;
  let cpuSource: Measurement['cpuSource'] = 'proc-sampling';
  if (useTime) {
    const parsed = parseGnuTime(await readFile(timeFile, 'utf8').catch(() => ''));
    await rm(timeFile, { force: true });
    if (parsed) {
      user = parsed.user;
      sys = parsed.sys;
      maxProcessRssBytes = parsed.maxRssKb * 1024;
      cpuSource = 'gnu-time';
    }
  }
  if (cpuSource === 'proc-sampling') {
    let ticks = 0;
    for (const t of lastTicks.values()) ticks += t;
    user = ticks / TICKS;
    sys = 0;
  }
  if (timedOut) stderr += `\n[bench] killed after ${opts.timeoutMs} ms`;
  return {
    wallSeconds: wall,
    userSeconds: user,
    sysSeconds: sys,
    cpuSeconds: user + sys,
    peakTreeRssBytes: Math.max(peakTree, maxProcessRssBytes),
    peakWorkRssBytes: Math.max(peakWork, 0),
    maxProcessRssBytes,
    peakDiskBytes: peakDisk,
    peakRssByProgram: peakByProgram,
    exitCode: timedOut ? 124 : exitCode,
    cpuSource,
    stdout,
    stderrTail: stderr.slice(-4000),
  };
}
