import * as aws from '@pulumi/aws';
import { childOpts, type Ctx } from './context.ts';
import type { PipelineFunction } from './functions.ts';

/**
 * The log lines the queries read, as process-media writes them (Powertools Logger JSON, `jobId` on every
 * line of a job; lambdas/src/handlers/process-media.ts):
 *   "rendered"    { jobId, images, renderSeconds, durationSeconds, bytes, preset, transition }
 *   "job failed"  { jobId, code, message, attempt }   (final: the job is marked failed)
 *   "attempt failed; the event will be retried" { jobId, code, attempt, maxAttempts }
 * Cold starts come from Lambda's own REPORT lines (`@initDuration`), so they need nothing from the code.
 */
export const LOG_MESSAGES = {
  rendered: 'rendered',
  failed: 'job failed',
  retried: 'attempt failed; the event will be retried',
} as const;

/** Logs Insights query strings, by part name. */
export const QUERIES = {
  'slowest-jobs': [
    `filter message = "${LOG_MESSAGES.rendered}"`,
    'fields @timestamp, jobId, images, durationSeconds as videoSeconds, renderSeconds, bytes, preset, transition',
    'sort renderSeconds desc',
    'limit 25',
  ].join('\n| '),
  'failures-by-code': [
    `filter message in ["${LOG_MESSAGES.failed}", "${LOG_MESSAGES.retried}"]`,
    // message tells a final failure (the job is failed) from an attempt that will be retried
    'stats count(*) as occurrences, latest(jobId) as lastJob by code, message',
    'sort occurrences desc',
  ].join('\n| '),
  'duration-vs-images': [
    `filter message = "${LOG_MESSAGES.rendered}"`,
    'fields floor(images / 10) * 10 as imagesFrom',
    'stats count(*) as jobs, avg(renderSeconds) as avgRenderSeconds, max(renderSeconds) as maxRenderSeconds, avg(durationSeconds / renderSeconds) as videoSecondsPerRenderSecond by imagesFrom',
    'sort imagesFrom asc',
  ].join('\n| '),
  'cold-starts': [
    'filter @type = "REPORT"',
    'stats count(*) as invocations, sum(ispresent(@initDuration)) as coldStarts, avg(@initDuration) as avgInitMs, max(@initDuration) as maxInitMs, max(@maxMemoryUsed / 1048576) as maxMemoryMb by @log, bin(1h)',
  ].join('\n| '),
} as const;

const TITLES: Record<keyof typeof QUERIES, string> = {
  'slowest-jobs': 'Slowest jobs',
  'failures-by-code': 'Failures by code',
  'duration-vs-images': 'Render time vs image count',
  'cold-starts': 'Cold starts',
};

/** Saved queries, in a console folder named after the stack. */
export function createQueries(ctx: Ctx, processMedia: PipelineFunction, apiFunction: PipelineFunction): aws.cloudwatch.QueryDefinition[] {
  return (Object.keys(QUERIES) as (keyof typeof QUERIES)[]).map(
    (key) =>
      new aws.cloudwatch.QueryDefinition(
        `${ctx.name}-query-${key}`,
        {
          name: `media-pipeline/${ctx.serviceName}/${TITLES[key]}`,
          queryString: QUERIES[key],
          logGroupNames: key === 'cold-starts' ? [processMedia.logGroup.name, apiFunction.logGroup.name] : [processMedia.logGroup.name],
        },
        childOpts(ctx),
      ),
  );
}
