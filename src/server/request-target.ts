// The path and query of a request target. A server must accept the absolute form
// (`GET http://host/v1/models`, RFC 9112 §3.2.2), which proxies and some clients send: it is
// reduced to its path and query here, so every route sees the same origin form.

export function requestTarget(url: string): { path: string; query: string } {
  let target = url;
  if (target.charCodeAt(0) !== 47 /* / */ && /^https?:\/\//i.test(target)) {
    try {
      const u = new URL(target);
      target = u.pathname + u.search;
    } catch {
      // Not a URL after all: routed as written, and answered 404.
    }
  }
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}
