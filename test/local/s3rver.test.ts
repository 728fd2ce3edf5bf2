/**
 * What s3rver does differently from S3, and how the local adapter makes up for it
 * (see lambdas/src/adapters/local/conditional-store.ts).
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import { S3ObjectStore } from '../../lambdas/src/adapters/aws/s3.ts';
import { createS3rverClient } from '../../lambdas/src/adapters/local/s3rver-client.ts';
import { ConditionalWriteStore } from '../../lambdas/src/adapters/local/conditional-store.ts';
import { PreconditionFailedError } from '../../lambdas/src/core/ports.ts';
import { tempDir } from './support.ts';

describe('local adapter: conditional writes on s3rver', function () {
  this.timeout(30_000);
  let server: S3rver;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let raw: S3ObjectStore;
  let store: ConditionalWriteStore;
  let client: ReturnType<typeof createS3rverClient>;

  before(async () => {
    dir = await tempDir('s3rver-test-');
    server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir.path, silent: true, configureBuckets: [{ name: 'b' }] });
    const addr = (await server.run()) as AddressInfo;
    client = createS3rverClient(`http://127.0.0.1:${addr.port}`);
    raw = new S3ObjectStore(client, 'b');
    store = new ConditionalWriteStore(raw);
  });
  after(async () => {
    client.destroy();
    await server.close();
    await dir.remove();
  });

  it('the S3 adapter round-trips bodies, content types, user metadata, listings and deletes', async () => {
    assert.equal(await raw.head('jobs/x/none'), null);
    assert.equal(await raw.getBytes('jobs/x/none'), null);
    const { etag } = await raw.put('jobs/x/video.mp4', new Uint8Array([1, 2, 3]), {
      contentType: 'video/mp4',
      metadata: { 'duration-seconds': '3.5', width: '1280' },
      cacheControl: 'public, max-age=60',
    });
    const info = await raw.head('jobs/x/video.mp4');
    assert.equal(info?.etag, etag);
    assert.equal(info?.size, 3);
    assert.equal(info?.contentType, 'video/mp4');
    assert.deepEqual(info?.metadata, { 'duration-seconds': '3.5', width: '1280' });
    const stream = await raw.getStream('jobs/x/video.mp4');
    const chunks: Buffer[] = [];
    for await (const c of stream!.body) chunks.push(c as Buffer);
    assert.deepEqual([...Buffer.concat(chunks)], [1, 2, 3]);
    await raw.put('jobs/x/a.json', '{}');
    assert.deepEqual((await raw.list('jobs/x/')).map((o) => o.key).sort(), ['jobs/x/a.json', 'jobs/x/video.mp4']);
    await raw.delete('jobs/x/a.json');
    assert.equal(await raw.head('jobs/x/a.json'), null);
  });

  it('s3rver itself ignores If-None-Match and If-Match on PUT (documented difference from S3)', async () => {
    await raw.put('k1', 'one', { ifNoneMatch: '*' });
    await raw.put('k1', 'two', { ifNoneMatch: '*' }); // S3 would answer 412
    await raw.put('k1', 'three', { ifMatch: '"not-the-etag"' }); // S3 would answer 412
    assert.equal(Buffer.from((await raw.getBytes('k1'))!.body).toString(), 'three');
  });

  it('the wrapper enforces both, like S3', async () => {
    await store.put('k2', 'one', { ifNoneMatch: '*' });
    await assert.rejects(store.put('k2', 'two', { ifNoneMatch: '*' }), PreconditionFailedError);
    const { etag } = await store.put('k2', 'three');
    await assert.rejects(store.put('k2', 'four', { ifMatch: '"0000"' }), PreconditionFailedError);
    await store.put('k2', 'five', { ifMatch: etag });
    await assert.rejects(store.put('missing', 'x', { ifMatch: etag }), PreconditionFailedError);
    assert.equal(Buffer.from((await store.getBytes('k2'))!.body).toString(), 'five');
  });

  it('exactly one of 10 concurrent create-if-absent writes wins', async () => {
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.put('lease', `owner-${i}`, { ifNoneMatch: '*' })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    assert.ok(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof PreconditionFailedError));
  });

  it('reads never see a half-written object while it is rewritten', async () => {
    const big = (n: number) => JSON.stringify({ n, pad: 'x'.repeat(200_000) });
    await store.put('status', big(0));
    const writes = Array.from({ length: 20 }, (_, i) => store.put('status', big(i + 1)));
    const reads = Array.from({ length: 40 }, () => store.getBytes('status').then((r) => JSON.parse(Buffer.from(r!.body).toString()) as { n: number }));
    await Promise.all(writes);
    for (const r of await Promise.all(reads)) assert.ok(r.n >= 0);
  });
});
