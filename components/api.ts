import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { childOpts, type Ctx } from './context.ts';
import type { PipelineFunction } from './functions.ts';

/** The routes of the HTTP contract (contracts/job.ts); anything else is a 404 from API Gateway. */
export const API_ROUTES = {
  'create-job': 'POST /api/jobs',
  'start-job': 'POST /api/jobs/{jobId}/start',
  'get-job': 'GET /api/jobs/{jobId}',
} as const;

export interface HttpApi {
  api: aws.apigatewayv2.Api;
  stage: aws.apigatewayv2.Stage;
  /** `https://<id>.execute-api.<region>.amazonaws.com` (routes are under `/api`). */
  endpoint: pulumi.Output<string>;
}

/**
 * HTTP API → the API function (payload 2.0), the three contract routes, `$default` stage with
 * throttling from args, optional JWT authorizer on every route. No CORS: the page calls it same-origin
 * through CloudFront.
 */
export function createHttpApi(ctx: Ctx, apiFunction: PipelineFunction): HttpApi {
  const { args } = ctx;
  const api = new aws.apigatewayv2.Api(
    `${ctx.name}-http-api`,
    { protocolType: 'HTTP', description: 'media-pipeline jobs API', tags: args.tags },
    childOpts(ctx),
  );
  const integration = new aws.apigatewayv2.Integration(
    `${ctx.name}-api-integration`,
    {
      apiId: api.id,
      integrationType: 'AWS_PROXY',
      integrationUri: apiFunction.fn.invokeArn,
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: 29_000,
    },
    childOpts(ctx),
  );
  const authorizer = args.authorizer
    ? new aws.apigatewayv2.Authorizer(
        `${ctx.name}-jwt-authorizer`,
        {
          apiId: api.id,
          authorizerType: 'JWT',
          identitySources: ['$request.header.Authorization'],
          jwtConfiguration: { issuer: args.authorizer.issuer, audiences: args.authorizer.audience },
        },
        childOpts(ctx),
      )
    : undefined;
  const routes = Object.entries(API_ROUTES).map(
    ([key, routeKey]) =>
      new aws.apigatewayv2.Route(
        `${ctx.name}-route-${key}`,
        {
          apiId: api.id,
          routeKey,
          target: pulumi.interpolate`integrations/${integration.id}`,
          ...(authorizer ? { authorizationType: 'JWT', authorizerId: authorizer.id } : { authorizationType: 'NONE' }),
        },
        childOpts(ctx),
      ),
  );
  const stage = new aws.apigatewayv2.Stage(
    `${ctx.name}-api-stage`,
    {
      apiId: api.id,
      name: '$default',
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingRateLimit: args.apiThrottlingRateLimit,
        throttlingBurstLimit: args.apiThrottlingBurstLimit,
      },
      tags: args.tags,
    },
    childOpts(ctx, { dependsOn: routes }),
  );
  new aws.lambda.Permission(
    `${ctx.name}-api-invoke-permission`,
    {
      action: 'lambda:InvokeFunction',
      function: apiFunction.fn.name,
      principal: 'apigateway.amazonaws.com',
      sourceArn: pulumi.interpolate`${api.executionArn}/*/*`,
    },
    childOpts(ctx),
  );
  return { api, stage, endpoint: api.apiEndpoint };
}
