// Shared by the ui-*.test.ts files: logging in to the admin page over real HTTP and carrying its
// session cookie, and the contract's security headers.
import assert from 'node:assert/strict';
import { call, type Answer } from './governance-helpers';

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function assertSecurityHeaders(r: Answer, what: string): void {
  assert.equal(r.headers['content-security-policy'], CSP, `${what}: content-security-policy`);
  assert.equal(r.headers['x-content-type-options'], 'nosniff', `${what}: x-content-type-options`);
  assert.equal(r.headers['referrer-policy'], 'no-referrer', `${what}: referrer-policy`);
}

/** The Set-Cookie header of an answer (one cookie expected). */
export function setCookie(r: Answer): string {
  const v = r.headers['set-cookie'] as unknown;
  const list = Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
  assert.equal(list.length, 1, `one Set-Cookie: ${JSON.stringify(v)}`);
  return list[0]!;
}

export interface Session {
  cookie: string;
  csrf: string;
  json: any;
}

export async function login(base: string, body: unknown, headers: Record<string, string> = {}): Promise<Session> {
  const r = await call(base, '/ui/login', { body, headers });
  assert.equal(r.status, 200, `login ${JSON.stringify(body)}: ${r.text}`);
  const c = setCookie(r);
  return { cookie: c.slice(0, c.indexOf(';')), csrf: r.json.csrf_token, json: r.json };
}

/** A call carrying only the session cookie (and its CSRF token when `csrf`). */
export function withSession(base: string, path: string, s: Session, opts: { body?: unknown; method?: string; csrf?: boolean; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { cookie: s.cookie, ...opts.headers };
  if (opts.csrf) headers['x-csrf-token'] = s.csrf;
  return call(base, path, { body: opts.body, method: opts.method, headers });
}
