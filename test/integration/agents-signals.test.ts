// The cross-instance signals of agent runs (src/agents/run-signals.ts) on a real PostgreSQL: runs
// queued on one instance wake the others, not the instance itself (it pumped already: hearing its
// own NOTIFY made a second claim query per POST); a cancel reaches every instance.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import pg from 'pg';
import { RunSignals } from '../../src/agents/run-signals';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

const open: { stop(): void }[] = [];
const pools: pg.Pool[] = [];

after(async () => {
  for (const s of open) s.stop();
  for (const p of pools) await p.end();
  await stopTestPostgres();
});

interface Heard {
  signals: RunSignals;
  queued: number;
  cancels: string[];
  /** Resolves once `n` cancels were heard. */
  cancelsHeard(n: number): Promise<void>;
}

function instance(url: string): Heard {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pools.push(pool);
  const waiting: { n: number; resolve: () => void }[] = [];
  const h: Heard = {
    queued: 0,
    cancels: [],
    signals: new RunSignals({
      pool,
      queued: () => h.queued++,
      cancel: (id) => {
        h.cancels.push(id);
        for (const w of waiting.filter((x) => h.cancels.length >= x.n)) w.resolve();
      },
      log: () => {},
    }),
    cancelsHeard: (n) => (h.cancels.length >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }))),
  };
  open.push(h.signals);
  return h;
}

test("an instance's own `queued` signal wakes the other instances, never itself; a cancel reaches all", async () => {
  const url = await freshDatabase('agent_signals');
  const a = instance(url);
  const b = instance(url);
  await a.signals.listen();
  await b.signals.listen();

  // Three POSTs' worth of queued runs on a, each signalled after its own insert (and pump).
  for (let i = 0; i < 3; i++) await a.signals.queued();
  // A marker after them: PostgreSQL delivers notifications in commit order, so once the cancel has
  // arrived at both, every `queued` before it has too.
  a.signals.cancel('run-after-queued');
  await Promise.all([a.cancelsHeard(1), b.cancelsHeard(1)]);

  assert.equal(a.queued, 0, 'the sender does not pump again on its own signal');
  assert.equal(b.queued, 3, 'the other instance hears every queued signal');
  assert.deepEqual(a.cancels, ['run-after-queued']);
  assert.deepEqual(b.cancels, ['run-after-queued']);

  // And the other way round.
  await b.signals.queued();
  b.signals.cancel('run-2');
  await Promise.all([a.cancelsHeard(2), b.cancelsHeard(2)]);
  assert.equal(a.queued, 1);
  assert.equal(b.queued, 3);
});

test('a `queued` signal without an origin (sent by an older Weir) is heard by every instance', async () => {
  const url = await freshDatabase('agent_signals_old');
  const a = instance(url);
  await a.signals.listen();
  const old = new pg.Pool({ connectionString: url, max: 1 });
  pools.push(old);
  await old.query(`SELECT pg_notify('weir_agent_runs', 'queued:')`);
  await old.query(`SELECT pg_notify('weir_agent_runs', 'cancel:r1')`);
  await a.cancelsHeard(1);
  assert.equal(a.queued, 1);
});
