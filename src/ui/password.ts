// Checks a password against LiteLLM_UserTable.password as LiteLLM writes it, so a user made through
// LiteLLM logs in to Weir. LiteLLM's verify_password (litellm/proxy/utils.py; login in
// litellm/proxy/auth/login_utils.py) accepts what its versions have stored: `scrypt:`-prefixed
// hashes (current; rehashed to on login), the sha256 hex of the password (hash_token, older
// versions), and the password itself (the oldest, compared as given). A scrypt hash is read
// tolerantly: `scrypt:<salt>:<hash>` or `scrypt:<N>:<r>:<p>:<salt>:<hash>`, salt and hash in hex
// or base64; N, r, p default to 16384, 8, 1, and the key length is the stored hash's.
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (pw: string | Buffer, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const B64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
/** Bounds on a stored hash's parameters: a row with absurd ones must not stall the control thread. */
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MAX_KEY = 256;

function bytes(text: string): Buffer | null {
  if (HEX.test(text)) return Buffer.from(text, 'hex');
  if (B64.test(text)) return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return null;
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

async function verifyScrypt(password: string, stored: string): Promise<boolean> {
  const parts = stored.split(':');
  let n = 16384;
  let r = 8;
  let p = 1;
  let saltText: string;
  let hashText: string;
  if (parts.length === 3) [, saltText, hashText] = parts as [string, string, string];
  else if (parts.length === 6) {
    n = Number(parts[1]);
    r = Number(parts[2]);
    p = Number(parts[3]);
    saltText = parts[4]!;
    hashText = parts[5]!;
  } else return false;
  if (!Number.isInteger(n) || n < 2 || n > MAX_N || (n & (n - 1)) !== 0) return false;
  if (!Number.isInteger(r) || r < 1 || r > MAX_R || !Number.isInteger(p) || p < 1 || p > MAX_P) return false;
  const expected = bytes(hashText);
  if (!expected || expected.length === 0 || expected.length > MAX_KEY) return false;
  const opts = { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 };
  const pw = Buffer.from(password, 'utf8');
  // Python's hashlib.scrypt takes the salt as bytes: the decoded salt, or the salt's text itself
  // when a writer passed it encoded (both are seen in the wild; a wrong guess cannot match).
  const decoded = bytes(saltText);
  if (decoded && equal(await scrypt(pw, decoded, expected.length, opts), expected)) return true;
  return equal(await scrypt(pw, Buffer.from(saltText, 'utf8'), expected.length, opts), expected);
}

export async function verifyLiteLLMPassword(password: string, stored: string | null): Promise<boolean> {
  if (!stored) return false;
  if (stored.startsWith('scrypt:')) return verifyScrypt(password, stored).catch(() => false);
  const given = Buffer.from(password, 'utf8');
  if (/^[0-9a-f]{64}$/.test(stored) && equal(Buffer.from(createHash('sha256').update(given).digest('hex')), Buffer.from(stored))) return true;
  return equal(given, Buffer.from(stored, 'utf8'));
}

/**
 * What /user/new and /user/update store for a password: `scrypt:<salt>:<hash>` in hex, with
 * scrypt's usual N=16384, r=8, p=1 and a 64-byte key — the current form above, so the login here
 * (and LiteLLM's scrypt check) reads it. Never the password itself.
 */
export async function hashLiteLLMPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(Buffer.from(password, 'utf8'), salt, 64, { N: 16384, r: 8, p: 1, maxmem: 256 * 16384 * 8 + 1024 * 1024 });
  return `scrypt:${salt.toString('hex')}:${key.toString('hex')}`;
}
