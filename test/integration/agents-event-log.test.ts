// The run event log against a real PostgreSQL: two instances on one database (a subscriber on one
// follows a run written by the other), resumption after a seq, the replay/live hand-over under
// load, bounded payloads and buffers, outages of the database and of the LISTEN connection.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { EventLog } from '../../src/agents/event-log';
import { createPool } from '../../src/db/pool';
import { startTcpSwitch } from '../support/tcp-switch';
import { stopTestPostgres } from '../support/postgres';
import { agentDb, collect, range, seqsOf, waitFor } from './agents-events-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

const quiet = { warn: () => {}, error: () => {} };

async function twoInstances(label: string, over: { flushEveryMs?: number } = {}) {
  const { url, pool } = await agentDb(label, cleanups);
  const poolB = createPool(url);
  cleanups.push(() => poolB.end());
  const a = await EventLog.start({ pool, log: quiet, ...over });
  const b = await EventLog.start({ pool: poolB, log: quiet, ...over });
  cleanups.push(() => a.stop(), () => b.stop());
  return { url, pool, poolB, a, b };
}

test('a subscriber on instance B sees the events instance A writes, in order, without gaps', async () => {
  const { a, b } = await twoInstances('events_two');
  const seen = collect(b, 'run-1', 0);
  a.open('run-1');
  for (let i = 1; i <= 50; i++) a.append('run-1', i % 2 ? 'assistant' : 'stdout', { n: i, text: `line ${i}` });
  a.append('run-1', 'status', { status: 'succeeded' });
  await a.close('run-1');
  await seen.until(51);
  assert.deepEqual(seqsOf(seen.events), range(1, 51));
  assert.deepEqual(seen.events[0]!.payload, { n: 1, text: 'line 1' });
  assert.equal(seen.events[1]!.type, 'stdout');
  assert.deepEqual(seen.events[50]!.payload, { status: 'succeeded' });
  // The ts read back is the ts A handed out.
  const local = await a.page('run-1', 0, 100);
  assert.deepEqual(local, seen.events);

  // Resumption after seq N gives N+1 … and nothing before.
  const resumed = collect(b, 'run-1', 20);
  await resumed.until(51);
  assert.deepEqual(seqsOf(resumed.events), range(21, 51));
  seen.stop();
  resumed.stop();
});

test("an agent's line appended with the time its reader saw it carries that time as its ts, here and read back elsewhere; without one, now", async () => {
  const { a, b } = await twoInstances('events_at');
  a.open('run-at');
  const printedAt = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  const before = Date.now();
  const stamped = a.append('run-at', 'stdout', { text: 'printed earlier' }, printedAt);
  const now = a.append('run-at', 'status', { status: 'succeeded' });
  assert.equal(stamped.ts, '2026-01-02T03:04:05.678Z');
  assert.ok(Date.parse(now.ts) >= before, now.ts);
  await a.close('run-at');
  assert.deepEqual((await b.page('run-at', 0, 10)).map((e) => e.ts), [stamped.ts, now.ts]);
});

test('10,000 events through one subscriber on each instance, subscribed mid-run: every seq once, in order', async () => {
  const { a, b } = await twoInstances('events_10k');
  a.open('run-big');
  const payload = (i: number) => ({ type: 'assistant', message: { content: [{ type: 'text', text: `chunk ${i}` }] } });
  for (let i = 1; i <= 3_000; i++) a.append('run-big', 'assistant', payload(i));
  // Some rows are written, some wait in memory: the hand-over crosses both.
  const remote = collect(b, 'run-big', 0);
  const local = collect(a, 'run-big', 0);
  for (let i = 3_001; i <= 10_000; i++) {
    a.append('run-big', 'assistant', payload(i));
    // Let flushes, reads and notifications interleave with the appends.
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  await a.close('run-big');
  await remote.until(10_000);
  await local.until(10_000);
  assert.deepEqual(seqsOf(remote.events), range(1, 10_000));
  assert.deepEqual(seqsOf(local.events), range(1, 10_000));
  assert.deepEqual(remote.events[9_999]!.payload, payload(10_000));
  remote.stop();
  local.stop();
});

test('page(): the table after a seq, plus what this instance has not written yet', async () => {
  // Rows are written only when asked: what is in memory and what is in the table are known.
  const { a, b } = await twoInstances('events_page', { flushEveryMs: 3_600_000 });
  a.open('run-p', 10);
  for (let i = 0; i < 5; i++) a.append('run-p', 'stdout', `line ${i}`);
  assert.equal(a.buffered('run-p'), 5);
  assert.deepEqual(seqsOf(await a.page('run-p', 0, 100)), range(11, 15));
  assert.deepEqual(await b.page('run-p', 0, 100), []);
  await a.flush();
  assert.equal(a.buffered('run-p'), 0);
  assert.deepEqual(seqsOf(await b.page('run-p', 0, 100)), range(11, 15));
  a.append('run-p', 'stdout', 'line 5');
  assert.deepEqual(seqsOf(await a.page('run-p', 12, 2)), [13, 14]);
  assert.deepEqual(seqsOf(await a.page('run-p', 13, 10)), [14, 15, 16]);
  assert.deepEqual(seqsOf(await b.page('run-p', 13, 10)), [14, 15]);
  await a.close('run-p');
  assert.deepEqual(seqsOf(await b.page('run-p', 13, 10)), [14, 15, 16]);
});

test('a payload above 256 KB is cut and says so; NUL characters and odd types are stored', async () => {
  const { a, b, pool } = await twoInstances('events_bounds', { flushEveryMs: 3_600_000 });
  a.open('run-b');
  const big = a.append('run-b', 'assistant', { text: 'x'.repeat(300 * 1024) });
  const cut = big.payload as { truncated: boolean; original_bytes: number; head: string };
  assert.equal(cut.truncated, true);
  assert.equal(cut.original_bytes, 300 * 1024 + '{"text":""}'.length);
  assert.ok(Buffer.byteLength(JSON.stringify(cut)) <= 256 * 1024);
  assert.ok(Buffer.byteLength(cut.head) > 255 * 1024);
  a.append('run-b', 'stdout', 'nul\u0000here \\u0000 kept');
  a.append('run-b', 'assistant', JSON.parse('{"text":"lone \\ud800 surrogate"}'));
  a.append('run-b', 'evil\ntype\r', { a: 1 });
  a.append('run-b', 'x'.repeat(5_000), null);
  await a.close('run-b');
  const rows = await b.page('run-b', 0, 10);
  assert.deepEqual(rows[0]!.payload, cut);
  assert.equal(rows[1]!.payload, 'nul\ufffdhere \\u0000 kept');
  assert.deepEqual(rows[2]!.payload, { text: 'lone \ufffd surrogate' });
  assert.equal(rows[3]!.type, 'eviltype');
  assert.equal(rows[4]!.type.length, 100);
  assert.throws(() => a.open(''), /run id must be 1 to 200 characters/);
  assert.throws(() => a.open('x'.repeat(201)), /run id/);
  assert.throws(() => a.open('a\u0000b'), /run id/);
  assert.throws(() => a.append('never-opened', 'stdout', 'x'), /not open on this instance/);
  const { rows: size } = await pool.query(`SELECT max(octet_length(payload::text)) AS n FROM "Weir_AgentRunEvent"`);
  assert.ok(Number(size[0].n) <= 257 * 1024);
});

test('database away: rows wait, capped per run with one events_dropped row; all land when it returns', async () => {
  const { url, pool } = await agentDb('events_outage', cleanups);
  const sw = await startTcpSwitch(Number(new URL(url).port));
  cleanups.push(() => sw.close());
  const u = new URL(url);
  u.port = String(sw.port);
  const viaSwitch = createPool(u.toString(), { connectionTimeoutMs: 2_000 });
  cleanups.push(() => viaSwitch.end());
  const a = await EventLog.start({ pool: viaSwitch, log: quiet, flushEveryMs: 3_600_000, maxPendingPerRun: 100, maxPendingCharsPerRun: 5_000 });
  cleanups.push(() => a.stop());
  a.open('run-o');
  const live = collect(a, 'run-o', 0);
  // Once line 1 arrived the subscriber's replay is over: it follows live from here on.
  a.append('run-o', 'stdout', 'line 1');
  await live.until(1);
  sw.off();
  for (let i = 2; i <= 150; i++) a.append('run-o', 'stdout', `line ${i}`);
  await assert.rejects(a.flush());
  // Memory is bounded, and the local subscriber saw every line.
  assert.equal(a.buffered('run-o'), 100);
  await live.until(150);
  assert.deepEqual(seqsOf(live.events), range(1, 150));
  // More lines during the outage fold into the same marker.
  for (let i = 151; i <= 160; i++) a.append('run-o', 'stdout', `line ${i}`);
  await assert.rejects(a.flush());
  assert.equal(a.buffered('run-o'), 100);
  // Big lines hit the cap on characters first.
  a.open('run-c');
  for (let i = 1; i <= 20; i++) a.append('run-c', 'stdout', 'c'.repeat(998));
  // 5 rows of 1,000 characters fill the 5,000, plus the drop marker.
  assert.equal(a.buffered('run-c'), 6);

  sw.on();
  await a.close('run-o');
  assert.equal(a.buffered('run-o'), 0);
  const { rows } = await pool.query(`SELECT seq, type, payload FROM "Weir_AgentRunEvent" WHERE run_id = 'run-o' ORDER BY seq`);
  assert.equal(rows.length, 100);
  assert.deepEqual(rows[0], { seq: 1, type: 'events_dropped', payload: { dropped: 61, first_seq: 1, last_seq: 61, reason: 'event buffer full (database unavailable or too slow)' } });
  assert.deepEqual(
    rows.slice(1).map((r) => r.seq),
    range(62, 160),
  );
  assert.equal(rows[1].payload, 'line 62');
  await a.close('run-c');
  const { rows: c } = await pool.query(`SELECT seq, type, payload FROM "Weir_AgentRunEvent" WHERE run_id = 'run-c' ORDER BY seq`);
  assert.deepEqual(c[0], { seq: 1, type: 'events_dropped', payload: { dropped: 15, first_seq: 1, last_seq: 15, reason: 'event buffer full (database unavailable or too slow)' } });
  assert.deepEqual(c.slice(1).map((r) => r.seq), range(16, 20));
  live.stop();
});

test('the LISTEN connection dropped by the server comes back, and the subscriber misses nothing', async () => {
  const { a, b, pool } = await twoInstances('events_relisten');
  const listeners = async () =>
    (await pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN weir_agent_events' AND pid <> pg_backend_pid()`)).rows.map((r) => r.pid as number);
  const before = await waitFor('two LISTEN connections', async () => ((await listeners()).length === 2 ? await listeners() : null));
  const seen = collect(b, 'run-l', 0);
  a.open('run-l');
  for (let i = 1; i <= 10; i++) a.append('run-l', 'stdout', `line ${i}`);
  await a.flush();
  await seen.until(10);
  // Drop both instances' LISTEN connections on the server side.
  await pool.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before]);
  for (let i = 11; i <= 20; i++) a.append('run-l', 'stdout', `line ${i}`);
  await a.flush();
  await waitFor('new LISTEN connections', async () => {
    const now = await listeners();
    return now.length === 2 && now.every((p) => !before.includes(p));
  });
  // 11…20 were committed while B was not listening (or just after it came back): B reads them anyway.
  await seen.until(20);
  for (let i = 21; i <= 30; i++) a.append('run-l', 'stdout', `line ${i}`);
  await a.close('run-l');
  await seen.until(30);
  assert.deepEqual(seqsOf(seen.events), range(1, 30));
  seen.stop();
});

test('a row the database refuses (reachable, not an outage) is dropped alone: the other rows and runs go on', async () => {
  const logged: string[] = [];
  const { pool } = await agentDb('events_poison', cleanups);
  // A real refusal from the server: a trigger that rejects one kind of row.
  await pool.query(`CREATE FUNCTION weir_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN IF NEW.type = 'poison' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`);
  await pool.query(`CREATE TRIGGER weir_test_refuse BEFORE INSERT ON "Weir_AgentRunEvent" FOR EACH ROW EXECUTE FUNCTION weir_test_refuse()`);
  const a = await EventLog.start({ pool, log: { warn: () => {}, error: (m) => logged.push(m) }, flushEveryMs: 3_600_000 });
  cleanups.push(() => a.stop());
  a.open('run-x');
  a.open('run-y');
  for (let i = 1; i <= 5; i++) {
    a.append('run-x', i === 3 ? 'poison' : 'stdout', `x ${i}`);
    a.append('run-y', 'stdout', `y ${i}`);
  }
  await a.flush();
  assert.equal(a.buffered('run-x') + a.buffered('run-y'), 0);
  assert.deepEqual(seqsOf(await a.page('run-x', 0, 10)), [1, 2, 4, 5]);
  assert.deepEqual(seqsOf(await a.page('run-y', 0, 10)), range(1, 5));
  assert.equal(logged.length, 1);
  assert.match(logged[0]!, /event 3 of run run-x \(poison\) refused by the database, dropped: refused for the test/);
  // A batch of the one refused row alone is dropped too, not retried for ever.
  a.append('run-x', 'poison', 'again');
  await a.flush();
  assert.equal(a.buffered('run-x'), 0);
  assert.equal(logged.length, 2);
});
