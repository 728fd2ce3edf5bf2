import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { childOpts, type Ctx } from './context.ts';
import type { SecureBucket } from './buckets.ts';
import type { HttpApi } from './api.ts';

/** AWS managed CloudFront policies (fixed, documented ids). */
export const MANAGED = {
  cachingOptimized: '658327ea-f89d-4fab-a63d-7e88639e58f6',
  cachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  /** Forwards headers, cookies and query strings but not Host (API Gateway needs its own Host). */
  allViewerExceptHostHeader: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
} as const;

export const ORIGIN = { site: 'site', videos: 'videos', api: 'api' } as const;

/**
 * The page's Content-Security-Policy: scripts and styles only from itself (no inline anything: Svelte
 * sets dynamic styles through the CSSOM, which CSP allows), thumbnails from `blob:`, the inline `data:` favicon, video and poster
 * from the same origin, requests to the same-origin API and to `uploadOrigins` (the input bucket's S3
 * endpoint); no plugins, no framing. test/infra/csp-browser.test.ts runs the real page under it.
 */
export function contentSecurityPolicy(uploadOrigins: string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self'",
    `connect-src 'self' ${uploadOrigins.join(' ')}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The CSP for a deployed stack: uploads go to the input bucket's regional or global virtual-hosted endpoint. */
export function defaultContentSecurityPolicy(input: aws.s3.Bucket): pulumi.Output<string> {
  return pulumi
    .all([input.bucketRegionalDomainName, input.bucketDomainName])
    .apply(([regional, global]) => contentSecurityPolicy([`https://${regional}`, `https://${global}`]));
}

export interface Cdn {
  distribution: aws.cloudfront.Distribution;
  oac: aws.cloudfront.OriginAccessControl;
  headers: aws.cloudfront.ResponseHeadersPolicy;
}

/** Security headers on every response: CSP, HSTS, nosniff, no framing, referrer policy. */
export function createSecurityHeaders(ctx: Ctx, input: SecureBucket): aws.cloudfront.ResponseHeadersPolicy {
  const csp = ctx.args.contentSecurityPolicy ?? defaultContentSecurityPolicy(input.bucket);
  return new aws.cloudfront.ResponseHeadersPolicy(
    `${ctx.name}-security-headers`,
    {
      comment: 'media-pipeline security headers',
      securityHeadersConfig: {
        contentSecurityPolicy: { contentSecurityPolicy: csp, override: true },
        strictTransportSecurity: { accessControlMaxAgeSec: 63_072_000, includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: 'DENY', override: true },
        referrerPolicy: { referrerPolicy: 'strict-origin-when-cross-origin', override: true },
      },
    },
    childOpts(ctx),
  );
}

/**
 * One distribution, so the page, its API and its videos share an origin: `/` the site (or the output
 * bucket when no site is deployed), `/videos/*` the output bucket through OAC (Range requests pass
 * through to S3), `/api/*` the HTTP API with caching disabled and every method. HTTPS only, compressed.
 * No custom error pages: they would also rewrite the API's JSON errors.
 */
export function createDistribution(ctx: Ctx, output: SecureBucket, site: SecureBucket | undefined, api: HttpApi, headers: aws.cloudfront.ResponseHeadersPolicy): Cdn {
  const { args } = ctx;
  const oac = new aws.cloudfront.OriginAccessControl(
    `${ctx.name}-oac`,
    {
      description: 'media-pipeline: CloudFront reads the private buckets',
      originAccessControlOriginType: 's3',
      signingBehavior: 'always',
      signingProtocol: 'sigv4',
    },
    childOpts(ctx),
  );
  const s3Origin = (originId: string, b: SecureBucket) => ({
    originId,
    domainName: b.bucket.bucketRegionalDomainName,
    originAccessControlId: oac.id,
  });
  const common = {
    viewerProtocolPolicy: 'redirect-to-https',
    compress: true,
    responseHeadersPolicyId: headers.id,
  };
  const readOnly = { allowedMethods: ['GET', 'HEAD'], cachedMethods: ['GET', 'HEAD'], cachePolicyId: MANAGED.cachingOptimized };
  const origins = [
    ...(site ? [s3Origin(ORIGIN.site, site)] : []),
    s3Origin(ORIGIN.videos, output),
    {
      originId: ORIGIN.api,
      domainName: api.endpoint.apply((e) => e.replace(/^https:\/\//, '').replace(/\/$/, '')),
      customOriginConfig: { httpPort: 80, httpsPort: 443, originProtocolPolicy: 'https-only', originSslProtocols: ['TLSv1.2'] },
    },
  ];
  const distribution = new aws.cloudfront.Distribution(
    `${ctx.name}-cdn`,
    {
      enabled: true,
      comment: `media-pipeline ${ctx.serviceName}`,
      httpVersion: 'http2and3',
      isIpv6Enabled: true,
      priceClass: args.priceClass,
      defaultRootObject: site ? 'index.html' : undefined,
      origins,
      defaultCacheBehavior: { targetOriginId: site ? ORIGIN.site : ORIGIN.videos, ...readOnly, ...common },
      orderedCacheBehaviors: [
        { pathPattern: '/videos/*', targetOriginId: ORIGIN.videos, ...readOnly, ...common },
        {
          pathPattern: '/api/*',
          targetOriginId: ORIGIN.api,
          allowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'POST', 'PATCH', 'DELETE'],
          cachedMethods: ['GET', 'HEAD'],
          cachePolicyId: MANAGED.cachingDisabled,
          originRequestPolicyId: MANAGED.allViewerExceptHostHeader,
          ...common,
        },
      ],
      restrictions: { geoRestriction: { restrictionType: 'none' } },
      viewerCertificate: { cloudfrontDefaultCertificate: true },
      tags: args.tags,
    },
    childOpts(ctx),
  );
  return { distribution, oac, headers };
}
