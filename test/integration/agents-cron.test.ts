// Scheduled jobs against a real PostgreSQL, with an injected clock and tick() called by hand: two
// schedulers on one database fire each tick exactly once, missed ticks follow the job's policy,
// sync() keeps the rows in step with the definitions. Only the last test uses the real timer.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { CronScheduler, MAX_NEXT_RUNS } from '../../src/agents/cron';
import type { JobDef } from '../../src/agents/types';
import { createPool } from '../../src/db/pool';
import { ensureSchema } from '../../src/db/schema';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

async function database(label: string): Promise<{ a: pg.Pool; b: pg.Pool }> {
  const url = await freshDatabase(label);
  const a = createPool(url);
  const b = createPool(url);
  cleanups.push(() => a.end(), () => b.end());
  await ensureSchema(a);
  return { a, b };
}

function job(name: string, cron: string, over: Partial<JobDef> = {}, schedule: Partial<NonNullable<JobDef['schedule']>> = {}): JobDef {
  return {
    id: `job_${name}`, name, profile: 'p', prompt: 'go', schedule: { cron, ...schedule },
    concurrency: { limit: 1, on_conflict: 'queue' }, enabled: true, source: 'config', ...over,
  };
}

/** A clock the test moves, and a scheduler on it that records what it fired. */
function scheduler(pool: pg.Pool, clock: { t: number }, fired: string[], logs: string[] = []): CronScheduler {
  return new CronScheduler({
    pool,
    now: () => new Date(clock.t),
    fire: async (j, tickAt) => {
      fired.push(`${j.name}@${tickAt.toISOString()}`);
    },
    log: (l) => logs.push(l),
  });
}

async function row(pool: pg.Pool, name: string): Promise<{ next_run_at: Date | null; last_fired_at: Date | null; pattern: string; timezone: string | null } | undefined> {
  const r = await pool.query(`SELECT next_run_at, last_fired_at, pattern, timezone FROM "Weir_AgentSchedule" WHERE job_name = $1`, [name]);
  return r.rows[0];
}

const T = (iso: string) => Date.parse(iso);

test('two schedulers on one database fire each tick exactly once, whoever calls first or both at once', async () => {
  const { a, b } = await database('cron_two');
  const clock = { t: T('2026-03-01T11:59:30Z') };
  const firedA: string[] = [];
  const firedB: string[] = [];
  const jobs = [job('hourly', '0 * * * *'), job('minutely', '* * * * *')];
  const A = scheduler(a, clock, firedA);
  const B = scheduler(b, clock, firedB);
  await Promise.all([A.sync(jobs), B.sync(jobs)]);
  assert.equal((await row(a, 'hourly'))!.next_run_at!.toISOString(), '2026-03-01T12:00:00.000Z');
  assert.equal(await A.tick(), 0);

  const expected: string[] = [];
  // 130 minutes, one clock step a minute: the schedulers tick concurrently, or one after the other
  // in either order, or twice each; each minute's tick fires once over both.
  for (let m = 0; m < 130; m++) {
    clock.t = T('2026-03-01T12:00:00Z') + m * 60_000 + (m % 3) * 7_000;
    const at = new Date(T('2026-03-01T12:00:00Z') + m * 60_000).toISOString();
    expected.push(`minutely@${at}`);
    if (m % 60 === 0) expected.push(`hourly@${at}`);
    const mode = m % 4;
    if (mode === 0) await Promise.all([A.tick(), B.tick()]);
    else if (mode === 1) await Promise.all([B.tick(), A.tick(), B.tick(), A.tick()]);
    else if (mode === 2) (await A.tick(), await B.tick());
    else (await B.tick(), await A.tick());
  }
  const all = [...firedA, ...firedB].sort();
  assert.deepEqual(all, expected.sort());
  assert.equal(new Set(all).size, all.length);
  // Both instances won some ticks: the claim, not a leader, decides.
  assert.ok(firedA.length > 0 && firedB.length > 0, `${firedA.length} / ${firedB.length}`);
  const r = await row(a, 'hourly');
  assert.equal(r!.next_run_at!.toISOString(), '2026-03-01T15:00:00.000Z');
  assert.equal(r!.last_fired_at!.toISOString(), '2026-03-01T14:00:00.000Z');
});

test('missed ticks, skip (the default): no run, the row moves to the next tick after now', async () => {
  const { a } = await database('cron_skip');
  const clock = { t: T('2026-03-01T11:59:30Z') };
  const fired: string[] = [];
  const logs: string[] = [];
  const s = scheduler(a, clock, fired, logs);
  await s.sync([job('hourly', '0 * * * *'), job('daily', '0 12 * * *')]);
  // Down from before 12:00 until 15:30: 12:00, 13:00, 14:00 and 15:00 of the hourly job are missed,
  // and the daily tick of 12:00 is 3.5 hours late.
  clock.t = T('2026-03-01T15:30:00Z');
  assert.equal(await s.tick(), 0);
  assert.deepEqual(fired, []);
  assert.equal((await row(a, 'hourly'))!.next_run_at!.toISOString(), '2026-03-01T16:00:00.000Z');
  assert.equal((await row(a, 'daily'))!.next_run_at!.toISOString(), '2026-03-02T12:00:00.000Z');
  assert.equal((await row(a, 'hourly'))!.last_fired_at, null);
  assert.equal(logs.filter((l) => /missed its tick .* skipped/.test(l)).length, 2, logs.join('\n'));
  // The next tick, on time, fires.
  clock.t = T('2026-03-01T16:00:00Z');
  assert.equal(await s.tick(), 1);
  assert.deepEqual(fired, ['hourly@2026-03-01T16:00:00.000Z']);
});

test('missed: late within the 60 s grace fires; late by more (and no later tick due) is missed', async () => {
  const { a } = await database('cron_grace');
  const clock = { t: T('2026-03-01T11:59:30Z') };
  const fired: string[] = [];
  const s = scheduler(a, clock, fired);
  await s.sync([job('d1', '0 12 * * *'), job('d2', '0 13 * * *')]);
  clock.t = T('2026-03-01T12:01:00Z'); // exactly 60 s late: on time
  assert.equal(await s.tick(), 1);
  clock.t = T('2026-03-01T13:01:00.001Z'); // 60.001 s late: missed
  assert.equal(await s.tick(), 0);
  assert.deepEqual(fired, ['d1@2026-03-01T12:00:00.000Z']);
  assert.equal((await row(a, 'd2'))!.next_run_at!.toISOString(), '2026-03-02T13:00:00.000Z');
});

test('missed: a later tick already due makes the first one missed, even within the grace', async () => {
  const { a } = await database('cron_later');
  const clock = { t: T('2026-03-01T11:59:55Z') };
  const fired: string[] = [];
  const s = scheduler(a, clock, fired);
  // Every 10 seconds: at 12:00:25 the ticks of 12:00:00, :10 and :20 are all due, 25 s after the first.
  await s.sync([job('fast', '*/10 * * * * *')]);
  clock.t = T('2026-03-01T12:00:25Z');
  assert.equal(await s.tick(), 0);
  assert.equal((await row(a, 'fast'))!.next_run_at!.toISOString(), '2026-03-01T12:00:30.000Z');
  clock.t = T('2026-03-01T12:00:30Z');
  assert.equal(await s.tick(), 1);
  assert.deepEqual(fired, ['fast@2026-03-01T12:00:30.000Z']);
});

test('missed ticks, run_once: one run for all of them, carrying the latest, then on schedule again', async () => {
  const { a, b } = await database('cron_once');
  const clock = { t: T('2026-03-01T11:59:30Z') };
  const fired: string[] = [];
  const logs: string[] = [];
  const jobs = [job('hourly', '0 * * * *', {}, { missed: 'run_once' })];
  const A = scheduler(a, clock, fired, logs);
  const B = scheduler(b, clock, fired, logs);
  await A.sync(jobs);
  await B.sync(jobs);
  clock.t = T('2026-03-01T15:30:00Z');
  const n = await Promise.all([A.tick(), B.tick(), A.tick()]);
  assert.equal(n.reduce((x, y) => x + y, 0), 1);
  assert.deepEqual(fired, ['hourly@2026-03-01T15:00:00.000Z']);
  assert.ok(logs.some((l) => /missed ticks from 2026-03-01T12:00:00.000Z; one run for them/.test(l)), logs.join('\n'));
  const r = await row(a, 'hourly');
  assert.equal(r!.next_run_at!.toISOString(), '2026-03-01T16:00:00.000Z');
  assert.equal(r!.last_fired_at!.toISOString(), '2026-03-01T15:30:00.000Z');
  assert.equal(await A.tick(), 0);
  clock.t = T('2026-03-01T16:00:00Z');
  assert.equal(await B.tick(), 1);
  assert.deepEqual(fired, ['hourly@2026-03-01T15:00:00.000Z', 'hourly@2026-03-01T16:00:00.000Z']);
});

test('sync: rows for enabled scheduled jobs only; a changed pattern or timezone starts over from now; an unchanged one keeps its tick', async () => {
  const { a, b } = await database('cron_sync');
  const clock = { t: T('2026-03-01T11:59:30Z') };
  const fired: string[] = [];
  const s = scheduler(a, clock, fired);
  await s.sync([
    job('hourly', '0 * * * *'),
    job('berlin', '0 9 * * *', {}, { timezone: 'Europe/Berlin' }),
    job('off', '0 * * * *', { enabled: false }),
    job('hookonly', '', { schedule: undefined }),
  ]);
  const names = (await a.query(`SELECT job_name FROM "Weir_AgentSchedule" ORDER BY job_name`)).rows.map((r) => r.job_name);
  assert.deepEqual(names, ['berlin', 'hourly']);
  // 09:00 in Berlin in March is 08:00 UTC.
  assert.equal((await row(a, 'berlin'))!.next_run_at!.toISOString(), '2026-03-02T08:00:00.000Z');
  assert.equal((await row(a, 'berlin'))!.timezone, 'Europe/Berlin');

  // An hour later, nothing changed: the hourly row keeps its (now due) 12:00 tick.
  clock.t = T('2026-03-01T12:00:10Z');
  await s.sync([job('hourly', '0 * * * *'), job('berlin', '0 9 * * *', {}, { timezone: 'Europe/Berlin' })]);
  assert.equal((await row(a, 'hourly'))!.next_run_at!.toISOString(), '2026-03-01T12:00:00.000Z');
  // A new pattern, and a new timezone: both start from now.
  await s.sync([job('hourly', '30 * * * *'), job('berlin', '0 9 * * *', {}, { timezone: 'America/New_York' })]);
  assert.equal((await row(a, 'hourly'))!.next_run_at!.toISOString(), '2026-03-01T12:30:00.000Z');
  assert.equal((await row(a, 'hourly'))!.pattern, '30 * * * *');
  assert.equal((await row(a, 'berlin'))!.next_run_at!.toISOString(), '2026-03-01T14:00:00.000Z');
  // An instance still on the old pattern (its sync came first) leaves the changed row alone.
  const firedOld: string[] = [];
  const old = scheduler(b, clock, firedOld);
  await old.sync([job('hourly', '0 * * * *'), job('berlin', '0 9 * * *', {}, { timezone: 'America/New_York' })]);
  await s.sync([job('hourly', '30 * * * *'), job('berlin', '0 9 * * *', {}, { timezone: 'America/New_York' })]);
  clock.t = T('2026-03-01T12:30:00Z');
  assert.equal(await old.tick(), 0);
  assert.equal(await s.tick(), 1);
  assert.deepEqual([firedOld, fired], [[], ['hourly@2026-03-01T12:30:00.000Z']]);
  // A job removed, and one disabled: their rows are deleted.
  await s.sync([job('hourly', '0 * * * *', { enabled: false })]);
  assert.equal((await a.query(`SELECT count(*)::int AS n FROM "Weir_AgentSchedule"`)).rows[0].n, 0);
  assert.equal(await s.tick(), 0);
});

test('a run that cannot be started is logged and the tick is used up (no retry storm)', async () => {
  const { a } = await database('cron_fail');
  const clock = { t: T('2026-03-01T11:59:30Z') };
  const logs: string[] = [];
  let calls = 0;
  const s = new CronScheduler({
    pool: a, now: () => new Date(clock.t), log: (l) => logs.push(l),
    fire: async () => {
      calls++;
      throw new Error('no such profile');
    },
  });
  await s.sync([job('hourly', '0 * * * *')]);
  clock.t = T('2026-03-01T12:00:00Z');
  assert.equal(await s.tick(), 0);
  assert.equal(await s.tick(), 0);
  assert.equal(calls, 1);
  assert.match(logs.join('\n'), /job "hourly": the run for the tick of 2026-03-01T12:00:00.000Z was not started: no such profile/);
  assert.equal((await row(a, 'hourly'))!.next_run_at!.toISOString(), '2026-03-01T13:00:00.000Z');
});

test('nextRuns: the pattern in the job\'s timezone, at most MAX_NEXT_RUNS', async () => {
  const s = new CronScheduler({ pool: null as unknown as pg.Pool, now: () => new Date('2026-03-27T12:00:00Z'), fire: async () => {} });
  const j = job('berlin', '0 9 * * *', {}, { timezone: 'Europe/Berlin' });
  // Summer time starts on 2026-03-29: 09:00 in Berlin moves from 08:00 to 07:00 UTC.
  assert.deepEqual(s.nextRuns(j, 3).map((d) => d.toISOString()), ['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
  assert.deepEqual(s.nextRuns(j, 1, new Date('2026-06-01T00:00:00Z')).map((d) => d.toISOString()), ['2026-06-01T07:00:00.000Z']);
  assert.equal(s.nextRuns(job('m', '* * * * *'), 10_000).length, MAX_NEXT_RUNS);
  assert.deepEqual(s.nextRuns(job('m', '* * * * *'), 0), []);
  assert.deepEqual(s.nextRuns(job('x', '', { schedule: undefined }), 5), []);
});

test('start(): the timer fires due ticks on the real clock; stop() ends it', async () => {
  const { a } = await database('cron_timer');
  const fired: Date[] = [];
  const s = new CronScheduler({ pool: a, now: () => new Date(), fire: async (_j, at) => void fired.push(at) });
  // run_once: on a loaded machine a tick may be late past the next one; it still fires.
  await s.sync([job('everysecond', '* * * * * *', {}, { missed: 'run_once' })]);
  s.start();
  cleanups.push(() => s.stop());
  const deadline = Date.now() + 20_000;
  while (fired.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  s.stop();
  assert.ok(fired.length >= 2, `fired ${fired.length} times`);
  // Ticks of the pattern (whole seconds), each fired once.
  assert.ok(fired.every((d) => d.getMilliseconds() === 0));
  assert.ok(fired[1]!.getTime() > fired[0]!.getTime());
});
