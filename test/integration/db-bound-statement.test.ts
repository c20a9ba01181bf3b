// A statement with wire-format parameters sent as one request in a kept buffer
// (bound-statement.ts), on a real PostgreSQL: the bytes are the ones pg's own Query sends for the
// same text and values; rows, NULLs and non-ASCII text come back; a statement the server refuses,
// or one that cannot be written, rejects and leaves the connection usable; a connection killed
// under it rejects instead of hanging; and the buffer is used again.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { queryBound, requestBuffer, writeRequest } from '../../src/db/bound-statement';
import { ArrayParam } from '../../src/db/pg-array';
import { createPool } from '../../src/db/pool';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

let pool: pg.Pool;
before(async () => {
  pool = createPool(await freshDatabase('bound_stmt'));
});
after(async () => {
  await pool.end();
  await stopTestPostgres();
});

function int8s(ns: number[]): Buffer {
  const a = new ArrayParam('int8');
  for (const n of ns) a.number(n);
  return a.finish();
}

function texts(ss: (string | null)[]): Buffer {
  const a = new ArrayParam('text');
  for (const s of ss) a.text(s);
  return a.finish();
}

const SQL = `SELECT n::text, t, $3::text AS third, $4::text AS fourth FROM unnest($1::int8[], $2::text[]) AS d(n, t)`;

test("the request's bytes are the ones pg's own Query writes for the same text and values", async () => {
  const params = [int8s([1, -2, 2 ** 53 - 1]), texts(['a', null, 'ümlaut ✓']), 'tëxt', null];
  const client = await pool.connect();
  try {
    const stream = (client as unknown as { connection: pg.Connection }).connection.stream;
    const sent: Buffer[] = [];
    const write = stream.write.bind(stream) as (...a: unknown[]) => boolean;
    (stream as unknown as { write: unknown }).write = (chunk: Buffer, ...rest: unknown[]) => {
      sent.push(Buffer.from(chunk));
      return write(chunk, ...rest);
    };
    await client.query(SQL, params);
    (stream as unknown as { write: unknown }).write = write;
    const { buf, length } = writeRequest(SQL, params);
    assert.deepEqual(buf.subarray(0, length), Buffer.concat(sent));
    requestBuffer.giveBack(buf);
  } finally {
    client.release();
  }
});

test('rows, NULLs and non-ASCII text come back as pg reads them', async () => {
  const params = [int8s([7, 2 ** 40]), texts(['ümlaut ✓', null]), 'x', null];
  const client = await pool.connect();
  try {
    const ours = await queryBound(client, SQL, params);
    const pgs = (await client.query({ text: SQL, values: params, rowMode: 'array' })).rows;
    assert.deepEqual(ours, [
      ['7', 'ümlaut ✓', 'x', null],
      [String(2 ** 40), null, 'x', null],
    ]);
    assert.deepEqual(ours, pgs);
    assert.deepEqual(await queryBound(client, 'SELECT 1 WHERE false', []), []);
  } finally {
    client.release();
  }
});

test("a statement the server refuses rejects with the server's error; the connection goes on", async () => {
  const client = await pool.connect();
  try {
    await assert.rejects(queryBound(client, 'SELECT $1::int', ['not a number']), (e: Error & { code?: string }) => e.code === '22P02');
    await assert.rejects(queryBound(client, 'SELEC 1', []), (e: Error & { code?: string }) => e.code === '42601');
    // A parameter that is no wire value fails this statement only, before anything is sent.
    await assert.rejects(queryBound(client, 'SELECT $1::int', [42 as unknown as string]));
    assert.deepEqual(await queryBound(client, 'SELECT $1::text', ['after']), [['after']]);
    assert.equal((await client.query('SELECT 2 AS two')).rows[0].two, 2);
  } finally {
    client.release();
  }
});

test('a connection killed under a statement rejects it rather than leaving it waiting', async () => {
  const client = await pool.connect();
  let broken = false;
  try {
    client.on('error', () => {});
    const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    // Its rejection may come before pg_terminate_backend's answer: handled from the start.
    const sleeping = assert.rejects(queryBound(client, 'SELECT pg_sleep(30)', []), (e: Error & { code?: string }) => e.code === '57P01' || /terminated/.test(e.message));
    await pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await sleeping;
    broken = true;
  } finally {
    client.release(broken);
  }
});

test('the buffer is used again by the next statement; a larger one gets a fresh buffer that is kept', async () => {
  const client = await pool.connect();
  try {
    const small = [int8s([1]), texts(['s']), 'a', 'b'];
    await queryBound(client, SQL, small);
    const before = { ...requestBuffer.stats };
    await queryBound(client, SQL, small);
    assert.deepEqual(requestBuffer.stats, { fresh: before.fresh, reused: before.reused + 1 });

    const many = Array.from({ length: 20_000 }, (_, i) => i);
    const large = [int8s(many), texts(many.map((i) => `row ${i}`)), 'a', 'b'];
    const rows = await queryBound(client, SQL, large);
    assert.equal(rows.length, 20_000);
    assert.deepEqual(rows[19_999], ['19999', 'row 19999', 'a', 'b']);
    assert.equal(requestBuffer.stats.fresh, before.fresh + 1);
    await queryBound(client, SQL, large);
    assert.deepEqual(requestBuffer.stats, { fresh: before.fresh + 1, reused: before.reused + 2 });
  } finally {
    client.release();
  }
});
