// Virtual keys on the hot path, end to end: the real gateway (2 workers) on a real PostgreSQL
// database, the mock upstream over HTTP, every call on a fresh connection (so both workers serve).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type PgTap, type Weir, adminOk, burst, chat, dbPool, governanceConfig, messages, one, pgTap, sleep, startMock, startWeirOn, tally, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

let mock: MockUpstream;
let tap: PgTap;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('gov_keys');
  mock = await startMock();
  tap = await pgTap(db);
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, tap.url)));
  pool = dbPool(db);
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close(), () => tap?.close());
});

test('a generated key works at once, on both workers, on fresh connections', async () => {
  for (let round = 0; round < 4; round++) {
    const k = await adminOk(weir.url, '/key/generate', {});
    // No pause: the calls go out the moment /key/generate answered, 16 connections at once.
    const rs = await burst(16, () => chat(weir.url, k.key));
    assert.deepEqual(tally(rs), { 200: 16 }, `round ${round}: ${rs.filter((r) => r.status !== 200).map((r) => r.text).join('\n')}`);
  }
  // And in the Anthropic dialect, with the x-api-key header Claude Code uses.
  const k = await adminOk(weir.url, '/key/generate', {});
  const rs = await burst(8, () => messages(weir.url, k.key));
  assert.deepEqual(tally(rs), { 200: 8 });
});

test('an unknown key: 401 in both dialects', async () => {
  const key = 'sk-unknown-key-0000aaaa1111';
  const o = await chat(weir.url, key);
  assert.equal(o.status, 401);
  assert.equal(o.json.error.type, 'auth_error');
  assert.equal(o.json.error.code, '401');
  assert.match(o.json.error.message, /^Authentication Error, Invalid proxy server token passed\./);
  assert.match(o.json.error.message, /Unable to find token in cache or `LiteLLM_VerificationTokenTable`/);
  assert.ok(!o.text.includes(key), 'the key is not echoed in full');
  const a = await messages(weir.url, key);
  assert.equal(a.status, 401);
  assert.equal(a.json.type, 'error');
  assert.equal(a.json.error.type, 'authentication_error');
  assert.match(a.json.error.message, /Invalid proxy server token passed/);
  assert.equal(mock.requests.filter((r) => JSON.stringify(r.json ?? {}).includes('unknown')).length, 0);
});

test('a key that does not start with sk-: 401 with LiteLLM\'s message', async () => {
  const o = await chat(weir.url, 'abcd-not-a-virtual-key-wxyz');
  assert.equal(o.status, 401);
  assert.equal(o.json.error.message, "LiteLLM Virtual Key expected. Received=abcd****wxyz, expected to start with 'sk-'.");
  assert.equal(o.json.error.type, 'auth_error');
  const a = await messages(weir.url, 'abcd-not-a-virtual-key-wxyz');
  assert.equal(a.status, 401);
  assert.equal(a.json.error.type, 'authentication_error');
  assert.match(a.json.error.message, /LiteLLM Virtual Key expected/);
});

test('a flood of one unknown key is looked up in the database at most once per worker', async () => {
  const key = 'sk-flood-unknown-9d8c7b6a5f4e';
  const hash = sha(key);
  assert.equal(tap.count(hash), 0);
  const started = Date.now();
  const all = [];
  // 10 waves of 20, each after the previous one was answered: without a negative cache every
  // wave would go to the database again.
  for (let wave = 0; wave < 10; wave++) all.push(...(await burst(20, () => chat(weir.url, key))));
  const ms = Date.now() - started;
  assert.deepEqual(tally(all), { 401: 200 });
  assert.equal(new Set(all.map((r) => r.json.error.message)).size, 1, 'every answer is the same');
  const lookups = tap.count(hash);
  assert.ok(lookups >= 1 && lookups <= 2, `database lookups of the unknown key: ${lookups}`);
  assert.ok(ms < 10_000, `200 refusals took ${ms} ms`);
});

test('500 concurrent calls with one unknown key: looked up once (at most once per worker)', {
}, async () => {
  const key = 'sk-burst-unknown-5b4a3c2d1e';
  const rs = await burst(500, () => chat(weir.url, key));
  assert.deepEqual(tally(rs), { 401: 500 });
  const lookups = tap.count(sha(key));
  assert.ok(lookups <= 2, `database lookups of one unknown key during a burst of 500: ${lookups}`);
});

test('/key/block → 401 as soon as the admin call returns; /key/unblock → works again', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, k.key)).status, 200);
  await adminOk(weir.url, '/key/block', { key: k.key });
  const blocked = await burst(10, () => chat(weir.url, k.key));
  assert.deepEqual(tally(blocked), { 401: 10 });
  assert.equal(blocked[0]!.json.error.message, "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.");
  assert.equal(blocked[0]!.json.error.type, 'auth_error');
  assert.equal((await messages(weir.url, k.key)).status, 401);
  assert.equal((await one(pool, `SELECT blocked FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token])).blocked, true);
  await adminOk(weir.url, '/key/unblock', { key: k.key });
  assert.deepEqual(tally(await burst(10, () => chat(weir.url, k.key))), { 200: 10 });
});

test('/team/block → keys of the team get 401 at once; /team/unblock → back', async () => {
  const team = await adminOk(weir.url, '/team/new', { team_alias: 'blockable' });
  const k = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  assert.equal((await chat(weir.url, k.key)).status, 200);
  await adminOk(weir.url, '/team/block', { team_id: team.team_id });
  const rs = await burst(6, () => chat(weir.url, k.key));
  assert.deepEqual(tally(rs), { 401: 6 });
  assert.match(rs[0]!.json.error.message, new RegExp(`Team=${team.team_id} is blocked. Update via \`/team/unblock\``));
  await adminOk(weir.url, '/team/unblock', { team_id: team.team_id });
  assert.deepEqual(tally(await burst(6, () => chat(weir.url, k.key))), { 200: 6 });
});

test('an expired key (duration 1s): 401 expired_key', async () => {
  const k = await adminOk(weir.url, '/key/generate', { duration: '1s' });
  const first = await chat(weir.url, k.key);
  // The key may already be past its second on a slow machine; then the 401 below is all there is.
  assert.ok(first.status === 200 || first.status === 401, first.text);
  await sleep(Math.max(0, new Date(k.expires).getTime() - Date.now()) + 1100);
  const rs = await burst(6, () => chat(weir.url, k.key));
  assert.deepEqual(tally(rs), { 401: 6 });
  assert.equal(rs[0]!.json.error.type, 'expired_key');
  assert.match(rs[0]!.json.error.message, /^Authentication Error - Expired Key\. Key Expiry time .+ and current time .+/);
  const a = await messages(weir.url, k.key);
  assert.equal(a.status, 401);
  assert.equal(a.json.error.type, 'authentication_error');
});

test('key models restriction: 403 key_model_access_denied', async () => {
  const k = await adminOk(weir.url, '/key/generate', { models: ['gpt'] });
  assert.equal((await chat(weir.url, k.key, 'gpt')).status, 200);
  const before = mock.requests.length;
  const r = await chat(weir.url, k.key, 'other-model');
  assert.equal(r.status, 403);
  assert.equal(r.json.error.type, 'key_model_access_denied');
  assert.equal(r.json.error.param, 'model');
  assert.equal(r.json.error.code, '403');
  assert.match(r.json.error.message, /^key not allowed to access model\. This key can only access models=\[.gpt.\]\. Tried to access other-model$/);
  assert.equal(mock.requests.length, before, 'nothing reached the upstream');
  const a = await messages(weir.url, k.key, 'claude');
  assert.equal(a.status, 403);
  assert.equal(a.json.error.type, 'permission_error');
});

test('key models restriction: the model list is printed as LiteLLM (Python) prints it', async () => {
  const k = await adminOk(weir.url, '/key/generate', { models: ['gpt', 'claude'] });
  const r = await chat(weir.url, k.key, 'other-model');
  assert.equal(r.json.error.message, "key not allowed to access model. This key can only access models=['gpt', 'claude']. Tried to access other-model");
});

test('team models restriction: 403 team_model_access_denied', async () => {
  const team = await adminOk(weir.url, '/team/new', { models: ['gpt'] });
  const k = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  assert.equal((await chat(weir.url, k.key, 'gpt')).status, 200);
  const r = await chat(weir.url, k.key, 'other-model');
  assert.equal(r.status, 403);
  assert.equal(r.json.error.type, 'team_model_access_denied');
  assert.match(r.json.error.message, /^team not allowed to access model\. This team can only access models=\[.gpt.\]\. Tried to access other-model$/);
  // all-team-models on the key follows the team's list.
  const k2 = await adminOk(weir.url, '/key/generate', { team_id: team.team_id, models: ['all-team-models'] });
  assert.equal((await chat(weir.url, k2.key, 'gpt')).status, 200);
  assert.equal((await chat(weir.url, k2.key, 'other-model')).status, 403);
});

test('key aliases route the alias to its model group', async () => {
  const k = await adminOk(weir.url, '/key/generate', { aliases: { 'my-alias': 'gpt' } });
  const before = mock.requests.length;
  const r = await chat(weir.url, k.key, 'my-alias');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['x-litellm-model-group'], 'gpt');
  assert.equal(mock.requests.length, before + 1);
  assert.equal(mock.requests.at(-1)!.json.model, 'weir-budget-model');
  // The alias is the key's own: another key does not have it.
  const other = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, other.key, 'my-alias')).status, 400);
  // A key restricted to the alias's target may call it through the alias.
  const k2 = await adminOk(weir.url, '/key/generate', { models: ['gpt'], aliases: { 'my-alias': 'gpt' } });
  assert.equal((await chat(weir.url, k2.key, 'my-alias')).status, 200);
});

test('access groups (model_info.access_groups) grant their models', async () => {
  const k = await adminOk(weir.url, '/key/generate', { models: ['vip'] });
  assert.equal((await chat(weir.url, k.key, 'secret-model')).status, 200);
  const denied = await chat(weir.url, k.key, 'gpt');
  assert.equal(denied.status, 403);
  assert.equal(denied.json.error.type, 'key_model_access_denied');
  // Through a team's models too.
  const team = await adminOk(weir.url, '/team/new', { models: ['vip'] });
  const tk = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  assert.equal((await chat(weir.url, tk.key, 'secret-model')).status, 200);
  assert.equal((await chat(weir.url, tk.key, 'gpt')).status, 403);
});

test('a deleted key (/key/delete) is refused at once on both workers', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, k.key)).status, 200);
  await adminOk(weir.url, '/key/delete', { keys: [k.key] });
  const rs = await burst(10, () => chat(weir.url, k.key));
  assert.deepEqual(tally(rs), { 401: 10 });
});

test('a key row inserted by another writer is found on first use (one lookup, no restart)', async () => {
  const raw = 'sk-inserted-by-python-proxy-01';
  await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, key_name) VALUES ($1, 'sk-...y-01')`, [sha(raw)]);
  const rs = await burst(8, () => chat(weir.url, raw));
  assert.deepEqual(tally(rs), { 200: 8 }, rs.map((r) => r.text).join('\n'));
  // The key's lookups only: the spend rows of these calls name the key too, and their flush may
  // land between the two counts.
  const lookup = /^SELECT .* FROM "LiteLLM_VerificationToken" WHERE "token" = ANY/s;
  const lookups = tap.countIn(sha(raw), lookup);
  assert.ok(lookups >= 1 && lookups <= 2, `lookups: ${lookups}`);
  // Known now: more calls do not go to the database.
  assert.deepEqual(tally(await burst(8, () => chat(weir.url, raw))), { 200: 8 });
  assert.equal(tap.countIn(sha(raw), lookup), lookups);
});

test('/key/update takes effect on the next call: budget and models', async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 10 });
  assert.equal((await chat(weir.url, k.key)).status, 200);
  await adminOk(weir.url, '/key/update', { key: k.key, max_budget: 0.001 });
  const r = await chat(weir.url, k.key);
  assert.equal(r.status, 429);
  assert.equal(r.json.error.type, 'budget_exceeded');
  await adminOk(weir.url, '/key/update', { key: k.key, max_budget: 10, models: ['secret-model'] });
  assert.equal((await chat(weir.url, k.key, 'gpt')).status, 403);
  assert.equal((await chat(weir.url, k.key, 'secret-model')).status, 200);
});

test('a key refused as unknown, then created with that value, works at once (the negative cache does not hide it)', async () => {
  const raw = 'sk-created-after-a-miss-4242';
  assert.deepEqual(tally(await burst(8, () => chat(weir.url, raw))), { 401: 8 });
  await adminOk(weir.url, '/key/generate', { key: raw });
  assert.deepEqual(tally(await burst(8, () => chat(weir.url, raw))), { 200: 8 });
});

test('wildcard entries in a key\'s models', async () => {
  const k = await adminOk(weir.url, '/key/generate', { models: ['gpt-4o*'] });
  assert.equal((await chat(weir.url, k.key, 'gpt-4o-mini')).status, 200);
  assert.equal((await chat(weir.url, k.key, 'gpt')).status, 403);
});

test('client fallbacks must be models the key may call: 403 before anything is sent', async () => {
  const k = await adminOk(weir.url, '/key/generate', { models: ['gpt'] });
  const before = mock.requests.length;
  const r = await chat(weir.url, k.key, 'gpt', { fallbacks: ['claude'] });
  assert.equal(r.status, 403);
  assert.equal(r.json.error.type, 'key_model_access_denied');
  assert.match(r.json.error.message, /Tried to access claude$/);
  assert.equal(mock.requests.length, before, 'nothing reached the upstream');
  const ok = await chat(weir.url, k.key, 'gpt', { fallbacks: ['gpt'] });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(mock.requests.at(-1)!.json.fallbacks, undefined);
});
