// Bad input through HTTP, against the real gateway and a real database: every refusal is a clear
// 4xx in LiteLLM's envelope naming the field, and nothing is half-written (every governance table
// has the same rows before and after). SQL-looking text is data: stored and logged verbatim.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Answer, type Weir, MASTER_KEY, admin, adminOk, bearer, call, chat, dbPool, governanceConfig, one, rows, startMock, startWeirOn, waitForLogs,
  writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('gov_bad_input');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)));
  pool = dbPool(db);
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close());
});

const TABLES = [
  'LiteLLM_VerificationToken', 'LiteLLM_TeamTable', 'LiteLLM_UserTable', 'LiteLLM_EndUserTable', 'LiteLLM_BudgetTable',
  'LiteLLM_OrganizationTable', 'LiteLLM_TeamMembership',
];

/** Every governance table, row by row (a change anywhere shows). */
/**
 * What the admin API may have written: every row of every table, without the columns the spend
 * writer moves (a call made by an earlier test may be committed at any moment).
 */
const SPEND_COLUMNS = new Set(['spend', 'model_spend', 'total_spend']);

async function state(): Promise<string> {
  const parts: string[] = [];
  for (const t of TABLES) {
    const all = await rows(pool, `SELECT * FROM "${t}" ORDER BY 1`);
    parts.push(`${t}: ${JSON.stringify(all.map((r) => Object.fromEntries(Object.entries(r).filter(([c]) => !SPEND_COLUMNS.has(c)))))}`);
  }
  return parts.join('\n');
}

const SQL = [
  `'); DROP TABLE "LiteLLM_VerificationToken"; --`,
  `" OR 1=1; --`,
  `x'; UPDATE "LiteLLM_VerificationToken" SET max_budget = NULL; --`,
  `$$; SELECT pg_sleep(10); $$`,
  `Robert'); DELETE FROM "LiteLLM_TeamTable" WHERE ('1'='1`,
];

function envelope(r: Answer, statuses: number[], param?: string | null, message?: RegExp): void {
  assert.ok(statuses.includes(r.status), `status ${r.status} (wanted ${statuses}): ${r.text.slice(0, 300)}`);
  const e = r.json?.error;
  assert.ok(e && typeof e.message === 'string' && e.message.length > 0, `OpenAI envelope: ${r.text.slice(0, 300)}`);
  assert.equal(e.code, String(r.status));
  assert.ok(typeof e.type === 'string');
  if (param !== undefined) assert.equal(e.param, param, e.message);
  if (message) assert.match(e.message, message);
  assert.ok(!/at \w+ \(|node_modules|\.ts:\d+/.test(e.message), `no stack in the message: ${e.message}`);
}

/** The call is refused with one of `statuses` and changes no table. */
async function refused(p: string, body: unknown, statuses: number[], param?: string | null, message?: RegExp): Promise<Answer> {
  const before = await state();
  const r = await admin(weir.url, p, body);
  envelope(r, statuses, param, message);
  assert.equal(await state(), before, `${p} ${JSON.stringify(body).slice(0, 100)} changed a table`);
  return r;
}

test('/key/generate and /key/regenerate with the master key as the new value → 400, nothing written; the master key keeps its rights', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  await refused('/key/generate', { key: MASTER_KEY }, [400], 'key', /master key/);
  await refused('/key/regenerate', { key: k.key, new_key: MASTER_KEY }, [400], 'new_key', /master key/);
  await refused('/key/generate', { max_budget: 1e308 }, [400], 'max_budget', /at most 1e9 USD/);
  assert.equal((await chat(weir.url, MASTER_KEY)).status, 200);
  assert.equal((await chat(weir.url, k.key)).status, 200);
});

test('/key/generate: duplicate key_alias, unknown team / user ids → 400, nothing written', async () => {
  await adminOk(weir.url, '/key/generate', { key_alias: 'taken-alias' });
  await refused('/key/generate', { key_alias: 'taken-alias', soft_budget: 3 }, [400], 'key_alias', /taken-alias/);
  await refused('/key/generate', { team_id: 'no-such-team' }, [400], 'team_id', /no-such-team/);
  await refused('/key/generate', { user_id: 'no-such-user' }, [400], 'user_id', /no-such-user/);
  await refused('/key/generate', { organization_id: 'no-such-org' }, [400], 'organization_id');
  await refused('/key/generate', { budget_id: 'no-such-budget' }, [400], 'budget_id');
  await refused('/key/update', { key: 'sk-no-such-key-at-all', max_budget: 1 }, [400, 404]);
  await refused('/team/member_add', { team_id: 'no-such-team', member: [{ user_id: 'x', role: 'user' }] }, [400, 404], 'team_id');
  await refused('/team/new', { organization_id: 'no-such-org' }, [400], 'organization_id');
});

test('negative budgets and limits → 400 naming the field, on keys, teams, users, customers, budgets, orgs', async () => {
  const team = await adminOk(weir.url, '/team/new', {});
  for (const [p, body, param] of [
    ['/key/generate', { max_budget: -1 }, 'max_budget'],
    ['/key/generate', { soft_budget: -0.5 }, 'soft_budget'],
    ['/key/generate', { rpm_limit: -5 }, 'rpm_limit'],
    ['/key/generate', { tpm_limit: -1 }, 'tpm_limit'],
    ['/key/generate', { max_parallel_requests: -1 }, 'max_parallel_requests'],
    ['/team/new', { max_budget: -10 }, 'max_budget'],
    ['/team/update', { team_id: team.team_id, max_budget: -10 }, 'max_budget'],
    ['/user/new', { user_id: 'neg-user', max_budget: -1 }, 'max_budget'],
    ['/customer/new', { user_id: 'neg-cust', max_budget: -1 }, 'max_budget'],
    ['/budget/new', { max_budget: -1 }, 'max_budget'],
    ['/organization/new', { organization_alias: 'neg-org', max_budget: -1 }, 'max_budget'],
    ['/team/member_add', { team_id: team.team_id, member: [{ user_id: 'neg-member', role: 'user' }], max_budget_in_team: -1 }, 'max_budget_in_team'],
  ] as const) {
    await refused(p, body, [400], param, /non-negative/);
  }
});

test('malformed durations (30x) → 400 naming the field', async () => {
  for (const [p, body, param] of [
    ['/key/generate', { duration: '30x' }, 'duration'],
    ['/key/generate', { budget_duration: '30x' }, 'budget_duration'],
    ['/key/generate', { budget_duration: '-1d' }, 'budget_duration'],
    ['/key/generate', { duration: '1 day' }, 'duration'],
    ['/team/new', { budget_duration: '30x' }, 'budget_duration'],
    ['/user/new', { user_id: 'dur-user', budget_duration: '30x' }, 'budget_duration'],
    ['/customer/new', { user_id: 'dur-cust', budget_duration: '30x' }, 'budget_duration'],
    ['/budget/new', { budget_duration: '30x' }, 'budget_duration'],
  ] as const) {
    await refused(p, body, [400], param, /invalid duration/);
  }
});

test('a given key that does not start with sk- → 400; a duplicate key value → 400', async () => {
  await refused('/key/generate', { key: 'my-own-key' }, [400], 'key', /sk-/);
  await adminOk(weir.url, '/key/generate', { key: 'sk-given-once-12345' });
  await refused('/key/generate', { key: 'sk-given-once-12345' }, [400], 'key');
});

test('wrong types and bodies that are not JSON objects → 422 / 400', async () => {
  await refused('/key/generate', { max_budget: 'a lot' }, [422], 'max_budget');
  await refused('/key/generate', { models: 'gpt' }, [422], 'models');
  await refused('/team/new', { blocked: 'yes' }, [422], 'blocked');
  await refused('/key/generate', [1, 2, 3], [422, 400]);
  const before = await state();
  const r = await call(weir.url, '/key/generate', { headers: bearer('sk-master-governance-5e1f0c'), body: '{"key_alias": "half', method: 'POST' });
  envelope(r, [400, 422]);
  assert.equal(await state(), before);
});

test('huge metadata → 400; a body over 1 MB → 413; nothing written', async () => {
  const big = { blob: 'x'.repeat(100 * 1024) };
  await refused('/key/generate', { metadata: big }, [400], 'metadata', /too large/);
  await refused('/team/new', { metadata: big }, [400], 'metadata');
  await refused('/user/new', { user_id: 'big-meta', metadata: big }, [400], 'metadata');
  const before = await state();
  const r = await admin(weir.url, '/key/generate', { metadata: { blob: 'y'.repeat(1100 * 1024) } });
  envelope(r, [413]);
  assert.equal(await state(), before);
});

test('SQL-looking strings in every text field are stored verbatim and harm nothing', async () => {
  const team = await adminOk(weir.url, '/team/new', { team_alias: SQL[0], metadata: { note: SQL[1] }, tags: [SQL[2]] });
  const user = await adminOk(weir.url, '/user/new', { user_id: SQL[4], user_alias: SQL[1], user_email: `${SQL[3]}@example.com` });
  await adminOk(weir.url, '/customer/new', { user_id: SQL[2], alias: SQL[0], max_budget: 1 });
  const org = await adminOk(weir.url, '/organization/new', { organization_alias: SQL[3] });
  const beforeKeys = (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"`)).n as number;
  const k = await adminOk(weir.url, '/key/generate', {
    key_alias: SQL[0], team_id: team.team_id, user_id: user.user_id, models: [SQL[1]], metadata: { [SQL[2]]: SQL[3] }, tags: [SQL[4]],
  });
  const k2 = await adminOk(weir.url, '/key/generate', { key_alias: SQL[1], aliases: { [SQL[2]]: 'gpt' } });
  // Stored as sent.
  const row = await one(pool, `SELECT * FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token]);
  assert.equal(row.key_alias, SQL[0]);
  assert.deepEqual(row.models, [SQL[1]]);
  assert.equal(row.metadata[SQL[2]], SQL[3]);
  assert.equal((await one(pool, `SELECT team_alias FROM "LiteLLM_TeamTable" WHERE team_id = $1`, [team.team_id])).team_alias, SQL[0]);
  assert.equal((await one(pool, `SELECT user_alias FROM "LiteLLM_UserTable" WHERE user_id = $1`, [SQL[4]])).user_alias, SQL[1]);
  assert.equal((await one(pool, `SELECT alias FROM "LiteLLM_EndUserTable" WHERE user_id = $1`, [SQL[2]])).alias, SQL[0]);
  assert.equal((await one(pool, `SELECT organization_alias FROM "LiteLLM_OrganizationTable" WHERE organization_id = $1`, [org.organization_id])).organization_alias, SQL[3]);
  // Nothing else was touched: every table is there, the other keys kept their budgets.
  assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken"`)).n, beforeKeys + 2);
  assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" WHERE key_alias = 'taken-alias'`)).n, 1);
  // Duplicate of an SQL-looking alias is refused like any other.
  await refused('/key/generate', { key_alias: SQL[0] }, [400], 'key_alias');
  // Through the LLM path: an SQL-looking alias routes, SQL-looking end user, tags and spend-log metadata are logged verbatim.
  const r = await chat(weir.url, k2.key, SQL[2], { user: SQL[2] }, { 'x-litellm-tags': 'ok-tag', 'x-litellm-spend-logs-metadata': JSON.stringify({ q: SQL[0] }) });
  assert.equal(r.status, 200, r.text);
  await waitForLogs(pool, 1, 'api_key = $1', [k2.token]);
  const log = await one(pool, `SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k2.token]);
  assert.equal(log.end_user, SQL[2]);
  assert.equal(log.metadata.spend_logs_metadata.q, SQL[0]);
  assert.equal(log.metadata.user_api_key_alias, SQL[1]);
  assert.equal(log.model_group, 'gpt');
  // The key restricted to an SQL-looking model name is refused the real one, in the envelope.
  const denied = await chat(weir.url, k.key, 'gpt');
  assert.equal(denied.status, 403);
  assert.equal(denied.json.error.type, 'key_model_access_denied');
});

test('NUL bytes and lone surrogates in text fields → 400, not a 500', {
}, async () => {
  const cases: Array<[string, unknown]> = [
    ['/key/generate', { key_alias: 'nul\u0000alias' }],
    ['/team/new', { team_alias: 'nul\u0000team' }],
    ['/key/generate', { metadata: { note: 'nul\u0000in json' } }],
    ['/key/generate', { metadata: { note: 'lone \ud800 surrogate' } }],
  ];
  const seen: string[] = [];
  for (const [p, body] of cases) {
    const before = await state();
    const r = await admin(weir.url, p, body);
    assert.equal(await state(), before, `${p} changed a table`);
    seen.push(`${p} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
  }
  assert.ok(seen.every((l) => / → 400 /.test(l)), seen.join('\n'));
});

test('the LLM path: an over-long end-user id → 400, an unparseable body → 400, nothing logged', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const long = await chat(weir.url, k.key, 'gpt', { user: 'u'.repeat(300) });
  assert.equal(long.status, 400);
  assert.equal(long.json.error.param, 'user');
  const bad = await call(weir.url, '/v1/chat/completions', { headers: bearer(k.key), body: '{"model": "gpt", "messages": [' });
  assert.equal(bad.status, 400);
  assert.ok(bad.json.error.message);
  const noModel = await call(weir.url, '/v1/chat/completions', { headers: bearer(k.key), body: { messages: [] } });
  assert.equal(noModel.status, 400);
  assert.equal(noModel.json.error.param, 'model');
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token])).n, 0);
});
