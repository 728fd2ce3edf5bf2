/**
 * Pure arithmetic for the benchmark and the CloudWatch report: medians, ratios, and what a render
 * costs on Lambda. No I/O, so it is unit-tested directly.
 */

export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

export function ratio(a: number, b: number): number {
  return b > 0 && Number.isFinite(a) ? a / b : NaN;
}

/**
 * Lambda prices, us-east-1 list prices as of 2026 (https://aws.amazon.com/lambda/pricing/).
 * Change them here if your region or the list price differs; every cost in the docs follows.
 */
export const LAMBDA_PRICE = Object.freeze({
  /** USD per GB-second, arm64 (Graviton). */
  arm64PerGbSecond: 0.0000133334,
  /** USD per GB-second, x86_64. */
  x86PerGbSecond: 0.0000166667,
  /** USD per request ($0.20 per million). */
  perRequest: 0.0000002,
});

/** Lambda allocates CPU in proportion to memory: 1769 MB is one full vCPU; 10240 MB gives 6. */
export const MB_PER_VCPU = 1769;
export const LAMBDA_MAX_MB = 10240;
export const LAMBDA_MAX_VCPU = 6;

export function vcpusFor(memoryMb: number): number {
  return Math.min(LAMBDA_MAX_VCPU, memoryMb / MB_PER_VCPU);
}

export function pricePerGbSecond(arch: 'arm64' | 'x86_64'): number {
  return arch === 'arm64' ? LAMBDA_PRICE.arm64PerGbSecond : LAMBDA_PRICE.x86PerGbSecond;
}

/** What a billed invocation costs: billed milliseconds × configured memory × price, plus the request. */
export function invocationCost(billedMs: number, memoryMb: number, arch: 'arm64' | 'x86_64' = 'arm64'): number {
  return (billedMs / 1000) * (memoryMb / 1024) * pricePerGbSecond(arch) + LAMBDA_PRICE.perRequest;
}

/**
 * Predicted Lambda duration of a render measured locally: it cannot run faster than it did here
 * (`wallSeconds`, where it used `cpuSeconds / wallSeconds` cores), and with fewer vCPUs than that it is
 * CPU-bound: `cpuSeconds / vcpus`. Assumes a Lambda vCPU is as fast as one core of the benchmark machine
 * (the CloudWatch report gives the real figure).
 */
export function lambdaSeconds(cpuSeconds: number, wallSeconds: number, memoryMb: number): number {
  return Math.max(wallSeconds, cpuSeconds / vcpusFor(memoryMb));
}

export interface LambdaEstimate {
  memoryMb: number;
  vcpus: number;
  seconds: number;
  costUsd: number;
  /** false when the measured peak RSS (plus headroom) does not fit. */
  fits: boolean;
}

/** Memory sizes the cost curve is drawn for (MB). 1769 = 1 vCPU, 3538 = 2 vCPU. */
export const MEMORY_SIZES_MB = [512, 1024, 1769, 2048, 3008, 3538, 4096, 5308, 10240] as const;

/** Headroom over the measured peak RSS: the Node runtime, S3 streams, and margin. */
export const MEMORY_HEADROOM = 1.5;

export function lambdaCurve(
  m: { cpuSeconds: number; wallSeconds: number; peakRssBytes: number },
  arch: 'arm64' | 'x86_64' = 'arm64',
  sizes: readonly number[] = MEMORY_SIZES_MB,
): LambdaEstimate[] {
  return sizes.map((memoryMb) => {
    const seconds = lambdaSeconds(m.cpuSeconds, m.wallSeconds, memoryMb);
    // Lambda bills in 1 ms steps
    const billedMs = Math.ceil(seconds * 1000);
    return {
      memoryMb,
      vcpus: vcpusFor(memoryMb),
      seconds,
      costUsd: invocationCost(billedMs, memoryMb, arch),
      fits: (m.peakRssBytes * MEMORY_HEADROOM) / 1048576 <= memoryMb,
    };
  });
}

/**
 * The size to pick: the cheapest that fits; among sizes within 2% of the cheapest, the fastest
 * (below the render's own parallelism the cost is flat while time falls, so more memory is free speed).
 */
export function bestMemory(curve: readonly LambdaEstimate[]): LambdaEstimate | undefined {
  const fitting = curve.filter((c) => c.fits);
  if (fitting.length === 0) return undefined;
  const cheapest = Math.min(...fitting.map((c) => c.costUsd));
  return fitting.filter((c) => c.costUsd <= cheapest * 1.02).sort((a, b) => a.seconds - b.seconds || a.memoryMb - b.memoryMb)[0];
}

/**
 * ASSUMPTION, not a quote: a render API's list price per minute of output video. Shotstack bills one
 * credit per minute of rendered video at any resolution (help.shotstack.io, "General FAQ") and its
 * entry subscription was listed at $30 per month for 200 credits, i.e. $0.15 per minute.
 * Check the provider's current page before relying on it.
 */
export const RENDER_API = Object.freeze({
  name: 'Shotstack (entry subscription)',
  usdPerOutputMinute: 0.15,
  source: 'help.shotstack.io General FAQ (1 credit = 1 minute of video) and its listed $30/month for 200 credits',
});

export function renderApiCost(videoSeconds: number): number {
  return (videoSeconds / 60) * RENDER_API.usdPerOutputMinute;
}

/** "1.23 s", "12.3 s", "123 s". */
export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '–';
  return s < 10 ? `${s.toFixed(2)} s` : s < 100 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

export function fmtMb(bytes: number): string {
  if (!Number.isFinite(bytes)) return '–';
  return `${Math.round(bytes / 1048576)} MB`;
}

export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return '–';
  return r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

export function fmtUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '–';
  if (usd >= 0.1) return `$${usd.toFixed(2)}`;
  if (usd >= 0.001) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(6)}`;
}
