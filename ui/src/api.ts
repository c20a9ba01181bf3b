// The page's only way to the server: the same HTTP API any client uses, authenticated by the
// session cookie (HttpOnly: the page never holds a key). State-changing calls carry the session's
// CSRF token, which the server checks against the cookie's session.

let csrfToken = '';

export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** An answer that was not 2xx, with the server's message (OpenAI or Anthropic error envelope). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface CallOptions {
  method?: string;
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
  /** A 401 here is the call's own answer (a model's upstream refusing its key), not a lost session. */
  own401?: boolean;
}

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

function messageOf(status: number, text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown };
    const e = j.error;
    if (e && typeof e === 'object' && typeof e.message === 'string') return e.message;
    if (typeof e === 'string') return e;
    if (typeof j.detail === 'string') return j.detail;
    if (typeof j.message === 'string') return j.message;
  } catch {
    /* not JSON */
  }
  return text.trim().slice(0, 300) || `HTTP ${status}`;
}

/** Listeners told when any call finds the session gone (401), so the app shows the login again. */
const expiredListeners = new Set<() => void>();
export function onSessionExpired(fn: () => void): () => void {
  expiredListeners.add(fn);
  return () => expiredListeners.delete(fn);
}

export async function api<T>(path: string, opts: CallOptions = {}): Promise<T> {
  const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (opts.body !== undefined) init.body = JSON.stringify(opts.body);
  if (opts.signal) init.signal = opts.signal;
  const res = await fetch(withQuery(path, opts.query), init);
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401 && !opts.own401 && !path.startsWith('/ui/login')) for (const fn of expiredListeners) fn();
    throw new ApiError(res.status, messageOf(res.status, text));
  }
  return (text ? JSON.parse(text) : null) as T;
}

/** A GET whose answer is text, not JSON (a run's artifact): errors as api() reports them. */
export async function apiText(path: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(path, { headers: { accept: 'text/plain, */*' }, credentials: 'same-origin', ...(signal ? { signal } : {}) });
  const text = await res.text();
  if (!res.ok) {
    if (res.status === 401) for (const fn of expiredListeners) fn();
    throw new ApiError(res.status, messageOf(res.status, text));
  }
  return text;
}
