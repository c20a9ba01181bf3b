// The harness the admin-*.test.ts files share (a fresh database with the schema, a context that
// records onChange calls, callers of each kind), and the router's own behaviour: routes, methods,
// who may call what.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { createPool } from '../../src/db/pool';
import { ensureSchema } from '../../src/db/schema';
import { handleAdmin, isAdminPath } from '../../src/admin/router';
import { hashToken } from '../../src/admin/common';
import type { AdminContext, AdminResponse, Caller, EntityKind } from '../../src/admin/types';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

export const MASTER: Caller = { isMasterKey: true, keyHash: null, userRole: 'proxy_admin', userId: null, open: false };
/** A virtual key's caller as the worker relays it: the key's hash, its user's role and id. */
export const keyCaller = (raw: string, userRole: string | null = 'internal_user', userId: string | null = null): Caller => ({ isMasterKey: false, keyHash: hashToken(raw), userRole, userId, open: false });

export interface Harness {
  pool: Pool;
  ctx: AdminContext;
  changes: Array<{ kind: EntityKind; ids: string[] }>;
  /** Sets the clock the handlers see. */
  setNow(iso: string): void;
  call(method: string, pathAndQuery: string, body?: unknown, opts?: { caller?: Caller; changedBy?: string }): Promise<AdminResponse>;
  /** call() that asserts a 200 and returns the body. */
  ok(method: string, pathAndQuery: string, body?: unknown, opts?: { caller?: Caller; changedBy?: string }): Promise<any>;
  /** call() that asserts the status and returns the error object of the envelope. */
  fail(status: number, method: string, pathAndQuery: string, body?: unknown, opts?: { caller?: Caller; changedBy?: string }): Promise<{ message: string; type: string; param: string | null; code: string }>;
  rows(sql: string, values?: unknown[]): Promise<any[]>;
  changed(kind: EntityKind): string[];
  close(): Promise<void>;
}

export async function harness(label: string, settings: AdminContext['settings'] = {}): Promise<Harness> {
  // The control thread's pool (timestamps read as UTC, BIGINT as numbers), as in production.
  const pool = createPool(await freshDatabase(label), { max: 4 });
  await ensureSchema(pool);
  let now = new Date('2025-03-12T15:30:00.000Z');
  const changes: Harness['changes'] = [];
  const ctx: AdminContext = { db: pool, onChange: (kind, ids) => changes.push({ kind, ids }), settings, now: () => new Date(now) };
  const call: Harness['call'] = (method, pathAndQuery, body, opts = {}) => {
    const u = new URL(pathAndQuery, 'http://x');
    return handleAdmin(
      { method, path: u.pathname, query: Object.fromEntries(u.searchParams), body, changedBy: opts.changedBy ?? null, caller: opts.caller ?? MASTER },
      ctx,
    );
  };
  return {
    pool,
    ctx,
    changes,
    setNow: (iso) => {
      now = new Date(iso);
    },
    call,
    async ok(method, p, body, opts) {
      const r = await call(method, p, body, opts);
      assert.equal(r.status, 200, `${method} ${p} → ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async fail(status, method, p, body, opts) {
      const r = await call(method, p, body, opts);
      assert.equal(r.status, status, `${method} ${p} → ${r.status} ${JSON.stringify(r.body)}`);
      const err = (r.body as { error: { message: string; type: string; param: string | null; code: string } }).error;
      assert.equal(err.code, String(status));
      assert.equal(typeof err.message, 'string');
      return err;
    },
    rows: async (sql, values = []) => (await pool.query(sql, values)).rows,
    changed: (kind) => changes.filter((c) => c.kind === kind).flatMap((c) => c.ids),
    close: () => pool.end(),
  };
}

// ---- the router -------------------------------------------------------------------------------------
// Registered only when this file is run itself, not when another test file imports the harness.
if (require.main === module) {

  let h: Harness;
  after(async () => {
    await h?.close();
    await stopTestPostgres();
  });

  test('isAdminPath knows every management route and nothing else', () => {
    for (const p of ['/key/generate', '/key/info', '/v2/key/info', '/key/sk-abc/regenerate', '/team/member_add', '/user/daily/activity', '/end_user/block', '/customer/info', '/budget/list', '/organization/member_add', '/spend/logs', '/global/spend/end_users', '/team/daily/activity', '/key/list/', '/key/service-account/generate'])
      assert.equal(isAdminPath(p), true, p);
    for (const p of ['/v1/chat/completions', '/key', '/key/unknown', '/health', '/keys/generate', '/key/a/b/regenerate', '/v1/models'])
      assert.equal(isAdminPath(p), false, p);
  });

  test('unknown route 404, wrong method 405, both in the error envelope', async () => {
    h = await harness('admin_router');
    const e404 = await h.fail(404, 'POST', '/key/unknown', {});
    assert.equal(e404.type, 'not_found_error');
    const e405 = await h.fail(405, 'GET', '/key/generate');
    assert.match(e405.message, /POST/);
  });

  // internal_user, team admins and the viewers have their own matrix in admin-roles.test.ts.
  test('a key with no role (no user) gets 403 on every change and list, and nothing is written', async () => {
    const k = await h.ok('POST', '/key/generate', { key_alias: 'plain' });
    const caller = keyCaller(k.key, null);
    for (const [m, p, body] of [
      ['POST', '/key/generate', {}],
      ['POST', '/key/update', { key: k.key, max_budget: 1 }],
      ['POST', '/key/delete', { keys: [k.key] }],
      ['GET', '/key/list', undefined],
      ['POST', '/team/new', {}],
      ['POST', '/user/new', {}],
      ['POST', '/budget/new', {}],
      ['POST', '/organization/new', { organization_alias: 'o' }],
      ['POST', '/customer/new', { user_id: 'c' }],
      ['GET', '/spend/logs', undefined],
      ['POST', '/v2/key/info', { keys: [k.key] }],
    ] as const) {
      const e = await h.fail(403, m, p, body, { caller });
      assert.equal(e.type, 'auth_error');
    }
    assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"`))[0].n, 1);
    assert.equal((await h.rows(`SELECT max_budget FROM "LiteLLM_VerificationToken"`))[0].max_budget, null);
    assert.equal((await h.rows(`SELECT count(*)::int AS n FROM "LiteLLM_TeamTable"`))[0].n, 0);
  });

  test('a caller with no key at all gets 401', async () => {
    const e = await h.fail(401, 'GET', '/key/list', undefined, { caller: { isMasterKey: false, keyHash: null, userRole: null, userId: null, open: false } });
    assert.equal(e.type, 'auth_error');
  });

  test('no master key configured (open) acts as admin', async () => {
    await h.ok('GET', '/key/list', undefined, { caller: { isMasterKey: false, keyHash: null, userRole: null, userId: null, open: true } });
  });

  test('a key whose user is proxy_admin manages; created_by is that user', async () => {
    await h.ok('POST', '/user/new', { user_id: 'boss', user_role: 'proxy_admin', auto_create_key: false });
    const k = await h.ok('POST', '/key/generate', { user_id: 'boss' });
    const made = await h.ok('POST', '/key/generate', { key_alias: 'by-boss' }, { caller: keyCaller(k.key, 'proxy_admin') });
    assert.equal(made.created_by, 'boss');
    const row = (await h.rows(`SELECT created_by, updated_by FROM "LiteLLM_VerificationToken" WHERE key_alias = 'by-boss'`))[0];
    assert.deepEqual(row, { created_by: 'boss', updated_by: 'boss' });
  });

  test('proxy_admin_viewer reads but does not write', async () => {
    const k = await h.ok('POST', '/key/generate', {});
    const viewer = keyCaller(k.key, 'proxy_admin_viewer');
    await h.ok('GET', '/key/list', undefined, { caller: viewer });
    await h.ok('GET', '/budget/list', undefined, { caller: viewer });
    await h.fail(403, 'POST', '/key/generate', {}, { caller: viewer });
  });

  test('a non-admin key reads its own /key/info, not another one', async () => {
    const mine = await h.ok('POST', '/key/generate', { key_alias: 'mine', max_budget: 3 });
    const other = await h.ok('POST', '/key/generate', { key_alias: 'other' });
    const caller = keyCaller(mine.key);
    const own = await h.ok('GET', '/key/info', undefined, { caller });
    assert.equal(own.key, mine.token);
    assert.equal(own.info.key_alias, 'mine');
    assert.equal(own.info.max_budget, 3);
    assert.equal('token' in own.info, false);
    const byRaw = await h.ok('GET', `/key/info?key=${encodeURIComponent(mine.key)}`, undefined, { caller });
    assert.equal(byRaw.key, mine.key);
    const byHash = await h.ok('GET', `/key/info?key=${mine.token}`, undefined, { caller });
    assert.equal(byHash.info.key_alias, 'mine');
    const e = await h.fail(403, 'GET', `/key/info?key=${encodeURIComponent(other.key)}`, undefined, { caller });
    assert.equal(e.type, 'auth_error');
    await h.fail(403, 'GET', `/key/info?key=${other.token}`, undefined, { caller });
  });

  test('changedBy header is recorded as created_by / updated_by', async () => {
    const k = await h.ok('POST', '/key/generate', {}, { changedBy: 'alice@example.com' });
    assert.equal(k.created_by, 'alice@example.com');
    await h.ok('POST', '/key/update', { key: k.key, max_budget: 2 }, { changedBy: 'bob' });
    const row = (await h.rows(`SELECT created_by, updated_by FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token]))[0];
    assert.deepEqual(row, { created_by: 'alice@example.com', updated_by: 'bob' });
    const m = await h.ok('POST', '/key/generate', {});
    assert.equal(m.created_by, 'default_user_id');
  });

  test('a body that is not an object is 422', async () => {
    const e = await h.fail(422, 'POST', '/key/generate', [1, 2]);
    assert.match(e.message, /JSON object/);
    await h.fail(422, 'POST', '/team/new', 'team');
  });

}
