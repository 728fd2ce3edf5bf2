/** Powertools for AWS Lambda: structured JSON logs and CloudWatch EMF metrics, behind the Logger and Metrics ports. */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../core/config.ts';
import type { Logger, MetricUnit as PortMetricUnit, Metrics } from '../../core/ports.ts';

/**
 * The `service` key of logs and the `service` dimension of metrics: POWERTOOLS_SERVICE_NAME when set (the
 * component sets it per stack, and the dashboard and alarms select on it), else the function's own name.
 * An explicit `serviceName` would override the environment in Powertools, so it is only the fallback.
 */
export function serviceNameFor(fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.POWERTOOLS_SERVICE_NAME || fallback;
}

/** A Powertools Logger (JSON lines, Lambda context keys) behind the Logger port. */
export function createLogger(fallbackServiceName: string): Logger & { powertools: PowertoolsLogger } {
  const p = new PowertoolsLogger({ serviceName: serviceNameFor(fallbackServiceName) });
  const extra = (e?: Record<string, unknown> | Error) => (e === undefined ? [] : [e as Record<string, unknown>]) as [];
  return {
    powertools: p,
    debug: (m, e) => p.debug(m, ...extra(e)),
    info: (m, e) => p.info(m, ...extra(e)),
    warn: (m, e) => p.warn(m, ...extra(e)),
    error: (m, e) => p.error(m, ...extra(e)),
    appendKeys: (k) => p.appendKeys(k),
  };
}

const UNITS: Record<PortMetricUnit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Seconds: MetricUnit.Seconds,
  Milliseconds: MetricUnit.Milliseconds,
  Bytes: MetricUnit.Bytes,
  Percent: MetricUnit.Percent,
  None: MetricUnit.NoUnit,
};

export function createMetrics(fallbackServiceName: string): Metrics {
  const m = new PowertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNameFor(fallbackServiceName) });
  let added = 0;
  return {
    addMetric(name, unit, value) {
      added++;
      m.addMetric(name, UNITS[unit], value);
    },
    publishStoredMetrics() {
      // Publishing nothing makes Powertools warn on every request; only flush when there is something.
      if (added === 0) return;
      added = 0;
      m.publishStoredMetrics();
    },
  };
}
