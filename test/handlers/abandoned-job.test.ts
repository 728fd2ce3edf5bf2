/* eslint-disable @typescript-eslint/no-explicit-any -- reads JSON answers loosely */
import assert from 'node:assert/strict';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { DEFAULT_LIMITS } from '../../contracts/index.ts';
import { createConsoleLogger, MemoryMetrics } from '../../lambdas/src/adapters/local/console.ts';
import { abandonedFailure, leaseExpiry, statusRecord } from '../../lambdas/src/core/job.ts';
import { keys } from '../../lambdas/src/core/keys.ts';
import { createApiHandler } from '../../lambdas/src/handlers/api.ts';
import { fixture } from '../fixtures/events/load.ts';
import { MemoryStore } from './memory-store.ts';

const JOB = '3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60';
const NOW = new Date('2026-11-24T12:00:00Z');

describe('a job whose last attempt died silently (function timeout / out of memory)', () => {
  describe('core: abandonedFailure', () => {
    const live = NOW.getTime() + 30_000;
    const lapsed = NOW.getTime() - 1;
    it('is abandoned only when processing, out of attempts, and nobody holds a live lease', () => {
      assert.equal(abandonedFailure({ status: 'processing', attempts: 3 }, null, NOW, 3)?.code, 'render_failed');
      assert.equal(abandonedFailure({ status: 'processing', attempts: 3 }, lapsed, NOW, 3)?.code, 'render_failed');
      assert.equal(abandonedFailure({ status: 'processing', attempts: 3 }, live, NOW, 3), null, 'a live lease: still rendering');
      assert.equal(abandonedFailure({ status: 'processing', attempts: 2 }, null, NOW, 3), null, 'a retry will come');
      assert.equal(abandonedFailure({ status: 'queued', attempts: 3 }, null, NOW, 3), null);
      assert.equal(abandonedFailure({ status: 'done', attempts: 3 }, null, NOW, 3), null);
    });
    it('reads lease expiry; an unreadable lease counts as expired', () => {
      assert.equal(leaseExpiry(JSON.stringify({ owner: 'x', expiresAt: '2026-11-24T12:00:30.000Z' })), live);
      assert.equal(leaseExpiry('{not json'), 0);
      assert.equal(leaseExpiry('{}'), 0);
    });
  });

  describe('GET /api/jobs/{id}', () => {
    async function statusWith(attempts: number, lease: string | null) {
      const store = new MemoryStore('media-input');
      const api = createApiHandler(
        {
          input: store,
          signer: { presignPost: async () => ({ url: '', fields: {} }), presignPut: async () => ({ url: '', headers: {} }) },
          clock: { now: () => NOW },
          ids: { jobId: () => JOB },
          logger: createConsoleLogger({ service: 'test', level: 'silent' }),
          metrics: new MemoryMetrics(),
        },
        { limits: DEFAULT_LIMITS, processMaxAttempts: 3 },
      );
      await store.put(keys.status(JOB), JSON.stringify(statusRecord(JOB, 'processing', new Date(NOW.getTime() - 600_000), { progress: 0.4, attempts })));
      if (lease) await store.put(keys.lease(JOB), lease);
      const event = fixture<APIGatewayProxyEventV2>('api-get-job');
      event.rawPath = `/api/jobs/${JOB}`;
      event.pathParameters = { jobId: JOB };
      event.requestContext.http.path = event.rawPath;
      const res = (await api(event)) as APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };
      assert.equal(res.statusCode, 200, res.body);
      return JSON.parse(res.body) as Record<string, any>;
    }

    it('answers failed (render_failed) once the last attempt is gone, so the page stops polling', async () => {
      const body = await statusWith(3, null);
      assert.equal(body.status, 'failed');
      assert.equal(body.error.code, 'render_failed');
      assert.match(body.error.message, /3 attempts/);
    });
    it('answers failed when the last holder\'s lease has lapsed', async () => {
      const body = await statusWith(3, JSON.stringify({ owner: 'gone', expiresAt: new Date(NOW.getTime() - 5_000).toISOString() }));
      assert.equal(body.status, 'failed');
    });
    it('keeps processing while the last attempt renews its lease', async () => {
      const body = await statusWith(3, JSON.stringify({ owner: 'me', expiresAt: new Date(NOW.getTime() + 40_000).toISOString() }));
      assert.equal(body.status, 'processing');
      assert.equal(body.progress, 0.4);
    });
    it('keeps processing when attempts are left (Lambda retries the event)', async () => {
      const body = await statusWith(2, null);
      assert.equal(body.status, 'processing');
    });
  });
});
