/**
 * The "Fan-out" section of docs/benchmarks.md: written by `npm run bench:fanout` between its markers and
 * kept as it is when `npm run bench` regenerates the rest of the file (bench/report.ts).
 */
export const FANOUT_START = '<!-- fanout:start -->';
export const FANOUT_END = '<!-- fanout:end -->';
const HEADING = '## Fan-out (long jobs)';
const BEFORE = '## From your account';

/** The whole block (markers included) of an existing doc, or undefined. */
export function fanOutBlock(doc: string | undefined): string | undefined {
  if (!doc) return undefined;
  const a = doc.indexOf(FANOUT_START);
  const b = doc.indexOf(FANOUT_END);
  return a >= 0 && b > a ? doc.slice(a, b + FANOUT_END.length) : undefined;
}

/** `doc` with its fan-out block replaced by `body`, or a new section inserted before "From your account" (else appended). */
export function withFanOutSection(doc: string, body: string): string {
  const block = `${FANOUT_START}\n${body.trim()}\n${FANOUT_END}`;
  const a = doc.indexOf(FANOUT_START);
  const b = doc.indexOf(FANOUT_END);
  if (a >= 0 && b > a) return doc.slice(0, a) + block + doc.slice(b + FANOUT_END.length);
  const section = `${HEADING}\n\n${block}\n\n`;
  const at = doc.indexOf(BEFORE);
  if (at >= 0) return doc.slice(0, at) + section + doc.slice(at);
  return `${doc.trimEnd()}\n\n${section}`;
}

/** Carry the fan-out section of `previous` over into a freshly generated `doc` (no-op when there is none). */
export function keepFanOutSection(previous: string | undefined, doc: string): string {
  const old = fanOutBlock(previous);
  if (!old) return doc;
  return withFanOutSection(doc, old.slice(FANOUT_START.length, old.length - FANOUT_END.length));
}
