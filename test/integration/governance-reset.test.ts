// budget_duration resets end to end: budgets used up, then the gateway's reset job (it runs once a
// minute) sets spend back to 0 and the next period's calls pass again. This file waits for one run
// of that job (about 60 s after the gateway started): the exhausting happens meanwhile.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Weir, CALL_COST, adminOk, burst, chat, dbPool, governanceConfig, one, startMock, startWeirOn, tally, waitFor, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let bootedAt = 0;

before(async () => {
  const db = await ledgerDatabase('gov_reset');
  mock = await startMock();
  bootedAt = Date.now();
  // The reset job every second (LiteLLM's proxy_budget_rescheduler_min_time), not every minute.
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db, { general: '  proxy_budget_rescheduler_min_time: 1' })));
  pool = dbPool(db);
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close());
});

interface Subject {
  label: string;
  key: string;
  extra?: Record<string, unknown>;
  spendSql: string;
  id: string;
  /** The hash of the key its calls were made with (SpendLogs.api_key). */
  token: string;
}

const subjects: Subject[] = [];
let orgSubject: Subject | null = null;
const BUDGET = 2 * CALL_COST;
/** The reset job's first runs (every second here), and some slack for a loaded machine. */
const RESET_DEADLINE_MS = 5_000 + 15_000;

async function spend(s: Subject): Promise<number> {
  return Number((await one(pool, s.spendSql, [s.id]))?.spend);
}

test('budgets with a budget_duration: used up, then reset by the reset job, then usable again', async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_budget: BUDGET, budget_duration: '5s' });
  subjects.push({ label: 'key', key: k.key, spendSql: `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, id: k.token, token: k.token });
  await adminOk(weir.url, '/user/new', { user_id: 'reset-user', max_budget: BUDGET, budget_duration: '5s' });
  const uk = await adminOk(weir.url, '/key/generate', { user_id: 'reset-user' });
  subjects.push({ label: 'user', key: uk.key, spendSql: `SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = $1`, id: 'reset-user', token: uk.token });
  const team = await adminOk(weir.url, '/team/new', { max_budget: BUDGET, budget_duration: '5s' });
  const tk = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  subjects.push({ label: 'team', key: tk.key, spendSql: `SELECT spend FROM "LiteLLM_TeamTable" WHERE team_id = $1`, id: team.team_id, token: tk.token });
  await adminOk(weir.url, '/customer/new', { user_id: 'reset-customer', max_budget: BUDGET, budget_duration: '5s' });
  const ck = await adminOk(weir.url, '/key/generate', {});
  subjects.push({ label: 'end user', key: ck.key, extra: { user: 'reset-customer' }, spendSql: `SELECT spend FROM "LiteLLM_EndUserTable" WHERE user_id = $1`, id: 'reset-customer', token: ck.token });
  // The organization is used up now too; the next test looks at it once the job has run.
  const org = await adminOk(weir.url, '/organization/new', { organization_alias: 'reset-org', max_budget: BUDGET, budget_duration: '5s' });
  const orgTeam = await adminOk(weir.url, '/team/new', { organization_id: org.organization_id });
  const ok = await adminOk(weir.url, '/key/generate', { team_id: orgTeam.team_id });
  orgSubject = { label: 'organization', key: ok.key, spendSql: `SELECT spend FROM "LiteLLM_OrganizationTable" WHERE organization_id = $1`, id: org.organization_id, token: ok.token };
  assert.deepEqual(tally(await burst(4, () => chat(weir.url, ok.key))), { 200: 2, 429: 2 });

  for (const s of subjects) {
    const rs = await burst(4, () => chat(weir.url, s.key, 'gpt', s.extra ?? {}));
    assert.deepEqual(tally(rs), { 200: 2, 429: 2 }, s.label);
  }
  // The two calls' rows are written in the transaction that adds their cost to the entity. Not
  // the entity's spend itself: with a 5 s period the reset job may already have set it back to 0.
  for (const s of [...subjects, orgSubject!]) {
    await waitFor(`${s.label} spend written`, async () => Number((await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [s.token]))?.n) === 2, 10_000, 100);
  }
  for (const s of subjects) {
    const timeout = Math.max(bootedAt + RESET_DEADLINE_MS - Date.now(), 5_000);
    await waitFor(`${s.label} spend reset to 0 by the reset job`, async () => (await spend(s)) === 0, timeout, 250);
  }
  // Within a sync interval the gateway follows: calls pass again.
  for (const s of subjects) {
    await waitFor(`${s.label} usable again`, async () => (await chat(weir.url, s.key, 'gpt', s.extra ?? {})).status === 200, 5_000, 200);
  }
  const next = await one(pool, `SELECT budget_reset_at FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token]);
  assert.ok(new Date(next.budget_reset_at).getTime() > Date.now() - 10_000, `next budget_reset_at ${next.budget_reset_at}`);
});

test('an organization budget with a budget_duration is reset too', {
}, async () => {
  assert.ok(orgSubject, 'set up by the previous test');
  const s = orgSubject!;
  // The previous test saw the reset job run after the org's budget_reset_at had passed.
  const budgetRow = await one(pool, `SELECT b.budget_reset_at FROM "LiteLLM_OrganizationTable" o JOIN "LiteLLM_BudgetTable" b USING (budget_id) WHERE o.organization_id = $1`, [s.id]);
  // Its calls' rows were written before the reset was waited for; a commit that landed just after
  // one reset is cleared by the next (the job runs every second, the org's period is 5 s).
  const resetsAt = budgetRow?.budget_reset_at?.toISOString?.() ?? budgetRow?.budget_reset_at;
  await waitFor(`org spend reset to 0 by the reset job (budget row now resets at ${resetsAt})`, async () => (await spend(s)) === 0 || null, 15_000, 250);
  assert.equal((await chat(weir.url, s.key)).status, 200);
});
