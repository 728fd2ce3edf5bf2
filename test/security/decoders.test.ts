/**
 * libvips loaders on user bytes (issue 6, SSRF/file read via media formats): the engine only hands
 * sharp bytes that start like JPEG, PNG or WebP, and the Lambda entry points block every other libvips
 * loader process-wide. The block is global, so it is checked in a child process that imports the real
 * process-media entry point.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import sharp from 'sharp';
import { hasAcceptedSignature } from '../../lambdas/src/engine/image.ts';
import { imageCases } from '../fixtures/make-corpus.ts';

const ROOT = new URL('../../', import.meta.url);

describe('security: image decoders', function () {
  this.timeout(60_000);

  it('only JPEG, PNG and WebP signatures reach sharp (every corpus case agrees with its expected outcome)', async () => {
    for (const c of await imageCases()) {
      const accepted = hasAcceptedSignature(c.bytes);
      if (c.expect.outcome === 'renders') assert.ok(accepted, `${c.id} must reach the decoder`);
      if (['svg-as-png', 'gif-as-jpeg', 'tiff-as-jpeg', 'avif-as-webp', 'pdf-as-jpeg', 'hls-as-jpeg', 'ffconcat-as-jpeg', 'html-as-png'].includes(c.id)) {
        assert.equal(accepted, false, `${c.id} never reaches libvips`);
      }
    }
    assert.equal(hasAcceptedSignature(Buffer.from('RIFF\0\0\0\0WAVEfmt ')), false, 'RIFF that is not WebP');
  });

  it('the process-media entry point blocks every libvips loader but JPEG, PNG and WebP', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>');
    const samples = {
      svg,
      gif: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).gif().toBuffer(),
      tiff: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).tiff().toBuffer(),
      jpeg: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).jpeg().toBuffer(),
      png: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).png().toBuffer(),
      webp: await sharp({ create: { width: 8, height: 8, channels: 3, background: '#f00' } }).webp().toBuffer(),
    };
    const code = `
      const samples = ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.toString('base64')])))};
      const sharp = (await import('sharp')).default;
      const before = {};
      for (const [k, v] of Object.entries(samples)) before[k] = await sharp(Buffer.from(v, 'base64')).metadata().then(() => 'ok', () => 'refused');
      await import(${JSON.stringify(new URL('lambdas/src/entrypoints/process-media.ts', ROOT).href)});
      const after = {};
      for (const [k, v] of Object.entries(samples)) after[k] = await sharp(Buffer.from(v, 'base64')).metadata().then(() => 'ok', () => 'refused');
      process.stdout.write(JSON.stringify({ before, after }));
      process.exit(0);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, INPUT_BUCKET: 'in', OUTPUT_BUCKET: 'out', AWS_REGION: 'eu-west-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_DEV: 'false' },
      timeout: 50_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const { before, after } = JSON.parse(r.stdout) as Record<string, Record<string, string>>;
    assert.deepEqual(before, { svg: 'ok', gif: 'ok', tiff: 'ok', jpeg: 'ok', png: 'ok', webp: 'ok' }, 'libvips can read them all by default');
    assert.deepEqual(after, { svg: 'refused', gif: 'refused', tiff: 'refused', jpeg: 'ok', png: 'ok', webp: 'ok' });
  });
});
