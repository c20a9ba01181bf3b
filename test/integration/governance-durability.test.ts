// Nothing lost: a PostgreSQL outage while calls flow (a private server, stopped and started), and a
// gateway killed with SIGKILL right after answering, restarted on the same config file (so the same
// journal beside it). Every answered call ends up as exactly one SpendLogs row.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { startPostgres, stopTestPostgres, type TestPostgres } from '../support/postgres';
import {
  type Weir, CALL_COST, adminOk, burst, call, chat, dbPool, governanceConfig, one, sleep, startMock, startWeirOn, tally, waitFor, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

const opened: Array<() => Promise<unknown>> = [];
after(async () => {
  await closeAndCheckLedgers(...opened.reverse());
  await stopTestPostgres();
});

let mockP: Promise<MockUpstream> | null = null;
function mock(): Promise<MockUpstream> {
  mockP ??= startMock().then((m) => {
    opened.push(() => m.close());
    return m;
  });
  return mockP;
}

async function createDb(serverUrl: string, name: string): Promise<string> {
  const c = new Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

const readiness = (w: Weir) => call(w.url, '/health/readiness');

test('PostgreSQL down while calls flow: known keys keep working, readiness says so, the journal is written once it is back', async () => {
  const pg: TestPostgres = await startPostgres();
  opened.push(() => pg.stop());
  const db = await createDb(pg.url, 'outage');
  const m = await mock();
  const w = await startWeirOn(writeConfigFile(governanceConfig(m.url, db)));
  opened.push(() => w.stop('SIGKILL'));
  const pool = dbPool(db);
  opened.push(() => pool.end());

  const k = await adminOk(w.url, '/key/generate', { max_budget: 100 });
  let answered = 0;
  const ok = async (n: number) => {
    const rs = await burst(n, () => chat(w.url, k.key));
    assert.deepEqual(tally(rs), { 200: n });
    answered += n;
  };
  await ok(5);
  await waitFor('5 rows before the outage', async () => (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs"`)).n === 5);
  assert.equal((await readiness(w)).status, 200);

  await pg.pause();
  await ok(10);
  const down = await waitFor('readiness to report the database down', async () => {
    const r = await readiness(w);
    return r.status === 503 ? r : null;
  }, 10_000, 100);
  assert.equal(down.json.db, 'Not connected');
  assert.equal(down.json.status, 'unhealthy');
  // Still serving known keys, on both workers, while the database is away.
  for (let i = 0; i < 3; i++) {
    await ok(8);
    await sleep(300);
  }
  // A key this instance has never seen cannot be looked up: a clear answer, not a hang.
  const t0 = Date.now();
  const unknown = await chat(w.url, 'sk-never-seen-during-outage');
  assert.ok(unknown.status === 401 || unknown.status === 503, `${unknown.status} ${unknown.text}`);
  assert.ok(Date.now() - t0 < 8_000, `unknown key answered after ${Date.now() - t0} ms`);
  // The journal holds what was answered meanwhile.
  const journal = path.join(path.dirname(w.configPath), '.weir', 'journal');
  assert.ok(fs.existsSync(journal) && fs.readdirSync(journal).length > 0, `journal at ${journal}`);

  await pg.start();
  await waitFor(`${answered} SpendLogs rows after the database came back`, async () => (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs"`)).n >= answered, 20_000, 200);
  await waitFor('readiness back to 200', async () => (await readiness(w)).status === 200, 10_000, 100);
  assert.equal((await readiness(w)).json.db, 'connected');
  await sleep(2500); // more batch intervals: nothing is written twice
  const logs = await one(pool, `SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS d, sum(spend) AS s FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token]);
  assert.equal(logs.n, answered);
  assert.equal(logs.d, answered);
  assert.ok(Math.abs(Number(logs.s) - answered * CALL_COST) < 1e-9);
  const spend = Number((await one(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token])).spend);
  assert.ok(Math.abs(spend - answered * CALL_COST) < 1e-9, `key spend ${spend} vs ${answered * CALL_COST}`);
});

/** A config whose first batch write comes 3 s after start: a kill -9 before that loses nothing. */
async function killedAfterAnswers(label: string, n: number, keyBody: Record<string, unknown>) {
  const db = await ledgerDatabase(label);
  const m = await mock();
  const cfg = writeConfigFile(governanceConfig(m.url, db, { general: '  proxy_batch_write_at: 3' }).replace('  proxy_batch_write_at: 1\n', ''));
  const pool = dbPool(db);
  opened.push(() => pool.end());
  const a = await startWeirOn(cfg);
  opened.push(() => a.stop('SIGKILL'));
  const k = await adminOk(a.url, '/key/generate', keyBody);
  const rs = await burst(n, () => chat(a.url, k.key));
  assert.deepEqual(tally(rs), { 200: n });
  a.proc.kill('SIGKILL');
  await a.exited;
  const before = (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs"`)).n as number;
  return { db, cfg, pool, k, before };
}

test('kill -9 right after N answered calls, restart on the same config: exactly N rows after the first flush', async (t) => {
  const N = 30;
  const { cfg, pool, k, before } = await killedAfterAnswers('gov_kill9', N, { max_budget: 100 });
  t.diagnostic(`rows in the database when the gateway was killed: ${before} of ${N}`);
  const journal = path.join(path.dirname(cfg), '.weir', 'journal');
  assert.ok(fs.readdirSync(journal).length > 0, 'the journal beside the config holds the records');
  const b = await startWeirOn(cfg);
  opened.push(() => b.stop());
  await waitFor(`${N} rows after the restart`, async () => (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs"`)).n >= N, 15_000, 200);
  await sleep(3500); // one more batch interval of the new process: nothing twice
  const logs = await one(pool, `SELECT count(*)::int AS n, count(DISTINCT request_id)::int AS d, sum(spend) AS s FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token]);
  assert.equal(logs.n, N);
  assert.equal(logs.d, N);
  const spend = Number((await one(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token])).spend);
  assert.ok(Math.abs(spend - N * CALL_COST) < 1e-9, `key spend ${spend} vs ${N * CALL_COST}`);
  // The restarted process knows the spend too: the key still works and the header says so.
  const r = await chat(b.url, k.key);
  assert.equal(r.status, 200);
  assert.ok(Number(r.headers['x-litellm-key-spend']) >= N * CALL_COST - 1e-9, `x-litellm-key-spend ${r.headers['x-litellm-key-spend']}`);
});

test('kill -9 with the budget used up: the restarted gateway still refuses the key', {
}, async () => {
  const N = 5;
  const { cfg, k } = await killedAfterAnswers('gov_kill9_budget', N, { max_budget: N * CALL_COST });
  const b = await startWeirOn(cfg);
  opened.push(() => b.stop());
  // The budget was used up before the kill: the first call of the new process must be refused.
  const r = await chat(b.url, k.key);
  assert.equal(r.status, 429, `first call after the restart: ${r.status} ${r.text.slice(0, 160)}`);
});
