// A run's key is minted and in the shared state without waiting for governance's serial work: with
// the periodic table read stuck (a lock held on a table it reads and a key mint does not), a run
// still gets its key and its agent's model call with that key is served. Before, the mint's
// read-back queued behind the stuck read, and the run sat in `provisioning` until it let go.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { closeAndCheckLedgers, dbPool, ledgerDatabase, startMock, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, CURL_CHAT, events, mustStart, printed, scriptProfile, statuses, waitRun } from './agent-runs-helpers';

let mock: MockUpstream;
const weirs: Weir[] = [];
const pools: pg.Pool[] = [];

before(async () => {
  mock = await startMock();
});

after(async () => {
  await closeAndCheckLedgers(...weirs.map((w) => () => w.stop()), ...pools.map((p) => async () => p.end()), () => mock.close());
});

test("a run's key mint and its agent's first call do not wait for governance's table read stuck behind a lock", async () => {
  const db = await ledgerDatabase('agents_run_keys');
  const pool = dbPool(db);
  pools.push(pool);
  const weir = await startWeirOn(writeConfigFile(agentConfig(mock.url, db, { profiles: scriptProfile('chat', CURL_CHAT) })));
  weirs.push(weir);

  // The periodic sync reads LiteLLM_EndUserTable inside its snapshot; minting a key never touches it.
  const holder = await pool.connect();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await holder.query('ROLLBACK');
    holder.release();
  };
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE "LiteLLM_EndUserTable" IN ACCESS EXCLUSIVE MODE');
    // Governance's chain is now stuck: its sync waits on the lock (seen in pg_locks, not assumed).
    await waitFor('the sync waiting on the lock', async () => {
      const r = await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = '"LiteLLM_EndUserTable"'::regclass`);
      return r.rows[0].n > 0 || null;
    }, 30_000);

    const run = await mustStart(weir.url, { profile: 'chat', prompt: 'one call' });
    // The agent's chat call went through under the run's key: the mint, and the key in the workers'
    // state, came while the lock still held the sync.
    const evs = await waitFor('the agent printed its chat answer', async () => {
      const e = await events(weir.url, run.id);
      return /chat\.completion/.test(printed(e)) ? e : null;
    }, 60_000);
    assert.deepEqual(statuses(evs).slice(0, 2), ['provisioning', 'running']);
    const still = await holder.query(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = '"LiteLLM_EndUserTable"'::regclass`);
    assert.ok(still.rows[0].n > 0, 'the sync was still waiting when the run had made its call');

    await release();
    const done = await waitRun(weir.url, run.id);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
  } finally {
    await release();
  }
});
