import assert from 'node:assert/strict';
import { FANOUT_END, FANOUT_START, keepFanOutSection, withFanOutSection } from '../../bench/fanout-section.ts';

describe('fan-out: the benchmarks doc section', () => {
  const generated = '# Benchmarks\n\nTables.\n\n## From your account\n\n<!-- from-your-account:start -->\nx\n<!-- from-your-account:end -->\n';

  it('goes before "From your account" the first time, and replaces itself afterwards', () => {
    const once = withFanOutSection(generated, 'figures v1');
    assert.ok(once.indexOf('## Fan-out (long jobs)') < once.indexOf('## From your account'));
    assert.ok(once.includes(`${FANOUT_START}\nfigures v1\n${FANOUT_END}`));
    const twice = withFanOutSection(once, 'figures v2');
    assert.equal(twice.split('## Fan-out').length, 2, 'one section');
    assert.ok(twice.includes('figures v2') && !twice.includes('figures v1'));
    assert.equal(withFanOutSection('# Benchmarks\n', 'f').trimEnd().endsWith(FANOUT_END), true, 'appended when there is no account section');
  });

  it('survives `npm run bench` regenerating the rest of the file', () => {
    const previous = withFanOutSection(generated, 'measured figures');
    const regenerated = generated.replace('Tables.', 'New tables.');
    const kept = keepFanOutSection(previous, regenerated);
    assert.ok(kept.includes('New tables.') && kept.includes('measured figures'));
    assert.equal(keepFanOutSection(undefined, regenerated), regenerated);
    assert.equal(keepFanOutSection(generated, regenerated), regenerated);
  });
});
