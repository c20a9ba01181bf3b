// Where the caller's key is: the headers LiteLLM reads, in LiteLLM's order. The comparison
// with the master key and the virtual-key lookup are in identity.ts.
import { hash } from 'node:crypto';

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

/** One-shot: no Hash object per call (every request hashes its key, the master key's included). */
export function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}
