// Optional server-side pages for the list routes LiteLLM answers with a plain array (/team/list,
// /organization/list, /customer/list, /budget/list): without `page` or `page_size` they answer as
// LiteLLM does (every row, an array); with either, one page in /user/list's shape
// ({<rows>, total, page, page_size, total_pages}), so the admin page never loads a whole table.
import { type Db, type Row, q, q1 } from './db';
import { qInt, qStr } from './validation';

export interface PageAsk {
  page: number;
  size: number;
}

/** The page asked for, or null when the caller asked for none (LiteLLM's whole-array answer). */
export function pageAsked(query: Record<string, string>, defaultSize = 25): PageAsk | null {
  if (qStr(query, 'page') === null && qStr(query, 'page_size') === null) return null;
  return { page: qInt(query, 'page', 1, 1, 1_000_000), size: qInt(query, 'page_size', defaultSize, 1, 100) };
}

/** `%term%` for ILIKE, with the term's own % _ and \ matched literally. */
export function likeTerm(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Runs `SELECT * FROM <from> <where> ORDER BY <order>` whole, or one page of it with its count.
 * `from`, `where` and `order` are the caller's SQL (never request text); `params` fill `where`.
 */
export async function listRows(db: Db, ask: PageAsk | null, sql: { from: string; where: string; order: string }, params: unknown[]): Promise<{ rows: Row[]; total: number | null }> {
  const base = `FROM ${sql.from} ${sql.where}`;
  if (!ask) return { rows: await q(db, `SELECT * ${base} ORDER BY ${sql.order}`, params), total: null };
  const total = Number((await q1<{ n: number }>(db, `SELECT count(*)::int AS n ${base}`, params))?.n ?? 0);
  const n = params.length;
  const rows = await q(db, `SELECT * ${base} ORDER BY ${sql.order} LIMIT $${n + 1} OFFSET $${n + 2}`, [...params, ask.size, (ask.page - 1) * ask.size]);
  return { rows, total };
}

/** The answer: the rows as they are when no page was asked for, else the page and its counts. */
export function pagedAnswer(name: string, ask: PageAsk | null, rows: Row[], total: number | null): unknown {
  if (!ask) return rows;
  const t = total ?? rows.length;
  return { [name]: rows, total: t, page: ask.page, page_size: ask.size, total_pages: Math.ceil(t / ask.size) };
}
