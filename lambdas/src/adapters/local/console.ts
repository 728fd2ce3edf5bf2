/** Logger and Metrics for the local stack and tests: one line per entry on stderr, metrics kept in memory. */
import type { Logger, MetricUnit, Metrics } from '../../core/ports.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LogEntry {
  level: Exclude<LogLevel, 'silent'>;
  message: string;
  [key: string]: unknown;
}

/** JSON lines like Powertools, so `jq` works the same on local and Lambda logs. `sink` receives every entry (tests). */
export function createConsoleLogger(options: { service: string; level?: LogLevel; sink?: (e: LogEntry) => void }): Logger {
  const persistent: Record<string, unknown> = {};
  const min = ORDER[options.level ?? 'info'];
  const write = (level: LogEntry['level'], message: string, extra?: Record<string, unknown> | Error) => {
    const data = extra instanceof Error ? { error: { name: extra.name, message: extra.message, stack: extra.stack } } : extra;
    const entry: LogEntry = { level, message, service: options.service, timestamp: new Date().toISOString(), ...persistent, ...data };
    options.sink?.(entry);
    if (ORDER[level] >= min) process.stderr.write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, e) => write('debug', m, e),
    info: (m, e) => write('info', m, e),
    warn: (m, e) => write('warn', m, e),
    error: (m, e) => write('error', m, e),
    appendKeys: (k) => Object.assign(persistent, k),
  };
}

export interface RecordedMetric {
  name: string;
  unit: MetricUnit;
  value: number;
}

/** Keeps the last `limit` published metrics (tests read `published`); logs nothing. */
export class MemoryMetrics implements Metrics {
  readonly published: RecordedMetric[] = [];
  private pending: RecordedMetric[] = [];

  constructor(private readonly limit = 10_000) {}

  addMetric(name: string, unit: MetricUnit, value: number): void {
    this.pending.push({ name, unit, value });
  }

  publishStoredMetrics(): void {
    this.published.push(...this.pending);
    this.pending = [];
    if (this.published.length > this.limit) this.published.splice(0, this.published.length - this.limit);
  }

  total(name: string): number {
    return this.published.filter((m) => m.name === name).reduce((a, m) => a + m.value, 0);
  }
}
