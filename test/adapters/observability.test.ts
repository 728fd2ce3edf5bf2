import assert from 'node:assert/strict';
import { createMetrics, serviceNameFor } from '../../lambdas/src/adapters/aws/observability.ts';

describe('adapters/aws: observability', () => {
  it('uses POWERTOOLS_SERVICE_NAME (set per stack by the component) over the fallback', () => {
    assert.equal(serviceNameFor('api', { POWERTOOLS_SERVICE_NAME: 'proj-dev-media' }), 'proj-dev-media');
    assert.equal(serviceNameFor('api', {}), 'api');
  });

  it('emits EMF with the stack service name as the `service` dimension', () => {
    const before = process.env.POWERTOOLS_SERVICE_NAME;
    process.env.POWERTOOLS_SERVICE_NAME = 'proj-dev-media';
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const origLog = console.log;
    console.log = (...a: unknown[]) => lines.push(a.map(String).join(' '));
    (process.stdout as unknown as { write: (s: string) => boolean }).write = (s: string) => (lines.push(String(s)), true);
    try {
      const m = createMetrics('process-media');
      m.addMetric('JobsSucceeded', 'Count', 1);
      m.publishStoredMetrics();
    } finally {
      console.log = origLog;
      (process.stdout as unknown as { write: typeof write }).write = write;
      if (before === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
      else process.env.POWERTOOLS_SERVICE_NAME = before;
    }
    const emf = lines.map((l) => l.trim()).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const doc = emf.find((d) => 'JobsSucceeded' in d);
    assert.ok(doc, `no EMF document among ${JSON.stringify(lines)}`);
    assert.equal(doc.service, 'proj-dev-media');
  });
});
