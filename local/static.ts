/** The built UI (`vite build` → dist/ui) as static files, or a small page saying how to build it. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

async function fileAt(path: string): Promise<{ path: string; size: number } | null> {
  try {
    const s = await stat(path);
    if (s.isFile()) return { path, size: s.size };
    if (s.isDirectory()) return fileAt(join(path, 'index.html'));
  } catch {
    /* not found */
  }
  return null;
}

export const MISSING_UI_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Media pipeline (local)</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The upload page is not built yet</h1>
<p>The API is running at <code>/api</code> and videos are served at <code>/videos</code>.</p>
<p>Build the page with <code>npm run build:ui</code> (or restart with <code>npm start</code>, which builds it), then reload.</p>
</body></html>
`;

/** Serve `pathname` from `root`; `/` and directories get index.html. Returns false when nothing matched. */
export async function serveStatic(res: ServerResponse, root: string, pathname: string, method: string): Promise<boolean> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (rel.includes('\0')) return false;
  const base = normalize(root + sep);
  const target = normalize(join(base, rel));
  if (!target.startsWith(base) && target + sep !== base) return false;
  const file = await fileAt(target);
  if (!file) {
    if (pathname === '/' || pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(method === 'HEAD' ? undefined : MISSING_UI_PAGE);
      return true;
    }
    return false;
  }
  const type = TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
  // Vite fingerprints assets: cache them; never cache the HTML that names them.
  const cache = file.path.includes(`${sep}assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, { 'content-type': type, 'content-length': String(file.size), 'cache-control': cache, 'x-content-type-options': 'nosniff' });
  if (method === 'HEAD') res.end();
  else createReadStream(file.path).pipe(res);
  return true;
}
