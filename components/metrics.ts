import * as awsx from '@pulumi/awsx';
import type * as aws from '@pulumi/aws';
import { METRIC, METRICS_NAMESPACE } from '../lambdas/src/core/config.ts';
import type { Ctx } from './context.ts';

const cw = awsx.classic.cloudwatch;
type Metric = awsx.classic.cloudwatch.Metric;

/** Five-minute periods everywhere: the finest that standard Lambda/SQS/API Gateway metrics keep long. */
export const PERIOD_SECONDS = 300;

/**
 * Every metric the alarms and the dashboard read, built once with awsx's metric builder so an alarm and
 * the graph showing it can never disagree about namespace, dimensions or statistic.
 */
export interface PipelineMetrics {
  processInvocations: Metric;
  processErrors: Metric;
  processThrottles: Metric;
  processDurationP95: Metric;
  processConcurrency: Metric;
  apiInvocations: Metric;
  apiErrors: Metric;
  deadLetterVisible: Metric;
  apiRequests: Metric;
  api5xx: Metric;
  api4xx: Metric;
  apiLatencyP95: Metric;
  /** The handlers' custom metrics (contracts in lambdas/src/core/config.ts). */
  custom: Record<keyof typeof METRIC, Metric>;
}

export function pipelineMetrics(
  ctx: Ctx,
  processMedia: aws.lambda.Function,
  apiFunction: aws.lambda.Function,
  deadLetterQueue: aws.sqs.Queue,
  api: aws.apigatewayv2.Api,
): PipelineMetrics {
  const lambda = (fn: aws.lambda.Function, name: string, statistic: 'Sum' | 'Maximum' | 'Average' = 'Sum') =>
    new cw.Metric({ namespace: 'AWS/Lambda', name, dimensions: { FunctionName: fn.name }, period: PERIOD_SECONDS, statistic });
  const gateway = (name: string, statistic: 'Sum' | 'Average') =>
    new cw.Metric({ namespace: 'AWS/ApiGateway', name, dimensions: { ApiId: api.id }, period: PERIOD_SECONDS, statistic });
  const custom = (name: string, statistic: 'Sum' | 'Average') =>
    new cw.Metric({
      namespace: METRICS_NAMESPACE,
      name,
      // Powertools Metrics adds `service` = POWERTOOLS_SERVICE_NAME, which the component sets per stack.
      dimensions: { service: ctx.serviceName },
      period: PERIOD_SECONDS,
      statistic,
    });
  return {
    processInvocations: lambda(processMedia, 'Invocations'),
    processErrors: lambda(processMedia, 'Errors'),
    processThrottles: lambda(processMedia, 'Throttles'),
    processDurationP95: lambda(processMedia, 'Duration').withExtendedStatistic(95),
    processConcurrency: lambda(processMedia, 'ConcurrentExecutions', 'Maximum'),
    apiInvocations: lambda(apiFunction, 'Invocations'),
    apiErrors: lambda(apiFunction, 'Errors'),
    deadLetterVisible: new cw.Metric({
      namespace: 'AWS/SQS',
      name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: deadLetterQueue.name },
      period: PERIOD_SECONDS,
      statistic: 'Maximum',
    }),
    apiRequests: gateway('Count', 'Sum'),
    api5xx: gateway('5xx', 'Sum'),
    api4xx: gateway('4xx', 'Sum'),
    apiLatencyP95: gateway('Latency', 'Average').withExtendedStatistic(95),
    custom: {
      jobsCreated: custom(METRIC.jobsCreated, 'Sum'),
      jobsStarted: custom(METRIC.jobsStarted, 'Sum'),
      jobsSucceeded: custom(METRIC.jobsSucceeded, 'Sum'),
      jobsFailed: custom(METRIC.jobsFailed, 'Sum'),
      imagesPerJob: custom(METRIC.imagesPerJob, 'Average'),
      renderSeconds: custom(METRIC.renderSeconds, 'Average'),
      videoSecondsRendered: custom(METRIC.videoSecondsRendered, 'Sum'),
      renderSpeed: custom(METRIC.renderSpeed, 'Average'),
      bytesOut: custom(METRIC.bytesOut, 'Sum'),
    },
  };
}
