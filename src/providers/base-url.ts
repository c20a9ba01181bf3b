// An api_base read once at config load: where requests go (origin, path prefix), what the URL
// itself carries to the upstream (its userinfo as Basic credentials, its query string on every
// path of the deployment), and the form it may be shown in (responses, /model/info, spend logs,
// error messages): userinfo and query values masked.

export interface BaseUrl {
  origin: string;
  /** Path prefix without a trailing slash. */
  basePath: string;
  /** The api_base's query string without `?` ('' for none): sent on every upstream path. */
  query: string;
  /** `Basic …` for the `user:password@` of the URL, or null. */
  basicAuth: string | null;
  /** The api_base with its credentials masked; the text as written when it carries none. */
  shown: string;
  /** Credential values to scrub from anything shown (upstream error bodies echo them). */
  secrets: string[];
}

const MASK = '****';

/** Values shorter than this are not scrubbed from messages: they would mangle ordinary words. */
const MIN_SECRET = 6;

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function parseBaseUrl(apiBase: string): BaseUrl {
  const url = new URL(apiBase);
  const basePath = url.pathname.replace(/\/+$/, '');
  const query = url.search.slice(1);
  const secrets: string[] = [];
  const secret = (raw: string) => {
    for (const v of new Set([raw, decoded(raw)])) if (v.length >= MIN_SECRET) secrets.push(v);
  };
  let basicAuth: string | null = null;
  if (url.username || url.password) {
    secret(url.username);
    secret(url.password);
    const token = Buffer.from(`${decoded(url.username)}:${decoded(url.password)}`).toString('base64');
    basicAuth = `Basic ${token}`;
    secrets.push(token, basicAuth);
  }
  const pairs = query ? query.split('&') : [];
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq >= 0) secret(p.slice(eq + 1));
  }
  if (!basicAuth && !query) return { origin: url.origin, basePath, query, basicAuth, shown: apiBase, secrets };
  const userinfo = url.password ? `${MASK}:${MASK}@` : url.username ? `${MASK}@` : '';
  const shownQuery = pairs.length ? `?${pairs.map((p) => (p.includes('=') ? `${p.slice(0, p.indexOf('='))}=${MASK}` : p)).join('&')}` : '';
  return { origin: url.origin, basePath, query, basicAuth, shown: `${url.protocol}//${userinfo}${url.host}${url.pathname}${shownQuery}`, secrets };
}

/** A URL as it may be printed: parsed and masked; text that does not parse, masked where a URL keeps credentials. */
export function shownUrl(text: string): string {
  try {
    return parseBaseUrl(text).shown;
  } catch {
    // Up to the last `@` may be userinfo, whatever it holds (a password may contain `/` or `?`).
    return text.replace(/^([^:/?#]*:\/\/).*@/s, `$1${MASK}@`).replace(/([?&][^=&#]*=)[^&#]*/g, `$1${MASK}`);
  }
}

/** `path` with the deployment's query string added (after any query the path already has). */
export function withQuery(path: string, query: string): string {
  if (!query) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${query}`;
}

/** `path` with `suffix` added to its path part, before its query string. */
export function subPath(path: string, suffix: string): string {
  const q = path.indexOf('?');
  return q < 0 ? `${path}${suffix}` : `${path.slice(0, q)}${suffix}${path.slice(q)}`;
}
