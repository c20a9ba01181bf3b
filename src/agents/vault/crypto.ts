// The vault's encryption at rest: AES-256-GCM in LiteLLM's own `v3:gcm:` format (key = HKDF-SHA256
// of the salt key with info `litellm-at-rest-v3`; stored text = prefix + base64url(12-byte nonce ‖
// ciphertext ‖ 16-byte tag)), so a value Weir stores reads the way LiteLLM's stored credentials do.
// The salt key is WEIR_VAULT_KEY, else LITELLM_SALT_KEY, else the master key (LiteLLM's fallback).
// Every sealed value carries the key's id (an HMAC, not the key): a value sealed under another key
// is told apart from a damaged one, and the error says which happened.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'v3:gcm:';
const INFO = 'litellm-at-rest-v3';
const NONCE = 12;
const TAG = 16;

export class VaultKeyError extends Error {}

export interface VaultKey {
  /** 16 hex characters naming the key (stored beside each value). */
  readonly id: string;
  seal(plain: string): string;
  /** Throws VaultKeyError when the value was sealed under another key or is damaged. */
  open(sealed: string, keyId: string, what: string): string;
}

/** The salt key from the environment (WEIR_VAULT_KEY, LITELLM_SALT_KEY) or the master key; null when none. */
export function vaultSecretFrom(env: Record<string, string | undefined>, masterKey: string | null | undefined): string | null {
  for (const v of [env.WEIR_VAULT_KEY, env.LITELLM_SALT_KEY, masterKey]) {
    const s = v?.trim();
    if (s) return s;
  }
  return null;
}

export function vaultKey(secret: string): VaultKey {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), Buffer.from(INFO), 32));
  const id = createHmac('sha256', key).update('weir-vault-key-id').digest('hex').slice(0, 16);
  return {
    id,
    seal(plain) {
      const nonce = randomBytes(NONCE);
      const c = createCipheriv('aes-256-gcm', key, nonce);
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return PREFIX + Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64url');
    },
    open(sealed, keyId, what) {
      if (keyId !== id) throw new VaultKeyError(`${what} was stored under another vault key: the vault key (WEIR_VAULT_KEY, else LITELLM_SALT_KEY, else the master key) changed since; store it again`);
      if (!sealed.startsWith(PREFIX)) throw new VaultKeyError(`${what} is not in the vault's format`);
      const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
      if (raw.length < NONCE + TAG) throw new VaultKeyError(`${what} is damaged`);
      try {
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE));
        d.setAuthTag(raw.subarray(raw.length - TAG));
        return Buffer.concat([d.update(raw.subarray(NONCE, raw.length - TAG)), d.final()]).toString('utf8');
      } catch {
        throw new VaultKeyError(`${what} could not be decrypted: it is damaged`);
      }
    },
  };
}
