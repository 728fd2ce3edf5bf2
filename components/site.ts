import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { SiteConfig } from '../contracts/index.ts';
import { childOpts, type Ctx } from './context.ts';
import type { SecureBucket } from './buckets.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Vite puts content-hashed files under `assets/`: cache them for a year; everything else revalidates. */
export function cacheControlOf(key: string): string {
  return key.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

/** Every file under `dir`, as `/`-separated keys relative to it, sorted (deterministic resource names). */
export function listSiteFiles(dir: string): string[] {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new Error(`MediaPipeline: site directory ${dir} has no index.html: build the UI first (npm run build:ui).`);
  }
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push(child);
    }
  };
  walk('');
  return out.sort();
}

/** `/config.json`: what one UI build needs to know about this stack. */
export function siteConfig(ctx: Ctx): pulumi.Output<SiteConfig> {
  const a = ctx.args;
  return pulumi.all([a.maxImages, a.maxImageBytes, a.maxVideoSeconds]).apply(([maxImages, maxImageBytes, maxVideoSeconds]) => ({
    apiBaseUrl: '/api',
    cdnBaseUrl: '',
    limits: { maxImages, maxImageBytes, maxVideoSeconds },
  }));
}

/**
 * Uploads the built UI (content types, cache headers) and writes `config.json` (a `config.json` in the
 * directory, e.g. a development one, is replaced by the stack's).
 */
export function uploadSite(ctx: Ctx, site: SecureBucket, dir: string): aws.s3.BucketObjectv2[] {
  const files = listSiteFiles(dir).filter((key) => key !== 'config.json');
  const objects = files.map(
    (key) =>
      new aws.s3.BucketObjectv2(
        `${ctx.name}-site-${key}`,
        {
          bucket: site.bucket.id,
          key,
          source: new pulumi.asset.FileAsset(path.join(dir, key)),
          contentType: contentTypeOf(key),
          cacheControl: cacheControlOf(key),
        },
        childOpts(ctx),
      ),
  );
  objects.push(
    new aws.s3.BucketObjectv2(
      `${ctx.name}-site-config.json`,
      {
        bucket: site.bucket.id,
        key: 'config.json',
        content: pulumi.jsonStringify(siteConfig(ctx)),
        contentType: 'application/json',
        cacheControl: 'no-cache',
      },
      childOpts(ctx),
    ),
  );
  return objects;
}
