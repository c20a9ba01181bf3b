// The headers every /ui response carries (the contract of issue 14), and the session cookie.
import type { HeaderList } from '../server/exchange';

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Made once: every /ui answer appends these. */
export const SECURITY_HEADERS: readonly string[] = Object.freeze([
  'content-security-policy',
  CONTENT_SECURITY_POLICY,
  'x-content-type-options',
  'nosniff',
  'referrer-policy',
  'no-referrer',
]);

export const SESSION_COOKIE = 'weir_session';

/** `headers` with the security headers after them (a fresh list: callers' lists are often shared). */
export function withSecurity(headers: readonly string[]): HeaderList {
  return headers.concat(SECURITY_HEADERS);
}

/** The value of one cookie in a Cookie header, or null. Linear in the header. */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** True when the request reached Weir over https, or a proxy in front says it did. */
export function cameOverHttps(headers: Record<string, string>): boolean {
  const p = headers['x-forwarded-proto'];
  return p !== undefined && p.split(',')[0]!.trim().toLowerCase() === 'https';
}

export function sessionCookie(token: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeS))}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? '; Secure' : ''}`;
}
