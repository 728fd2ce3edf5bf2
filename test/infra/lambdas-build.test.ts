import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FUNCTIONS, buildLambdas, type BuildInfo } from '../../lambdas/build.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const haveProcessMedia = fs.existsSync(path.join(ROOT, FUNCTIONS['process-media']));

/** Import a bundle in a fresh Node (as Lambda does: only the bundle directory, env from the component) and run a script against its handler. */
function runBundle(file: string, script: string, env: Record<string, string>): string {
  const code = `const { handler } = await import(${JSON.stringify(file)});\n${script}`;
  return execFileSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', code], {
    cwd: path.dirname(file),
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', ...env },
  });
}

describe('infra: Lambda bundles (lambdas/build.ts)', function () {
  this.timeout(180_000);
  let out: string;
  let info: BuildInfo;

  before(async () => {
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-lambdas-test-'));
    info = await buildLambdas({
      architecture: 'x86_64',
      outDir: out,
      functions: haveProcessMedia ? ['api', 'process-media'] : ['api'],
      log: () => {},
    });
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('api: one ESM file with the createRequire banner, no node_modules, handler answers a contract error', () => {
    const dir = path.join(out, 'lambdas', 'api');
    assert.deepEqual(fs.readdirSync(dir), ['index.mjs']);
    const bundle = path.join(dir, 'index.mjs');
    assert.match(fs.readFileSync(bundle, 'utf8').slice(0, 200), /^import \{ createRequire as __mpCreateRequire \} from 'node:module';\nconst require = /);
    const res = runBundle(
      bundle,
      `const r = await handler({ version: '2.0', routeKey: 'GET /api/jobs/{jobId}', rawPath: '/api/jobs/not-a-job', rawQueryString: '', headers: {},
        requestContext: { http: { method: 'GET', path: '/api/jobs/not-a-job' }, requestId: 'r1' }, pathParameters: { jobId: 'not-a-job' }, isBase64Encoded: false },
        { functionName: 'api', awsRequestId: 'r1', getRemainingTimeInMillis: () => 10000 });
      console.log(JSON.stringify(r));`,
      { INPUT_BUCKET: 'in', OUTPUT_BUCKET: 'out' },
    );
    const r = JSON.parse(res.trim().split('\n').pop()!);
    assert.equal(r.statusCode, 404);
    assert.equal(JSON.parse(r.body).error.code, 'invalid_job_id');
  });

  it('build-info.json records the architecture and sizes', () => {
    const written = JSON.parse(fs.readFileSync(path.join(out, 'lambdas', 'build-info.json'), 'utf8'));
    assert.deepEqual(written, info);
    assert.equal(written.architecture, 'x86_64');
    assert.ok((info.functions.api?.bundleBytes ?? 0) > 10_000);
  });

  it('process-media: sharp and the linux-x64 natives ship beside the bundle and load from there', function () {
    if (!haveProcessMedia) this.skip(); // entry point not written yet
    const dir = path.join(out, 'lambdas', 'process-media');
    const nm = path.join(dir, 'node_modules');
    for (const p of ['sharp/package.json', '@img/sharp-linux-x64/package.json', '@img/sharp-libvips-linux-x64/package.json', 'detect-libc/package.json']) {
      assert.ok(fs.existsSync(path.join(nm, p)), `${p} is packaged`);
    }
    assert.equal(fs.existsSync(path.join(nm, '@img/sharp-linux-arm64')), false, 'no other architecture');
    assert.equal(fs.existsSync(path.join(nm, 'sharp/src')), false, 'no C++ sources');
    assert.match(fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8'), /from ["']sharp["']|import\(["']sharp["']\)/, 'sharp stays external');
    assert.equal(info.sharp?.packages['@img/sharp-linux-x64']?.source, 'node_modules');
    const res = runBundle(
      path.join(dir, 'index.mjs'),
      `const sharp = (await import('sharp')).default;
       const png = await sharp({ create: { width: 4, height: 2, channels: 3, background: '#ff0000' } }).png().toBuffer();
       console.log(JSON.stringify({ handler: typeof handler, meta: await sharp(png).metadata().then((m) => [m.width, m.height]) }));`,
      { INPUT_BUCKET: 'in', OUTPUT_BUCKET: 'out', FFMPEG_PATH: '/opt/bin/ffmpeg', PROCESS_MAX_ATTEMPTS: '3' },
    );
    assert.deepEqual(JSON.parse(res.trim().split('\n').pop()!), { handler: 'function', meta: [4, 2] });
  });
});
