// Bootstraps the store: on an empty database, creates the LiteLLM tables Weir uses exactly as
// LiteLLM's migrations would (so LiteLLM can later migrate the same database) plus Weir_* tables.
// A table that already exists is left exactly as it is — never dropped, altered or indexed —
// because a database LiteLLM migrated is authoritative, newer or older than what we know. Weir's
// own tables (Weir_*) are the one exception, and only additively: a column a newer Weir added is
// added to an older Weir's table (nullable or with its default), nothing else changes.
import type pg from 'pg';
import { TABLE_DEFS, type ForeignKeySpec, type IndexSpec, type TableDef } from './schema-tables';

export interface ColumnSpec {
  name: string;
  /** SQL type as written in the DDL: TEXT, DOUBLE PRECISION, INTEGER, SERIAL, BIGINT, BOOLEAN, TIMESTAMP(3), JSONB, TEXT[]. */
  type: string;
  notNull: boolean;
  default: string | null;
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  primaryKey: string[];
  indexes: IndexSpec[];
  foreignKeys: ForeignKeySpec[];
}

function parseColumns(table: string, text: string): ColumnSpec[] {
  const out: ColumnSpec[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const sp = line.search(/\s/);
    if (sp < 0) throw new Error(`schema: ${table}: column without a type: ${line}`);
    const name = line.slice(0, sp);
    let rest = line.slice(sp).trim();
    let def: string | null = null;
    const d = rest.indexOf(' DEFAULT ');
    if (d >= 0) {
      def = rest.slice(d + 9).trim();
      rest = rest.slice(0, d).trim();
    }
    const notNull = rest.endsWith(' NOT NULL');
    const type = notNull ? rest.slice(0, -9).trim() : rest;
    out.push({ name, type, notNull, default: def });
  }
  return out;
}

function toSpec(def: TableDef): TableSpec {
  return {
    name: def.name,
    columns: parseColumns(def.name, def.columns),
    primaryKey: def.primaryKey,
    indexes: def.indexes ?? [],
    foreignKeys: def.foreignKeys ?? [],
  };
}

/** Every table Weir may create, in creation order. */
export const TABLES: readonly TableSpec[] = TABLE_DEFS.map(toSpec);
export const LITELLM_TABLES: readonly string[] = TABLES.filter((t) => t.name.startsWith('LiteLLM_')).map((t) => t.name);
export const WEIR_TABLES: readonly string[] = TABLES.filter((t) => t.name.startsWith('Weir_')).map((t) => t.name);

const byName = new Map(TABLES.map((t) => [t.name, t]));

export function tableSpec(name: string): TableSpec {
  const t = byName.get(name);
  if (!t) throw new Error(`schema: unknown table ${name}`);
  return t;
}

/** Column names of a table as Weir creates it. */
export function tableColumnNames(name: string): string[] {
  return tableSpec(name).columns.map((c) => c.name);
}

export const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
const qlist = (cols: string[]): string => cols.map(q).join(', ');

export function createTableSql(t: TableSpec): string {
  const lines = t.columns.map((c) => `    ${q(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`);
  lines.push(`    CONSTRAINT ${q(`${t.name}_pkey`)} PRIMARY KEY (${qlist(t.primaryKey)})`);
  for (const f of t.foreignKeys) {
    lines.push(
      `    CONSTRAINT ${q(f.name)} FOREIGN KEY (${qlist(f.columns)}) REFERENCES ${q(f.refTable)}(${qlist(f.refColumns)}) ON DELETE ${f.onDelete} ON UPDATE CASCADE`,
    );
  }
  return `CREATE TABLE IF NOT EXISTS ${q(t.name)} (\n${lines.join(',\n')}\n)`;
}

/** A column of Weir's own added to an existing table; NOT NULL only with a default to fill old rows. */
export function addColumnSql(table: string, c: ColumnSpec): string {
  const notNull = c.notNull && c.default !== null ? ' NOT NULL' : '';
  return `ALTER TABLE ${q(table)} ADD COLUMN IF NOT EXISTS ${q(c.name)} ${c.type}${notNull}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`;
}

export function createIndexSql(table: string, i: IndexSpec): string {
  const cols = Array.isArray(i.columns) ? qlist(i.columns) : i.columns.expression;
  return `CREATE ${i.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${q(i.name)} ON ${q(table)}(${cols})`;
}

// Any fixed number: serialises concurrent bootstraps (two instances starting on one empty DB).
const SCHEMA_LOCK = 0x5745_4952; // "WEIR"

export interface EnsureSchemaResult {
  /** Tables this call created. */
  created: string[];
  /** Tables that were already there and were left untouched. */
  existing: string[];
}

/** Creates the missing tables (with their keys and indexes) in one transaction. */
export async function ensureSchema(pool: pg.Pool): Promise<EnsureSchemaResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    const created: string[] = [];
    const existing: string[] = [];
    for (const t of TABLES) {
      // to_regclass follows search_path, as the unqualified names in every query do.
      const { rows } = await client.query<{ oid: string | null }>('SELECT to_regclass($1)::text AS oid', [q(t.name)]);
      if (rows[0]?.oid) {
        existing.push(t.name);
        if (t.name.startsWith('Weir_')) {
          // Only a column that is missing is added: ALTER TABLE locks the table even when it changes nothing.
          const have = await client.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, [t.name]);
          const names = new Set(have.rows.map((x) => x.column_name));
          for (const c of t.columns) if (!names.has(c.name)) await client.query(addColumnSql(t.name, c));
        }
        continue;
      }
      await client.query(createTableSql(t));
      for (const i of t.indexes) await client.query(createIndexSql(t.name, i));
      created.push(t.name);
    }
    await client.query('COMMIT');
    return { created, existing };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
