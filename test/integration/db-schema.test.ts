// ensureSchema against a real PostgreSQL: exact LiteLLM tables on an empty database, a no-op the
// second time, and a database LiteLLM already migrated (extra columns, or older tables) left
// exactly as it is while Weir still reads and writes it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type pg from 'pg';
import { JournalWriter } from '../../src/accounting/journal';
import type { SpendRecord } from '../../src/accounting/spend-record';
import { createPool } from '../../src/db/pool';
import { loadAll, loadKey } from '../../src/db/queries';
import { LITELLM_TABLES, TABLES, WEIR_TABLES, ensureSchema, tableColumnNames } from '../../src/db/schema';
import { SpendWriter } from '../../src/db/spend-writer';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

const pools: pg.Pool[] = [];
after(async () => {
  for (const p of pools) await p.end();
  await stopTestPostgres();
});

async function db(label: string): Promise<pg.Pool> {
  const p = createPool(await freshDatabase(label));
  pools.push(p);
  return p;
}

const EXPECTED_TYPE: Record<string, { data_type: string; udt?: string }> = {
  TEXT: { data_type: 'text' },
  'DOUBLE PRECISION': { data_type: 'double precision' },
  INTEGER: { data_type: 'integer' },
  SERIAL: { data_type: 'integer' },
  BIGINT: { data_type: 'bigint' },
  BOOLEAN: { data_type: 'boolean' },
  'TIMESTAMP(3)': { data_type: 'timestamp without time zone' },
  JSONB: { data_type: 'jsonb' },
  BYTEA: { data_type: 'bytea' },
  'TEXT[]': { data_type: 'ARRAY', udt: '_text' },
};

// information_schema shows defaults with casts (`''::text`, `ARRAY[]::text[]`): compare without.
const normDefault = (d: string | null): string | null => (d === null ? null : d.replace(/::[a-z ]+(\[\])?/gi, '').toLowerCase());

interface ColInfo {
  column_name: string;
  data_type: string;
  udt_name: string;
  is_nullable: string;
  column_default: string | null;
  datetime_precision: number | null;
}

async function columns(pool: pg.Pool, table: string): Promise<ColInfo[]> {
  const { rows } = await pool.query<ColInfo>(
    `SELECT column_name, data_type, udt_name, is_nullable, column_default, datetime_precision
       FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows;
}

async function indexes(pool: pg.Pool, table: string): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = $1`, [table]);
  return new Map(rows.map((r) => [r.indexname, r.indexdef]));
}

async function constraints(pool: pg.Pool, table: string): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ conname: string; def: string }>(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = to_regclass($1)`,
    [`"${table}"`],
  );
  return new Map(rows.map((r) => [r.conname, r.def]));
}

test('the spec names the 21 LiteLLM tables of the brief plus the Weir_ tables (spend journal, agent runs); names fit in 63 bytes', () => {
  assert.deepEqual([...LITELLM_TABLES].sort(), [
    'LiteLLM_AuditLog', 'LiteLLM_BudgetTable', 'LiteLLM_Config', 'LiteLLM_DailyEndUserSpend', 'LiteLLM_DailyOrganizationSpend',
    'LiteLLM_DailyTagSpend', 'LiteLLM_DailyTeamSpend', 'LiteLLM_DailyUserSpend', 'LiteLLM_DeletedTeamTable',
    'LiteLLM_DeletedVerificationToken', 'LiteLLM_EndUserTable', 'LiteLLM_ErrorLogs', 'LiteLLM_ModelTable', 'LiteLLM_OrganizationMembership',
    'LiteLLM_OrganizationTable', 'LiteLLM_ProxyModelTable', 'LiteLLM_SpendLogs', 'LiteLLM_TeamMembership', 'LiteLLM_TeamTable',
    'LiteLLM_UserTable', 'LiteLLM_VerificationToken',
  ]);
  assert.deepEqual([...WEIR_TABLES], [
    'Weir_SpendJournal', 'Weir_AgentDefinition', 'Weir_AgentSchedule', 'Weir_AgentRun', 'Weir_AgentRunEvent', 'Weir_AgentArtifact', 'Weir_AgentDelivery', 'Weir_AgentSession', 'Weir_AgentSessionRun',
    'Weir_AgentNote', 'Weir_VaultSecret', 'Weir_AgentSandboxPool',
  ]);
  for (const t of TABLES) {
    for (const n of [t.name, `${t.name}_pkey`, ...t.indexes.map((i) => i.name), ...t.foreignKeys.map((f) => f.name)]) {
      assert.ok(Buffer.byteLength(n) <= 63, `${n} is longer than Postgres keeps`);
    }
    for (const c of t.columns) assert.ok(EXPECTED_TYPE[c.type], `${t.name}.${c.name}: unexpected type ${c.type}`);
  }
  assert.ok(tableColumnNames('LiteLLM_SpendLogs').includes('startTime'));
});

test('on an empty database every table is created with the exact columns, types, defaults, keys and indexes', async () => {
  const pool = await db('schema_fresh');
  const res = await ensureSchema(pool);
  assert.deepEqual(res.created, TABLES.map((t) => t.name));
  assert.deepEqual(res.existing, []);
  for (const t of TABLES) {
    const cols = await columns(pool, t.name);
    assert.deepEqual(cols.map((c) => c.column_name), t.columns.map((c) => c.name), `${t.name}: column names and order`);
    for (const spec of t.columns) {
      const got = cols.find((c) => c.column_name === spec.name)!;
      const want = EXPECTED_TYPE[spec.type]!;
      const where = `${t.name}.${spec.name}`;
      assert.equal(got.data_type, want.data_type, `${where}: type`);
      if (want.udt) assert.equal(got.udt_name, want.udt, `${where}: element type`);
      if (spec.type === 'TIMESTAMP(3)') assert.equal(got.datetime_precision, 3, `${where}: precision`);
      const pk = t.primaryKey.includes(spec.name);
      assert.equal(got.is_nullable, spec.notNull || pk ? 'NO' : 'YES', `${where}: nullability`);
      if (spec.type === 'SERIAL') assert.match(got.column_default ?? '', /^nextval\(/, `${where}: serial`);
      else assert.equal(normDefault(got.column_default), normDefault(spec.default), `${where}: default`);
    }
    const cons = await constraints(pool, t.name);
    const pkDef = cons.get(`${t.name}_pkey`);
    assert.equal(pkDef, `PRIMARY KEY (${t.primaryKey.map((c) => (/^[a-z_]+$/.test(c) ? c : `"${c}"`)).join(', ')})`, `${t.name}: primary key`);
    for (const f of t.foreignKeys) {
      const def = cons.get(f.name);
      assert.equal(def, `FOREIGN KEY (${f.columns[0]}) REFERENCES "${f.refTable}"(${f.refColumns[0]}) ON UPDATE CASCADE ON DELETE ${f.onDelete}`, `${t.name}: foreign key ${f.name}`);
    }
    const idx = await indexes(pool, t.name);
    for (const i of t.indexes) {
      const def = idx.get(i.name);
      assert.ok(def, `${t.name}: index ${i.name}`);
      assert.equal(def!.startsWith('CREATE UNIQUE INDEX'), !!i.unique, `${i.name}: uniqueness`);
    }
    assert.equal(idx.size, t.indexes.length + 1, `${t.name}: no index beyond the spec and the primary key`);
  }
  // Spot checks against LiteLLM's migration SQL.
  const daily = await indexes(pool, 'LiteLLM_DailyUserSpend');
  assert.match(
    daily.get('LiteLLM_DailyUserSpend_user_id_date_api_key_model_custom_ll_key')!,
    /UNIQUE INDEX .* \(user_id, date, api_key, model, custom_llm_provider, mcp_namespaced_tool_name, endpoint\)/,
  );
  const logs = await indexes(pool, 'LiteLLM_SpendLogs');
  assert.match(logs.get('LiteLLM_SpendLogs_startTime_request_id_idx')!, /\("startTime", request_id\)/);
  assert.match((await indexes(pool, 'LiteLLM_UserTable')).get('LiteLLM_UserTable_user_email_lower_idx')!, /lower\(user_email\)/);
  const tm = await constraints(pool, 'LiteLLM_TeamMembership');
  assert.match(tm.get('LiteLLM_TeamMembership_budget_id_fkey')!, /ON DELETE SET NULL/);
  const org = await constraints(pool, 'LiteLLM_OrganizationTable');
  assert.match(org.get('LiteLLM_OrganizationTable_budget_id_fkey')!, /ON UPDATE CASCADE/);
  assert.doesNotMatch(org.get('LiteLLM_OrganizationTable_budget_id_fkey')!, /SET NULL|ON DELETE CASCADE/);
});

test('running ensureSchema again (even concurrently) changes nothing', async () => {
  const pool = await db('schema_twice');
  await ensureSchema(pool);
  const before = await pool.query(
    `SELECT table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
  );
  const idxBefore = await pool.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`);
  const [a, b] = await Promise.all([ensureSchema(pool), ensureSchema(pool)]);
  for (const r of [a, b]) {
    assert.deepEqual(r.created, []);
    assert.equal(r.existing.length, TABLES.length);
  }
  const after2 = await pool.query(
    `SELECT table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2`,
  );
  assert.deepEqual(after2.rows, before.rows);
  assert.deepEqual((await pool.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1`)).rows, idxBefore.rows);
});

test('a Weir_ table an older Weir made gains the columns added since (nullable), its rows kept; nothing else changes', async () => {
  const pool = await db('schema_weir_added_columns');
  await ensureSchema(pool);
  await pool.query(`ALTER TABLE "Weir_AgentRun" DROP COLUMN sandbox_start, DROP COLUMN sandbox_start_ms`);
  await pool.query(`INSERT INTO "Weir_AgentRun" (id, profile_name, profile, prompt, trigger, status) VALUES ('run_old', 'p', '{}', 'x', 'api', 'succeeded')`);
  const r = await ensureSchema(pool);
  assert.deepEqual(r.created, []);
  const cols = await pool.query(`SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'Weir_AgentRun' AND column_name LIKE 'sandbox_start%' ORDER BY 1`);
  assert.deepEqual(cols.rows, [{ column_name: 'sandbox_start', is_nullable: 'YES' }, { column_name: 'sandbox_start_ms', is_nullable: 'YES' }]);
  assert.equal((await pool.query(`SELECT count(*)::int AS n FROM "Weir_AgentRun" WHERE id = 'run_old' AND sandbox_start IS NULL`)).rows[0].n, 1);
});

test('two instances bootstrapping one empty database at once both succeed', async () => {
  const url = await freshDatabase('schema_race');
  const p1 = createPool(url);
  const p2 = createPool(url);
  pools.push(p1, p2);
  const [a, b] = await Promise.all([ensureSchema(p1), ensureSchema(p2)]);
  assert.equal(a.created.length + b.created.length, TABLES.length);
});

test('a LiteLLM table that already exists (with extra columns, without newer ones) is left untouched and still read and written', async () => {
  const pool = await db('schema_existing');
  // As a LiteLLM of another version left it: extra tpd_limit / key_type, no router_settings,
  // agent_id, project_id, access_group_ids…; and an old SpendLogs without the newer columns.
  await pool.query(`CREATE TABLE "LiteLLM_VerificationToken" (
    "token" TEXT NOT NULL PRIMARY KEY, "key_name" TEXT, "key_alias" TEXT, "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0,
    "expires" TIMESTAMP(3), "models" TEXT[], "aliases" JSONB NOT NULL DEFAULT '{}', "config" JSONB NOT NULL DEFAULT '{}',
    "user_id" TEXT, "team_id" TEXT, "permissions" JSONB NOT NULL DEFAULT '{}', "max_parallel_requests" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}', "blocked" BOOLEAN, "tpm_limit" BIGINT, "rpm_limit" BIGINT, "max_budget" DOUBLE PRECISION,
    "budget_duration" TEXT, "budget_reset_at" TIMESTAMP(3), "budget_id" TEXT, "organization_id" TEXT,
    "tpd_limit" BIGINT, "key_type" TEXT NOT NULL DEFAULT 'default')`);
  await pool.query(`CREATE TABLE "LiteLLM_SpendLogs" (
    "request_id" TEXT NOT NULL PRIMARY KEY, "call_type" TEXT NOT NULL, "api_key" TEXT NOT NULL DEFAULT '',
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0.0, "total_tokens" INTEGER NOT NULL DEFAULT 0, "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0, "startTime" TIMESTAMP(3) NOT NULL, "endTime" TIMESTAMP(3) NOT NULL,
    "completionStartTime" TIMESTAMP(3), "model" TEXT NOT NULL DEFAULT '', "model_id" TEXT DEFAULT '', "model_group" TEXT DEFAULT '',
    "api_base" TEXT DEFAULT '', "user" TEXT DEFAULT '', "metadata" JSONB DEFAULT '{}', "cache_hit" TEXT DEFAULT '', "cache_key" TEXT DEFAULT '',
    "request_tags" JSONB DEFAULT '[]', "team_id" TEXT, "end_user" TEXT, "extra_newer_col" TEXT NOT NULL DEFAULT 'x')`);
  const keyColsBefore = await columns(pool, 'LiteLLM_VerificationToken');
  const logColsBefore = await columns(pool, 'LiteLLM_SpendLogs');
  const res = await ensureSchema(pool);
  assert.ok(res.existing.includes('LiteLLM_VerificationToken') && res.existing.includes('LiteLLM_SpendLogs'));
  assert.ok(!res.created.includes('LiteLLM_VerificationToken'));
  assert.deepEqual(await columns(pool, 'LiteLLM_VerificationToken'), keyColsBefore);
  assert.deepEqual(await columns(pool, 'LiteLLM_SpendLogs'), logColsBefore);
  assert.deepEqual([...(await indexes(pool, 'LiteLLM_VerificationToken')).keys()], ['LiteLLM_VerificationToken_pkey']);
  assert.deepEqual([...(await indexes(pool, 'LiteLLM_SpendLogs')).keys()], ['LiteLLM_SpendLogs_pkey']);

  // Reads: extra columns ignored, missing ones read as defaults.
  const token = 'a'.repeat(64);
  await pool.query(
    `INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, spend, models, max_budget, tpd_limit, key_type, metadata)
     VALUES ($1, 'old-key', 1.5, ARRAY['gpt-4o'], 10, 1000, 'llm_api', '{"team": "x"}')`,
    [token],
  );
  const all = await loadAll(pool);
  assert.equal(all.keys.length, 1);
  const k = all.keys[0]!;
  assert.equal(k.key_alias, 'old-key');
  assert.equal(k.spend, 1.5);
  assert.equal(k.max_budget, 10);
  assert.deepEqual(k.models, ['gpt-4o']);
  assert.deepEqual(k.allowed_routes, []);
  assert.equal(k.project_id, null);
  assert.deepEqual(k.metadata, { team: 'x' });
  assert.equal((await loadKey(pool, token))!.key.token, token);

  // Writes: the spend writer fills the columns the old table has and leaves the rest alone.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-schema-j-'));
  const w = new JournalWriter(dir, 'w1');
  const r: SpendRecord = {
    request_id: 'chatcmpl-old-1', call_type: 'acompletion', api_key: token, spend_nanos: 250_000_000, prompt_tokens: 3,
    completion_tokens: 4, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, start_ms: 1_750_000_000_000,
    end_ms: 1_750_000_000_500, completion_start_ms: 1_750_000_000_100, model: 'gpt-4o', model_id: 'd1', model_group: 'gpt-4o',
    custom_llm_provider: 'openai', api_base: 'https://api.openai.com', user_id: '', team_id: null, organization_id: 'org-x',
    end_user: null, key_alias: 'old-key', team_alias: null, request_tags: [], session_id: 's1', status: 'success',
    requester_ip_address: null, spend_logs_metadata: null, overhead_ms: 0.1, attempted_retries: 0,
  };
  w.append(r);
  const sw = new SpendWriter(pool, dir, {});
  const fr = await sw.flushNow();
  assert.equal(fr.ok, true, fr.error);
  assert.equal(fr.records, 1);
  const row = (await pool.query(`SELECT spend, extra_newer_col, "user", model FROM "LiteLLM_SpendLogs" WHERE request_id = 'chatcmpl-old-1'`)).rows[0];
  assert.deepEqual(row, { spend: 0.25, extra_newer_col: 'x', user: '', model: 'gpt-4o' });
  const key = (await pool.query(`SELECT spend, tpd_limit, key_type FROM "LiteLLM_VerificationToken" WHERE token = $1`, [token])).rows[0];
  assert.deepEqual(key, { spend: 1.75, tpd_limit: 1000, key_type: 'llm_api' });
  w.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
