// The admin page's login sessions (issue 14), end to end: the real gateway (2 workers) on a real
// PostgreSQL, the mock upstream, every call on a fresh connection. Login with each credential
// kind, the cookie, CSRF, the session as the caller of the management API and of model calls
// (spend on the right key and user), logout, expiry, and the failed-login limit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  MASTER_KEY, type Weir, adminOk, call, chat, chatBody, closeAndCheckLedgers, dbPool, governanceConfig, ledgerDatabase, one, startMock, startWeirOn, waitFor, writeConfigFile,
} from './governance-helpers';
import { assertSecurityHeaders, login, setCookie, withSession } from './ui-helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const UI_USER = 'ops';
const UI_PASS = 'ops-password-7781';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('ui_login');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)), { env: { UI_USERNAME: UI_USER, UI_PASSWORD: UI_PASS } });
  pool = dbPool(db);
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close());
});

const WRONG = 'Invalid credentials used to access UI. Check the username and password, or the key.';

test('login with UI_USERNAME / UI_PASSWORD: proxy_admin, the cookie flags, the security headers', async () => {
  const r = await call(weir.url, '/ui/login', { body: { username: UI_USER, password: UI_PASS } });
  assert.equal(r.status, 200, r.text);
  assertSecurityHeaders(r, 'login');
  assert.equal(r.json.user_role, 'proxy_admin');
  assert.equal(r.json.user_id, 'default_user_id');
  assert.deepEqual(r.json.team_ids, []);
  assert.match(r.json.csrf_token, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(Date.parse(r.json.expires_at) > Date.now());
  const c = setCookie(r);
  assert.match(c, /^weir_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/);
  // Behind a proxy that terminated https, the cookie is Secure.
  const s = await call(weir.url, '/ui/login', { body: { username: UI_USER, password: UI_PASS }, headers: { 'x-forwarded-proto': 'https' } });
  assert.match(setCookie(s), /; Secure$/);
  // The session answers GET /ui/session with the same identity.
  const token = c.slice(0, c.indexOf(';'));
  const g = await call(weir.url, '/ui/session', { headers: { cookie: token } });
  assert.equal(g.status, 200);
  assertSecurityHeaders(g, 'session');
  assert.deepEqual(g.json, r.json);
});

test('login with the master key: as the password of `admin`, and as a key', async () => {
  assert.equal((await login(weir.url, { username: 'admin', password: MASTER_KEY })).json.user_role, 'proxy_admin');
  assert.equal((await login(weir.url, { key: MASTER_KEY })).json.user_role, 'proxy_admin');
});

test('wrong credentials: 401, one message whichever part was wrong, nothing echoed', async () => {
  const tries = [
    { username: UI_USER, password: 'wrong-password' },
    { username: 'nobody', password: UI_PASS },
    { username: 'someone-else', password: MASTER_KEY },
    { key: 'sk-not-a-key-0000' },
    { key: 'not-even-sk' },
    { username: 'no-such-user@example.com', password: 'whatever-123' },
  ];
  for (const body of tries) {
    const r = await call(weir.url, '/ui/login', { body });
    assert.equal(r.status, 401, JSON.stringify(body));
    assert.deepEqual(r.json, { error: { message: WRONG, type: 'auth_error', param: null, code: '401' } });
    assertSecurityHeaders(r, 'wrong login');
    assert.equal(r.headers['set-cookie'], undefined);
    for (const v of Object.values(body)) if (v.length > 8) assert.ok(!r.text.includes(v), 'no credential echoed');
  }
  // Malformed input is a 400, not a crash.
  for (const body of ['{"username":', '[]', '{"username": 5, "password": 6}']) {
    const r = await call(weir.url, '/ui/login', { body });
    assert.equal(r.status, 400, body);
    assert.equal(r.json.error.type, 'bad_request_error');
  }
  const g = await call(weir.url, '/ui/login', { method: 'GET' });
  assert.equal(g.status, 405);
  assertSecurityHeaders(g, '405');
});

test('login with a virtual key: its user role and teams; the session calls models on that key', async () => {
  await adminOk(weir.url, '/team/new', { team_id: 'ui-team' });
  await adminOk(weir.url, '/user/new', { user_id: 'ui-u1', user_role: 'internal_user', auto_create_key: false });
  const k = await adminOk(weir.url, '/key/generate', { user_id: 'ui-u1', team_id: 'ui-team' });
  const s = await login(weir.url, { key: k.key });
  assert.equal(s.json.user_id, 'ui-u1');
  assert.equal(s.json.user_role, 'internal_user');
  assert.deepEqual(s.json.team_ids, ['ui-team']);
  // The page's "test this model" button: a chat call with the cookie and the CSRF token.
  const r = await withSession(weir.url, '/v1/chat/completions', s, { body: chatBody(), csrf: true });
  assert.equal(r.status, 200, r.text);
  await waitFor('the session call in SpendLogs under the key', async () => (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token])).n === 1);
  const log = await one(pool, `SELECT "user", team_id, spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token]);
  assert.equal(log.user, 'ui-u1');
  assert.equal(log.team_id, 'ui-team');
  assert.ok(log.spend > 0);
  // A blocked key logs in no more.
  await adminOk(weir.url, '/key/block', { key: k.key });
  const b = await call(weir.url, '/ui/login', { body: { key: k.key } });
  assert.equal(b.status, 401);
});

/** LiteLLM_UserTable.password as LiteLLM writes it: scrypt (current) or sha256 hex (older). */
function scryptHash(password: string): string {
  const salt = randomBytes(16);
  const dk = scryptSync(password, salt, 64, { N: 16384, r: 8, p: 1 });
  return `scrypt:${salt.toString('hex')}:${dk.toString('hex')}`;
}

test('a password set through /user/new logs in; /user/update replaces it', async () => {
  await adminOk(weir.url, '/user/new', { user_id: 'ui-made', user_email: 'made@example.com', user_role: 'internal_user_viewer', auto_create_key: false, password: 'first-pass-1' });
  assert.equal((await login(weir.url, { username: 'made@example.com', password: 'first-pass-1' })).json.user_id, 'ui-made');
  await adminOk(weir.url, '/user/update', { user_id: 'ui-made', password: 'second-pass-2' });
  assert.equal((await call(weir.url, '/ui/login', { body: { username: 'ui-made', password: 'first-pass-1' } })).status, 401);
  assert.equal((await login(weir.url, { username: 'ui-made', password: 'second-pass-2' })).json.user_role, 'internal_user_viewer');
});

test("login with a user's password as LiteLLM stores it (scrypt, sha256, by id or email); calls are the user's", async () => {
  await adminOk(weir.url, '/user/new', { user_id: 'ui-viewer', user_email: 'Viewer@Example.com', user_role: 'proxy_admin_viewer', auto_create_key: false });
  await adminOk(weir.url, '/user/new', { user_id: 'ui-dev', user_email: 'dev@example.com', user_role: 'internal_user', auto_create_key: false, teams: ['ui-team'] });
  await pool.query(`UPDATE "LiteLLM_UserTable" SET password = $1 WHERE user_id = 'ui-viewer'`, [scryptHash('viewer-pass-1')]);
  await pool.query(`UPDATE "LiteLLM_UserTable" SET password = $1 WHERE user_id = 'ui-dev'`, [sha('dev-pass-2')]);
  const v = await login(weir.url, { username: 'viewer@example.com', password: 'viewer-pass-1' });
  assert.equal(v.json.user_id, 'ui-viewer');
  assert.equal(v.json.user_role, 'proxy_admin_viewer');
  assert.equal((await call(weir.url, '/ui/login', { body: { username: 'ui-viewer', password: 'viewer-pass-2' } })).status, 401);
  const d = await login(weir.url, { username: 'ui-dev', password: 'dev-pass-2' });
  assert.equal(d.json.user_role, 'internal_user');
  assert.deepEqual(d.json.team_ids, ['ui-team']);
  // The session's calls are the user's (LiteLLM mints a key for a password login; so does Weir).
  const r = await withSession(weir.url, '/v1/chat/completions', d, { body: chatBody(), csrf: true });
  assert.equal(r.status, 200, r.text);
  await waitFor("the user's session call in SpendLogs", async () => (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs" WHERE "user" = 'ui-dev'`)).n === 1);
  // The viewer reads the management API and changes nothing (the API's roles apply to sessions).
  assert.equal((await withSession(weir.url, '/key/list', v)).status, 200);
  const w = await withSession(weir.url, '/key/generate', v, { body: {}, csrf: true });
  assert.equal(w.status, 403, w.text);
});

test('CSRF: a state-changing call with the cookie needs x-csrf-token, in the dialect of its endpoint', async () => {
  const s = await login(weir.url, { key: MASTER_KEY });
  // Reads need no token.
  const list = await withSession(weir.url, '/key/list', s);
  assert.equal(list.status, 200, list.text);
  // A change without it, or with another session's: 403, nothing done.
  const other = await login(weir.url, { key: MASTER_KEY });
  const variants: Record<string, string>[] = [{}, { 'x-csrf-token': other.csrf }, { 'x-csrf-token': '' }];
  for (const headers of variants) {
    const r = await withSession(weir.url, '/key/generate', s, { body: { key_alias: 'csrf-refused' }, headers });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, '403');
    assert.match(r.json.error.message, /x-csrf-token/);
  }
  assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE key_alias = 'csrf-refused'`)).n, 0);
  const m = await withSession(weir.url, '/v1/messages', s, { body: { model: 'claude', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] } });
  assert.equal(m.status, 403);
  assert.equal(m.json.type, 'error');
  assert.equal(m.json.error.type, 'permission_error');
  // With the token: done, audited as the master key would be.
  const ok = await withSession(weir.url, '/key/generate', s, { body: { key_alias: 'csrf-accepted' }, csrf: true });
  assert.equal(ok.status, 200, ok.text);
  const c = await withSession(weir.url, '/v1/messages', s, { body: { model: 'claude', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }, csrf: true });
  assert.equal(c.status, 200, c.text);
});

test('an unknown session is refused like a wrong key; a key header ignores the cookie', async () => {
  const bogus = { cookie: 'weir_session=not-a-session-0000000000000000000000000000', csrf: 'x', json: {} };
  const a = await withSession(weir.url, '/key/list', bogus);
  assert.equal(a.status, 401);
  assert.equal(a.json.error.type, 'auth_error');
  const c = await withSession(weir.url, '/v1/chat/completions', bogus, { body: chatBody(), csrf: true });
  assert.equal(c.status, 401);
  const m = await withSession(weir.url, '/v1/messages', bogus, { body: { model: 'claude', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }, csrf: true });
  assert.equal(m.status, 401);
  assert.equal(m.json.error.type, 'authentication_error');
  assert.equal((await call(weir.url, '/ui/session', { headers: { cookie: bogus.cookie } })).status, 401);
  assert.equal((await call(weir.url, '/ui/session')).status, 401);
  // A request with its own key is the key's, whatever cookie it carries.
  const k = await adminOk(weir.url, '/key/generate', {});
  const r = await chat(weir.url, k.key, 'gpt', {}, { cookie: bogus.cookie });
  assert.equal(r.status, 200, r.text);
});

test('logout: 200, the cookie cleared, the session gone everywhere', async () => {
  const s = await login(weir.url, { username: UI_USER, password: UI_PASS });
  assert.equal((await withSession(weir.url, '/key/list', s)).status, 200);
  const r = await withSession(weir.url, '/ui/logout', s, { body: {} });
  assert.equal(r.status, 200);
  assertSecurityHeaders(r, 'logout');
  assert.match(setCookie(r), /^weir_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0$/);
  assert.equal((await withSession(weir.url, '/ui/session', s)).status, 401);
  // Both workers ask the control thread: several fresh connections, every one refused.
  for (let i = 0; i < 4; i++) assert.equal((await withSession(weir.url, '/key/list', s)).status, 401);
});

test("logout of a user's password session blocks the key minted for it", async () => {
  const d = await login(weir.url, { username: 'ui-dev', password: 'dev-pass-2' });
  const minted = await one(pool, `SELECT token FROM "LiteLLM_VerificationToken" WHERE user_id = 'ui-dev' AND metadata->>'weir_ui_session' = 'true' AND blocked IS NOT TRUE ORDER BY created_at DESC LIMIT 1`);
  assert.ok(minted);
  await withSession(weir.url, '/ui/logout', d, { body: {} });
  await waitFor('the minted key blocked', async () => (await one(pool, `SELECT blocked FROM "LiteLLM_VerificationToken" WHERE token = $1`, [minted.token])).blocked === true);
});

test('sessions expire (general_settings.ui_session_duration); failed logins are limited per address', async () => {
  const short = await startWeirOn(writeConfigFile(`model_list: []\ngeneral_settings:\n  master_key: ${MASTER_KEY}\n  ui_session_duration: 2s\n`), { workers: 1 });
  try {
    const r = await call(short.url, '/ui/login', { body: { key: MASTER_KEY } });
    assert.match(setCookie(r), /; Max-Age=2$/);
    const c = setCookie(r);
    const s = { cookie: c.slice(0, c.indexOf(';')), csrf: r.json.csrf_token, json: r.json };
    assert.equal((await withSession(short.url, '/ui/session', s)).status, 200);
    await waitFor('the session to expire', async () => (await withSession(short.url, '/ui/session', s)).status === 401, 15_000, 200);
    const after = await withSession(short.url, '/key/list', s);
    assert.equal(after.status, 401);
    // Ten wrong tries from this address, then even the right credentials wait.
    for (let i = 0; i < 10; i++) assert.equal((await call(short.url, '/ui/login', { body: { key: `sk-wrong-${i}` } })).status, 401);
    const limited = await call(short.url, '/ui/login', { body: { key: MASTER_KEY } });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error.type, 'rate_limit_error');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assertSecurityHeaders(limited, '429');
  } finally {
    await short.stop();
  }
});
