// Who is calling: the master key, a virtual key found in the shared key index, or nobody (no
// master_key configured). A key this instance has never seen is looked up once on the control
// thread (which batches such lookups); misses are remembered for a while so a flood of the same
// bad key never leaves the worker.
import { timingSafeEqual } from 'node:crypto';
import type { KeyIndex } from '../state/key-index';
import { extractKey, KeyHashes, type AuthSettings } from './auth';
import { GatewayError } from './errors';
import type { GovernanceView, KeyProfile } from './governance';

export type Identity = { kind: 'open' } | { kind: 'master' } | { kind: 'key'; profile: KeyProfile; hash: Buffer };

export const OPEN: Identity = { kind: 'open' };
export const MASTER: Identity = { kind: 'master' };

const NEGATIVE_TTL_MS = 5_000;
const NEGATIVE_MAX = 10_000;
/**
 * Bounds on what one worker lets wait for keys it has not seen: distinct keys being looked up,
 * and requests waiting on them (each holds at most what arrived with its headers). Past either,
 * a request with an unseen key is answered 503 at once instead of adding to the wait, so a flood
 * of made-up keys stays bounded while a real new key fanned out by its client is served.
 */
const MAX_KEYS_LOOKED_UP = 256;
const MAX_WAITING = 4096;

function masked(key: string): string {
  return key.length <= 8 ? '****' : `${key.slice(0, 4)}****${key.slice(-4)}`;
}

export type KeyLookup = (hashHex: string) => Promise<boolean>;

export class Identifier {
  private readonly misses = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private waiting = 0;
  private readonly hashes = new KeyHashes();

  constructor(
    private readonly index: KeyIndex | null,
    private readonly view: GovernanceView,
    private readonly lookup: KeyLookup,
  ) {}

  identify(h: Record<string, string>, auth: AuthSettings): Identity | Promise<Identity> {
    if (!auth.masterKeyHash) return OPEN;
    const key = extractKey(h, auth.customKeyHeader);
    if (key === null) throw new GatewayError(401, 'Malformed API Key passed in. Ensure Key has `Bearer ` prefix.', 'auth_error');
    if (key === '') throw new GatewayError(401, 'Authentication Error, No api key passed in.', 'auth_error');
    const hash = this.hashes.of(key);
    if (timingSafeEqual(hash, auth.masterKeyHash)) return MASTER;
    if (!this.index || !this.view.enabled) throw unknownKey(key);
    if (!key.startsWith('sk-')) {
      const e = new GatewayError(401, `LiteLLM Virtual Key expected. Received=${masked(key)}, expected to start with 'sk-'.`, 'auth_error');
      e.logText = "LiteLLM Virtual Key expected, the key does not start with 'sk-'";
      throw e;
    }
    const found = this.fromIndex(hash);
    if (found) return found;
    const hex = hash.toString('hex');
    const missedAt = this.misses.get(hex);
    if (missedAt !== undefined && Date.now() - missedAt < NEGATIVE_TTL_MS) throw unknownKey(key);
    let pending = this.inFlight.get(hex);
    if (this.waiting >= MAX_WAITING || (!pending && this.inFlight.size >= MAX_KEYS_LOOKED_UP)) {
      throw new GatewayError(503, 'Too many requests with keys this gateway has not seen yet are waiting for their lookup; retry shortly.', 'service_unavailable_error', null, ['retry-after', '1']);
    }
    // Requests for the same unknown key wait on one lookup; a failed lookup counts as not found.
    if (!pending) {
      pending = this.lookup(hex)
        .catch(() => false)
        .finally(() => this.inFlight.delete(hex));
      this.inFlight.set(hex, pending);
    }
    this.waiting++;
    return pending.then((exists) => {
      this.waiting--;
      const again = exists ? this.fromIndex(hash) : null;
      if (again) return again;
      if (this.misses.size >= NEGATIVE_MAX) this.misses.clear();
      this.misses.set(hex, Date.now());
      throw unknownKey(key);
    });
  }

  /**
   * A virtual key named by its hash (a login session's, checked by the control thread): from the
   * index, else looked up once. Null when no such key exists (deleted since the login).
   */
  async byHash(hash: Buffer): Promise<Identity | null> {
    if (!this.index || !this.view.enabled) return null;
    const found = this.fromIndex(hash);
    if (found) return found;
    const exists = await this.lookup(hash.toString('hex')).catch(() => false);
    return exists ? this.fromIndex(hash) : null;
  }

  private fromIndex(hash: Buffer): Identity | null {
    const rec = this.index!.find(hash);
    if (rec < 0) return null;
    const profile = this.view.keys.get(rec);
    return profile ? { kind: 'key', profile, hash } : null;
  }
}

function unknownKey(key: string): GatewayError {
  const e = new GatewayError(
    401,
    `Authentication Error, Invalid proxy server token passed. Received API Key = ${masked(key)}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``,
    'auth_error',
  );
  e.logText = 'Authentication Error, Invalid proxy server token passed (a key this gateway does not know)';
  return e;
}
