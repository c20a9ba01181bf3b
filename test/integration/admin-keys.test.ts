// /key/* against a real database: response shapes, stored rows, notifications, bad input.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { stopTestPostgres } from '../support/postgres';
import { type Harness, harness } from './admin-harness.test';
import { blockRunKeys, generateRunKeys } from '../../src/admin/keys';
import { recordStatements } from '../support/pool-statements';

let h: Harness;
before(async () => {
  h = await harness('admin_keys');
});
after(async () => {
  await h.close();
  await stopTestPostgres();
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const keyRow = async (token: string) => (await h.rows(`SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1`, [token]))[0];
const count = async (table: string) => (await h.rows(`SELECT count(*)::int AS n FROM "${table}"`))[0].n as number;

test('/key/generate: LiteLLM response shape and the stored row', async () => {
  h.changes.length = 0;
  const r = await h.ok('POST', '/key/generate', {
    key_alias: 'ci-key',
    duration: '1h',
    budget_duration: '30d',
    max_budget: 10.5,
    models: ['gpt-4o'],
    tpm_limit: 1000,
    rpm_limit: 10,
    metadata: { team: 'x' },
    model_rpm_limit: { 'gpt-4o': 5 },
    model_tpm_limit: { 'gpt-4o': 500 },
    tags: ['a'],
    guardrails: ['g1'],
  });
  assert.match(r.key, /^sk-[A-Za-z0-9_-]{22}$/);
  assert.equal(r.token, sha(r.key));
  assert.equal(r.token_id, r.token);
  assert.equal(r.key_name, `sk-...${r.key.slice(-4)}`);
  assert.equal(r.expires, '2025-03-12T16:30:00.000Z');
  assert.equal(r.budget_reset_at, '2025-04-01T00:00:00.000Z');
  assert.equal(r.budget_duration, '30d');
  assert.equal(r.created_by, 'default_user_id');
  assert.equal(r.updated_by, 'default_user_id');
  assert.equal(r.created_at, '2025-03-12T15:30:00.000Z');
  assert.equal(r.updated_at, '2025-03-12T15:30:00.000Z');
  assert.deepEqual(r.tags, ['a']);
  assert.equal(r.litellm_budget_table, null);
  assert.equal(r.soft_budget, null);
  const row = await keyRow(r.token);
  assert.equal(row.key_alias, 'ci-key');
  assert.equal(row.key_name, r.key_name);
  assert.equal(row.max_budget, 10.5);
  assert.equal(Number(row.tpm_limit), 1000);
  assert.deepEqual(row.models, ['gpt-4o']);
  assert.deepEqual(row.metadata, { team: 'x', model_rpm_limit: { 'gpt-4o': 5 }, model_tpm_limit: { 'gpt-4o': 500 }, tags: ['a'], guardrails: ['g1'] });
  assert.equal(row.spend, 0);
  assert.deepEqual(h.changed('key'), [r.token]);
});

test('/key/generate with soft_budget creates a budget row and links it', async () => {
  const r = await h.ok('POST', '/key/generate', { soft_budget: 4 });
  assert.ok(r.budget_id);
  assert.equal(r.soft_budget, 4);
  assert.equal(r.litellm_budget_table.budget_id, r.budget_id);
  assert.equal(r.litellm_budget_table.soft_budget, 4);
  const b = (await h.rows(`SELECT * FROM "LiteLLM_BudgetTable" WHERE budget_id = $1`, [r.budget_id]))[0];
  assert.equal(b.soft_budget, 4);
  assert.equal(b.created_by, 'default_user_id');
  assert.equal((await keyRow(r.token)).budget_id, r.budget_id);
});

test('/key/generate with a given key, and the key must start with sk-', async () => {
  const r = await h.ok('POST', '/key/generate', { key: 'sk-my-own-key-123' });
  assert.equal(r.key, 'sk-my-own-key-123');
  assert.equal(r.token, sha('sk-my-own-key-123'));
  const e = await h.fail(400, 'POST', '/key/generate', { key: 'my-own-key' });
  assert.equal(e.param, 'key');
  assert.match(e.message, /sk-/);
  const dup = await h.fail(400, 'POST', '/key/generate', { key: 'sk-my-own-key-123' });
  assert.equal(dup.param, 'key');
});

test('/key/generate: duplicate key_alias is refused and nothing is written', async () => {
  const before = await count('LiteLLM_VerificationToken');
  const budgets = await count('LiteLLM_BudgetTable');
  const e = await h.fail(400, 'POST', '/key/generate', { key_alias: 'ci-key', soft_budget: 1 });
  assert.equal(e.message, "Key with alias 'ci-key' already exists. Unique key aliases across all keys are required.");
  assert.equal(e.param, 'key_alias');
  assert.equal(e.type, 'bad_request_error');
  assert.equal(await count('LiteLLM_VerificationToken'), before);
  assert.equal(await count('LiteLLM_BudgetTable'), budgets);
});

test('/key/generate: concurrent creations of one alias — exactly one wins', async () => {
  const rs = await Promise.all([1, 2, 3, 4].map(() => h.call('POST', '/key/generate', { key_alias: 'race' })));
  assert.deepEqual(rs.map((r) => r.status).sort(), [200, 400, 400, 400]);
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE key_alias = 'race'`))[0].n, 1);
});

test('/key/generate: unknown team_id / user_id / organization_id / budget_id → 400', async () => {
  const before = await count('LiteLLM_VerificationToken');
  for (const [field, msg] of [
    ['team_id', /Team id = nope does not exist/],
    ['user_id', /User id = nope does not exist/],
    ['organization_id', /Organization id = nope does not exist/],
    ['budget_id', /Budget id = nope does not exist/],
  ] as const) {
    const e = await h.fail(400, 'POST', '/key/generate', { [field]: 'nope' });
    assert.equal(e.param, field);
    assert.match(e.message, msg);
  }
  assert.equal(await count('LiteLLM_VerificationToken'), before);
});

test('/key/generate: negative budgets and limits, malformed durations → 400 with the field', async () => {
  for (const [body, param] of [
    [{ max_budget: -1 }, 'max_budget'],
    [{ soft_budget: -0.01 }, 'soft_budget'],
    [{ spend: -5 }, 'spend'],
    [{ tpm_limit: -1 }, 'tpm_limit'],
    [{ model_rpm_limit: { m: -1 } }, 'model_rpm_limit.m'],
    [{ duration: '30x' }, 'duration'],
    [{ budget_duration: '30x' }, 'budget_duration'],
    [{ budget_duration: '-1d' }, 'budget_duration'],
    [{ rotation_interval: 'weekly' }, 'rotation_interval'],
  ] as const) {
    const e = await h.fail(400, 'POST', '/key/generate', body);
    assert.equal(e.param, param, JSON.stringify(body));
  }
});

test('/key/generate: wrong types → 422 with the field', async () => {
  for (const [body, param] of [
    [{ max_budget: 'ten' }, 'max_budget'],
    [{ models: 'gpt-4o' }, 'models'],
    [{ metadata: ['x'] }, 'metadata'],
    [{ key_alias: 5 }, 'key_alias'],
    [{ blocked: 'yes' }, 'blocked'],
    [{ duration: 30 }, 'duration'],
    [{ models: [1] }, 'models.0'],
    [{ key_type: 'superuser' }, 'key_type'],
    [{ rpm_limit: 1.5 }, 'rpm_limit'],
  ] as const) {
    const e = await h.fail(422, 'POST', '/key/generate', body);
    assert.equal(e.param, param, JSON.stringify(body));
  }
});

test('/key/generate: metadata over 64 KB → 400', async () => {
  const e = await h.fail(400, 'POST', '/key/generate', { metadata: { blob: 'x'.repeat(70 * 1024) } });
  assert.equal(e.param, 'metadata');
  assert.match(e.message, /too large/);
  await h.ok('POST', '/key/generate', { metadata: { blob: 'x'.repeat(60 * 1024) } });
});

test('default_key_generate_params fill gaps; upperbound_key_generate_params cap', async () => {
  const g = await harness('admin_keys_params', {
    defaultKeyGenerateParams: { max_budget: 5, models: ['m1'], duration: '1d' },
    upperboundKeyGenerateParams: { max_budget: 100, duration: '30d', rpm_limit: 50 },
  });
  try {
    const d = await g.ok('POST', '/key/generate', {});
    assert.equal(d.max_budget, 5);
    assert.deepEqual(d.models, ['m1']);
    assert.equal(d.expires, '2025-03-13T15:30:00.000Z');
    assert.equal(d.rpm_limit, 50); // unset field takes the upper bound
    const own = await g.ok('POST', '/key/generate', { max_budget: 7, models: ['m2'] });
    assert.equal(own.max_budget, 7);
    assert.deepEqual(own.models, ['m2']);
    const over = await g.fail(400, 'POST', '/key/generate', { max_budget: 101 });
    assert.equal(over.message, 'max_budget is over max limit set in config - user_value=101; max_value=100');
    assert.equal(over.param, 'max_budget');
    const longer = await g.fail(400, 'POST', '/key/generate', { duration: '31d' });
    assert.equal(longer.param, 'duration');
    await g.ok('POST', '/key/generate', { duration: '4w' });
  } finally {
    await g.close();
  }
});

test('/key/update: fields, duration, budget_duration, metadata fields, 404', async () => {
  const k = await h.ok('POST', '/key/generate', { key_alias: 'upd', metadata: { a: 1 } });
  h.setNow('2025-03-20T10:00:00.000Z');
  h.changes.length = 0;
  const r = await h.ok('POST', '/key/update', { key: k.key, max_budget: 3, duration: '2h', budget_duration: '1d', tags: ['t'], models: ['x'] });
  assert.equal(r.key, k.key);
  assert.equal(r.token, k.token);
  assert.equal(r.max_budget, 3);
  assert.equal(r.expires, '2025-03-20T12:00:00.000Z');
  assert.equal(r.budget_reset_at, '2025-03-21T00:00:00.000Z');
  assert.equal(r.updated_at, '2025-03-20T10:00:00.000Z');
  const row = await keyRow(k.token);
  assert.deepEqual(row.metadata, { a: 1, tags: ['t'] });
  assert.deepEqual(row.models, ['x']);
  assert.equal(row.created_at.toISOString(), '2025-03-12T15:30:00.000Z');
  assert.deepEqual(h.changed('key'), [k.token]);
  // by hash; duration "-1" / null → never expires; alias cleared
  const r2 = await h.ok('POST', '/key/update', { key: k.token, duration: '-1', key_alias: null });
  assert.equal(r2.expires, null);
  assert.equal(r2.key_alias, null);
  await h.fail(404, 'POST', '/key/update', { key: 'sk-does-not-exist', max_budget: 1 });
  await h.fail(422, 'POST', '/key/update', { max_budget: 1 });
  h.setNow('2025-03-12T15:30:00.000Z');
});

test('/key/update: alias taken by another key → 400; same alias on itself is fine', async () => {
  const a = await h.ok('POST', '/key/generate', { key_alias: 'alias-a' });
  await h.ok('POST', '/key/generate', { key_alias: 'alias-b' });
  const e = await h.fail(400, 'POST', '/key/update', { key: a.key, key_alias: 'alias-b' });
  assert.match(e.message, /alias 'alias-b' already exists/);
  await h.ok('POST', '/key/update', { key: a.key, key_alias: 'alias-a', max_budget: 1 });
  await h.fail(400, 'POST', '/key/update', { key: a.key, team_id: 'missing-team' });
  await h.fail(400, 'POST', '/key/update', { key: a.key, budget_duration: '30x' });
  await h.fail(400, 'POST', '/key/update', { key: a.key, max_budget: -3 });
});

test('/key/update: temp_budget_increase needs temp_budget_expiry (in the future)', async () => {
  const k = await h.ok('POST', '/key/generate', { max_budget: 10 });
  const e = await h.fail(400, 'POST', '/key/update', { key: k.key, temp_budget_increase: 5 });
  assert.equal(e.param, 'temp_budget_expiry');
  await h.fail(400, 'POST', '/key/update', { key: k.key, temp_budget_expiry: '2025-04-01T00:00:00Z' });
  await h.fail(400, 'POST', '/key/update', { key: k.key, temp_budget_increase: 5, temp_budget_expiry: '2020-01-01T00:00:00Z' });
  await h.ok('POST', '/key/update', { key: k.key, temp_budget_increase: 5, temp_budget_expiry: '2025-04-01T00:00:00Z' });
  const row = await keyRow(k.token);
  assert.equal(row.metadata.temp_budget_increase, 5);
  assert.equal(row.metadata.temp_budget_expiry, '2025-04-01T00:00:00.000Z');
  assert.equal(row.max_budget, 10);
});

test('/key/update soft_budget updates the linked budget row or creates one', async () => {
  const k = await h.ok('POST', '/key/generate', {});
  await h.ok('POST', '/key/update', { key: k.key, soft_budget: 2 });
  const row = await keyRow(k.token);
  assert.ok(row.budget_id);
  await h.ok('POST', '/key/update', { key: k.key, soft_budget: 3 });
  const b = (await h.rows(`SELECT soft_budget FROM "LiteLLM_BudgetTable" WHERE budget_id = $1`, [row.budget_id]))[0];
  assert.equal(b.soft_budget, 3);
});

test('/key/info (admin): any key, raw or hash; 404 for an unknown one', async () => {
  const k = await h.ok('POST', '/key/generate', { key_alias: 'info-me', soft_budget: 1 });
  const r = await h.ok('GET', `/key/info?key=${k.token}`);
  assert.equal(r.key, k.token);
  assert.equal(r.info.key_alias, 'info-me');
  assert.equal(r.info.litellm_budget_table.soft_budget, 1);
  assert.equal('token' in r.info, false);
  const e = await h.fail(404, 'GET', `/key/info?key=sk-nope`);
  assert.equal(e.message, 'Key not found in database');
  await h.fail(404, 'GET', '/key/info'); // the master key has no row
});

test('/v2/key/info: several keys at once', async () => {
  const a = await h.ok('POST', '/key/generate', {});
  const b = await h.ok('POST', '/key/generate', {});
  const r = await h.ok('POST', '/v2/key/info', { keys: [a.key, b.token] });
  assert.deepEqual(r.key, [a.key, b.token]);
  assert.equal(r.info.length, 2);
  await h.fail(422, 'POST', '/v2/key/info', {});
  await h.fail(404, 'POST', '/v2/key/info', { keys: ['sk-none'] });
});

test('/key/list: pagination, filters, full objects, sorting', async () => {
  const g = await harness('admin_keys_list');
  try {
    await g.ok('POST', '/team/new', { team_id: 't1' });
    await g.ok('POST', '/user/new', { user_id: 'u1', auto_create_key: false });
    const made = [];
    for (let i = 0; i < 5; i++) {
      g.setNow(`2025-03-12T15:3${i}:00.000Z`);
      made.push(await g.ok('POST', '/key/generate', { key_alias: `k${i}`, team_id: i < 3 ? 't1' : null, user_id: i === 4 ? 'u1' : null, max_budget: i }));
    }
    const p1 = await g.ok('GET', '/key/list?page=1&size=2');
    assert.deepEqual(p1.keys, [made[4].token, made[3].token]); // created_at desc
    assert.equal(p1.total_count, 5);
    assert.equal(p1.current_page, 1);
    assert.equal(p1.total_pages, 3);
    const p3 = await g.ok('GET', '/key/list?page=3&size=2');
    assert.deepEqual(p3.keys, [made[0].token]);
    const team = await g.ok('GET', '/key/list?team_id=t1&return_full_object=true&sort_by=max_budget&sort_order=asc');
    assert.deepEqual(team.keys.map((k: any) => k.key_alias), ['k0', 'k1', 'k2']);
    assert.equal(team.keys[0].token, made[0].token);
    assert.deepEqual((await g.ok('GET', '/key/list?user_id=u1')).keys, [made[4].token]);
    assert.deepEqual((await g.ok('GET', '/key/list?key_alias=k2')).keys, [made[2].token]);
    assert.deepEqual((await g.ok('GET', `/key/list?key_hash=${made[1].token}`)).keys, [made[1].token]);
    assert.equal((await g.fail(400, 'GET', '/key/list?sort_by=password')).param, 'sort_by');
    assert.equal((await g.fail(422, 'GET', '/key/list?size=101')).param, 'size');
    assert.equal((await g.fail(422, 'GET', '/key/list?page=0')).param, 'page');
    assert.equal((await g.fail(422, 'GET', '/key/list?page=abc')).param, 'page');
  } finally {
    await g.close();
  }
});

test('/key/regenerate and /key/{key}/regenerate: new key, same row otherwise', async () => {
  const k = await h.ok('POST', '/key/generate', { key_alias: 'rot', max_budget: 9, metadata: { m: 1 } });
  await h.rows(`UPDATE "LiteLLM_VerificationToken" SET spend = 1.25 WHERE token = $1`, [k.token]);
  h.changes.length = 0;
  const r = await h.ok('POST', `/key/${encodeURIComponent(k.key)}/regenerate`, {});
  assert.notEqual(r.key, k.key);
  assert.match(r.key, /^sk-/);
  assert.equal(r.token, sha(r.key));
  assert.equal(r.token_id, r.token);
  assert.equal(r.key_alias, 'rot');
  assert.equal(r.max_budget, 9);
  assert.equal(r.spend, 1.25);
  assert.equal(r.rotation_count, 1);
  assert.equal(await keyRow(k.token), undefined);
  const row = await keyRow(r.token);
  assert.equal(row.key_name, `sk-...${r.key.slice(-4)}`);
  assert.deepEqual(row.metadata, { m: 1 });
  assert.deepEqual(h.changed('key').sort(), [k.token, r.token].sort());
  // body form, with a chosen key and changed fields
  // Weir's schema has no LiteLLM_DeprecatedVerificationToken: a grace period is refused, the key kept.
  assert.equal((await h.fail(400, 'POST', '/key/regenerate', { key: r.token, grace_period: '1h' })).param, 'grace_period');
  assert.ok(await keyRow(r.token));
  const r2 = await h.ok('POST', '/key/regenerate', { key: r.token, new_key: 'sk-rotated-by-hand', max_budget: 20 });
  assert.equal(r2.key, 'sk-rotated-by-hand');
  assert.equal(r2.max_budget, 20);
  assert.equal(r2.rotation_count, 2);
  await h.fail(400, 'POST', '/key/regenerate', { key: r2.key, new_key: 'not-sk' });
  await h.fail(400, 'POST', '/key/regenerate', { key: r2.key, grace_period: '1 hour' });
  // With the table (a LiteLLM-migrated database), the old hash is kept until revoke_at.
  await h.rows(`CREATE TABLE "LiteLLM_DeprecatedVerificationToken" (id TEXT PRIMARY KEY, token TEXT NOT NULL, active_token_id TEXT NOT NULL, revoke_at TIMESTAMP(3) NOT NULL, created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP)`);
  const r3 = await h.ok('POST', '/key/regenerate', { key: r2.key, grace_period: '24h' });
  const dep = await h.rows(`SELECT token, active_token_id, revoke_at FROM "LiteLLM_DeprecatedVerificationToken"`);
  assert.deepEqual(dep.map((d) => [d.token, d.active_token_id, d.revoke_at.toISOString()]), [[r2.token, r3.token, '2025-03-13T15:30:00.000Z']]);
  await h.ok('POST', '/key/delete', { keys: [r3.key] });
  assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_DeprecatedVerificationToken"`))[0].n, 0);
  await h.fail(404, 'POST', '/key/sk-gone/regenerate', {});
  await h.fail(400, 'POST', '/key/regenerate', {});
});

test('/key/block and /key/unblock', async () => {
  const k = await h.ok('POST', '/key/generate', {});
  h.changes.length = 0;
  const b = await h.ok('POST', '/key/block', { key: k.key });
  assert.equal(b.blocked, true);
  assert.equal((await keyRow(k.token)).blocked, true);
  const u = await h.ok('POST', '/key/unblock', { key: k.token });
  assert.equal(u.blocked, false);
  assert.deepEqual(h.changed('key'), [k.token, k.token]);
  await h.fail(404, 'POST', '/key/block', { key: 'sk-none' });
  await h.fail(422, 'POST', '/key/block', {});
});

test('/key/delete: by key or hash or alias; archived copy; 404 when missing, nothing deleted', async () => {
  const a = await h.ok('POST', '/key/generate', { key_alias: 'del-a' });
  const b = await h.ok('POST', '/key/generate', { key_alias: 'del-b' });
  const c = await h.ok('POST', '/key/generate', { key_alias: 'del-c' });
  const partial = await h.fail(404, 'POST', '/key/delete', { keys: [a.key, 'sk-missing-one'] });
  assert.match(partial.message, /sk-\.\.\.-one/);
  assert.doesNotMatch(partial.message, /sk-missing-one/);
  assert.ok(await keyRow(a.token));
  h.changes.length = 0;
  const r = await h.ok('POST', '/key/delete', { keys: [a.key, b.token] }, { changedBy: 'ops' });
  assert.deepEqual(r, { deleted_keys: [a.key, b.token] });
  assert.equal(await keyRow(a.token), undefined);
  assert.equal(await keyRow(b.token), undefined);
  const archived = await h.rows(`SELECT token, key_alias, deleted_by, litellm_changed_by, deleted_at FROM "LiteLLM_DeletedVerificationToken" WHERE token = ANY($1) ORDER BY key_alias`, [[a.token, b.token]]);
  assert.deepEqual(archived.map((x) => [x.key_alias, x.deleted_by, x.litellm_changed_by]), [['del-a', 'ops', 'ops'], ['del-b', 'ops', 'ops']]);
  assert.deepEqual(h.changed('key').sort(), [a.token, b.token].sort());
  assert.deepEqual(await h.ok('POST', '/key/delete', { key_aliases: ['del-c'] }), { deleted_keys: ['del-c'] });
  assert.equal(await keyRow(c.token), undefined);
  const none = await h.fail(404, 'POST', '/key/delete', { keys: ['sk-nothing'] });
  assert.match(none.message, /No keys found/);
  await h.fail(400, 'POST', '/key/delete', {});
});

test('/key/service-account/generate: team required, no user', async () => {
  await h.ok('POST', '/team/new', { team_id: 'svc-team' });
  const r = await h.ok('POST', '/key/service-account/generate', { team_id: 'svc-team', key_alias: 'svc', user_id: 'ignored' });
  assert.equal(r.user_id, null);
  assert.equal(r.team_id, 'svc-team');
  assert.equal((await keyRow(r.token)).metadata.service_account_id, 'svc');
  assert.equal((await h.fail(400, 'POST', '/key/service-account/generate', {})).param, 'team_id');
});

test('store_audit_logs: one LiteLLM_AuditLog row per change, in the same transaction', async () => {
  const g = await harness('admin_keys_audit', { storeAuditLogs: true });
  try {
    const k = await g.ok('POST', '/key/generate', { key_alias: 'audited' }, { changedBy: 'carol' });
    g.setNow('2025-03-12T15:31:00.000Z');
    await g.ok('POST', '/key/update', { key: k.key, max_budget: 4 });
    g.setNow('2025-03-12T15:32:00.000Z');
    await g.ok('POST', '/team/new', { team_id: 'at' });
    g.setNow('2025-03-12T15:33:00.000Z');
    await g.ok('POST', '/key/delete', { keys: [k.key] });
    await g.fail(400, 'POST', '/key/generate', { key_alias: 'x', team_id: 'missing' });
    const rows = await g.rows(`SELECT action, table_name, object_id, changed_by, before_value, updated_values FROM "LiteLLM_AuditLog" ORDER BY updated_at`);
    assert.deepEqual(rows.map((r) => [r.action, r.table_name, r.object_id]), [
      ['created', 'LiteLLM_VerificationToken', k.token],
      ['updated', 'LiteLLM_VerificationToken', k.token],
      ['created', 'LiteLLM_TeamTable', 'at'],
      ['deleted', 'LiteLLM_VerificationToken', k.token],
    ]);
    assert.equal(rows[0].changed_by, 'carol');
    assert.equal(rows[0].updated_values.key_alias, 'audited');
    assert.equal(rows[1].before_value.max_budget, null);
    assert.equal(rows[1].updated_values.max_budget, 4);
    assert.equal(JSON.stringify(rows).includes(k.key), false); // the raw key is never logged
    // Run keys with an audit log: the INSERT and its audit row in one transaction.
    const call = { req: { method: 'POST', path: '', query: {}, body: null, changedBy: 'weir-agent-runs', caller: { isMasterKey: true, keyHash: null, userRole: 'proxy_admin', userId: null, open: false } }, ctx: g.ctx };
    const sent = await recordStatements(g.ctx.db);
    const [run] = await generateRunKeys(call, [{ key_alias: 'run-audited', key_type: 'llm_api' }]);
    assert.deepEqual(sent.map((t) => t.split(' ')[0].replace(/;$/, '')), ['BEGIN', 'INSERT', 'INSERT', 'COMMIT']);
    assert.equal((await g.rows(`SELECT count(*)::int AS n FROM "LiteLLM_AuditLog" WHERE object_id = $1`, [run!.token]))[0].n, 1);
  } finally {
    await g.close();
  }
});

const MASTER_RAW = 'sk-admin-keys-master-4d1c9e';

test('a key equal to the master key is refused on /key/generate, /key/service-account/generate and /key/regenerate: 400, nothing written, the key never echoed', async () => {
  const team = await h.ok('POST', '/team/new', {});
  const existing = await h.ok('POST', '/key/generate', { key_alias: 'not-the-master' });
  h.ctx.settings.masterKeyHash = createHash('sha256').update(MASTER_RAW).digest();
  try {
    const before = await count('LiteLLM_VerificationToken');
    for (const [path, body, param] of [
      ['/key/generate', { key: MASTER_RAW }, 'key'],
      ['/key/service-account/generate', { team_id: team.team_id, key: MASTER_RAW }, 'key'],
      ['/key/regenerate', { key: existing.key, new_key: MASTER_RAW }, 'new_key'],
      [`/key/${encodeURIComponent(existing.key)}/regenerate`, { new_key: MASTER_RAW }, 'new_key'],
    ] as const) {
      const e = await h.fail(400, 'POST', path, body);
      assert.equal(e.param, param, path);
      assert.match(e.message, /master key/);
      assert.ok(!e.message.includes(MASTER_RAW), e.message);
    }
    assert.equal(await count('LiteLLM_VerificationToken'), before);
    assert.equal(await keyRow(sha(MASTER_RAW)), undefined);
    // The key being regenerated is untouched.
    assert.ok(await keyRow(existing.token));
  } finally {
    h.ctx.settings.masterKeyHash = undefined;
  }
});

test('a key value that already exists is refused (400) on /key/generate and /key/regenerate; the existing key is untouched', async () => {
  const a = await h.ok('POST', '/key/generate', { key: 'sk-taken-value-1', max_budget: 3 });
  const b = await h.ok('POST', '/key/generate', {});
  assert.equal((await h.fail(400, 'POST', '/key/generate', { key: 'sk-taken-value-1', max_budget: 99 })).param, 'key');
  assert.equal((await h.fail(400, 'POST', '/key/regenerate', { key: b.key, new_key: 'sk-taken-value-1' })).param, 'new_key');
  assert.equal((await keyRow(a.token)).max_budget, 3);
  assert.ok(await keyRow(b.token));
});

test('run keys minted and blocked many at once have the rows /key/generate and /key/block write', async () => {
  const body = (alias: string) => ({ key_alias: alias, models: ['gpt-4o'], max_budget: 2, duration: '600s', key_type: 'llm_api', metadata: { weir_run_id: alias } });
  const call = { req: { method: 'POST', path: '', query: {}, body: null, changedBy: 'weir-agent-runs', caller: { isMasterKey: true, keyHash: null, userRole: 'proxy_admin', userId: null, open: false } }, ctx: h.ctx };
  h.changes.length = 0;
  const sent = await recordStatements(h.ctx.db);
  const made = await generateRunKeys(call, [body('run-a'), body('run-b'), body('run-c')]);
  assert.equal(made.length, 3);
  assert.deepEqual(sent.map((t) => t.split(' ')[0]), ['INSERT'], 'one INSERT and no transaction around it: it is atomic alone');
  for (const m of made) assert.equal(m.row?.token, m.token, 'each key with the row its INSERT returned');
  assert.deepEqual(h.changed('key').sort(), made.map((m) => m.token).sort(), 'one notification for the three');
  const single = await h.ok('POST', '/key/generate', body('run-single'), { changedBy: 'weir-agent-runs' });
  const comparable = (row: Record<string, unknown>) => {
    const { token: _t, key_name: _n, key_alias: _a, metadata: _m, created_at: _c, updated_at: _u, expires: _e, ...rest } = row;
    return rest;
  };
  const reference = comparable(await keyRow(single.token));
  for (const m of made) {
    assert.equal(m.token, sha(m.key));
    const row = await keyRow(m.token);
    assert.equal(row.key_name, `sk-...${m.key.slice(-4)}`);
    assert.deepEqual(comparable(row), reference, 'every other column as /key/generate writes it');
  }
  await blockRunKeys(call, made.map((m) => m.token));
  for (const m of made) assert.equal((await keyRow(m.token)).blocked, true);
  assert.equal((await keyRow(single.token)).blocked, null, 'only the keys named');
});
