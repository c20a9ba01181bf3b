// Weir's tables (and LiteLLM's) hold UTC wall times in `TIMESTAMP` columns, as Prisma writes them.
// Neither the Weir host's time zone nor the database's may shift them: a Date sent as a parameter
// is written as its UTC time, and a column's CURRENT_TIMESTAMP default is taken in UTC. Off by the
// zone's hours, a run's lease would look expired (or alive) to the other instances.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { createPool } from '../../src/db/pool';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

const pools: pg.Pool[] = [];
after(async () => {
  for (const p of pools) await p.end();
  await stopTestPostgres();
});

async function withTz<T>(tz: string, f: () => Promise<T>): Promise<T> {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return await f();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

test('a Date parameter is written as its UTC wall time whatever the process time zone, and reads back equal', async () => {
  const url = await freshDatabase('tz_param');
  const pool = createPool(url);
  pools.push(pool);
  await pool.query(`CREATE TABLE t (at TIMESTAMP(3))`);
  const at = new Date('2031-06-07T08:09:10.123Z');
  await withTz('America/New_York', () => pool.query(`INSERT INTO t VALUES ($1)`, [at]));
  const r = await pool.query<{ text: string; at: Date }>(`SELECT to_char(at, 'YYYY-MM-DD HH24:MI:SS.MS') AS text, at FROM t`);
  assert.equal(r.rows[0]!.text, '2031-06-07 08:09:10.123');
  assert.equal(r.rows[0]!.at.toISOString(), at.toISOString());
});

test('a CURRENT_TIMESTAMP default is UTC even when the database has another time zone', async () => {
  const url = await freshDatabase('tz_server');
  const admin = createPool(url);
  pools.push(admin);
  const name = (await admin.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
  await admin.query(`ALTER DATABASE "${name}" SET timezone = 'Asia/Tokyo'`);
  await admin.query(`CREATE TABLE t (at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, n INT)`);
  // A new pool: its sessions start after the database's setting changed.
  const pool = createPool(url);
  pools.push(pool);
  await pool.query(`INSERT INTO t (n) VALUES (1)`);
  const { at } = (await pool.query<{ at: Date }>(`SELECT at FROM t`)).rows[0]!;
  // Tokyo is 9 hours from UTC: anything within an hour of now is the UTC time.
  assert.ok(Math.abs(at.getTime() - Date.now()) < 3600_000, `stored ${at.toISOString()}, now ${new Date().toISOString()}`);
});
