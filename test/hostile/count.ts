/** Counts the cases a suite ran, by kind, for the closing line `npm test` prints (issue 6: "print how many cases ran"). */
// On globalThis: mocha may load this module twice (required by CommonJS-compiled specs, imported by ESM
// ones with top-level await), and both copies must add to the same counts.
const g = globalThis as { __mediaPipelineCaseCounts?: Map<string, Map<string, number>> };
const counts = (g.__mediaPipelineCaseCounts ??= new Map<string, Map<string, number>>());

export function countCases(kind: string, n: number, suite = 'hostile corpus'): void {
  const m = counts.get(suite) ?? new Map<string, number>();
  m.set(kind, (m.get(kind) ?? 0) + n);
  counts.set(suite, m);
}

/** "hostile corpus: 120 cases (image 37, request 80, ...)". */
export function caseLine(suite = 'hostile corpus'): string {
  const m = counts.get(suite) ?? new Map<string, number>();
  const total = [...m.values()].reduce((a, b) => a + b, 0);
  return `${suite}: ${total} cases (${[...m].map(([k, v]) => `${k} ${v}`).join(', ')})`;
}
