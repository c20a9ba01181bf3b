// Answers GET /ui… from the bundle loaded at start: an exact lookup of the path in the bundle's
// map (nothing is decoded or joined, so no request names a file outside it), gzip when the client
// takes it, the contract's cache and security headers on every answer.
import type { Exchange } from '../server/exchange';
import { withSecurity } from './http-headers';
import type { StaticBundle } from './static-files';

/** The bundle path a request path names, or null: /ui, /ui/ and /ui/index.html are the page. */
export function bundlePath(urlPath: string): string | null {
  if (urlPath === '/ui' || urlPath === '/ui/') return 'index.html';
  if (!urlPath.startsWith('/ui/')) return null;
  return urlPath.slice(4);
}

/** True when Accept-Encoding offers gzip (and does not refuse it with q=0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  for (const part of header.split(',')) {
    const [name, ...params] = part.split(';');
    const n = name!.trim().toLowerCase();
    if (n !== 'gzip' && n !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}

const TEXT = 'text/plain; charset=utf-8';

export function serveStatic(ex: Exchange, bundle: StaticBundle): void {
  if (ex.method !== 'GET' && ex.method !== 'HEAD') {
    return ex.respond(405, withSecurity(['content-type', TEXT, 'allow', 'GET, HEAD']), 'Method not allowed');
  }
  if (bundle.missing) return ex.respond(404, withSecurity(['content-type', TEXT, 'cache-control', 'no-cache']), bundle.missing);
  const rel = bundlePath(ex.path);
  const file = rel === null ? undefined : bundle.files.get(rel);
  if (!file) return ex.respond(404, withSecurity(['content-type', TEXT, 'cache-control', 'no-cache']), 'Not found');
  const gz = file.gzip !== null && acceptsGzip(ex.headers['accept-encoding']);
  const headers = ['content-type', file.type, 'cache-control', file.cacheControl, 'vary', 'accept-encoding'];
  if (gz) headers.push('content-encoding', 'gzip');
  const body = gz ? file.gzip! : file.body;
  ex.respond(200, withSecurity(headers), ex.method === 'HEAD' ? Buffer.alloc(0) : body);
}
