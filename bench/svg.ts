/**
 * A small SVG line chart, written by hand (no plotting dependency): numeric x and y, optional log
 * scales, one polyline with markers per series, a legend. Output is deterministic text.
 */

export interface Series {
  name: string;
  colour: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Horizontal reference lines (e.g. a target). */
  refLines?: { y: number; label: string }[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(n: number): string {
  return Number(n.toFixed(1)).toString();
}

/** 1, 2, 5, 10, 20, 50, ... between lo and hi (log axes). */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

/** About five round steps between lo and hi (linear axes). */
function linearTicks(lo: number, hi: number): number[] {
  const span = hi - lo || 1;
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function label(v: number): string {
  if (v >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return Number(v.toPrecision(3)).toString();
}

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 760;
  const H = o.height ?? 400;
  const m = { left: 64, right: 250, top: 40, bottom: 52 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const pts = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!o.logX || p.x > 0) && (!o.logY || p.y > 0));
  let x0 = Math.min(...pts.map((p) => p.x));
  let x1 = Math.max(...pts.map((p) => p.x));
  let y0 = o.logY ? Math.min(...pts.map((p) => p.y)) : 0;
  let y1 = Math.max(...pts.map((p) => p.y), ...(o.refLines ?? []).map((r) => r.y));
  if (!pts.length) {
    x0 = 1; x1 = 10; y0 = o.logY ? 1 : 0; y1 = 10;
  }
  if (o.logY) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
  } else {
    const t = linearTicks(0, y1 * 1.05);
    y1 = t[t.length - 1]! < y1 ? y1 * 1.1 : t[t.length - 1]!;
  }
  if (x0 === x1) { x0 = o.logX ? x0 / 2 : x0 - 1; x1 = o.logX ? x1 * 2 : x1 + 1; }
  const fx = (x: number): number =>
    m.left + (o.logX ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) : (x - x0) / (x1 - x0)) * pw;
  const fy = (y: number): number =>
    m.top + ph - (o.logY ? (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (y - y0) / (y1 - y0)) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${esc(o.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  // grid and ticks
  const xs = o.logX ? logTicks(x0, x1) : linearTicks(x0, x1);
  const xTicks = [...new Set([...xs, ...new Set(o.series.flatMap((s) => s.points.map((p) => p.x)))])].filter((x) => x >= x0 && x <= x1).sort((a, b) => a - b);
  for (const x of xTicks) {
    out.push(`<line x1="${num(fx(x))}" y1="${m.top}" x2="${num(fx(x))}" y2="${m.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${num(fx(x))}" y="${m.top + ph + 16}" text-anchor="middle">${label(x)}</text>`);
  }
  const yTicks = o.logY ? logTicks(y0, y1) : linearTicks(y0, y1);
  for (const y of yTicks) {
    out.push(`<line x1="${m.left}" y1="${num(fy(y))}" x2="${m.left + pw}" y2="${num(fy(y))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${num(fy(y) + 4)}" text-anchor="end">${label(y)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}${o.logX ? ' (log scale)' : ''}</text>`);
  out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}${o.logY ? ' (log scale)' : ''}</text>`);
  for (const r of o.refLines ?? []) {
    if (!(r.y >= y0 && r.y <= y1)) continue;
    out.push(`<line x1="${m.left}" y1="${num(fy(r.y))}" x2="${m.left + pw}" y2="${num(fy(r.y))}" stroke="#b00" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${m.left + pw - 4}" y="${num(fy(r.y) - 4)}" text-anchor="end" fill="#b00">${esc(r.label)}</text>`);
  }
  // series
  o.series.forEach((s, i) => {
    const p = s.points.filter((q) => Number.isFinite(q.x) && Number.isFinite(q.y) && (!o.logX || q.x > 0) && (!o.logY || q.y > 0)).sort((a, b) => a.x - b.x);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    if (p.length > 1) {
      out.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="2"${dash} points="${p.map((q) => `${num(fx(q.x))},${num(fy(q.y))}`).join(' ')}"/>`);
    }
    for (const q of p) out.push(`<circle cx="${num(fx(q.x))}" cy="${num(fy(q.y))}" r="3.5" fill="${s.colour}"><title>${esc(s.name)}: ${label(q.x)} → ${label(q.y)}</title></circle>`);
    const ly = m.top + 8 + i * 20;
    out.push(`<line x1="${m.left + pw + 14}" y1="${ly}" x2="${m.left + pw + 40}" y2="${ly}" stroke="${s.colour}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${m.left + pw + 46}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
