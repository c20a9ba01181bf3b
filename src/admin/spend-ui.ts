// The spend reads the admin page draws: /spend/logs/ui (LiteLLM's paginated, filtered log list) and
// /global/spend/breakdown (a range of the Daily* tables grouped by day and by one dimension, summed
// in SQL so a month of traffic comes back as a few hundred numbers, not as the raw daily rows).
import { tokenOf, type Call } from './common';
import { findByIds, q, q1, readDb } from './db';
import { badRequest } from './errors';
import { qDate, qInt, qStr } from './validation';
import { viewOf } from './scope';

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` alone means the whole day: the start at its midnight, the end at the next one. */
function bound(v: string, end: boolean): string {
  if (v.length > 10) return new Date(v).toISOString();
  const d = new Date(`${v}T00:00:00Z`).getTime();
  return new Date(end ? d + DAY_MS : d).toISOString();
}

// ---- /spend/logs/ui ------------------------------------------------------------------------------------

/** The columns of a log row the list shows: not the stored messages/response bodies (large). */
const LOG_COLUMNS = [
  'request_id', 'call_type', 'api_key', 'spend', 'total_tokens', 'prompt_tokens', 'completion_tokens', 'startTime', 'endTime',
  'request_duration_ms', 'completionStartTime', 'model', 'model_id', 'model_group', 'custom_llm_provider', 'api_base', 'user',
  'metadata', 'cache_hit', 'request_tags', 'team_id', 'organization_id', 'end_user', 'requester_ip_address', 'session_id', 'status',
].map((c) => `l."${c}"`).join(', ');

const STATUSES = new Set(['success', 'failure']);

/**
 * GET /spend/logs/ui: LiteLLM's log list for its UI. Filters (all optional, combined): api_key (a key
 * or its hash), key_alias, team_id, user_id, end_user, model (the model or its group), request_id,
 * status_filter (success|failure), start_date / end_date (a day or an ISO time). Newest first,
 * `page` / `page_size`; answers {data, total, page, page_size, total_pages}. A caller who does not
 * see everything gets the rows of its own user and of the teams it admins, as /spend/logs.
 */
export async function spendLogsUi(call: Call): Promise<unknown> {
  const qy = call.req.query;
  const page = qInt(qy, 'page', 1, 1, 1_000_000);
  const pageSize = qInt(qy, 'page_size', 50, 1, 500);
  const start = qDate(qy, 'start_date');
  const end = qDate(qy, 'end_date');
  const status = qStr(qy, 'status_filter') ?? qStr(qy, 'status');
  if (status !== null && !STATUSES.has(status)) throw badRequest(`status_filter: must be success or failure, not '${status}'`, 'status_filter');
  const apiKey = qStr(qy, 'api_key');
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replaceAll('?', `$${params.length}`));
  };
  const db = readDb(call.ctx.db);
  const view = await viewOf(call, db);
  if (view) {
    params.push(view.userId, view.adminTeams);
    where.push(`(l."user" = $${params.length - 1}::text OR l.team_id = ANY($${params.length}::text[]))`);
  }
  if (start !== null) add(`l."startTime" >= ?::timestamp`, bound(start, false));
  if (end !== null) add(`l."startTime" < ?::timestamp`, bound(end, true));
  if (apiKey !== null) add('l.api_key = ?', tokenOf(apiKey));
  const alias = qStr(qy, 'key_alias');
  if (alias !== null) add(`l.api_key IN (SELECT token FROM "LiteLLM_VerificationToken" WHERE key_alias = ?)`, alias);
  const team = qStr(qy, 'team_id');
  if (team !== null) add('l.team_id = ?', team);
  const user = qStr(qy, 'user_id');
  if (user !== null) add('l."user" = ?', user);
  const endUser = qStr(qy, 'end_user');
  if (endUser !== null) add('l.end_user = ?', endUser);
  const model = qStr(qy, 'model');
  if (model !== null) add('(l.model = ? OR l.model_group = ?)', model);
  const requestId = qStr(qy, 'request_id');
  if (requestId !== null) add('l.request_id = ?', requestId);
  if (status !== null) add(`COALESCE(NULLIF(l.status, ''), 'success') = ?`, status);
  const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const total = Number((await q1<{ n: number }>(db, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs" l ${w}`, params))?.n ?? 0);
  const data = await q(
    db,
    `SELECT ${LOG_COLUMNS}, v.key_alias FROM "LiteLLM_SpendLogs" l LEFT JOIN "LiteLLM_VerificationToken" v ON v.token = l.api_key
      ${w} ORDER BY l."startTime" DESC, l.request_id DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, pageSize, (page - 1) * pageSize],
  );
  return { data, total, page, page_size: pageSize, total_pages: Math.max(1, Math.ceil(total / pageSize)) };
}

// ---- /global/spend/breakdown ---------------------------------------------------------------------------

interface Dimension {
  table: string;
  /** The SQL of the grouped value (a column, or the model group where the row has one). */
  column: string;
  /** People's names for the ids (aliases, emails); ids without one show as themselves. */
  labels?(call: Call, ids: string[]): Promise<Map<string, string>>;
}

async function labelsFrom(call: Call, table: string, idColumn: string, labelColumn: string, ids: string[]): Promise<Map<string, string>> {
  const rows = await findByIds(readDb(call.ctx.db), table, idColumn, ids);
  const out = new Map<string, string>();
  for (const r of rows) if (r[labelColumn]) out.set(String(r[idColumn]), String(r[labelColumn]));
  return out;
}

/** Keys and models come from the users' table: LiteLLM's usage page reads it the same way. */
const DIMENSIONS: Record<string, Dimension> = {
  api_key: { table: 'LiteLLM_DailyUserSpend', column: '"api_key"', labels: (c, ids) => labelsFrom(c, 'LiteLLM_VerificationToken', 'token', 'key_alias', ids) },
  // The model as clients name it (the group), not the deployment's provider model.
  model: { table: 'LiteLLM_DailyUserSpend', column: `COALESCE(NULLIF(model_group, ''), model)` },
  user: { table: 'LiteLLM_DailyUserSpend', column: '"user_id"', labels: (c, ids) => labelsFrom(c, 'LiteLLM_UserTable', 'user_id', 'user_email', ids) },
  team: { table: 'LiteLLM_DailyTeamSpend', column: '"team_id"', labels: (c, ids) => labelsFrom(c, 'LiteLLM_TeamTable', 'team_id', 'team_alias', ids) },
  end_user: { table: 'LiteLLM_DailyEndUserSpend', column: '"end_user_id"' },
};

const SUMS = `SUM(spend)::float8 AS spend, SUM(api_requests)::int8 AS api_requests, SUM(successful_requests)::int8 AS successful_requests,
  SUM(failed_requests)::int8 AS failed_requests, SUM(prompt_tokens)::int8 AS prompt_tokens, SUM(completion_tokens)::int8 AS completion_tokens`;

interface Sums {
  spend: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
  prompt_tokens: number;
  completion_tokens: number;
}

const sums = (r: Record<string, unknown>): Sums => ({
  spend: Number(r.spend ?? 0),
  api_requests: Number(r.api_requests ?? 0),
  successful_requests: Number(r.successful_requests ?? 0),
  failed_requests: Number(r.failed_requests ?? 0),
  prompt_tokens: Number(r.prompt_tokens ?? 0),
  completion_tokens: Number(r.completion_tokens ?? 0),
});

/**
 * GET /global/spend/breakdown?start_date&end_date&group_by=api_key|model|user|team|end_user&limit=N:
 * the days of the range with their totals, and the N groups that spent most (limit, default 10, at
 * most 100) with their totals and spend per day; the rest summed as `other`.
 */
export async function globalSpendBreakdown(call: Call): Promise<unknown> {
  const qy = call.req.query;
  const start = qDate(qy, 'start_date');
  const end = qDate(qy, 'end_date');
  if (start === null || end === null) throw badRequest('Please provide start_date and end_date', start === null ? 'start_date' : 'end_date');
  const groupBy = qStr(qy, 'group_by') ?? 'model';
  const dim = DIMENSIONS[groupBy];
  if (!dim || !Object.hasOwn(DIMENSIONS, groupBy)) throw badRequest(`group_by: must be one of ${Object.keys(DIMENSIONS).join(', ')}`, 'group_by');
  const limit = qInt(qy, 'limit', 10, 1, 100);
  const db = readDb(call.ctx.db);
  const range = [start.slice(0, 10), end.slice(0, 10)];
  const from = `FROM "${dim.table}" WHERE date >= $1 AND date <= $2`;
  const col = dim.column;
  const days = await q(db, `SELECT date, ${SUMS} ${from} GROUP BY date ORDER BY date`, range);
  const ranked = await q(db, `SELECT ${col} AS id, ${SUMS}, count(*) OVER ()::int AS groups ${from} GROUP BY 1 ORDER BY spend DESC, 1 LIMIT $3`, [...range, limit]);
  const ids = ranked.map((r) => r.id as string);
  const perDay = ids.length
    ? await q<{ id: string; date: string; spend: number }>(db, `SELECT ${col} AS id, date, SUM(spend)::float8 AS spend ${from} AND ${col} = ANY($3::text[]) GROUP BY 1, 2`, [...range, ids])
    : [];
  const daily = new Map<string, Record<string, number>>(ids.map((id) => [id, {}]));
  for (const r of perDay) daily.get(r.id)![String(r.date)] = Number(r.spend);
  const labels = dim.labels && ids.length ? await dim.labels(call, ids) : new Map<string, string>();
  const totals = days.reduce<Sums>((t, d) => {
    const s = sums(d);
    for (const k of Object.keys(t) as (keyof Sums)[]) t[k] += s[k];
    return t;
  }, sums({}));
  // '' is the spend of keys without a user (or team…): name it rather than show a blank row.
  const groups = ranked.map((r) => ({ id: r.id, label: labels.get(r.id as string) ?? (r.id === '' || r.id === null ? `(no ${groupBy.replace(/_/g, ' ')})` : r.id), ...sums(r), daily: daily.get(r.id as string) }));
  const other = { ...totals };
  for (const g of groups) for (const k of Object.keys(other) as (keyof Sums)[]) other[k] -= g[k];
  return {
    group_by: groupBy,
    start_date: range[0],
    end_date: range[1],
    totals,
    days: days.map((d) => ({ date: String(d.date), ...sums(d) })),
    groups,
    total_groups: Number(ranked[0]?.groups ?? 0),
    other: ranked.length < Number(ranked[0]?.groups ?? 0) ? other : null,
  };
}
