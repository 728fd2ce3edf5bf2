/**
 * XSS through file names (issue 6): names and error messages reach the page only as text. Svelte
 * escapes every `{expression}`; the ways around that are `{@html}` and the DOM's HTML sinks, and the
 * page uses none of them.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const UI = new URL('../../ui/src/', import.meta.url).pathname;
const SINKS = [/\{@html\b/, /\.innerHTML\b/, /\.outerHTML\b/, /insertAdjacentHTML/, /document\.write/, /srcdoc/, /new Function\(/, /\beval\(/];

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (/\.(svelte|ts|js)$/.test(e.name)) out.push(p);
  }
  return out;
}

describe('security: the page renders names as text', () => {
  it('no {@html}, no HTML sinks, no eval in ui/src', async () => {
    const list = await files(UI);
    assert.ok(list.length > 5, `found ${list.length} UI sources`);
    const hits: string[] = [];
    for (const f of list) {
      const text = await readFile(f, 'utf8');
      text.split('\n').forEach((line, i) => {
        for (const s of SINKS) if (s.test(line)) hits.push(`${f.slice(UI.length)}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(hits, []);
  });
});
