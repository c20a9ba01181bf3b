// Who starts runs POSTed together, on a real PostgreSQL: every starter of the batch read in at
// most four statements (keys, teams, what the teams' runs hold, what the keys' runs hold), each
// answer the one a read of its own gives (its refusal included), where it was up to four
// statements per POST.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { AgentApiError } from '../../src/agents/api-error';
import { loadStarter, loadStarters, type StarterAsk } from '../../src/agents/run-key';
import { stopTestPostgres } from '../support/postgres';
import { agentDb } from './agents-events-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

function counted(pool: pg.Pool): { db: Pick<pg.Pool, 'query'>; statements: () => number } {
  let n = 0;
  const db = { query: ((...args: Parameters<pg.Pool['query']>) => (n++, (pool.query as (...a: unknown[]) => unknown)(...args))) as pg.Pool['query'] };
  return { db, statements: () => n };
}

test('64 POSTs of five starters: four statements for all of them, each its own starter or refusal', async () => {
  const { pool } = await agentDb('agent_starters', cleanups);
  await pool.query(`INSERT INTO "LiteLLM_TeamTable" (team_id, models, max_budget, spend, blocked) VALUES ('t1', '{m1}', 10, 2, false), ('t-blocked', '{}', NULL, 0, true)`);
  await pool.query(
    `INSERT INTO "LiteLLM_VerificationToken" (token, team_id, user_id, models, max_budget, spend, blocked) VALUES
       ('k-team', 't1', 'u1', '{m1}', 5, 1, false), ('k-free', NULL, 'u2', '{}', NULL, 0, false), ('k-blocked', NULL, NULL, '{}', NULL, 0, true),
       ('k-in-blocked-team', 't-blocked', NULL, '{}', NULL, 0, false), ('run-key', 't1', NULL, '{}', 3, 0.5, false)`,
  );
  // A run of k-team in flight holding 3 USD, its run key having spent 0.5 of it.
  await pool.query(
    `INSERT INTO "Weir_AgentRun" (id, profile_name, profile, prompt, trigger, status, team_id, starter_token, key_token, max_budget) VALUES ('r1', 'p', '{}', 'x', 'api', 'running', 't1', 'k-team', 'run-key', 3)`,
  );
  const kinds: StarterAsk[] = [
    { keyHash: 'k-team', teamId: null },
    { keyHash: 'k-free', teamId: null },
    { keyHash: 'k-blocked', teamId: null },
    { keyHash: 'k-in-blocked-team', teamId: null },
    { keyHash: 'k-unknown', teamId: null },
    { keyHash: null, teamId: 't1' },
    { keyHash: null, teamId: 't-unknown' },
  ];
  const asks = Array.from({ length: 64 }, (_, i) => kinds[i % kinds.length]!);
  const { db, statements } = counted(pool);
  const out = await loadStarters(db, asks);
  assert.ok(statements() <= 4, `${statements()} statements`);
  const alone = await Promise.all(asks.map((a) => loadStarter(pool, a.keyHash, a.teamId).catch((e: unknown) => e)));
  for (let i = 0; i < asks.length; i++) {
    const a = alone[i];
    if (a instanceof AgentApiError) {
      assert.ok(out[i] instanceof AgentApiError, `ask ${i}`);
      assert.deepEqual({ status: (out[i] as AgentApiError).status, body: (out[i] as AgentApiError).body }, { status: a.status, body: a.body });
    } else assert.deepEqual(out[i], a, `ask ${i}`);
  }
  // The figures themselves: the key has 5 − 1 − (0.5 spent + 2.5 still held) left; the team 10 − 2 − 2.5.
  const kTeam = out[0] as Exclude<(typeof out)[number], AgentApiError>;
  assert.equal(kTeam.keyLeft, 1);
  assert.equal(kTeam.teamLeft, 5.5);
  assert.deepEqual([2, 3, 4, 6].map((i) => (out[i] as AgentApiError).status), [403, 403, 401, 400]);
});
