// extractKey (auth.ts) and the authentication built on it (Identifier.identify in identity.ts):
// the key comes from the headers LiteLLM reads, in LiteLLM's order, and the 401s say what LiteLLM
// says without ever echoing a full key.
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { extractKey, KeyHashes, sha256, type AuthSettings } from '../../src/gateway/auth';
import { Identifier, type Identity } from '../../src/gateway/identity';
import { GovernanceView } from '../../src/gateway/governance';
import { KeyIndex } from '../../src/state/key-index';
import { GatewayError } from '../../src/gateway/errors';
import { keyProfile } from '../support/key-profile';

/** Master-key-only authentication (no key store): what `authenticate` did before virtual keys. */
const masterOnly = new Identifier(null, new GovernanceView(null), async () => {
  throw new Error('no lookup without a key store');
});
function authenticate(h: Record<string, string>, s: AuthSettings): Identity {
  const r = masterOnly.identify(h, s);
  assert.ok(!(r instanceof Promise), 'master-only authentication is synchronous');
  return r;
}

const MASTER = 'sk-master-0123456789abcdef';
const settings = (customKeyHeader: string | null = null, master: string | null = MASTER): AuthSettings => ({
  masterKeyHash: master === null ? null : sha256(master),
  customKeyHeader,
});

/** Runs authenticate and returns the GatewayError it throws (asserting it throws one). */
function reject(h: Record<string, string>, s: AuthSettings = settings()): GatewayError {
  try {
    authenticate(h, s);
  } catch (e) {
    assert.ok(e instanceof GatewayError, `expected a GatewayError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${JSON.stringify(h)} to be refused`);
}

// ---- extractKey: each header on its own ----------------------------------------------------------

test('x-litellm-api-key with and without Bearer', () => {
  assert.equal(extractKey({ 'x-litellm-api-key': 'sk-1' }, null), 'sk-1');
  assert.equal(extractKey({ 'x-litellm-api-key': 'Bearer sk-1' }, null), 'sk-1');
  assert.equal(extractKey({ 'x-litellm-api-key': 'bearer   sk-1 ' }, null), 'sk-1');
  assert.equal(extractKey({ 'x-litellm-api-key': 'BEARER sk-1' }, null), 'sk-1');
});

test('Authorization: Bearer / bearer / Basic / AWS4 Credential=Bearer', () => {
  assert.equal(extractKey({ authorization: 'Bearer sk-2' }, null), 'sk-2');
  assert.equal(extractKey({ authorization: 'bearer sk-2' }, null), 'sk-2');
  assert.equal(extractKey({ authorization: 'Bearer    sk-2  ' }, null), 'sk-2');
  assert.equal(extractKey({ authorization: 'Basic sk-raw-basic' }, null), 'sk-raw-basic');
  assert.equal(extractKey({ authorization: 'basic sk-raw-basic' }, null), 'sk-raw-basic');
  assert.equal(
    extractKey({ authorization: 'AWS4-HMAC-SHA256 Credential=Bearer sk-aws/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc' }, null),
    'sk-aws',
  );
});

test('an unknown Authorization scheme is malformed (null), whatever else is sent', () => {
  assert.equal(extractKey({ authorization: 'Token sk-3' }, null), null);
  assert.equal(extractKey({ authorization: 'sk-3' }, null), null);
  assert.equal(extractKey({ authorization: 'Digest username="x"' }, null), null);
  // Authorization outranks api-key / x-api-key, so a bad scheme is not rescued by them.
  assert.equal(extractKey({ authorization: 'Token sk-3', 'x-api-key': 'sk-4' }, null), null);
});

test('api-key, x-api-key, x-goog-api-key, ocp-apim-subscription-key', () => {
  assert.equal(extractKey({ 'api-key': 'k-azure' }, null), 'k-azure');
  assert.equal(extractKey({ 'x-api-key': 'k-anthropic' }, null), 'k-anthropic');
  assert.equal(extractKey({ 'x-goog-api-key': 'k-goog' }, null), 'k-goog');
  assert.equal(extractKey({ 'ocp-apim-subscription-key': 'k-apim' }, null), 'k-apim');
});

test('no key header at all → empty string', () => {
  assert.equal(extractKey({}, null), '');
  assert.equal(extractKey({ 'content-type': 'application/json', 'x-litellm-customer-id': 'c' }, null), '');
  assert.equal(extractKey({}, 'x-my-key'), '');
});

// ---- extractKey: precedence ----------------------------------------------------------------------

test('LiteLLM header order: each header beats every one after it', () => {
  const order: [string, string][] = [
    ['x-litellm-api-key', 'Bearer k0'],
    ['authorization', 'Bearer k1'],
    ['api-key', 'k2'],
    ['x-api-key', 'k3'],
    ['x-goog-api-key', 'k4'],
    ['ocp-apim-subscription-key', 'k5'],
  ];
  for (let i = 0; i < order.length; i++) {
    // All headers from i on are present; the i-th must win.
    const h = Object.fromEntries(order.slice(i));
    assert.equal(extractKey(h, null), `k${i}`, `with ${Object.keys(h).join(', ')}`);
    // Reverse insertion order does not matter.
    assert.equal(extractKey(Object.fromEntries(order.slice(i).reverse()), null), `k${i}`);
  }
});

test('x-litellm-api-key beats even a malformed Authorization (Claude Code BYOK)', () => {
  assert.equal(extractKey({ 'x-litellm-api-key': 'sk-proxy', authorization: 'Token upstream' }, null), 'sk-proxy');
  assert.equal(extractKey({ 'x-litellm-api-key': 'sk-proxy', 'x-api-key': 'sk-ant-user' }, null), 'sk-proxy');
});

test('an empty x-litellm-api-key falls through to the next header', () => {
  assert.equal(extractKey({ 'x-litellm-api-key': '', authorization: 'Bearer k1' }, null), 'k1');
  assert.equal(extractKey({ 'x-litellm-api-key': '', 'x-api-key': 'k3' }, null), 'k3');
});

test('a custom key header overrides all others, with or without Bearer', () => {
  const all = {
    'x-my-key': 'Bearer custom',
    'x-litellm-api-key': 'k0',
    authorization: 'Bearer k1',
    'api-key': 'k2',
    'x-api-key': 'k3',
  };
  assert.equal(extractKey(all, 'x-my-key'), 'custom');
  assert.equal(extractKey({ ...all, 'x-my-key': 'plain-custom' }, 'x-my-key'), 'plain-custom');
  // Overrides a malformed Authorization too.
  assert.equal(extractKey({ 'x-my-key': 'c', authorization: 'Token t' }, 'x-my-key'), 'c');
  // When the custom header is absent, the usual order applies.
  const { 'x-my-key': _drop, ...rest } = all;
  assert.equal(_drop, 'Bearer custom');
  assert.equal(extractKey(rest, 'x-my-key'), 'k0');
});

// ---- authenticate --------------------------------------------------------------------------------

test('the master key passes from every header LiteLLM reads', () => {
  const s = settings();
  const variants: Record<string, string>[] = [
    { authorization: `Bearer ${MASTER}` },
    { authorization: `bearer ${MASTER}` },
    { authorization: `Basic ${MASTER}` },
    { authorization: `AWS4-HMAC-SHA256 Credential=Bearer ${MASTER}/x/y, Signature=z` },
    { 'x-litellm-api-key': MASTER },
    { 'x-litellm-api-key': `Bearer ${MASTER}` },
    { 'api-key': MASTER },
    { 'x-api-key': MASTER },
    { 'x-goog-api-key': MASTER },
    { 'ocp-apim-subscription-key': MASTER },
  ];
  for (const h of variants) {
    assert.deepEqual(authenticate(h, s), { kind: 'master' }, JSON.stringify(h));
  }
  assert.deepEqual(authenticate({ 'x-my-key': MASTER }, settings('x-my-key')), { kind: 'master' });
});

test('no key → 401 "No api key passed in."', () => {
  const e = reject({});
  assert.equal(e.status, 401);
  assert.equal(e.type, 'auth_error');
  assert.equal(e.message, 'Authentication Error, No api key passed in.');
  assert.equal(reject({ authorization: 'Bearer   ' }).status, 401);
  // An empty custom header is no key either.
  assert.match(reject({ 'x-my-key': '' }, settings('x-my-key')).message, /No api key passed in/);
});

test('unknown Authorization scheme → 401 "Malformed API Key…"', () => {
  for (const authz of ['Token sk-x', MASTER, 'Digest abc']) {
    const e = reject({ authorization: authz });
    assert.equal(e.status, 401);
    assert.equal(e.type, 'auth_error');
    assert.match(e.message, /^Malformed API Key passed in\. Ensure Key has `Bearer ` prefix\.$/);
  }
  // Even the master key in a valid lower header does not rescue a malformed Authorization.
  assert.match(reject({ authorization: 'Token x', 'x-api-key': MASTER }).message, /Malformed/);
});

test('a wrong key → 401 that never contains the full key', () => {
  const wrongKeys = [
    'sk-wrong-key-1234567890abcdefghijklmnop',
    'sk-abcdefghi', // 12 chars
    'short', // ≤ 8 chars: fully masked
    '123456789', // 9 chars
    MASTER + 'x',
    MASTER.slice(0, -1),
  ];
  for (const k of wrongKeys) {
    const variants: Record<string, string>[] = [{ authorization: `Bearer ${k}` }, { 'x-api-key': k }, { 'x-litellm-api-key': k }];
    for (const h of variants) {
      const e = reject(h);
      assert.equal(e.status, 401);
      assert.equal(e.type, 'auth_error');
      assert.match(e.message, /Authentication Error, Invalid proxy server token passed\. Received API Key = /);
      assert.ok(!e.message.includes(k), `message contains the full key ${k}: ${e.message}`);
      assert.ok(!e.message.includes(MASTER), 'message contains the master key');
    }
  }
  // Long keys show only their ends.
  const e = reject({ authorization: 'Bearer sk-wrong-key-1234567890abcdefghijklmnop' });
  assert.match(e.message, /Received API Key = sk-w\*\*\*\*mnop\./);
  assert.match(reject({ authorization: 'Bearer short' }).message, /Received API Key = \*\*\*\*\./);
});

test('the custom header is the only one read when it is present', () => {
  const s = settings('x-my-key');
  assert.doesNotThrow(() => authenticate({ 'x-my-key': `Bearer ${MASTER}`, authorization: 'Bearer wrong' }, s));
  const e = reject({ 'x-my-key': 'wrong-key-123456', authorization: `Bearer ${MASTER}` }, s);
  assert.equal(e.status, 401);
  assert.match(e.message, /Invalid proxy server token/);
  // Absent custom header: falls back to the standard headers.
  assert.doesNotThrow(() => authenticate({ authorization: `Bearer ${MASTER}` }, s));
});

test('keys are compared exactly (case, whitespace inside, prefixes)', () => {
  assert.equal(reject({ authorization: `Bearer ${MASTER.toUpperCase()}` }).status, 401);
  assert.equal(reject({ 'x-api-key': ` ${MASTER}x` }).status, 401);
  assert.equal(reject({ 'x-api-key': MASTER.slice(0, 10) }).status, 401);
});

test('no master key → everything passes', () => {
  const open = settings(null, null);
  const variants: Record<string, string>[] = [{}, { authorization: 'Token nonsense' }, { authorization: 'Bearer anything' }, { 'x-api-key': '' }];
  for (const h of variants) {
    assert.deepEqual(authenticate(h, open), { kind: 'open' }, JSON.stringify(h));
  }
  assert.deepEqual(authenticate({}, settings('x-my-key', null)), { kind: 'open' });
});

test('sha256 is the raw 32-byte digest of the key', () => {
  const d = sha256('sk-1234');
  assert.equal(d.length, 32);
  assert.equal(Buffer.from(d).toString('hex'), createHash('sha256').update('sk-1234').digest('hex'));
  assert.equal(Buffer.from(sha256('')).toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

// ---- virtual keys --------------------------------------------------------------------------------

const profile = keyProfile;

/** An Identifier over a real KeyIndex holding `keys` (key → record), with a recording lookup. */
function withKeys(keys: Record<string, number>, lookupAnswer: (hex: string) => boolean = () => false) {
  const index = KeyIndex.allocate(64);
  const profiles = Object.entries(keys).map(([k, rec]) => {
    index.set(sha256(k), rec);
    return profile(rec, { tokenHash: Buffer.from(sha256(k)).toString('hex'), keyAlias: `alias-${rec}` });
  });
  const view = new GovernanceView({ keys: profiles, endUsers: [], globalRecord: -1, enabled: true });
  const lookups: string[] = [];
  const ident = new Identifier(index, view, async (hex) => {
    lookups.push(hex);
    return lookupAnswer(hex);
  });
  return { ident, index, view, lookups };
}

const hexOf = (k: string) => createHash('sha256').update(k).digest('hex');

test('a virtual key in the shared index is identified synchronously with its profile', () => {
  const { ident, lookups } = withKeys({ 'sk-virtual-aaaaaaaa': 3, 'sk-virtual-bbbbbbbb': 7 });
  const r = ident.identify({ authorization: 'Bearer sk-virtual-bbbbbbbb' }, settings());
  assert.ok(!(r instanceof Promise));
  assert.equal(r.kind, 'key');
  assert.ok(r.kind === 'key');
  assert.equal(r.profile.record, 7);
  assert.equal(r.profile.keyAlias, 'alias-7');
  assert.equal(r.hash.toString('hex'), hexOf('sk-virtual-bbbbbbbb'));
  // The master key still wins, and no lookup left the worker.
  assert.deepEqual(ident.identify({ 'x-api-key': MASTER }, settings()), { kind: 'master' });
  assert.deepEqual(lookups, []);
});

test('a key not starting with sk- is refused without a lookup and without echoing it', () => {
  const { ident, lookups } = withKeys({});
  const key = 'not-a-virtual-key-123456';
  try {
    ident.identify({ authorization: `Bearer ${key}` }, settings());
    assert.fail('expected a 401');
  } catch (e) {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.status, 401);
    assert.equal(e.type, 'auth_error');
    assert.match(e.message, /^LiteLLM Virtual Key expected\. Received=not-\*\*\*\*3456, expected to start with 'sk-'\.$/);
    assert.ok(!e.message.includes(key));
  }
  assert.deepEqual(lookups, []);
});

test('an unknown sk- key is looked up once, then refused from the negative cache', async () => {
  const { ident, lookups } = withKeys({});
  const key = 'sk-unknown-0123456789';
  const first = ident.identify({ 'x-api-key': key }, settings());
  assert.ok(first instanceof Promise, 'an unseen key goes to the control thread');
  await assert.rejects(first, (e: unknown) => {
    assert.ok(e instanceof GatewayError);
    assert.equal(e.status, 401);
    assert.match(e.message, /Invalid proxy server token passed/);
    assert.ok(!e.message.includes(key));
    return true;
  });
  assert.deepEqual(lookups, [hexOf(key)], 'the lookup carries the hash, never the key');
  // Right after a miss: refused synchronously, no second lookup.
  assert.throws(() => ident.identify({ 'x-api-key': key }, settings()), (e: unknown) => e instanceof GatewayError && e.status === 401);
  assert.equal(lookups.length, 1);
});

test('a key the control thread finds is identified once it is in the index', async () => {
  const key = 'sk-fresh-0123456789';
  const state = withKeys({}, () => {
    // The control thread inserts the key and sends its profile before answering.
    state.index.set(sha256(key), 11);
    state.view.apply({ keys: [profile(11, { keyAlias: 'fresh' })], removedKeys: [], endUsers: [], removedEndUsers: [], globalRecord: -1 });
    return true;
  });
  const r = await state.ident.identify({ authorization: `Bearer ${key}` }, settings());
  assert.equal(r.kind, 'key');
  assert.ok(r.kind === 'key');
  assert.equal(r.profile.keyAlias, 'fresh');
  // From now on synchronous.
  const again = state.ident.identify({ authorization: `Bearer ${key}` }, settings());
  assert.ok(!(again instanceof Promise));
  assert.equal(state.lookups.length, 1);
});

// ---- KeyHashes: the worker's memo of key hashes ---------------------------------------------------

test('KeyHashes: a key seen again is not hashed again, and its hash is sha256 of the key', () => {
  const memo = new KeyHashes(4);
  const first = memo.of('sk-agent-1');
  assert.deepEqual(first, createHash('sha256').update('sk-agent-1').digest());
  // The same Buffer back: the memo answered, no second hash was made.
  assert.equal(memo.of('sk-agent-1'), first);
  assert.equal(memo.of(`sk-agent-${1}`), first, 'a key read into a new string is the same key');
  assert.notEqual(memo.of('sk-agent-2'), first);
  assert.equal(memo.size, 2);
});

test('KeyHashes: a flood of distinct keys holds at most its bound, and long keys are never held', () => {
  const memo = new KeyHashes(4);
  for (let i = 0; i < 1000; i++) {
    assert.deepEqual(memo.of(`sk-made-up-${i}`), sha256(`sk-made-up-${i}`));
    assert.ok(memo.size <= 4);
  }
  const long = `sk-${'x'.repeat(KeyHashes.KEY_MAX)}`;
  const before = memo.size;
  assert.deepEqual(memo.of(long), sha256(long));
  assert.equal(memo.size, before);
  assert.notEqual(memo.of(long), memo.of(long), 'hashed each time, not held');
});

test('identify: the master key and a wrong key still tell apart after the memo has them', () => {
  const s = settings();
  for (let i = 0; i < 3; i++) {
    assert.equal(authenticate({ authorization: `Bearer ${MASTER}` }, s).kind, 'master');
    assert.equal(reject({ authorization: 'Bearer sk-wrong-key-123456' }, s).status, 401);
  }
});
