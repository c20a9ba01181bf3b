// The spend writer against a real PostgreSQL: rows as LiteLLM writes them, exact sums, exactly
// once through torn lines, outages, crashes mid-flush and concurrent writers, and nothing lost.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type pg from 'pg';
import { JournalWriter, readSegment } from '../../src/accounting/journal';
import { listSegments } from '../../src/accounting/journal-segments';
import { encodeRecord, worstSize } from '../../src/accounting/journal-binary';
import type { SpendRecord } from '../../src/accounting/spend-record';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { createPool } from '../../src/db/pool';
import { ensureSchema } from '../../src/db/schema';
import { teamMemberKey } from '../../src/db/spend-aggregate';
import { insertSpendLogs } from '../../src/db/spend-sql';
import { SpendWriter, type CommittedTotals } from '../../src/db/spend-writer';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

const KEY = 'a1'.repeat(32);
const KEY2 = 'b2'.repeat(32);
const T0 = Date.UTC(2025, 5, 15, 12, 0, 0);

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

function tmpDir(label: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `weir-${label}-`));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function setup(label: string): Promise<{ pool: pg.Pool; dir: string }> {
  const pool = createPool(await freshDatabase(label));
  cleanups.push(() => pool.end());
  await ensureSchema(pool);
  await seed(pool);
  return { pool, dir: tmpDir(label) };
}

/** Governance rows as LiteLLM's admin API writes them. */
async function seed(pool: pg.Pool): Promise<void> {
  await pool.query(`INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, created_by, updated_by) VALUES ('b-org', 100, 'admin', 'admin')`);
  await pool.query(`INSERT INTO "LiteLLM_OrganizationTable" (organization_id, organization_alias, budget_id, models, created_by, updated_by, spend) VALUES ('org-1', 'Org', 'b-org', '{}', 'admin', 'admin', 1)`);
  await pool.query(`INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias, organization_id, admins, members, models, spend) VALUES ('team-1', 'T', 'org-1', '{}', '{}', '{}', 2)`);
  await pool.query(`INSERT INTO "LiteLLM_UserTable" (user_id, models, spend) VALUES ('user-1', '{}', 3)`);
  await pool.query(`INSERT INTO "LiteLLM_TeamMembership" (user_id, team_id, spend, total_spend) VALUES ('user-1', 'team-1', 0.5, 7)`);
  for (const k of [KEY, KEY2]) {
    await pool.query(`INSERT INTO "LiteLLM_VerificationToken" (token, models, user_id, team_id, organization_id, spend) VALUES ($1, '{}', 'user-1', 'team-1', 'org-1', 4)`, [k]);
  }
}

function rec(i: number, over: Partial<SpendRecord> = {}): SpendRecord {
  return {
    request_id: `chatcmpl-${i}`,
    call_type: 'acompletion',
    api_key: KEY,
    spend_nanos: 1_000 + ((i * 7919) % 5_000_000),
    prompt_tokens: 10 + (i % 13),
    completion_tokens: 5 + (i % 7),
    cache_read_input_tokens: i % 3,
    cache_creation_input_tokens: i % 2,
    start_ms: T0 + i,
    end_ms: T0 + i + 250,
    completion_start_ms: T0 + i + 40,
    model: 'gpt-4o-2024-08-06',
    model_id: 'dep-1',
    model_group: 'gpt-4o',
    custom_llm_provider: 'openai',
    api_base: 'https://api.openai.com/v1',
    user_id: 'user-1',
    team_id: 'team-1',
    organization_id: 'org-1',
    end_user: null,
    key_alias: 'my-key',
    team_alias: 'T',
    request_tags: [],
    session_id: `sess-${i % 10}`,
    status: 'success',
    requester_ip_address: '10.0.0.1',
    spend_logs_metadata: null,
    overhead_ms: 0.3,
    attempted_retries: 0,
    ...over,
  };
}

const nanosOf = (usd: number): number => Math.round(usd * 1e9);
const sum = (rs: SpendRecord[]): number => rs.reduce((a, r) => a + r.spend_nanos, 0);

async function one<T = Record<string, unknown>>(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<T> {
  return (await pool.query(sql, params)).rows[0] as T;
}

async function count(pool: pg.Pool, table = 'LiteLLM_SpendLogs'): Promise<number> {
  return Number((await one<{ n: string }>(pool, `SELECT count(*) AS n FROM "${table}"`)).n);
}

/** Sum of the charges every entity must have received, checked to the nano. */
async function assertEntitySums(pool: pg.Pool, recs: SpendRecord[]): Promise<void> {
  const byKey = (k: string) => sum(recs.filter((r) => r.api_key === k));
  const key1 = await one<{ spend: number }>(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [KEY]);
  assert.equal(nanosOf(key1.spend) - 4e9, byKey(KEY), 'key spend');
  const key2 = await one<{ spend: number }>(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [KEY2]);
  assert.equal(nanosOf(key2.spend) - 4e9, byKey(KEY2), 'second key spend');
  const total = sum(recs);
  assert.equal(nanosOf((await one<{ spend: number }>(pool, `SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'user-1'`)).spend) - 3e9, total, 'user');
  assert.equal(nanosOf((await one<{ spend: number }>(pool, `SELECT spend FROM "LiteLLM_TeamTable" WHERE team_id = 'team-1'`)).spend) - 2e9, total, 'team');
  assert.equal(nanosOf((await one<{ spend: number }>(pool, `SELECT spend FROM "LiteLLM_OrganizationTable" WHERE organization_id = 'org-1'`)).spend) - 1e9, total, 'org');
  const tm = await one<{ spend: number; total_spend: number }>(pool, `SELECT spend, total_spend FROM "LiteLLM_TeamMembership" WHERE team_id = 'team-1' AND user_id = 'user-1'`);
  assert.equal(nanosOf(tm.spend) - 0.5e9, total, 'team member spend');
  assert.equal(nanosOf(tm.total_spend) - 7e9, total, 'team member total_spend');
  const logs = await one<{ n: string; s: number; d: string }>(pool, `SELECT count(*) AS n, sum(spend) AS s, count(DISTINCT request_id) AS d FROM "LiteLLM_SpendLogs"`);
  assert.equal(Number(logs.n), recs.length, 'one SpendLogs row per record');
  assert.equal(Number(logs.d), recs.length);
  assert.equal(nanosOf(logs.s ?? 0), total, 'SpendLogs spend');
  const daily = await one<{ s: number; n: string }>(pool, `SELECT sum(spend) AS s, sum(api_requests) AS n FROM "LiteLLM_DailyUserSpend"`);
  assert.equal(nanosOf(daily.s ?? 0), total, 'daily user spend');
  assert.equal(Number(daily.n ?? 0), recs.length, 'daily user requests');
}

test('a record becomes the SpendLogs row LiteLLM writes, and every entity and Daily row moves by exactly its cost', async () => {
  const { pool, dir } = await setup('sw_rows');
  const committed: CommittedTotals[] = [];
  const sw = new SpendWriter(pool, dir, { onCommitted: (t) => committed.push(t) });
  const w = new JournalWriter(dir, 'worker-1');
  const recs = [
    rec(1, { request_tags: ['prod', 'team-a'], end_user: 'customer-42', spend_logs_metadata: { ticket: 'T-1' } }),
    rec(2, { api_key: KEY2, end_user: 'customer-42' }),
    rec(3, { status: 'failure', spend_nanos: 0, prompt_tokens: 0, completion_tokens: 0, error: { status: 429, message: 'Rate limited upstream', type: 'RateLimitError' } }),
  ];
  for (const r of recs) w.append(r);

  const res = await sw.flushNow();
  assert.equal(res.ok, true, res.error);
  assert.equal(res.records, 3);
  assert.equal(res.transactions, 1);
  assert.equal(sw.dbUp, true);

  const row = await one<Record<string, unknown>>(pool, `SELECT * FROM "LiteLLM_SpendLogs" WHERE request_id = 'chatcmpl-1'`);
  const r1 = recs[0]!;
  assert.equal(row.call_type, 'acompletion');
  assert.equal(row.api_key, KEY);
  assert.equal(row.spend, r1.spend_nanos / 1e9);
  assert.equal(row.prompt_tokens, r1.prompt_tokens);
  assert.equal(row.completion_tokens, r1.completion_tokens);
  assert.equal(row.total_tokens, r1.prompt_tokens + r1.completion_tokens);
  assert.equal((row.startTime as Date).getTime(), r1.start_ms, 'startTime is the UTC instant');
  assert.equal((row.endTime as Date).getTime(), r1.end_ms);
  assert.equal((row.completionStartTime as Date).getTime(), r1.completion_start_ms);
  assert.equal(row.request_duration_ms, 250);
  const raw = await one<{ t: string }>(pool, `SELECT "startTime"::text AS t FROM "LiteLLM_SpendLogs" WHERE request_id = 'chatcmpl-1'`);
  assert.equal(raw.t, '2025-06-15 12:00:00.001', 'stored as UTC wall time, no zone');
  assert.equal(row.model, 'gpt-4o-2024-08-06');
  assert.equal(row.model_id, 'dep-1');
  assert.equal(row.model_group, 'gpt-4o');
  assert.equal(row.custom_llm_provider, 'openai');
  assert.equal(row.api_base, 'https://api.openai.com/v1');
  assert.equal(row.user, 'user-1');
  assert.equal(row.team_id, 'team-1');
  assert.equal(row.organization_id, 'org-1');
  assert.equal(row.end_user, 'customer-42');
  assert.equal(row.requester_ip_address, '10.0.0.1');
  assert.equal(row.session_id, 'sess-1');
  assert.equal(row.status, 'success');
  assert.equal(row.cache_hit, 'False');
  assert.equal(row.cache_key, 'Cache OFF');
  assert.deepEqual(row.request_tags, ['prod', 'team-a']);
  assert.deepEqual(row.messages, {});
  assert.deepEqual(row.response, {});
  const md = row.metadata as Record<string, unknown>;
  assert.equal(md.user_api_key, KEY);
  assert.equal(md.user_api_key_alias, 'my-key');
  assert.equal(md.user_api_key_team_id, 'team-1');
  assert.equal(md.user_api_key_team_alias, 'T');
  assert.equal(md.user_api_key_org_id, 'org-1');
  assert.equal(md.user_api_key_user_id, 'user-1');
  assert.deepEqual(md.spend_logs_metadata, { ticket: 'T-1' });
  assert.equal(md.requester_ip_address, '10.0.0.1');
  assert.deepEqual(md.additional_usage_values, { cache_read_input_tokens: r1.cache_read_input_tokens, cache_creation_input_tokens: r1.cache_creation_input_tokens });
  assert.equal(md.status, 'success');
  assert.equal(md.error_information, null);
  assert.equal(md.litellm_overhead_time_ms, 0.3);
  assert.equal(md.attempted_retries, 0);

  const failed = await one<Record<string, unknown>>(pool, `SELECT status, metadata FROM "LiteLLM_SpendLogs" WHERE request_id = 'chatcmpl-3'`);
  assert.equal(failed.status, 'failure');
  assert.deepEqual((failed.metadata as Record<string, unknown>).error_information, { error_code: '429', error_class: 'RateLimitError', error_message: 'Rate limited upstream' });
  const err = await one<Record<string, unknown>>(pool, `SELECT * FROM "LiteLLM_ErrorLogs" WHERE request_id = 'chatcmpl-3'`);
  assert.equal(err.status_code, '429');
  assert.equal(err.exception_type, 'RateLimitError');
  assert.equal(err.exception_string, 'Rate limited upstream');
  assert.equal(err.model_group, 'gpt-4o');
  assert.equal(err.litellm_model_name, 'gpt-4o-2024-08-06');
  assert.equal(await count(pool, 'LiteLLM_ErrorLogs'), 1);

  await assertEntitySums(pool, recs);
  // End users are created by their first spend.
  const eu = await one<{ spend: number; blocked: boolean }>(pool, `SELECT spend, blocked FROM "LiteLLM_EndUserTable" WHERE user_id = 'customer-42'`);
  assert.equal(nanosOf(eu.spend), recs[0]!.spend_nanos + recs[1]!.spend_nanos);
  assert.equal(eu.blocked, false);

  // Daily rows: one per (entity, date, key, model, provider); successes and failures counted.
  const du = (await pool.query(`SELECT * FROM "LiteLLM_DailyUserSpend" ORDER BY api_key`)).rows;
  assert.equal(du.length, 2);
  const d1 = du.find((d) => d.api_key === KEY)!;
  assert.equal(d1.user_id, 'user-1');
  assert.equal(d1.date, '2025-06-15');
  assert.equal(d1.model, 'gpt-4o-2024-08-06');
  assert.equal(d1.model_group, 'gpt-4o');
  assert.equal(d1.custom_llm_provider, 'openai');
  assert.equal(d1.api_requests, 2);
  assert.equal(d1.successful_requests, 1);
  assert.equal(d1.failed_requests, 1);
  assert.equal(d1.prompt_tokens, recs[0]!.prompt_tokens);
  assert.equal(d1.cache_read_input_tokens, recs[0]!.cache_read_input_tokens);
  assert.equal(nanosOf(d1.spend), recs[0]!.spend_nanos);
  assert.ok(d1.updated_at instanceof Date);
  for (const [table, col, id] of [
    ['LiteLLM_DailyTeamSpend', 'team_id', 'team-1'],
    ['LiteLLM_DailyOrganizationSpend', 'organization_id', 'org-1'],
  ] as const) {
    const s = await one<{ s: number; n: string }>(pool, `SELECT sum(spend) AS s, sum(api_requests) AS n FROM "${table}" WHERE ${col} = $1`, [id]);
    assert.equal(nanosOf(s.s), sum(recs), table);
    assert.equal(Number(s.n), 3, table);
  }
  const deu = await one<{ s: number; n: string }>(pool, `SELECT sum(spend) AS s, sum(api_requests) AS n FROM "LiteLLM_DailyEndUserSpend" WHERE end_user_id = 'customer-42'`);
  assert.equal(Number(deu.n), 2);
  const tags = (await pool.query(`SELECT tag, api_requests, spend FROM "LiteLLM_DailyTagSpend" ORDER BY tag`)).rows;
  assert.deepEqual(tags.map((t) => [t.tag, Number(t.api_requests), nanosOf(t.spend)]), [
    ['prod', 1, recs[0]!.spend_nanos],
    ['team-a', 1, recs[0]!.spend_nanos],
  ]);

  // What the caller is told it may move from "pending" to "base".
  assert.equal(committed.length, 1);
  const c = committed[0]!;
  assert.equal(c.records, 3);
  assert.equal(c.keys.get(KEY), recs[0]!.spend_nanos + recs[2]!.spend_nanos);
  assert.equal(c.keys.get(KEY2), recs[1]!.spend_nanos);
  assert.equal(c.users.get('user-1'), sum(recs));
  assert.equal(c.teams.get('team-1'), sum(recs));
  assert.equal(c.teamMembers.get(teamMemberKey('team-1', 'user-1')), sum(recs));
  assert.equal(c.orgs.get('org-1'), sum(recs));
  assert.equal(c.endUsers.get('customer-42'), recs[0]!.spend_nanos + recs[1]!.spend_nanos);
  assert.equal(c.recovered.records, 0);

  // Nothing new: a second flush writes nothing (and the Daily rows are upserted, not repeated).
  const again = await sw.flushNow();
  assert.equal(again.records, 0);
  w.append(rec(4));
  await sw.flushNow();
  assert.equal((await pool.query(`SELECT * FROM "LiteLLM_DailyUserSpend" WHERE api_key = $1`, [KEY])).rows.length, 1);
  await assertEntitySums(pool, [...recs, rec(4)]);
});

test('a call that costs nothing creates no end-user row (any client could grow the table one row per `user` value); one that costs something does, and both are in the Daily end-user table', async () => {
  const { pool, dir } = await setup('sw_eu_zero');
  const committed: CommittedTotals[] = [];
  const sw = new SpendWriter(pool, dir, { onCommitted: (t) => committed.push(t) });
  const w = new JournalWriter(dir, 'w');
  await pool.query(`INSERT INTO "LiteLLM_EndUserTable" (user_id, spend, blocked) VALUES ('known', 2, false)`);
  const free = Array.from({ length: 50 }, (_, i) => rec(i, { end_user: `free-${i}`, spend_nanos: 0 }));
  const paid = rec(100, { end_user: 'paying', spend_nanos: 7_000 });
  const knownFree = rec(101, { end_user: 'known', spend_nanos: 0 });
  for (const r of [...free, paid, knownFree]) w.append(r);
  const res = await sw.flushNow();
  assert.equal(res.ok, true, res.error);
  const eus = (await pool.query(`SELECT user_id, spend FROM "LiteLLM_EndUserTable" ORDER BY user_id`)).rows;
  assert.deepEqual(eus.map((e) => [e.user_id, nanosOf(e.spend)]), [['known', 2e9], ['paying', 7_000]]);
  // Every call is still logged and counted per end user, and reported (activity) to the caller.
  assert.equal(await count(pool), 52);
  const daily = await one<{ n: string; u: string }>(pool, `SELECT sum(api_requests) AS n, count(DISTINCT end_user_id) AS u FROM "LiteLLM_DailyEndUserSpend"`);
  assert.deepEqual([Number(daily.n), Number(daily.u)], [52, 52]);
  assert.equal(committed[0]!.endUsers.size, 52);
});

test('a key without a user counts in the Daily user table under user_id "" (as LiteLLM writes it), so the daily views hold all spend', async () => {
  const { pool, dir } = await setup('sw_no_user');
  const sw = new SpendWriter(pool, dir);
  const w = new JournalWriter(dir, 'w');
  const recs = [rec(1, { user_id: '', team_id: null, organization_id: null }), rec(2, { user_id: '', team_id: null, organization_id: null }), rec(3)];
  for (const r of recs) w.append(r);
  assert.equal((await sw.flushNow()).ok, true);
  const rows = (await pool.query(`SELECT user_id, sum(api_requests)::int AS n, sum(spend) AS s FROM "LiteLLM_DailyUserSpend" GROUP BY user_id ORDER BY user_id`)).rows;
  assert.deepEqual(rows.map((r) => [r.user_id, r.n, nanosOf(r.s)]), [['', 2, recs[0]!.spend_nanos + recs[1]!.spend_nanos], ['user-1', 1, recs[2]!.spend_nanos]]);
});

test('SQL-looking and odd text is stored verbatim (only what Postgres cannot hold is replaced)', async () => {
  const { pool, dir } = await setup('sw_inject');
  const w = new JournalWriter(dir, 'w');
  const nasty = `x'); DROP TABLE "LiteLLM_SpendLogs"; --`;
  const r = rec(1, {
    request_id: nasty,
    end_user: `Robert'); DROP TABLE students;-- $1 \\ "q"`,
    model: `gpt$1'::jsonb`,
    request_tags: [`' OR 1=1 --`, `"); DELETE FROM "LiteLLM_UserTable"; --`],
    key_alias: 'ümlaut ✓ \\n tab\t',
    spend_logs_metadata: { q: `' OR '1'='1`, nested: { sql: 'SELECT * FROM pg_shadow' } },
    session_id: 'a\u0000b',
  });
  w.append(r);
  const res = await new SpendWriter(pool, dir).flushNow();
  assert.equal(res.ok, true, res.error);
  const row = await one<Record<string, unknown>>(pool, `SELECT * FROM "LiteLLM_SpendLogs"`);
  assert.equal(row.request_id, nasty);
  assert.equal(row.end_user, r.end_user);
  assert.equal(row.model, r.model);
  assert.deepEqual(row.request_tags, r.request_tags);
  assert.equal(row.session_id, 'ab', 'NUL cannot be stored in text: dropped');
  const md = row.metadata as Record<string, unknown>;
  assert.equal(md.user_api_key_alias, r.key_alias);
  assert.deepEqual(md.spend_logs_metadata, r.spend_logs_metadata);
  assert.equal((await one<{ user_id: string }>(pool, `SELECT user_id FROM "LiteLLM_EndUserTable"`)).user_id, r.end_user);
  assert.deepEqual(
    (await pool.query(`SELECT tag FROM "LiteLLM_DailyTagSpend" ORDER BY tag`)).rows.map((x) => x.tag),
    [...r.request_tags].sort((a, b) => (a < b ? -1 : 1)),
  );
  assert.equal(await count(pool, 'LiteLLM_UserTable'), 1, 'nothing executed');
});

test('10,000 records from 2 worker threads, flushed while they write: exactly 10,000 rows and exact sums', async () => {
  const { pool, dir } = await setup('sw_10k');
  const sw = new SpendWriter(pool, dir, { batchIntervalMs: 25, maxRecordsPerTransaction: 700 });
  sw.start();
  const journalJs = path.resolve(__dirname, '../../src/accounting/journal.js');
  const N = 5_000;
  // Each worker appends its records with a small pause now and then, as live traffic would.
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { JournalWriter } = require(${JSON.stringify(journalJs)});
    const w = new JournalWriter(workerData.dir, workerData.name, { maxBytes: 256 * 1024 });
    let i = 0;
    function step() {
      for (let k = 0; k < 250 && i < workerData.n; k++, i++) {
        const id = workerData.base + i;
        w.append({ ...workerData.template, request_id: 'r-' + id, spend_nanos: 1000 + (id * 7919) % 5000000,
          api_key: id % 3 === 0 ? workerData.key2 : workerData.key, start_ms: workerData.t0 + id, end_ms: workerData.t0 + id + 5,
          completion_start_ms: workerData.t0 + id + 1 });
      }
      if (i < workerData.n) setTimeout(step, 2); else { w.close(); parentPort.postMessage('done'); }
    }
    step();`;
  const template = rec(0);
  const run = (name: string, base: number) =>
    new Promise<void>((resolve, reject) => {
      const wk = new Worker(code, { eval: true, workerData: { dir, name, n: N, base, key: KEY, key2: KEY2, t0: T0, template } });
      wk.on('message', () => resolve());
      wk.on('error', reject);
    });
  await Promise.all([run('w1', 0), run('w2', N)]);
  await sw.stop();
  const expected = Array.from({ length: 2 * N }, (_, id) => ({
    ...template,
    spend_nanos: 1000 + ((id * 7919) % 5_000_000),
    api_key: id % 3 === 0 ? KEY2 : KEY,
  }));
  await assertEntitySums(pool, expected);
  // Closed, fully committed segments are gone; so are their journal rows.
  assert.deepEqual(listSegments(dir), []);
  assert.equal(await count(pool, 'Weir_SpendJournal'), 0);
});

/** A record as each format writes it: a JSON line (older versions), or a binary record. */
function encoded(r: SpendRecord, format: 1 | 2): Buffer {
  if (format === 1) return Buffer.from(JSON.stringify(r) + '\n');
  const buf = Buffer.alloc(worstSize(r));
  return buf.subarray(0, encodeRecord(r, buf, 0));
}

for (const format of [1, 2] as const) {
  test(`a torn last record is not written until it is complete (format ${format})`, async () => {
    const { pool, dir } = await setup(`sw_torn${format}`);
    const w = new JournalWriter(dir, 'w', { format });
    w.append(rec(1));
    w.append(rec(2));
    const seg = listSegments(dir)[0]!;
    const line = encoded(rec(3), format);
    fs.appendFileSync(seg.path, line.subarray(0, 100));
    const sw = new SpendWriter(pool, dir);
    assert.equal((await sw.flushNow()).records, 2);
    assert.equal(await count(pool), 2);
    assert.equal((await sw.flushNow()).records, 0, 'still torn: still not taken');
    fs.appendFileSync(seg.path, line.subarray(100));
    assert.equal((await sw.flushNow()).records, 1);
    await assertEntitySums(pool, [rec(1), rec(2), rec(3)]);
  });
}

test('after an upgrade: JSON segments an older version left (closed, open, dead) and binary ones, each record written once', async () => {
  const { pool, dir } = await setup('sw_mixed');
  fs.mkdirSync(dir, { recursive: true });
  // What the version before left: a closed segment, and one its dead process left open with a torn line.
  const before = new JournalWriter(dir, 'w1', { format: 1 });
  before.append(rec(1));
  before.append(rec(2));
  before.close();
  const orphan = path.join(dir, `spend-${String(Date.now() - 60_000).padStart(13, '0')}-000000-${2 ** 22 + 4322}-deadbeef-0badc0de-w2.jsonl`);
  fs.writeFileSync(orphan, [rec(3), rec(4)].map((r) => JSON.stringify(r) + '\n').join('') + '{"request_id": "torn', { mode: 0o600 });
  // This version's writer, binary, torn at the end too while it is still being written.
  const now = new JournalWriter(dir, 'w1');
  now.append(rec(5));
  now.append(rec(6, { key_alias: 'ünï', request_tags: ['a', 'b'], spend_logs_metadata: { k: 'v' } }));
  const live = now.currentSegment!;
  fs.appendFileSync(live, encoded(rec(7), 2).subarray(0, 30));
  assert.deepEqual(listSegments(dir).map((s) => s.format).sort(), [1, 1, 2]);
  const sw = new SpendWriter(pool, dir);
  const r = await sw.flushNow();
  assert.equal(r.ok, true, r.error);
  assert.equal(r.records, 6);
  assert.equal(await count(pool), 6);
  await assertEntitySums(pool, [rec(1), rec(2), rec(3), rec(4), rec(5), rec(6)]);
  assert.deepEqual(listSegments(dir).map((s) => s.file), [path.basename(live)], 'the old segments are done and deleted');
  assert.equal((await sw.flushNow()).records, 0, 'nothing twice');
  const row = await one<{ request_tags: unknown; metadata: unknown }>(pool, `SELECT request_tags, metadata FROM "LiteLLM_SpendLogs" WHERE request_id = 'chatcmpl-6'`);
  assert.deepEqual(row.request_tags, ['a', 'b']);
  assert.deepEqual((row.metadata as { spend_logs_metadata?: unknown }).spend_logs_metadata, { k: 'v' });
});

test('Postgres goes away: the flush fails, nothing is lost, and everything is written once when it is back', async () => {
  const base = tmpDir('sw_outage');
  fs.chmodSync(base, 0o711);
  const pgDir = path.join(base, 'pgdata');
  let server = await startEmbeddedPostgres({ dataDir: pgDir });
  const port = server.port;
  cleanups.push(() => server.stop());
  const pool = createPool(server.url, { connectionTimeoutMs: 1000 });
  cleanups.push(() => pool.end());
  await ensureSchema(pool);
  await seed(pool);
  const dir = path.join(base, 'journal');
  const problems: string[] = [];
  const sw = new SpendWriter(pool, dir, { batchIntervalMs: 50, maxBackoffMs: 200, onProblem: (m) => problems.push(m) });
  const w = new JournalWriter(dir, 'w');
  const recs: SpendRecord[] = [];
  for (let i = 0; i < 100; i++) recs.push(rec(i));
  recs.forEach((r) => w.append(r));
  assert.equal((await sw.flushNow()).records, 100);

  await server.stop();
  for (let i = 100; i < 300; i++) recs.push(rec(i));
  recs.slice(100).forEach((r) => w.append(r));
  const down = await sw.flushNow();
  assert.equal(down.ok, false);
  assert.equal(down.records, 0);
  assert.equal(sw.dbUp, false);
  assert.ok(problems.some((p) => /unreachable/.test(p)));
  const pending = listSegments(dir).flatMap((s) => readSegment(s.path, 0).records);
  assert.equal(pending.length, 300, 'the journal still holds every record');

  sw.start(); // retries on its own, with backoff, while the database is away
  await new Promise((r) => setTimeout(r, 400));
  server = await startEmbeddedPostgres({ dataDir: pgDir, port });
  const until = Date.now() + 15_000;
  while ((await count(pool).catch(() => 0)) < 300 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  await sw.stop();
  assert.equal(sw.dbUp, true);
  await assertEntitySums(pool, recs);
});

test('a flush that dies before COMMIT, or after it before its bookkeeping, neither loses nor repeats a record', async () => {
  const { pool, dir } = await setup('sw_crash');
  const w = new JournalWriter(dir, 'w');
  const recs = Array.from({ length: 50 }, (_, i) => rec(i, { end_user: `eu-${i % 4}`, request_tags: ['t'] }));
  recs.forEach((r) => w.append(r));

  // A pool whose COMMIT never happens: the process "dies" with the transaction open.
  const dying = (mode: 'before' | 'after'): pg.Pool =>
    ({
      connect: async () => {
        const c = await pool.connect();
        const real = c.query.bind(c) as (...a: unknown[]) => Promise<unknown>;
        const release = c.release.bind(c);
        // The "dead" process's connection dies with it; the pool must not hand it out again.
        (c as unknown as { release: unknown }).release = () => release(true);
        (c as unknown as { query: unknown }).query = async (...a: unknown[]) => {
          if (a[0] === 'COMMIT') {
            if (mode === 'after') await real('COMMIT');
            throw new Error(`simulated death ${mode} COMMIT`);
          }
          return real(...a);
        };
        return c;
      },
      query: pool.query.bind(pool),
    }) as unknown as pg.Pool;

  const r1 = await new SpendWriter(dying('before'), dir).flushNow();
  assert.equal(r1.ok, false);
  assert.equal(await count(pool), 0, 'nothing of the aborted transaction is visible');
  // A new process (a new writer instance) starts from the persisted offsets.
  assert.equal((await new SpendWriter(pool, dir).flushNow()).records, 50);
  await assertEntitySums(pool, recs);

  const more = Array.from({ length: 30 }, (_, i) => rec(100 + i, { end_user: `eu-${i % 4}` }));
  more.forEach((r) => w.append(r));
  // The COMMIT lands but its reply is lost: the writer retries, finds the offsets moved, writes
  // nothing twice, and still tells the caller those records are committed (exactly once).
  const told: CommittedTotals[] = [];
  const crashing = new SpendWriter(dying('after'), dir, { onCommitted: (t) => told.push(t) });
  const late = await crashing.flushNow();
  assert.equal(late.ok, true, late.error);
  assert.equal(late.records, 0, 'nothing written twice');
  assert.equal(told.reduce((a, t) => a + t.records, 0), 30, 'the lost-reply commit is still reported');
  assert.equal(told.reduce((a, t) => a + (t.keys.get(KEY) ?? 0), 0), sum(more));
  assert.equal((await crashing.flushNow()).records, 0);
  assert.equal(told.reduce((a, t) => a + t.records, 0), 30, 'and reported once');
  assert.equal((await new SpendWriter(pool, dir).flushNow()).records, 0, 'a new writer finds nothing either');
  await assertEntitySums(pool, [...recs, ...more]);
  const eu = await one<{ s: number }>(pool, `SELECT sum(spend) AS s FROM "LiteLLM_EndUserTable"`);
  assert.equal(nanosOf(eu.s), sum([...recs, ...more]));
});

test('kill -9 of the flushing process at random moments: no record lost, none written twice', async () => {
  const { pool, dir } = await setup('sw_kill9');
  const w = new JournalWriter(dir, 'w');
  const recs = Array.from({ length: 6_000 }, (_, i) => rec(i, { api_key: i % 2 ? KEY : KEY2, end_user: `eu-${i % 50}`, request_tags: [`tag-${i % 5}`] }));
  recs.forEach((r) => w.append(r));
  const url = (pool as unknown as { options: { connectionString: string } }).options.connectionString;
  const childCode = `
    const { createPool } = require(${JSON.stringify(path.resolve(__dirname, '../../src/db/pool.js'))});
    const { SpendWriter } = require(${JSON.stringify(path.resolve(__dirname, '../../src/db/spend-writer.js'))});
    const pool = createPool(${JSON.stringify(url)});
    const sw = new SpendWriter(pool, ${JSON.stringify(dir)}, { maxRecordsPerTransaction: 300 });
    process.stdout.write('ready\\n');
    sw.flushNow().then((r) => { process.stdout.write(JSON.stringify(r) + '\\n'); return pool.end(); });`;
  let killedMidway = 0;
  for (const delay of [30, 80, 150, 250]) {
    const child = spawn(process.execPath, ['-e', childCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let started = false;
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready') && !started) {
          started = true;
          setTimeout(() => child.kill('SIGKILL'), delay);
        }
      });
      child.on('exit', () => resolve());
    });
    assert.ok(started, 'the child process started flushing');
    if (!out.includes('"ok"')) killedMidway++;
  }
  const rest = await new SpendWriter(pool, dir).flushNow();
  assert.equal(rest.ok, true, rest.error);
  assert.ok(killedMidway >= 1, 'at least one child died mid-flush');
  await assertEntitySums(pool, recs);
  const eu = await one<{ s: number; n: string }>(pool, `SELECT sum(spend) AS s, count(*) AS n FROM "LiteLLM_EndUserTable"`);
  assert.equal(Number(eu.n), 50);
  assert.equal(nanosOf(eu.s), sum(recs));
  const tags = await one<{ n: string }>(pool, `SELECT sum(api_requests) AS n FROM "LiteLLM_DailyTagSpend"`);
  assert.equal(Number(tags.n), 6_000);
});

test('two spend writers on one journal (a restart overlapping, or two instances) take each record once', async () => {
  const { pool, dir } = await setup('sw_two');
  const w = new JournalWriter(dir, 'w', { maxBytes: 64 * 1024 });
  const recs = Array.from({ length: 3_000 }, (_, i) => rec(i));
  recs.forEach((r) => w.append(r));
  w.close();
  const pool2 = createPool((pool as unknown as { options: { connectionString: string } }).options.connectionString);
  cleanups.push(() => pool2.end());
  const a = new SpendWriter(pool, dir, { maxRecordsPerTransaction: 200 });
  const b = new SpendWriter(pool2, dir, { maxRecordsPerTransaction: 200 });
  const [ra, rb] = await Promise.all([a.flushNow(), b.flushNow()]);
  assert.ok(ra.ok && rb.ok, `${ra.error} ${rb.error}`);
  assert.equal(ra.records + rb.records, 3_000);
  await assertEntitySums(pool, recs);
  assert.deepEqual(listSegments(dir), []);
});

test('segments of a dead process are written, then deleted; a line Postgres refuses is quarantined, not lost', async () => {
  const { pool, dir } = await setup('sw_orphan');
  fs.mkdirSync(dir, { recursive: true });
  // A segment a previous process (long dead) left open, ending in a torn line.
  const orphan = path.join(dir, `spend-${String(Date.now() - 60_000).padStart(13, '0')}-000000-${2 ** 22 + 4321}-deadbeef-0badc0de-w1.jsonl`);
  const orphanRecs = [rec(1), rec(2)];
  fs.writeFileSync(orphan, orphanRecs.map((r) => JSON.stringify(r) + '\n').join('') + '{"request_id": "torn', { mode: 0o600 });
  // A poison record: the database refuses it (a trigger stands in for any such refusal).
  await pool.query(`CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN
      IF NEW.request_id = 'poison' THEN RAISE EXCEPTION 'refused by policy'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
  await pool.query(`CREATE TRIGGER refuse BEFORE INSERT ON "LiteLLM_SpendLogs" FOR EACH ROW EXECUTE FUNCTION refuse()`);
  // JSON lines (what older versions wrote) resync on '\n' after a line that is no record.
  const w = new JournalWriter(dir, 'live', { format: 1 });
  const live = [rec(10), rec(11, { request_id: 'poison' }), rec(12)];
  live.forEach((r) => w.append(r));
  fs.appendFileSync(w.currentSegment!, 'not json at all\n');
  w.append(rec(13));
  const problems: string[] = [];
  const told: CommittedTotals[] = [];
  const res = await new SpendWriter(pool, dir, { onProblem: (m) => problems.push(m), onCommitted: (t) => told.push(t) }).flushNow();
  assert.equal(res.ok, true, res.error);
  assert.equal(res.quarantined, 2);
  // The dead process's records were never in this process's "pending": reported apart.
  assert.equal(told.reduce((a, t) => a + t.recovered.records, 0), 2);
  assert.equal(told.reduce((a, t) => a + (t.recovered.keys.get(KEY) ?? 0), 0), sum(orphanRecs));
  assert.equal(told.reduce((a, t) => a + t.records, 0), 3);
  assert.equal(told.reduce((a, t) => a + (t.keys.get(KEY) ?? 0), 0), sum([rec(10), rec(12), rec(13)]));
  const written = [...orphanRecs, rec(10), rec(12), rec(13)];
  await assertEntitySums(pool, written);
  assert.ok(!fs.existsSync(orphan), 'the dead process segment is deleted once committed');
  assert.equal(listSegments(dir).length, 1, 'the live writer keeps its open segment');
  assert.equal(Number((await one<{ n: string }>(pool, `SELECT count(*) AS n FROM "Weir_SpendJournal"`)).n), 1);
  const q = fs.readdirSync(path.join(dir, 'quarantine'));
  const kept = q.flatMap((f) => fs.readFileSync(path.join(dir, 'quarantine', f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
  assert.equal(kept.length, 2);
  assert.ok(kept.some((k) => k.line === 'not json at all'));
  const poison = kept.find((k) => k.line.includes('"poison"'));
  assert.match(poison.reason, /refused by policy/);
  assert.equal(JSON.parse(poison.line).spend_nanos, rec(11).spend_nanos, 'the refused record is kept whole');
  assert.ok(problems.some((p) => /quarantined/.test(p)));
});

test('the quarantine remembers a line only until its segment is committed past it: its memory stays bounded', async () => {
  const { pool, dir } = await setup('sw_quarantine_bound');
  const w = new JournalWriter(dir, 'live', { format: 1 });
  const writer = new SpendWriter(pool, dir);
  const written: SpendRecord[] = [];
  for (let i = 0; i < 40; i++) {
    const r = rec(100 + i);
    written.push(r);
    w.append(r);
    fs.appendFileSync(w.currentSegment!, `not json ${i}\n`);
    // Every tenth round the segment is rotated: a retired segment's lines are forgotten too.
    if (i % 10 === 9) w.rotate();
    const res = await writer.flushNow();
    assert.equal(res.ok, true, res.error);
    assert.equal(res.quarantined, 1);
    assert.ok(writer.quarantineHeld <= 1, `round ${i}: ${writer.quarantineHeld} quarantined lines still remembered`);
  }
  await assertEntitySums(pool, written);
  const q = fs.readdirSync(path.join(dir, 'quarantine'));
  const kept = q.flatMap((f) => fs.readFileSync(path.join(dir, 'quarantine', f), 'utf8').trim().split('\n'));
  assert.equal(kept.length, 40, 'each bad line is quarantined once');
});

test('an upstream that repeats its response ids loses no row: the later ones are written under their call ids', async () => {
  const { pool, dir } = await setup('sw_repeat_ids');
  const w = new JournalWriter(dir, 'w');
  // Six calls answered with the same id (a self-hosted server, a replay), in two flushes.
  const same = (i: number) => rec(i, { request_id: 'chatcmpl-always-the-same', call_id: `call-${i}` });
  const first = [same(1), same(2), same(3)];
  first.forEach((r) => w.append(r));
  await new SpendWriter(pool, dir).flushNow();
  const second = [same(4), same(5), same(6)];
  second.forEach((r) => w.append(r));
  await new SpendWriter(pool, dir).flushNow();
  assert.equal(await count(pool), 6, 'six calls, six rows');
  await assertEntitySums(pool, [...first, ...second]);
  // The upstream's id stays where LiteLLM puts it for the first call; the others name it.
  const rows = (await pool.query(`SELECT request_id, metadata->>'upstream_request_id' AS up, metadata->>'litellm_call_id' AS call FROM "LiteLLM_SpendLogs" ORDER BY "startTime", request_id`)).rows;
  assert.deepEqual(rows.find((r) => r.request_id === 'chatcmpl-always-the-same'), { request_id: 'chatcmpl-always-the-same', up: null, call: 'call-1' });
  for (const i of [2, 3, 4, 5, 6]) assert.deepEqual(rows.find((r) => r.request_id === `call-${i}`), { request_id: `call-${i}`, up: 'chatcmpl-always-the-same', call: `call-${i}` });
  // The same records written again (a flush repeated after its commit landed) add nothing.
  const client = await pool.connect();
  try {
    await insertSpendLogs({ owner: pool, client }, [...first, ...second]);
  } finally {
    client.release();
  }
  assert.equal(await count(pool), 6, 'a record already written is not written twice');
});

test('disable_spend_logs / disable_error_logs: no log rows, spend still moves', async () => {
  const { pool, dir } = await setup('sw_disable');
  const w = new JournalWriter(dir, 'w');
  const recs = [rec(1), rec(2, { status: 'failure', error: { status: 500, message: 'boom', type: 'InternalServerError' } })];
  recs.forEach((r) => w.append(r));
  const res = await new SpendWriter(pool, dir, { disableSpendLogs: true, disableErrorLogs: true }).flushNow();
  assert.equal(res.records, 2);
  assert.equal(await count(pool), 0);
  assert.equal(await count(pool, 'LiteLLM_ErrorLogs'), 0);
  const key = await one<{ spend: number }>(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [KEY]);
  assert.equal(nanosOf(key.spend) - 4e9, sum(recs));
});

test('by default a transaction takes 1,000 records (one SpendLogs statement): 2,500 go in three, each once', async () => {
  const { pool, dir } = await setup('sw_default_tx');
  const w = new JournalWriter(dir, 'w');
  const recs = Array.from({ length: 2_500 }, (_, i) => rec(i + 1));
  recs.forEach((r) => w.append(r));
  const res = await new SpendWriter(pool, dir).flushNow();
  assert.equal(res.ok, true, res.error);
  assert.equal(res.records, 2_500);
  assert.equal(res.transactions, 3);
  assert.equal(await count(pool), 2_500);
  const key = await one<{ spend: number }>(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [KEY]);
  assert.equal(nanosOf(key.spend) - 4e9, sum(recs));
});

test('an unreachable database at start: dbUp is false and the journal is kept', async () => {
  const dir = tmpDir('sw_nodb');
  const pool = createPool('postgres://nobody:x@127.0.0.1:1/none', { connectionTimeoutMs: 500 });
  cleanups.push(() => pool.end());
  const w = new JournalWriter(dir, 'w');
  w.append(rec(1));
  const sw = new SpendWriter(pool, dir);
  const r = await sw.flushNow();
  assert.equal(r.ok, false);
  assert.equal(sw.dbUp, false);
  assert.equal(readSegment(listSegments(dir)[0]!.path, 0).records.length, 1);
});
