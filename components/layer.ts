import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { childOpts, type Ctx } from './context.ts';
import type { Architecture, ResolvedArgs } from './args.ts';

/** Where `npm run build:layer -- --arch <arch>` writes the layer zip. */
export function layerZipPath(artifactsDir: string, architecture: Architecture): string {
  return path.join(artifactsDir, 'layers', `ffmpeg-${architecture}.zip`);
}

/** Where `npm run build:lambdas -- --arch <arch>` writes a function's bundle directory. */
export function functionDir(artifactsDir: string, fn: 'api' | 'process-media' | 'render-segment'): string {
  return path.join(artifactsDir, 'lambdas', fn);
}

/** Fail with a message that says which command to run, instead of a deploy-time archive error. */
export function requireArtifact(file: string, command: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(`MediaPipeline: build artifact ${file} is missing: run \`${command}\` first (see docs/deploy.md).`);
  }
  return file;
}

/**
 * The bundles carry sharp's native binaries for one architecture (dist/lambdas/build-info.json): refuse
 * to deploy them on the other one, where process-media would fail on its first image.
 */
export function requireBundleArchitecture(artifactsDir: string, architecture: Architecture): void {
  const file = path.join(artifactsDir, 'lambdas', 'build-info.json');
  if (!fs.existsSync(file)) return;
  const built = (JSON.parse(fs.readFileSync(file, 'utf8')) as { architecture?: string }).architecture;
  if (built !== architecture) {
    throw new Error(`MediaPipeline: the Lambda bundles in ${path.dirname(file)} were built for ${built}, not ${architecture}: run \`npm run build:lambdas -- --arch ${architecture}\`.`);
  }
}

/**
 * Every artifact the args need, checked before any resource is registered (a failed check must not leave
 * a half-created stack behind).
 */
export function requireArtifacts(args: ResolvedArgs): void {
  const build = `npm run build:lambdas -- --arch ${args.architecture}`;
  requireArtifact(functionDir(args.artifactsDir, 'api'), build);
  requireArtifact(functionDir(args.artifactsDir, 'process-media'), build);
  if (args.fanOut.segmentWorkers > 1) requireArtifact(functionDir(args.artifactsDir, 'render-segment'), build);
  requireBundleArchitecture(args.artifactsDir, args.architecture);
  if (args.ffmpegLayerArn === undefined) {
    requireArtifact(layerZipPath(args.artifactsDir, args.architecture), `npm run build:layer -- --arch ${args.architecture}`);
  }
}

/**
 * The FFmpeg layer's ARN: the one given in args, or a layer published from the zip built by
 * `lambdas/layers/ffmpeg/build.ts` (`bin/ffmpeg` → `/opt/bin/ffmpeg` in the function).
 */
export function createFfmpegLayer(ctx: Ctx): { arn: pulumi.Output<string>; layer?: aws.lambda.LayerVersion } {
  const { args } = ctx;
  if (args.ffmpegLayerArn !== undefined) return { arn: pulumi.output(args.ffmpegLayerArn) };
  const zip = requireArtifact(layerZipPath(args.artifactsDir, args.architecture), `npm run build:layer -- --arch ${args.architecture}`);
  const layer = new aws.lambda.LayerVersion(
    `${ctx.name}-ffmpeg`,
    {
      layerName: `${ctx.serviceName}-ffmpeg-${args.architecture.replace('_', '-')}`,
      description: 'Static FFmpeg at /opt/bin/ffmpeg (GPL; see lambdas/layers/ffmpeg/README.md)',
      code: new pulumi.asset.FileArchive(zip),
      compatibleArchitectures: [args.architecture],
      compatibleRuntimes: ['nodejs22.x'],
      licenseInfo: 'GPL-3.0-or-later',
    },
    childOpts(ctx),
  );
  return { arn: layer.arn, layer };
}
