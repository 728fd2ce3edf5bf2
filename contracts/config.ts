import type { Limits } from './limits.ts';

/**
 * `/config.json` beside the page: written from stack outputs at deploy, served by the local stack,
 * so one UI build serves every stack. `VITE_API_BASE_URL` / `VITE_CLOUDFRONT_URL` override it in development.
 */
export interface SiteConfig {
  /** Base of the HTTP API, e.g. `/api` (same origin) or `https://x.execute-api.../api`. */
  apiBaseUrl: string;
  /** Base that relative video URLs resolve against; empty means the page's own origin. */
  cdnBaseUrl: string;
  /** What the API will accept, so the page can refuse files before uploading them. */
  limits: Pick<Limits, 'maxImages' | 'maxImageBytes' | 'maxVideoSeconds'>;
}
