// Postgres access for the management API: a transaction per mutation, rows read with explicit
// type parsing (TIMESTAMP(3) columns hold UTC wall time; BIGINT as numbers), and writes limited to
// the columns the table really has (a LiteLLM-migrated database may have more or fewer than ours).
// Every value is a bound parameter; identifiers come only from the table's own column list.
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { types as pgTypes } from 'pg';

export type Row = Record<string, unknown>;

const OID = { INT8: 20, NUMERIC: 1700, TIMESTAMP: 1114, TIMESTAMPTZ: 1184, DATE: 1082 } as const;

function isoOfNaiveUTC(v: string): string {
  // '2025-01-02 03:04:05.678' (no zone) holds UTC wall time.
  const s = v.includes('T') ? v : v.replace(' ', 'T');
  const d = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(s) ? s : `${s}Z`);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

const typeParser = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (v: string) => unknown {
    switch (oid) {
      case OID.INT8:
      case OID.NUMERIC:
        return (v: string) => Number(v);
      case OID.TIMESTAMP:
        return isoOfNaiveUTC;
      case OID.TIMESTAMPTZ:
        return (v: string) => new Date(v).toISOString();
      case OID.DATE:
        return (v: string) => v;
    }
    return pgTypes.getTypeParser(oid, format ?? 'text') as (v: string) => unknown;
  },
};

export interface Db {
  pool: Pool;
  client: PoolClient | Pool;
}

export async function q<T extends QueryResultRow = Row>(db: Db, text: string, values: unknown[] = []): Promise<T[]> {
  const r = await db.client.query<T>({ text, values, types: typeParser as never });
  return r.rows;
}

export async function q1<T extends QueryResultRow = Row>(db: Db, text: string, values: unknown[] = []): Promise<T | null> {
  const rows = await q<T>(db, text, values);
  return rows[0] ?? null;
}

/**
 * Runs fn inside BEGIN … COMMIT on one connection; ROLLBACK on any error. `first`: a statement
 * without parameters (its values constants or escaped literals: a lock, typically) sent with BEGIN
 * as one simple query, one round trip for both. A
 * connection that could not even roll back is not given back to the pool.
 */
export async function withTx<T>(pool: Pool, fn: (db: Db) => Promise<T>, first?: string): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query(first ? `BEGIN; ${first}` : 'BEGIN');
    const out = await fn({ pool, client });
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw e;
  } finally {
    client.release(broken || undefined);
  }
}

export const readDb = (pool: Pool): Db => ({ pool, client: pool });

// ---- column introspection ----------------------------------------------------------------------

interface ColInfo {
  udt: string; // e.g. jsonb, _text, timestamp, float8, int8, text, bool
}

const columnCache = new WeakMap<Pool, Map<string, Promise<Map<string, ColInfo>>>>();

export function columnsOf(db: Db, table: string): Promise<Map<string, ColInfo>> {
  let perPool = columnCache.get(db.pool);
  if (!perPool) columnCache.set(db.pool, (perPool = new Map()));
  let cols = perPool.get(table);
  if (!cols) {
    cols = (async () => {
      const rows = await db.pool.query<{ column_name: string; udt_name: string }>(
        `SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
        [table],
      );
      return new Map(rows.rows.map((r) => [r.column_name, { udt: r.udt_name }]));
    })();
    perPool.set(table, cols);
    cols.then(
      (m) => {
        if (m.size === 0) perPool!.delete(table); // table not there (yet): ask again next time
      },
      () => perPool!.delete(table),
    );
  }
  return cols;
}

export async function hasTable(db: Db, table: string): Promise<boolean> {
  return (await columnsOf(db, table)).size > 0;
}

/** Forgets cached column lists (tests that create tables after first use). */
export function forgetColumns(pool: Pool): void {
  columnCache.delete(pool);
}

function encode(v: unknown, col: ColInfo): unknown {
  if (v === undefined || v === null) return null;
  if (col.udt === 'jsonb' || col.udt === 'json') return JSON.stringify(v);
  if (v instanceof Date) return v.toISOString();
  return v;
}

const ident = (c: string) => `"${c.replace(/"/g, '""')}"`;

/** INSERT of the given values (columns the table lacks are dropped); returns the stored row. */
export async function insertRow(db: Db, table: string, values: Row): Promise<Row> {
  const cols = await columnsOf(db, table);
  const names: string[] = [];
  const params: unknown[] = [];
  for (const [k, v] of Object.entries(values)) {
    const info = cols.get(k);
    if (!info || v === undefined) continue;
    names.push(ident(k));
    params.push(encode(v, info));
  }
  const ph = params.map((_, i) => `$${i + 1}`).join(', ');
  const rows = await q(db, `INSERT INTO ${ident(table)} (${names.join(', ')}) VALUES (${ph}) RETURNING *`, params);
  return rows[0]!;
}

/**
 * One INSERT of many rows, returning them. A column is written where a row gives it a value and
 * takes its default in the rows that leave it undefined.
 */
export async function insertRows(db: Db, table: string, rows: Row[]): Promise<Row[]> {
  if (rows.length === 0) return [];
  const cols = await columnsOf(db, table);
  const names = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => cols.has(k) && r[k] !== undefined)))];
  const params: unknown[] = [];
  const tuples = rows.map((r) => {
    const cells = names.map((k) => {
      if (r[k] === undefined) return 'DEFAULT';
      params.push(encode(r[k], cols.get(k)!));
      return `$${params.length}`;
    });
    return `(${cells.join(', ')})`;
  });
  return q(db, `INSERT INTO ${ident(table)} (${names.map(ident).join(', ')}) VALUES ${tuples.join(', ')} RETURNING *`, params);
}

/**
 * UPDATE … SET the given values WHERE the key columns match (an array matches any of its values);
 * returns the rows after the change.
 */
export async function updateRows(db: Db, table: string, where: Row, set: Row): Promise<Row[]> {
  const cols = await columnsOf(db, table);
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [k, v] of Object.entries(set)) {
    const info = cols.get(k);
    if (!info || v === undefined) continue;
    params.push(encode(v, info));
    sets.push(`${ident(k)} = $${params.length}`);
  }
  const conds: string[] = [];
  for (const [k, v] of Object.entries(where)) {
    params.push(v);
    conds.push(Array.isArray(v) ? `${ident(k)} = ANY($${params.length})` : `${ident(k)} = $${params.length}`);
  }
  if (sets.length === 0) return q(db, `SELECT * FROM ${ident(table)} WHERE ${conds.join(' AND ')}`, params);
  return q(db, `UPDATE ${ident(table)} SET ${sets.join(', ')} WHERE ${conds.join(' AND ')} RETURNING *`, params);
}

export async function updateRow(db: Db, table: string, where: Row, set: Row): Promise<Row | null> {
  return (await updateRows(db, table, where, set))[0] ?? null;
}

export async function findRow(db: Db, table: string, where: Row, lock = false): Promise<Row | null> {
  const params: unknown[] = [];
  const conds = Object.entries(where).map(([k, v]) => {
    params.push(v);
    return `${ident(k)} = $${params.length}`;
  });
  return q1(db, `SELECT * FROM ${ident(table)} WHERE ${conds.join(' AND ')}${lock ? ' FOR UPDATE' : ''}`, params);
}

export async function findByIds(db: Db, table: string, column: string, ids: string[], lock = false): Promise<Row[]> {
  if (ids.length === 0) return [];
  return q(db, `SELECT * FROM ${ident(table)} WHERE ${ident(column)} = ANY($1::text[])${lock ? ' FOR UPDATE' : ''}`, [ids]);
}

/** Only the keys of `row` that are columns of `table` (for copies between tables). */
export async function pickColumns(db: Db, table: string, row: Row): Promise<Row> {
  const cols = await columnsOf(db, table);
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) if (cols.has(k)) out[k] = v;
  return out;
}

export { ident };
