/**
 * Runtime config: `config.json` beside the page (written at deploy, served by the local stack), then
 * `VITE_API_BASE_URL` / `VITE_CLOUDFRONT_URL` from the build environment override it (development).
 * Without either, the API is `/api` and videos resolve against the page's own origin.
 */
import { DEFAULT_LIMITS } from '../../../contracts/index.ts';
import type { SiteConfig } from '../../../contracts/index.ts';

export interface ConfigEnv {
  VITE_API_BASE_URL?: string | undefined;
  VITE_CLOUDFRONT_URL?: string | undefined;
}

export const DEFAULT_SITE_CONFIG: Readonly<SiteConfig> = Object.freeze({
  apiBaseUrl: '/api',
  cdnBaseUrl: '',
  limits: {
    maxImages: DEFAULT_LIMITS.maxImages,
    maxImageBytes: DEFAULT_LIMITS.maxImageBytes,
    maxVideoSeconds: DEFAULT_LIMITS.maxVideoSeconds,
  },
});

function positive(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** Merge a parsed config.json (anything) over the defaults, keeping only well-typed fields. */
export function mergeConfig(raw: unknown, env: ConfigEnv = {}): SiteConfig {
  const out: SiteConfig = { ...DEFAULT_SITE_CONFIG, limits: { ...DEFAULT_SITE_CONFIG.limits } };
  if (typeof raw === 'object' && raw !== null) {
    const r = raw as Partial<Record<keyof SiteConfig, unknown>>;
    if (typeof r.apiBaseUrl === 'string' && r.apiBaseUrl) out.apiBaseUrl = r.apiBaseUrl;
    if (typeof r.cdnBaseUrl === 'string') out.cdnBaseUrl = r.cdnBaseUrl;
    if (typeof r.limits === 'object' && r.limits !== null) {
      const l = r.limits as Record<string, unknown>;
      if (positive(l.maxImages)) out.limits.maxImages = l.maxImages;
      if (positive(l.maxImageBytes)) out.limits.maxImageBytes = l.maxImageBytes;
      if (positive(l.maxVideoSeconds)) out.limits.maxVideoSeconds = l.maxVideoSeconds;
    }
  }
  if (env.VITE_API_BASE_URL) out.apiBaseUrl = env.VITE_API_BASE_URL;
  if (env.VITE_CLOUDFRONT_URL) out.cdnBaseUrl = env.VITE_CLOUDFRONT_URL;
  out.apiBaseUrl = out.apiBaseUrl.replace(/\/+$/, '');
  out.cdnBaseUrl = out.cdnBaseUrl.replace(/\/+$/, '');
  return out;
}

/** Fetch `config.json` (relative to the page); a missing or broken file means defaults. */
export async function loadConfig(
  fetchFn: (url: string, init?: { cache?: 'no-cache' }) => Promise<{ ok: boolean; json(): Promise<unknown> }>,
  env: ConfigEnv = {},
  url = 'config.json',
): Promise<SiteConfig> {
  let raw: unknown;
  try {
    const res = await fetchFn(url, { cache: 'no-cache' });
    if (res.ok) raw = await res.json();
  } catch {
    raw = undefined;
  }
  return mergeConfig(raw, env);
}

/**
 * Where the browser should fetch a video or poster from. Absolute URLs stay; relative ones go to the
 * CDN base when there is one, else to the page's origin.
 */
export function resolveMediaUrl(url: string, config: Pick<SiteConfig, 'cdnBaseUrl'>, pageUrl: string): string {
  if (/^https?:\/\//i.test(url)) return url;
  if (config.cdnBaseUrl) return `${config.cdnBaseUrl}${url.startsWith('/') ? '' : '/'}${url}`;
  return new URL(url, pageUrl).toString();
}
