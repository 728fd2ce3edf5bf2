import assert from 'node:assert/strict';
import { DEFAULT_OPTIONS, parseOptions, videoDurationSeconds, formatDuration } from '../contracts/index.ts';

describe('contracts: options', () => {
  it('fills defaults for an empty object', () => {
    const r = parseOptions({}, 3);
    assert.equal(r.ok, true);
    if (r.ok) assert.deepEqual(r.options, { ...DEFAULT_OPTIONS });
  });
  it('rejects unknown fields', () => {
    const r = parseOptions({ colour: 'red' }, 1);
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.issues[0]?.field, 'colour');
  });
  it('sums durations for the video length', () => {
    assert.equal(videoDurationSeconds({ secondsPerImage: 3 }, 4), 12);
    assert.equal(videoDurationSeconds({ secondsPerImage: 3, durations: [1, 2.5] }, 2), 3.5);
    assert.equal(formatDuration(65), '1:05');
  });
});
