// LiteLLM's at-rest encryption (src/db/at-rest-crypto.ts) against vectors made with LiteLLM's own
// algorithm in Python: `cryptography`'s HKDF and AESGCM for v3/v2, libsodium's crypto_secretbox_easy
// (what PyNaCl's SecretBox calls) for the legacy format, with the nonces fixed:
//   salt = "sk-weir-salt-vector-1", plain = "sk-upstream-secret-abc123"
//   v3/v2 nonce = bytes 1..12; NaCl nonce = bytes 100..123
//   k3 = HKDF(SHA256, length=32, salt=None, info=b"litellm-at-rest-v3").derive(salt); k2 = sha256(salt)
//   "v3:gcm:" + urlsafe_b64encode(nonce + AESGCM(k3).encrypt(nonce, plain, None))
//   urlsafe_b64encode(nonce + crypto_secretbox_easy(plain, nonce, k2))
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decryptAtRest, encryptAtRest, saltKeyFrom, writeAlgorithm } from '../../src/db/at-rest-crypto';

const SALT = 'sk-weir-salt-vector-1';
const PLAIN = 'sk-upstream-secret-abc123';
const GCM_NONCE = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
const NACL_NONCE = Uint8Array.from({ length: 24 }, (_, i) => i + 100);

const V3 = 'v3:gcm:AQIDBAUGBwgJCgsMM-ZXBsqNmZzuY7UHy8-yifCAyYWFf8AntAW69pEtxEU_TIZj559ujUM=';
const V2 = 'v2:gcm:AQIDBAUGBwgJCgsMozssHZMVUxZURLWKj5hW9gOQAat0U_ZCMArmMzyBk5w5uBj8iQaIpEA=';
const NACL = 'ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7U837kjH7RYOmTdNCk8XWXxwkYScCTPZdwQuecqPpFRp66iCorqvp2WA=';
/** "openai/gpt-4o-mini" under v3 with the same nonce: LiteLLM encrypts every string, the model too. */
const V3_MODEL = 'v3:gcm:AQIDBAUGBwgJCgsML_0fHduXwon7dvUe14e8kvud0_2NnukFrEtsqenH0Jvxpw==';

test('writes v3:gcm exactly as LiteLLM does (the default), padding included', () => {
  assert.equal(encryptAtRest(PLAIN, SALT, 'aes-256-gcm', GCM_NONCE), V3);
  assert.equal(encryptAtRest('openai/gpt-4o-mini', SALT, 'aes-256-gcm', GCM_NONCE), V3_MODEL);
});

test('writes the legacy NaCl SecretBox format exactly as LiteLLM does when asked for', () => {
  assert.equal(encryptAtRest(PLAIN, SALT, 'xsalsa20-poly1305', NACL_NONCE), NACL);
});

test('reads all three formats', () => {
  assert.equal(decryptAtRest(V3, SALT), PLAIN);
  assert.equal(decryptAtRest(V2, SALT), PLAIN);
  assert.equal(decryptAtRest(NACL, SALT), PLAIN);
  assert.equal(decryptAtRest(V3_MODEL, SALT), 'openai/gpt-4o-mini');
  // standard base64 (LiteLLM's fallback for old rows) and unpadded text read too
  assert.equal(decryptAtRest(NACL.replace(/=+$/, ''), SALT), PLAIN);
  const std = Buffer.from(NACL, 'base64url').toString('base64');
  assert.equal(decryptAtRest(std, SALT), PLAIN);
});

test('random nonces round-trip in both write formats', () => {
  for (const algo of ['aes-256-gcm', 'xsalsa20-poly1305'] as const) {
    const a = encryptAtRest('héllo ✓', SALT, algo);
    const b = encryptAtRest('héllo ✓', SALT, algo);
    assert.notEqual(a, b);
    assert.equal(decryptAtRest(a, SALT), 'héllo ✓');
    assert.equal(decryptAtRest('', SALT), null);
  }
});

test('another salt key, damaged text and plaintext give null, never garbage', () => {
  assert.equal(decryptAtRest(V3, 'another-salt'), null);
  assert.equal(decryptAtRest(V2, 'another-salt'), null);
  assert.equal(decryptAtRest(NACL, 'another-salt'), null);
  assert.equal(decryptAtRest(V3.slice(0, 30), SALT), null);
  assert.equal(decryptAtRest(V3.replace('M-Z', 'M-Y'), SALT), null);
  assert.equal(decryptAtRest('openai/gpt-4o', SALT), null);
  assert.equal(decryptAtRest('https://api.example.com/v1', SALT), null);
  assert.equal(decryptAtRest('os.environ/OPENAI_API_KEY', SALT), null);
});

test('salt key: LITELLM_SALT_KEY, else the master key; the write algorithm setting', () => {
  assert.equal(saltKeyFrom({ LITELLM_SALT_KEY: 's' }, 'm'), 's');
  assert.equal(saltKeyFrom({}, 'm'), 'm');
  assert.equal(saltKeyFrom({ LITELLM_SALT_KEY: '' }, null), null);
  assert.equal(writeAlgorithm(undefined), 'aes-256-gcm');
  assert.equal(writeAlgorithm('XSalsa20-Poly1305'), 'xsalsa20-poly1305');
  assert.equal(writeAlgorithm('something-else'), 'aes-256-gcm');
});
