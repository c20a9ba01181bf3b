// /key/info, /v2/key/info and /key/list: reading keys. Proxy admins and viewers read every key; an
// internal user its own keys and those of the teams it admins (scope.ts); any other key only itself.
import { z } from 'zod';
import { type Call, tokenOf } from './common';
import { type Row, findRow, q, q1, readDb } from './db';
import { AdminError, badRequest, notFound } from './errors';
import { budgetsById } from './budgets';
import { KEYS } from './keys';
import { parseBody, qBool, qInt, qStr, text } from './validation';
import { mayReadKey, viewOf } from './scope';

// ---- reading -------------------------------------------------------------------------------------------

function infoOf(row: Row, budgets: Map<string, Row>): Row {
  const { token: _token, ...rest } = row;
  return { ...rest, litellm_budget_table: row.budget_id ? (budgets.get(row.budget_id as string) ?? null) : null };
}

export async function keyInfo(call: Call): Promise<unknown> {
  const passed = qStr(call.req.query, 'key');
  const token = passed ? tokenOf(passed) : call.req.caller.keyHash;
  if (!token) throw notFound('Key not found in database', 'key');
  const db = readDb(call.ctx.db);
  const view = await viewOf(call, db);
  const row = await findRow(db, KEYS, { token });
  // The same 403 whether another key exists or not: a non-admin learns nothing of keys it may not read.
  if (view && token !== call.req.caller.keyHash && (!row || !mayReadKey(call, row, view)))
    throw new AdminError(403, "You are not allowed to access this key's info. Only the key itself, its user, an admin of its team or a proxy admin can read it.", 'key');
  if (!row) throw notFound('Key not found in database', 'key');
  return { key: passed ?? token, info: infoOf(row, await budgetsById(db, [row.budget_id as string])) };
}

export async function keyInfoV2(call: Call): Promise<unknown> {
  const b = parseBody(z.object({ keys: z.array(text).min(1, { message: 'pass at least one key' }) }), call.req.body);
  const db = readDb(call.ctx.db);
  const view = await viewOf(call, db);
  const found = await q(db, `SELECT * FROM "LiteLLM_VerificationToken" WHERE token = ANY($1::text[])`, [b.keys.map(tokenOf)]);
  const rows = found.filter((r) => mayReadKey(call, r, view));
  if (rows.length === 0) throw notFound('Key not found in database', 'keys');
  const budgets = await budgetsById(db, rows.map((r) => r.budget_id as string));
  return { key: b.keys, info: rows.map((r) => infoOf(r, budgets)) };
}

const SORTABLE = new Set(['spend', 'max_budget', 'created_at', 'updated_at', 'token', 'key_alias', 'expires', 'key_name', 'user_id', 'team_id']);

export async function keyList(call: Call): Promise<unknown> {
  const qy = call.req.query;
  const page = qInt(qy, 'page', 1, 1, 1_000_000);
  const size = qInt(qy, 'size', 10, 1, 100);
  const full = qBool(qy, 'return_full_object', false);
  const sortBy = qStr(qy, 'sort_by') ?? 'created_at';
  if (!SORTABLE.has(sortBy)) throw badRequest(`Invalid sort_by '${sortBy}'. Must be one of: ${[...SORTABLE].join(', ')}`, 'sort_by');
  const order = (qStr(qy, 'sort_order') ?? 'desc').toLowerCase();
  if (order !== 'asc' && order !== 'desc') throw badRequest(`Invalid sort_order '${order}'. Must be asc or desc`, 'sort_order');
  const conds: string[] = [];
  const params: unknown[] = [];
  const eq = (col: string, v: string | null) => {
    if (v === null) return;
    params.push(v);
    conds.push(`"${col}" = $${params.length}`);
  };
  eq('user_id', qStr(qy, 'user_id'));
  eq('team_id', qStr(qy, 'team_id'));
  eq('organization_id', qStr(qy, 'organization_id'));
  const kh = qStr(qy, 'key_hash');
  eq('token', kh === null ? null : tokenOf(kh));
  eq('key_alias', qStr(qy, 'key_alias'));
  const db = readDb(call.ctx.db);
  const view = await viewOf(call, db);
  if (view) {
    params.push(view.userId, view.adminTeams);
    conds.push(`(user_id = $${params.length - 1} OR team_id = ANY($${params.length}::text[]))`);
  }
  const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  const total = Number((await q1<{ n: number }>(db, `SELECT count(*)::int AS n FROM "LiteLLM_VerificationToken" ${where}`, params))?.n ?? 0);
  params.push(size, (page - 1) * size);
  const rows = await q(
    db,
    `SELECT * FROM "LiteLLM_VerificationToken" ${where} ORDER BY "${sortBy}" ${order === 'asc' ? 'ASC' : 'DESC'} NULLS LAST, token LIMIT $${params.length - 1} OFFSET $${params.length}`,
    params,
  );
  return {
    keys: full ? rows : rows.map((r) => r.token),
    total_count: total,
    current_page: page,
    total_pages: Math.ceil(total / size),
  };
}
