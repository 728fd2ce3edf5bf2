// Node module hooks for tests: `*.svelte.ts` / `*.svelte.js` modules (runes outside components) are compiled
// by Svelte's compiler after tsx has stripped the types, so state classes can run under mocha.
import { Buffer } from 'node:buffer';
import { URL } from 'node:url';
import { compileModule } from 'svelte/compiler';

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!/\.svelte\.(ts|js)(\?.*)?$/.test(url) || url.includes('/node_modules/')) return result;
  const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source).toString('utf8');
  const { js } = compileModule(source, { filename: new URL(url).pathname, generate: 'client', dev: false });
  return { ...result, format: 'module', source: js.code, shortCircuit: true };
}
