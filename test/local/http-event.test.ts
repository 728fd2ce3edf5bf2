import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { readBody, toApiGatewayEvent, writeApiGatewayResult, BodyTooLargeError } from '../../local/http-event.ts';

/** Capture what the local stack would hand the API handler for a real HTTP request. */
async function capture(send: (url: string) => Promise<Response>, limit?: number): Promise<{ event?: APIGatewayProxyEventV2; error?: Error; res: Response }> {
  let event: APIGatewayProxyEventV2 | undefined;
  let error: Error | undefined;
  const server = createServer((req: IncomingMessage, res) => {
    readBody(req, limit).then(
      (body) => {
        event = toApiGatewayEvent(req, body, new Date('2026-11-24T12:00:00Z'));
        writeApiGatewayResult(res, { statusCode: 201, headers: { 'x-a': 'b' }, cookies: ['c=1'], body: Buffer.from('hi').toString('base64'), isBase64Encoded: true });
      },
      (err: Error) => {
        error = err;
        res.writeHead(413).end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const res = await send(url);
    return { event, error, res };
  } finally {
    server.close();
  }
}

describe('local: HTTP request → API Gateway payload v2 event', () => {
  it('builds the v2 shape: method, raw path and query, lower-case headers, cookies, JSON body as text', async () => {
    const { event, res } = await capture((u) =>
      fetch(`${u}/api/jobs?a=1&a=2&b=x%20y`, { method: 'POST', headers: { 'Content-Type': 'application/json', Cookie: 'k=v; z=1', 'X-Mixed': 'Q' }, body: '{"images":[]}' }),
    );
    assert.ok(event);
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, '$default');
    assert.equal(event.rawPath, '/api/jobs');
    assert.equal(event.rawQueryString, 'a=1&a=2&b=x%20y');
    assert.deepEqual(event.queryStringParameters, { a: '1,2', b: 'x y' });
    assert.equal(event.headers['content-type'], 'application/json');
    assert.equal(event.headers['x-mixed'], 'Q');
    assert.equal(event.headers.cookie, undefined);
    assert.deepEqual(event.cookies, ['k=v', 'z=1']);
    assert.equal(event.requestContext.http.method, 'POST');
    assert.equal(event.requestContext.http.path, '/api/jobs');
    assert.equal(event.requestContext.timeEpoch, Date.parse('2026-11-24T12:00:00Z'));
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, '{"images":[]}');
    // and the structured result goes back as HTTP
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('x-a'), 'b');
    assert.equal(res.headers.get('set-cookie'), 'c=1');
    assert.equal(await res.text(), 'hi');
  });

  it('base64-encodes binary bodies and omits an empty one', async () => {
    const bin = Buffer.from([0, 1, 2, 255]);
    const a = await capture((u) => fetch(`${u}/api/x`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bin }));
    assert.equal(a.event?.isBase64Encoded, true);
    assert.ok(Buffer.from(a.event!.body!, 'base64').equals(bin));
    const b = await capture((u) => fetch(`${u}/api/jobs/x`));
    assert.equal(b.event?.body, undefined);
    assert.equal(b.event?.requestContext.http.method, 'GET');
  });

  it('reads an oversized body to its end, then refuses it (the connection stays usable)', async () => {
    const r = await capture((u) => fetch(`${u}/api/jobs`, { method: 'POST', body: Buffer.alloc(5000) }), 1000);
    assert.ok(r.error instanceof BodyTooLargeError);
    assert.equal(r.res.status, 413);
  });
});
