import type * as pulumi from '@pulumi/pulumi';
import type * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import { childOpts, type Ctx } from './context.ts';
import type { PipelineMetrics } from './metrics.ts';

const cw = awsx.classic.cloudwatch;

/**
 * One dashboard: the alarms' metrics and the handlers' custom metrics. awsx lays the widgets out and
 * writes the body JSON from the same Metric objects the alarms use.
 */
export function createDashboard(ctx: Ctx, m: PipelineMetrics, alarms: aws.cloudwatch.MetricAlarm[]): aws.cloudwatch.Dashboard {
  const graph = (title: string, metrics: awsx.classic.cloudwatch.Metric[]) => new cw.LineGraphMetricWidget({ title, metrics, width: 8 });
  const c = m.custom;
  return new cw.Dashboard(
    `${ctx.name}-dashboard`,
    {
      name: ctx.serviceName,
      region: ctx.region as pulumi.Output<aws.Region>,
      widgets: [
        new cw.RowWidget(new cw.AlarmWidget({ title: 'Alarms', alarms: alarms.map((a) => a.arn), width: 24 })),
        new cw.RowWidget(
          graph('Jobs', [c.jobsCreated, c.jobsStarted, c.jobsSucceeded, c.jobsFailed]),
          graph('process-media invocations, errors, throttles', [m.processInvocations, m.processErrors, m.processThrottles]),
          graph('process-media duration p95 (ms)', [m.processDurationP95]),
        ),
        new cw.RowWidget(
          graph('Images per job (avg)', [c.imagesPerJob]),
          graph('Render seconds (avg)', [c.renderSeconds]),
          graph('Video seconds rendered per render second (avg)', [c.renderSpeed]),
        ),
        new cw.RowWidget(
          graph('Video seconds rendered and bytes out', [c.videoSecondsRendered, c.bytesOut.withYAxis('right')]),
          graph('Dead-letter queue: visible messages', [m.deadLetterVisible]),
          graph('process-media concurrency (max)', [m.processConcurrency]),
        ),
        new cw.RowWidget(
          graph('API requests, 4xx, function errors', [m.apiRequests, m.api4xx, m.apiErrors]),
          graph('API 5xx', [m.api5xx]),
          graph('API latency p95 (ms)', [m.apiLatencyP95]),
        ),
      ],
    },
    childOpts(ctx),
  );
}
