/** The grants the AWS adapter signs: what S3 itself will enforce on the upload (no network needed). */
import assert from 'node:assert/strict';
import { createS3Client, S3UploadSigner } from '../../lambdas/src/adapters/aws/s3.ts';

const client = createS3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
const signer = new S3UploadSigner(client, 'media-input-123');
const KEY = 'jobs/3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60/images/007';

describe('adapters/aws: upload grants', () => {
  after(() => client.destroy());

  it('POST policy pins the exact key, 1..maxBytes and the exact Content-Type, and expires after the TTL', async () => {
    const before = Date.now();
    const g = await signer.presignPost({ key: KEY, contentType: 'image/webp', maxBytes: 25 * 1024 * 1024, expiresSeconds: 900 });
    assert.equal(g.url, 'https://media-input-123.s3.eu-west-1.amazonaws.com/');
    assert.equal(g.fields.key, KEY);
    assert.equal(g.fields['Content-Type'], 'image/webp');
    assert.ok(g.fields['X-Amz-Signature']);
    const policy = JSON.parse(Buffer.from(g.fields.Policy!, 'base64').toString('utf8')) as { expiration: string; conditions: unknown[] };
    assert.deepEqual(
      policy.conditions.filter((c) => Array.isArray(c) || 'key' in (c as object) || 'Content-Type' in (c as object) || 'bucket' in (c as object)),
      [['content-length-range', 1, 25 * 1024 * 1024], { 'Content-Type': 'image/webp' }, { bucket: 'media-input-123' }, { key: KEY }],
    );
    const exp = Date.parse(policy.expiration);
    assert.ok(exp >= before + 899_000 && exp <= Date.now() + 901_000, policy.expiration);
  });

  it('PUT URL signs Content-Type and Content-Length (and expires after the TTL)', async () => {
    const g = await signer.presignPut({ key: KEY, contentType: 'image/jpeg', contentLength: 12345, expiresSeconds: 600 });
    const u = new URL(g.url);
    assert.equal(u.pathname, `/${KEY}`);
    assert.equal(u.searchParams.get('X-Amz-Expires'), '600');
    assert.deepEqual(u.searchParams.get('X-Amz-SignedHeaders')?.split(';'), ['content-length', 'content-type', 'host']);
    assert.equal(u.searchParams.get('x-amz-checksum-crc32'), null, 'no checksum the client would have to send');
    assert.deepEqual(g.headers, { 'Content-Type': 'image/jpeg', 'Content-Length': '12345' });
  });
});
