import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { DURATION_ALARM_RATIO } from './args.ts';
import { childOpts, type Ctx } from './context.ts';
import type { PipelineMetrics } from './metrics.ts';

export interface Alarms {
  topicArn: pulumi.Output<string>;
  alarms: aws.cloudwatch.MetricAlarm[];
}

/**
 * The alarm topic: the one given in args, or a new one, plus the optional e-mail subscription. Not
 * encrypted with the AWS-managed SNS key: CloudWatch cannot publish to a topic under that key (it would
 * need a customer-managed key whose policy admits cloudwatch.amazonaws.com); alarm texts hold no job data.
 */
export function createAlarmTopic(ctx: Ctx): pulumi.Output<string> {
  const { args } = ctx;
  const topicArn =
    args.alarmTopicArn !== undefined
      ? pulumi.output(args.alarmTopicArn)
      : new aws.sns.Topic(`${ctx.name}-alarms`, { tags: args.tags }, childOpts(ctx)).arn;
  if (args.alarmEmail !== undefined) {
    new aws.sns.TopicSubscription(`${ctx.name}-alarm-email`, { topic: topicArn, protocol: 'email', endpoint: args.alarmEmail }, childOpts(ctx));
  }
  return topicArn;
}

/**
 * API 5xx rate: metric math (5xx / requests) over the API's `5xx` and `Count` sums, so the threshold is a
 * share of requests whatever the traffic. Plain aws.cloudwatch (awsx's createAlarm takes one metric).
 */
function createApi5xxRateAlarm(
  ctx: Ctx,
  m: PipelineMetrics,
  actions: { alarmActions: pulumi.Output<string>[]; okActions: pulumi.Output<string>[]; treatMissingData: 'notBreaching' },
): aws.cloudwatch.MetricAlarm {
  const query = (id: string, metric: PipelineMetrics['api5xx']) => ({
    id,
    returnData: false,
    metric: { namespace: metric.namespace, metricName: metric.name, dimensions: metric.dimensions!, period: metric.period, stat: 'Sum' },
  });
  return new aws.cloudwatch.MetricAlarm(
    `${ctx.name}-api-5xx`,
    {
      ...actions,
      alarmDescription: 'more than 5% of API requests answered 5xx for 10 minutes',
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 0.05,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      metricQueries: [
        query('errors', m.api5xx),
        query('requests', m.apiRequests),
        { id: 'rate', expression: 'IF(requests > 0, errors / requests, 0)', label: 'API 5xx rate', returnData: true },
      ],
      tags: ctx.args.tags,
    },
    childOpts(ctx),
  );
}

/** p95 duration threshold: a share of the timeout, in milliseconds. */
export function durationThresholdMs(timeoutSeconds: number): number {
  return Math.round(timeoutSeconds * 1000 * DURATION_ALARM_RATIO);
}

/**
 * The six alarms of docs/cloudwatch-setup.md, each notifying the topic on ALARM and on OK. Missing data
 * (no traffic) is never an alarm.
 */
export function createAlarms(ctx: Ctx, m: PipelineMetrics, topicArn: pulumi.Output<string>): Alarms {
  const { args } = ctx;
  const actions = { alarmActions: [topicArn], okActions: [topicArn], treatMissingData: 'notBreaching' as const };
  const opts = childOpts(ctx);
  const alarms = [
    m.processErrors.createAlarm(
      `${ctx.name}-process-media-errors`,
      { ...actions, threshold: 1, evaluationPeriods: 1, alarmDescription: 'process-media invocations failed (each is retried, then dead-lettered)' },
      opts,
    ),
    m.processThrottles.createAlarm(
      `${ctx.name}-process-media-throttles`,
      { ...actions, threshold: 1, evaluationPeriods: 1, alarmDescription: 'process-media was throttled (concurrency limit reached): renders are queued or delayed' },
      opts,
    ),
    m.processDurationP95.createAlarm(
      `${ctx.name}-process-media-duration`,
      {
        ...actions,
        threshold: pulumi.output(args.processTimeoutSeconds).apply(durationThresholdMs),
        evaluationPeriods: 1,
        alarmDescription: pulumi.interpolate`process-media p95 duration is above ${DURATION_ALARM_RATIO * 100}% of its ${args.processTimeoutSeconds} s timeout`,
      },
      opts,
    ),
    m.deadLetterVisible.createAlarm(
      `${ctx.name}-dead-letter-messages`,
      { ...actions, threshold: 1, evaluationPeriods: 1, alarmDescription: 'events for jobs that failed every attempt are waiting in the dead-letter queue' },
      opts,
    ),
    createApi5xxRateAlarm(ctx, m, actions),
    m.apiLatencyP95.createAlarm(
      `${ctx.name}-api-latency`,
      {
        ...actions,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: args.apiLatencyAlarmMs,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        alarmDescription: pulumi.interpolate`API p95 latency above ${args.apiLatencyAlarmMs} ms for 15 minutes`,
      },
      opts,
    ),
  ];
  return { topicArn, alarms };
}
