// Who is calling. The key is read from the headers LiteLLM reads, in LiteLLM's order, and the
// master key is compared in constant time (both sides hashed, then timingSafeEqual).
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from './errors';

export interface AuthSettings {
  /** sha256 of the master key, or null when no master key is set (then everything is open). */
  masterKeyHash: Uint8Array | null;
  /** general_settings.litellm_key_header_name, lower-cased: overrides every other header. */
  customKeyHeader: string | null;
}

const BEARER = /^bearer\s+/i;

/** The API key the request carries, '' when none, or null when Authorization has an unknown scheme. */
export function extractKey(h: Record<string, string>, customHeader: string | null): string | null {
  if (customHeader) {
    const v = h[customHeader];
    if (v !== undefined) return v.replace(BEARER, '').trim();
  }
  const lk = h['x-litellm-api-key'];
  if (lk) return lk.replace(BEARER, '').trim();
  const authz = h['authorization'];
  if (authz) {
    if (BEARER.test(authz)) return authz.replace(BEARER, '').trim();
    if (/^basic\s+/i.test(authz)) return authz.slice(6).trim();
    const aws = /Credential=Bearer\s+([^/,\s]+)/.exec(authz);
    if (aws) return aws[1]!;
    return null;
  }
  return h['api-key'] ?? h['x-api-key'] ?? h['x-goog-api-key'] ?? h['ocp-apim-subscription-key'] ?? '';
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function masked(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 4)}****${key.slice(-4)}`;
}

/** Throws the 401 LiteLLM would answer, or returns when the caller may proceed. */
export function authenticate(h: Record<string, string>, s: AuthSettings): void {
  if (!s.masterKeyHash) return;
  const key = extractKey(h, s.customKeyHeader);
  if (key === null) throw new GatewayError(401, 'Malformed API Key passed in. Ensure Key has `Bearer ` prefix.', 'auth_error');
  if (key === '') throw new GatewayError(401, 'Authentication Error, No api key passed in.', 'auth_error');
  if (!timingSafeEqual(sha256(key), s.masterKeyHash)) {
    // Virtual keys arrive with the key store; until then any other key is unknown.
    throw new GatewayError(
      401,
      `Authentication Error, Invalid proxy server token passed. Received API Key = ${masked(key)}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
      'auth_error',
    );
  }
}
