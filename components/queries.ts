import * as aws from '@pulumi/aws';
import { childOpts, type Ctx } from './context.ts';
import type { PipelineFunction } from './functions.ts';

/**
 * The log line the queries read: process-media logs one per job when it ends (Powertools Logger, JSON):
 * `{"message":"job finished","jobId","status":"done"|"failed","code"?,"images","videoSeconds","renderSeconds","bytes"}`.
 * Documented in docs/cloudwatch-setup.md; the handler owns the line, these queries only read it.
 */
export const JOB_SUMMARY = {
  message: 'job finished',
  fields: ['jobId', 'status', 'code', 'images', 'videoSeconds', 'renderSeconds', 'bytes'],
} as const;

const summary = `filter message = "${JOB_SUMMARY.message}"`;

/** Logs Insights query strings, by part name. */
export const QUERIES = {
  'slowest-jobs': [
    'fields @timestamp, jobId, images, videoSeconds, renderSeconds, bytes',
    `${summary} and status = "done"`,
    'sort renderSeconds desc',
    'limit 25',
  ].join('\n| '),
  'failures-by-code': [`${summary} and status = "failed"`, 'stats count(*) as failures, latest(jobId) as lastJob by code', 'sort failures desc'].join('\n| '),
  'duration-vs-images': [
    `${summary} and status = "done"`,
    'stats count(*) as jobs, avg(renderSeconds) as avgRenderSeconds, max(renderSeconds) as maxRenderSeconds, avg(videoSeconds / renderSeconds) as avgSpeed by bin(images, 10) as imageBucket',
    'sort imageBucket asc',
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
