// What the connected database actually has: the columns of a table and its unique indexes. A
// LiteLLM database may be older (columns Weir reads or writes are missing) or newer (extra
// columns) than Weir's schema; queries are built from this instead of assuming. Cached per pool,
// read once at start, and refreshed when a statement trips over a missing column.
import type pg from 'pg';

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

interface TableInfo {
  columns: Set<string>;
  /** Unique indexes (and constraints) on plain columns, each as its column list. */
  uniques: string[][];
}

const cache = new WeakMap<object, Map<string, Promise<TableInfo>>>();

async function load(db: Queryable, table: string): Promise<TableInfo> {
  const cols = await db.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns
      WHERE table_name = $1 AND table_schema = ANY (current_schemas(false))`,
    [table],
  );
  // Plain-column, non-partial unique indexes; the PK included (its columns are unique too).
  const idx = await db.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols
       FROM pg_index i
       JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ON true
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid`,
    [`"${table.replace(/"/g, '""')}"`],
  );
  return { columns: new Set(cols.rows.map((r) => r.column_name)), uniques: idx.rows.map((r) => r.cols) };
}

function entry(owner: object, db: Queryable, table: string, refresh: boolean): Promise<TableInfo> {
  let m = cache.get(owner);
  if (!m) cache.set(owner, (m = new Map()));
  let p = m.get(table);
  if (!p || refresh) {
    p = load(db, table);
    // A failed read (DB down) must not stick in the cache.
    p.catch(() => m!.delete(table));
    m.set(table, p);
  }
  return p;
}

/**
 * The table's columns. `owner` keys the cache (the pool); `db` runs the query (the pool, or a
 * client inside a transaction).
 */
export async function tableColumns(owner: object, table: string, db: Queryable = owner as Queryable, refresh = false): Promise<Set<string>> {
  return (await entry(owner, db, table, refresh)).columns;
}

export async function uniqueKeys(owner: object, table: string, db: Queryable = owner as Queryable, refresh = false): Promise<string[][]> {
  return (await entry(owner, db, table, refresh)).uniques;
}

/** Forget everything known about this pool's database (after a schema change). */
export function forgetSchema(owner: object): void {
  cache.delete(owner);
}
