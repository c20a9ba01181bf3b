// Changes made elsewhere take effect within 5 seconds: rows written straight into LiteLLM's tables
// (as the Python proxy writes them) and a second Weir instance on the same database. The gateway
// runs with its default table re-read interval.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Answer, type Weir, CALL_COST, adminOk, burst, chat, dbPool, governanceConfig, one, sleep, startMock, startWeirOn, tally, waitFor, writeConfigFile, ledgerDatabase, closeAndCheckLedgers, handEditedSpend,
} from './governance-helpers';

const LIMIT_MS = 5_000;

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let dbUrl: string;

before(async () => {
  dbUrl = await ledgerDatabase('gov_sync');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, dbUrl)));
  pool = dbPool(dbUrl);
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close());
});

/**
 * Calls until `want(answer)` holds for 4 calls in a row (fresh connections, so both workers);
 * returns the ms it took from `since`. Fails once LIMIT_MS (plus a little for the calls) passed.
 */
async function takesEffect(what: string, since: number, callOnce: () => Promise<Answer>, want: (r: Answer) => boolean): Promise<number> {
  let last: Answer | undefined;
  for (;;) {
    const rs = await burst(4, callOnce);
    last = rs.find((r) => !want(r));
    if (!last) return Date.now() - since;
    if (Date.now() - since > LIMIT_MS + 500) {
      throw new Error(`${what}: not in effect ${Date.now() - since} ms after the change; last answer ${last.status} ${last.text.slice(0, 200)}`);
    }
    await sleep(100);
  }
}

const is = (status: number, type?: string) => (r: Answer) => r.status === status && (type === undefined || r.json?.error?.type === type);

test('blocked = true written into the key row → 401 within 5 s; false → back', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, k.key)).status, 200);
  let t0 = Date.now();
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET blocked = true WHERE token = $1`, [k.token]);
  const ms = await takesEffect('block', t0, () => chat(weir.url, k.key), is(401));
  assert.ok(ms <= LIMIT_MS, `${ms} ms`);
  const r = await chat(weir.url, k.key);
  assert.match(r.json.error.message, /Key is blocked/);
  t0 = Date.now();
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET blocked = false WHERE token = $1`, [k.token]);
  assert.ok((await takesEffect('unblock', t0, () => chat(weir.url, k.key), is(200))) <= LIMIT_MS);
});

test('the key row deleted → 401 within 5 s', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, k.key)).status, 200);
  const t0 = Date.now();
  await pool.query(`DELETE FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token]);
  assert.ok((await takesEffect('delete', t0, () => chat(weir.url, k.key), is(401, 'auth_error'))) <= LIMIT_MS);
  // And it stays refused (no stale copy comes back, no lookup finds it).
  await sleep(300);
  assert.deepEqual(tally(await burst(6, () => chat(weir.url, k.key))), { 401: 6 });
});

test('expires set in the past → 401 expired_key within 5 s', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  assert.equal((await chat(weir.url, k.key)).status, 200);
  const t0 = Date.now();
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET expires = now() AT TIME ZONE 'UTC' - interval '1 minute' WHERE token = $1`, [k.token]);
  assert.ok((await takesEffect('expiry', t0, () => chat(weir.url, k.key), is(401, 'expired_key'))) <= LIMIT_MS);
});

test('max_budget lowered → refused within 5 s; raised → allowed again', async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 1 });
  assert.equal((await chat(weir.url, k.key)).status, 200);
  let t0 = Date.now();
  // Below the cost of one call: the reservation of the next call does not fit.
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET max_budget = $2 WHERE token = $1`, [k.token, CALL_COST / 2]);
  assert.ok((await takesEffect('lower budget', t0, () => chat(weir.url, k.key), is(429, 'budget_exceeded'))) <= LIMIT_MS);
  t0 = Date.now();
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET max_budget = 5 WHERE token = $1`, [k.token]);
  assert.ok((await takesEffect('raise budget', t0, () => chat(weir.url, k.key), is(200))) <= LIMIT_MS);
});

test('spend reset to 0 (as a budget reset writes it) → allowed again within 5 s', async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 2 * CALL_COST });
  assert.deepEqual(tally(await burst(6, () => chat(weir.url, k.key))), { 200: 2, 429: 4 });
  // The spend is in the database first (else the reset would be overwritten by the next batch).
  await waitFor('the key spend written', async () => Math.abs(Number((await one(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token])).spend) - 2 * CALL_COST) < 1e-9);
  await sleep(2500); // the in-memory spend has caught up with the database
  assert.equal((await chat(weir.url, k.key)).status, 429);
  const t0 = Date.now();
  handEditedSpend.push(k.token);
  await pool.query(`UPDATE "LiteLLM_VerificationToken" SET spend = 0 WHERE token = $1`, [k.token]);
  const ms = await takesEffect('spend reset', t0, () => chat(weir.url, k.key), (r) => r.status === 200 || r.status === 429);
  assert.ok(ms <= LIMIT_MS);
  await waitFor('a call allowed after the reset', async () => (await chat(weir.url, k.key)).status === 200, LIMIT_MS);
});

test('team blocked and team budget changed in the database → within 5 s', async () => {
  const team = await adminOk(weir.url, '/team/new', {});
  const k = await adminOk(weir.url, '/key/generate', { team_id: team.team_id });
  assert.equal((await chat(weir.url, k.key)).status, 200);
  let t0 = Date.now();
  await pool.query(`UPDATE "LiteLLM_TeamTable" SET blocked = true WHERE team_id = $1`, [team.team_id]);
  assert.ok((await takesEffect('team block', t0, () => chat(weir.url, k.key), is(401))) <= LIMIT_MS);
  await pool.query(`UPDATE "LiteLLM_TeamTable" SET blocked = false, max_budget = $2 WHERE team_id = $1`, [team.team_id, CALL_COST / 2]);
  t0 = Date.now();
  assert.ok((await takesEffect('team budget', t0, () => chat(weir.url, k.key), is(429, 'budget_exceeded'))) <= LIMIT_MS);
});

test('a second Weir instance on the same database: keys, blocks and spend cross over', async () => {
  const b = await startWeirOn(writeConfigFile(governanceConfig(mock.url, dbUrl)));
  try {
    // A key generated on A works on B at once (B has never seen it: one lookup).
    const k = await adminOk(weir.url, '/key/generate', { max_budget: 4 * CALL_COST });
    assert.deepEqual(tally(await burst(6, () => chat(b.url, k.key, 'gpt', { max_tokens: 4 }))), { 200: 4, 429: 2 });
    // B's spend reaches A through the database: A refuses once it has read it.
    const t0 = Date.now();
    await waitFor('B\'s spend in the database', async () => Math.abs(Number((await one(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token])).spend) - 4 * CALL_COST) < 1e-9);
    assert.ok((await takesEffect('spend from B seen on A', t0, () => chat(weir.url, k.key), is(429, 'budget_exceeded'))) <= LIMIT_MS + 2_000);
    // Blocked on B → refused on A within 5 s.
    const k2 = await adminOk(b.url, '/key/generate', {});
    assert.equal((await chat(weir.url, k2.key)).status, 200);
    const t1 = Date.now();
    await adminOk(b.url, '/key/block', { key: k2.key });
    assert.equal((await chat(b.url, k2.key)).status, 401, 'at once on the instance that made the change');
    assert.ok((await takesEffect('block from B seen on A', t1, () => chat(weir.url, k2.key), is(401))) <= LIMIT_MS);
  } finally {
    await b.stop();
  }
});
