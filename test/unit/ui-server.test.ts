// The admin page's server parts on their own: the session table (bound, expiry, hashed tokens),
// the failed-login limit, LiteLLM's password formats, cookie and Accept-Encoding parsing, the
// session duration setting, and the live view's percentiles. Clocks are injected: no waiting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { SessionTable } from '../../src/ui/session-table';
import { LoginLimiter } from '../../src/ui/login-limiter';
import { verifyLiteLLMPassword } from '../../src/ui/password';
import { cookieValue, sessionCookie } from '../../src/ui/http-headers';
import { acceptsGzip, bundlePath } from '../../src/ui/static-serve';
import { sessionSeconds, DEFAULT_SESSION_SECONDS } from '../../src/ui/ui-control';
import { quantileMs } from '../../src/ui/live-tick';

const fields = (id: string) => ({ actor: { kind: 'master' as const }, userId: id, userRole: 'proxy_admin', teamIds: [], mintedKey: null });

test('sessions: found by token, never stored in clear, expire, oldest out past the cap', () => {
  let now = 1_000;
  const t = new SessionTable(3, () => now);
  const a = t.create(fields('a'), 100);
  assert.match(a.token, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(t.find(a.token)?.userId, 'a');
  assert.equal(t.find(a.token.slice(0, -1) + (a.token.endsWith('A') ? 'B' : 'A')), null);
  assert.ok(!JSON.stringify([...(t as unknown as { byHash: Map<string, unknown> }).byHash.keys()]).includes(a.token), 'only hashes are kept');
  now += 100;
  assert.equal(t.find(a.token), null, 'expired at expiresAt');
  assert.equal(t.size, 0);
  const b = t.create(fields('b'), 1000);
  const c = t.create(fields('c'), 1000);
  const d = t.create(fields('d'), 1000);
  const e = t.create(fields('e'), 1000);
  assert.equal(t.size, 3);
  assert.equal(t.find(b.token), null, 'the oldest went out');
  for (const s of [c, d, e]) assert.ok(t.find(s.token));
  assert.equal(t.remove(c.token)?.userId, 'c');
  assert.equal(t.find(c.token), null);
  assert.equal(t.find(''), null);
  assert.notEqual(d.session.csrf, e.session.csrf);
});

test('failed logins: limited per address past the cap in the window, cleared by success or the window end', () => {
  let now = 0;
  const l = new LoginLimiter(() => now, 3, 1000, 2);
  for (let i = 0; i < 3; i++) {
    assert.equal(l.retryAfterS('a'), 0);
    l.failed('a');
  }
  assert.equal(l.retryAfterS('a'), 1);
  assert.equal(l.retryAfterS('b'), 0, 'other addresses are not affected');
  now = 1000;
  assert.equal(l.retryAfterS('a'), 0, 'the window ended');
  l.failed('a');
  l.succeeded('a');
  for (let i = 0; i < 2; i++) l.failed('a');
  assert.equal(l.retryAfterS('a'), 0, 'success cleared the count');
  // Bounded: a third address pushes the oldest out.
  l.failed('b');
  l.failed('c');
  assert.equal((l as unknown as { byAddress: Map<string, unknown> }).byAddress.size, 2);
});

test("passwords as LiteLLM stores them: scrypt (hex, base64, with parameters), sha256 hex, plain", async () => {
  const salt = randomBytes(16);
  const hex = `scrypt:${salt.toString('hex')}:${scryptSync('pw-one', salt, 64, { N: 16384, r: 8, p: 1 }).toString('hex')}`;
  assert.equal(await verifyLiteLLMPassword('pw-one', hex), true);
  assert.equal(await verifyLiteLLMPassword('pw-two', hex), false);
  const b64 = `scrypt:16384:8:1:${salt.toString('base64')}:${scryptSync('pw-one', salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64')}`;
  assert.equal(await verifyLiteLLMPassword('pw-one', b64), true);
  // A salt used as its text (some writers pass the hex string itself to scrypt).
  const saltText = salt.toString('hex');
  const asText = `scrypt:${saltText}:${scryptSync('pw-one', Buffer.from(saltText), 64, { N: 16384, r: 8, p: 1 }).toString('hex')}`;
  assert.equal(await verifyLiteLLMPassword('pw-one', asText), true);
  assert.equal(await verifyLiteLLMPassword('pw-one', createHash('sha256').update('pw-one').digest('hex')), true);
  assert.equal(await verifyLiteLLMPassword('pw-one', 'pw-one'), true);
  assert.equal(await verifyLiteLLMPassword('pw-one', 'pw-onf'), false);
  assert.equal(await verifyLiteLLMPassword('pw-one', null), false);
  // Malformed or absurd rows are refused, not crashed on, and never take long.
  for (const bad of ['scrypt:', 'scrypt:zz:yy', 'scrypt:1048577:8:1:00:00', 'scrypt:16384:8:1:00', `scrypt:4194304:8:1:${saltText}:${'00'.repeat(32)}`, 'scrypt:16384:99:1:00:00']) {
    assert.equal(await verifyLiteLLMPassword('pw-one', bad), false, bad);
  }
});

test('cookies, Accept-Encoding, bundle paths', () => {
  assert.equal(cookieValue('a=1; weir_session=tok; b=2', 'weir_session'), 'tok');
  assert.equal(cookieValue('weir_sessionx=1', 'weir_session'), null);
  assert.equal(cookieValue(undefined, 'weir_session'), null);
  assert.equal(sessionCookie('t', 60, true), 'weir_session=t; HttpOnly; SameSite=Strict; Path=/; Max-Age=60; Secure');
  assert.equal(acceptsGzip('gzip, br'), true);
  assert.equal(acceptsGzip('br;q=1, gzip;q=0.5'), true);
  assert.equal(acceptsGzip('gzip;q=0'), false);
  assert.equal(acceptsGzip('*'), true);
  assert.equal(acceptsGzip('identity'), false);
  assert.equal(bundlePath('/ui'), 'index.html');
  assert.equal(bundlePath('/ui/'), 'index.html');
  assert.equal(bundlePath('/ui/assets/a.js'), 'assets/a.js');
  assert.equal(bundlePath('/uix'), null);
});

test('session duration: general_settings.ui_session_duration, else LITELLM_UI_SESSION_DURATION, else 12 h', () => {
  assert.equal(sessionSeconds({}, {}), DEFAULT_SESSION_SECONDS);
  assert.equal(sessionSeconds({ ui_session_duration: '30m' }, { LITELLM_UI_SESSION_DURATION: '1h' }), 1800);
  assert.equal(sessionSeconds({ ui_session_duration: 90 }, {}), 90);
  assert.equal(sessionSeconds({}, { LITELLM_UI_SESSION_DURATION: '24h' }), 86400);
  assert.equal(sessionSeconds({ ui_session_duration: 'soon' }, { LITELLM_UI_SESSION_DURATION: '2h' }), 7200);
  assert.equal(sessionSeconds({ ui_session_duration: -5 }, {}), DEFAULT_SESSION_SECONDS);
});

test('live percentiles: interpolated in the bucket, null without samples, +Inf at the last bound', () => {
  const bounds = [0.001, 0.01, 0.1];
  const cells = new Float64Array([0, 10, 0, 0, 0]);
  assert.equal(quantileMs(cells, 0, bounds, 0.5), 5.5);
  assert.equal(quantileMs(new Float64Array(5), 0, bounds, 0.5), null);
  assert.equal(quantileMs(new Float64Array([0, 0, 0, 4, 0]), 0, bounds, 0.99), 100);
  const mixed = new Float64Array([50, 0, 0, 50, 0]);
  assert.equal(quantileMs(mixed, 0, bounds, 0.5), 1);
  assert.equal(quantileMs(mixed, 0, bounds, 0.99), 100);
});
