// Where the caller's key is: the headers LiteLLM reads, in LiteLLM's order; and the key's sha256,
// which names it everywhere after (a worker's memo of the keys it has seen). The comparison with
// the master key and the virtual-key lookup are in identity.ts.
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
    const bearer = BEARER.exec(authz);
    if (bearer) return authz.slice(bearer[0].length).trim();
    if (/^basic\s+/i.test(authz)) return authz.slice(6).trim();
    const aws = /Credential=Bearer\s+([^/,\s]+)/.exec(authz);
    if (aws) return aws[1]!;
    return null;
  }
  return h['api-key'] ?? h['x-api-key'] ?? h['x-goog-api-key'] ?? h['ocp-apim-subscription-key'] ?? '';
}

/** One-shot: no Hash object per call. */
export function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/**
 * The sha256 of the keys one worker has seen lately. A client sends the same key on every call (a
 * coding agent's session, a team's service), and hashing it is about 1.4 µs of the ~65 µs of CPU a
 * pass-through request costs on this project's bench machine; a hit is a Map lookup. The keys held
 * never leave the worker, which reads them in every request's headers anyway. Past `max` keys it
 * forgets them all, so a flood of made-up keys costs what it did before the memo (and holds at most
 * `max` keys); a key longer than `KEY_MAX` is hashed every time rather than held.
 */
export class KeyHashes {
  static readonly KEY_MAX = 256;
  private readonly memo = new Map<string, Buffer>();

  constructor(private readonly max = 1024) {}

  /** sha256(key). The same Buffer for every hit: callers only read it. */
  of(key: string): Buffer {
    let h = this.memo.get(key);
    if (h !== undefined) return h;
    h = sha256(key);
    if (key.length <= KeyHashes.KEY_MAX) {
      if (this.memo.size >= this.max) this.memo.clear();
      this.memo.set(key, h);
    }
    return h;
  }

  /** Keys held (tests bound it). */
  get size(): number {
    return this.memo.size;
  }
}
