// LiteLLM's encryption of values at rest (litellm/proxy/common_utils/encrypt_decrypt_utils.py), so
// rows Weir writes (LiteLLM_ProxyModelTable's litellm_params) read in LiteLLM and the other way round.
// The salt key is LITELLM_SALT_KEY, else the master key. Three formats, told apart by their prefix:
//  - `v3:gcm:` (what LiteLLM writes by default): AES-256-GCM, key = HKDF-SHA256(salt key, no salt,
//    info `litellm-at-rest-v3`), text = prefix + base64url(12-byte nonce ‖ ciphertext ‖ 16-byte tag);
//  - `v2:gcm:`: the same with key = SHA-256(salt key);
//  - no prefix (legacy, and `general_settings.encryption_algorithm: xsalsa20-poly1305`): NaCl
//    SecretBox (XSalsa20-Poly1305), key = SHA-256(salt key), text = url-safe base64(24-byte nonce ‖
//    16-byte MAC ‖ ciphertext); standard base64 is read too, as LiteLLM falls back to it.
// Node has AES-GCM and HKDF; XSalsa20-Poly1305 comes from tweetnacl (audited). No cipher is written here.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

const V3 = 'v3:gcm:';
const V2 = 'v2:gcm:';
const HKDF_INFO = 'litellm-at-rest-v3';
const GCM_NONCE = 12;
const GCM_TAG = 16;
/** nonce (24) + MAC (16): LiteLLM's _NACL_MIN_CIPHERTEXT_BYTES. */
const NACL_MIN = nacl.secretbox.nonceLength + nacl.secretbox.overheadLength;

export type AtRestAlgorithm = 'aes-256-gcm' | 'xsalsa20-poly1305';

/** The salt key LiteLLM encrypts with: LITELLM_SALT_KEY, else the master key; null when neither is set. */
export function saltKeyFrom(env: Record<string, string | undefined>, masterKey: string | null | undefined): string | null {
  // An empty LITELLM_SALT_KEY counts as unset: LiteLLM would take it and encrypt under an empty key,
  // which protects nothing; the master key does.
  const salt = env.LITELLM_SALT_KEY;
  if (salt !== undefined && salt !== '') return salt;
  return masterKey ? masterKey : null;
}

/** general_settings.encryption_algorithm as LiteLLM reads it: AES-256-GCM unless xsalsa20-poly1305 is asked for. */
export function writeAlgorithm(setting: unknown): AtRestAlgorithm {
  return typeof setting === 'string' && setting.toLowerCase() === 'xsalsa20-poly1305' ? 'xsalsa20-poly1305' : 'aes-256-gcm';
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const hkdfKey = (s: string): Buffer => Buffer.from(hkdfSync('sha256', Buffer.from(s, 'utf8'), Buffer.alloc(0), Buffer.from(HKDF_INFO), 32));

/**
 * Derived keys per salt key: deriving is cheap but a table of many models decrypts many values
 * with one salt key. Only the last salt key is kept (it changes only with the config).
 */
let cached: { salt: string; v3: Buffer; sha: Buffer } | null = null;
function keys(salt: string): { v3: Buffer; sha: Buffer } {
  if (cached?.salt !== salt) cached = { salt, v3: hkdfKey(salt), sha: sha256(salt) };
  return cached;
}

/** Encrypts as LiteLLM's encrypt_value_helper does; `nonce` is for test vectors only. */
export function encryptAtRest(plain: string, salt: string, algorithm: AtRestAlgorithm = 'aes-256-gcm', nonce?: Uint8Array): string {
  const k = keys(salt);
  const data = Buffer.from(plain, 'utf8');
  if (algorithm === 'xsalsa20-poly1305') {
    const n = nonce ?? randomBytes(nacl.secretbox.nonceLength);
    const box = nacl.secretbox(data, n, k.sha);
    return Buffer.concat([n, box]).toString('base64url') + padding(n.length + box.length);
  }
  const n = nonce ?? randomBytes(GCM_NONCE);
  const c = createCipheriv('aes-256-gcm', k.v3, n);
  const ct = Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
  return V3 + Buffer.concat([n, ct]).toString('base64url') + padding(n.length + ct.length);
}

/** Python's urlsafe_b64encode pads with `=`; Node's base64url does not. Written as LiteLLM writes it. */
function padding(bytes: number): string {
  return '='.repeat((3 - (bytes % 3)) % 3);
}

export function isVersionedGcm(value: string): boolean {
  return value.startsWith(V3) || value.startsWith(V2);
}

/**
 * The plaintext of a value in any of the three formats, or null when it is not a ciphertext under
 * this salt key (LiteLLM's decrypt_if_encrypted_with: plaintext rows and another key's values alike).
 */
export function decryptAtRest(value: string, salt: string): string | null {
  const k = keys(salt);
  try {
    if (isVersionedGcm(value)) {
      const v3 = value.startsWith(V3);
      const raw = Buffer.from(value.slice(V3.length), 'base64url');
      if (raw.length < GCM_NONCE + GCM_TAG) return null;
      const d = createDecipheriv('aes-256-gcm', v3 ? k.v3 : k.sha, raw.subarray(0, GCM_NONCE));
      d.setAuthTag(raw.subarray(raw.length - GCM_TAG));
      return Buffer.concat([d.update(raw.subarray(GCM_NONCE, raw.length - GCM_TAG)), d.final()]).toString('utf8');
    }
    // Node's base64 decoder takes both alphabets, with or without padding.
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return null;
    const raw = Buffer.from(value, 'base64');
    if (raw.length < NACL_MIN) return null;
    const opened = nacl.secretbox.open(raw.subarray(nacl.secretbox.nonceLength), raw.subarray(0, nacl.secretbox.nonceLength), k.sha);
    return opened ? Buffer.from(opened).toString('utf8') : null;
  } catch {
    return null;
  }
}
