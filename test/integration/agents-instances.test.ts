// Agent runs across processes: two Weir instances on one database share the queue (each run is
// claimed and executed by exactly one of them); a Weir killed with -9 mid-run finds the run when it
// comes back and ends it as failed: internal, its key blocked and its processes gone; an instance
// that never comes back has its runs taken over by another once its lease expires.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { closeAndCheckLedgers, dbPool, ledgerDatabase, one, rows, startMock, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, events, mustStart, scriptProfile, statuses, waitRun } from './agent-runs-helpers';

let mock: MockUpstream;
const weirs: Weir[] = [];
const pools: Pool[] = [];
// The gate lives where the sandbox can read it (the host's /tmp is not the sandbox's).
// The sandbox's user is not Weir's: the gate must be readable by anyone.
const gateDir = fs.mkdtempSync('/var/tmp/weir-gate-');
fs.chmodSync(gateDir, 0o755);

const marker = () => `weir-marker-${randomBytes(5).toString('hex')}`;

/** Processes of this machine whose command line holds the text. */
function processesWith(text: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

before(async () => {
  mock = await startMock();
});

after(async () => {
  fs.rmSync(gateDir, { recursive: true, force: true });
  await closeAndCheckLedgers(...weirs.map((w) => () => w.stop('SIGKILL')), ...pools.map((p) => async () => p.end()), () => mock.close());
});

describe('two instances on one database', () => {
  it('share the queue: four runs on two instances of two slots each run two here and two there, each exactly once', async () => {
    const db = await ledgerDatabase('agents_two');
    const pool = dbPool(db);
    pools.push(pool);
    const gate = path.join(gateDir, 'go-two');
    const config = agentConfig(mock.url, db, {
      settings: '  max_concurrent_runs: 2\n',
      profiles: scriptProfile('gate', `while [ ! -e ${gate} ]; do sleep 0.1; done; echo done`),
    });
    const a = await startWeirOn(writeConfigFile(config), { env: { WEIR_INSTANCE_ID: 'instance-a' } });
    weirs.push(a);
    const b = await startWeirOn(writeConfigFile(config), { env: { WEIR_INSTANCE_ID: 'instance-b' } });
    weirs.push(b);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await mustStart(a.url, { profile: 'gate', prompt: `run ${i}` })).id);
    const running = await waitFor('four runs running', async () => {
      const r = await rows(pool, `SELECT id, instance_id FROM "Weir_AgentRun" WHERE status = 'running'`);
      return r.length === 4 ? r : null;
    }, 60_000);
    const per = new Map<string, number>();
    for (const r of running) per.set(r.instance_id, (per.get(r.instance_id) ?? 0) + 1);
    assert.deepEqual([...per.entries()].sort(), [['instance-a', 2], ['instance-b', 2]]);
    fs.writeFileSync(gate, '');
    for (const id of ids) {
      const run = await waitRun(a.url, id);
      assert.equal(run.status, 'succeeded');
      // Read through the other instance: events are shared.
      const evs = await events(b.url, id);
      assert.deepEqual(statuses(evs), ['provisioning', 'running', 'succeeded'], 'started once');
    }
  });
});

describe('crash safety', () => {
  it('a Weir killed with -9 mid-run finds the run when it restarts: its processes are gone, its key blocked, the run failed: internal', async () => {
    const db = await ledgerDatabase('agents_kill');
    const pool = dbPool(db);
    pools.push(pool);
    const m = marker();
    const config = writeConfigFile(agentConfig(mock.url, db, { profiles: scriptProfile('wait', `echo ${m}; while [ ! -e /nonexistent-${m} ]; do sleep 0.1; done`) }));
    const first = await startWeirOn(config, { env: { WEIR_INSTANCE_ID: 'crashy' } });
    weirs.push(first);
    const { id } = await mustStart(first.url, { profile: 'wait', prompt: 'x' });
    await waitRun(first.url, id, 'running');
    // Recorded = written: events reach the database in batches (every 100 ms), so a kill -9 loses
    // at most the last batch. Wait for the marker's row.
    await waitFor('the marker’s event in the database', async () => (await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentRunEvent" WHERE run_id = $1 AND payload::text LIKE $2`, [id, `%${m}%`])).n > 0, 30_000);
    assert.ok(processesWith(`nonexistent-${m}`).length > 0, 'the agent runs');
    await first.stop('SIGKILL');
    // The sandbox dies with the Weir that started it (its first process has a parent-death signal),
    // before any Weir comes back.
    await waitFor('the agent to die with its Weir', async () => processesWith(`nonexistent-${m}`).length === 0 || null, 30_000);
    const again = await startWeirOn(config, { env: { WEIR_INSTANCE_ID: 'crashy' } });
    weirs.push(again);
    const run = await waitRun(again.url, id, undefined, 30_000);
    // Under bwrap the sandbox died with the process that started it; under a host user the restart
    // swept it (found by its folder): either way nothing of it runs now.
    assert.deepEqual(processesWith(`nonexistent-${m}`), []);
    assert.equal(run.status, 'failed');
    assert.equal(run.error.kind, 'internal');
    assert.match(run.error.message, /restarted/);
    const key = await one(pool, `SELECT blocked FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [`weir-run-${id}`]);
    assert.equal(key.blocked, true);
    const evs = await events(again.url, id);
    assert.ok(evs.some((e) => JSON.stringify(e.payload).includes(m)), 'what was recorded before the crash is kept');
    assert.deepEqual(statuses(evs).slice(-1), ['failed']);
    // Nothing runs twice: the run never went back to the queue.
    assert.equal(statuses(evs).filter((s) => s === 'running').length, 1);
  });

  it('a Weir stopped with SIGTERM mid-run stops its agents with it; restarted, it ends the run', async () => {
    const db = await ledgerDatabase('agents_term');
    const pool = dbPool(db);
    pools.push(pool);
    const m = marker();
    const config = writeConfigFile(agentConfig(mock.url, db, { profiles: scriptProfile('wait', `echo ${m}; while [ ! -e /nonexistent-${m} ]; do sleep 0.1; done`) }));
    const first = await startWeirOn(config, { env: { WEIR_INSTANCE_ID: 'termed' } });
    weirs.push(first);
    const { id } = await mustStart(first.url, { profile: 'wait', prompt: 'x' });
    await waitRun(first.url, id, 'running');
    await waitFor('the agent to run', async () => processesWith(`nonexistent-${m}`).length > 0 || null, 30_000);
    await first.stop('SIGTERM');
    assert.deepEqual(processesWith(`nonexistent-${m}`), [], 'nothing of the run outlives a graceful stop');
    const again = await startWeirOn(config, { env: { WEIR_INSTANCE_ID: 'termed' } });
    weirs.push(again);
    const run = await waitRun(again.url, id, undefined, 30_000);
    assert.equal(run.status, 'failed');
    assert.match(run.error.message, /restarted/);
    const key = await one(pool, `SELECT blocked FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [`weir-run-${id}`]);
    assert.equal(key.blocked, true);
  });

  it('an instance that never comes back: another takes its runs over once the lease expires', async () => {
    const db = await ledgerDatabase('agents_lease');
    const pool = dbPool(db);
    pools.push(pool);
    const m = marker();
    const config = agentConfig(mock.url, db, { profiles: scriptProfile('wait', `echo ${m}; while [ ! -e /nonexistent-${m} ]; do sleep 0.1; done`) });
    const env = { WEIR_AGENT_LEASE_MS: '1500' };
    const doomed = await startWeirOn(writeConfigFile(config), { env: { ...env, WEIR_INSTANCE_ID: 'doomed' } });
    weirs.push(doomed);
    const { id } = await mustStart(doomed.url, { profile: 'wait', prompt: 'x' });
    await waitRun(doomed.url, id, 'running');
    await doomed.stop('SIGKILL');
    const heir = await startWeirOn(writeConfigFile(config), { env: { ...env, WEIR_INSTANCE_ID: 'heir' } });
    weirs.push(heir);
    const run = await waitRun(heir.url, id, undefined, 30_000);
    assert.equal(run.status, 'failed');
    assert.equal(run.error.kind, 'internal');
    assert.match(run.error.message, /lease expired/);
    // The dead instance's sandbox (its processes may outlive it) was swept by the heir.
    assert.deepEqual(processesWith(`nonexistent-${m}`), []);
  });
});
