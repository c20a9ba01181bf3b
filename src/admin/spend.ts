// Spend reads: /spend/logs, /global/spend, /global/spend/keys|teams|models|end_users, and the
// daily activity endpoints /user/daily/activity and /team/daily/activity (from the Daily* tables).
// The "last 30 days" views of LiteLLM (MonthlyGlobalSpend, Last30dKeysBySpend, …) are computed
// inline from LiteLLM_SpendLogs, so they work on a database where the views were never created.
import { z } from 'zod';
import { type Call, tokenOf } from './common';
import { type Db, type Row, findByIds, hasTable, q, q1, readDb } from './db';
import { badRequest } from './errors';
import { opt, parseBody, qBool, qDate, qInt, qStr, text } from './validation';
import { type View, forbidden, viewOf } from './scope';

const DAY_MS = 86_400_000;

function since30Days(call: Call): string {
  const now = call.ctx.now();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - 30 * DAY_MS).toISOString();
}

/** Start of the day after `date` (end dates are inclusive of the whole day). */
function dayAfter(date: string): string {
  const d = new Date(`${date.slice(0, 10)}T00:00:00Z`);
  return new Date(d.getTime() + DAY_MS).toISOString();
}

function dayStart(date: string): string {
  return new Date(`${date.slice(0, 10)}T00:00:00Z`).toISOString();
}

// ---- /spend/logs ---------------------------------------------------------------------------------------

export async function spendLogs(call: Call): Promise<unknown> {
  const qy = call.req.query;
  const apiKeyRaw = qStr(qy, 'api_key');
  const apiKey = apiKeyRaw === null ? null : tokenOf(apiKeyRaw);
  const userId = qStr(qy, 'user_id');
  const teamId = qStr(qy, 'team_id');
  const requestId = qStr(qy, 'request_id');
  const start = qDate(qy, 'start_date');
  const end = qDate(qy, 'end_date');
  const summarize = qBool(qy, 'summarize', true);
  const limit = qInt(qy, 'limit', 1000, 1, 100_000);
  if ((start === null) !== (end === null)) throw badRequest('Pass both start_date and end_date, or neither', start === null ? 'start_date' : 'end_date');
  const db = readDb(call.ctx.db);
  // Rows a non-admin may read: its user's, and those of the teams it admins.
  const view = await viewOf(call, db);
  const params: unknown[] = [];
  const conds: string[] = [];
  const add = (cond: (p: (v: unknown) => string) => string) => conds.push(cond((v) => `$${params.push(v)}`));
  if (view) add((p) => `("user" = ${p(view.userId)}::text OR team_id = ANY(${p(view.adminTeams)}::text[]))`);
  if (teamId !== null) add((p) => `team_id = ${p(teamId)}`);
  if (start !== null && end !== null) {
    add((p) => `"startTime" >= ${p(dayStart(start))} AND "startTime" < ${p(dayAfter(end))}`);
    if (apiKey !== null) add((p) => `api_key = ${p(apiKey)}`);
    if (userId !== null) add((p) => `"user" = ${p(userId)}`);
    const where = `WHERE ${conds.join(' AND ')}`;
    if (!summarize) return q(db, `SELECT * FROM "LiteLLM_SpendLogs" ${where} ORDER BY "startTime" DESC LIMIT $${params.length + 1}`, [...params, limit]);
    const rows = await q<{ day: string; api_key: string; user: string | null; model: string | null; spend: number }>(
      db,
      `SELECT to_char(date_trunc('day', "startTime"), 'YYYY-MM-DD') AS day, api_key, "user", model, SUM(spend)::float8 AS spend
         FROM "LiteLLM_SpendLogs" ${where} GROUP BY 1, 2, 3, 4 ORDER BY 1`,
      params,
    );
    const byDay = new Map<string, Row & { users: Record<string, number>; models: Record<string, number>; spend: number }>();
    for (const r of rows) {
      let d = byDay.get(r.day);
      if (!d) byDay.set(r.day, (d = { users: {}, models: {}, spend: 0 }));
      d.spend += r.spend;
      d[r.api_key] = ((d[r.api_key] as number | undefined) ?? 0) + r.spend;
      const u = r.user ?? '';
      d.users[u] = (d.users[u] ?? 0) + r.spend;
      const m = r.model ?? '';
      d.models[m] = (d.models[m] ?? 0) + r.spend;
    }
    return [...byDay.entries()].map(([day, v]) => ({ ...v, startTime: day }));
  }
  // Without dates, LiteLLM filters by the first of api_key, request_id, user_id given.
  if (apiKey !== null) add((p) => `api_key = ${p(apiKey)}`);
  else if (requestId !== null) add((p) => `request_id = ${p(requestId)}`);
  else if (userId !== null) add((p) => `"user" = ${p(userId)}`);
  const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  if (requestId !== null && apiKey === null) return q(db, `SELECT * FROM "LiteLLM_SpendLogs" ${where}`, params);
  return q(db, `SELECT * FROM "LiteLLM_SpendLogs" ${where} ORDER BY "startTime" DESC LIMIT $${params.length + 1}`, [...params, limit]);
}

// ---- /global/spend* ------------------------------------------------------------------------------------

export async function globalSpend(call: Call): Promise<unknown> {
  const r = await q1<{ total: number | null }>(readDb(call.ctx.db), `SELECT SUM(spend)::float8 AS total FROM "LiteLLM_SpendLogs" WHERE "startTime" >= $1`, [since30Days(call)]);
  return { spend: r?.total ?? 0, max_budget: call.ctx.settings.maxBudget ?? null };
}

export async function globalSpendKeys(call: Call): Promise<unknown> {
  const limit = qInt(call.req.query, 'limit', 100, 1, 10_000);
  return q(
    readDb(call.ctx.db),
    `SELECT l.api_key, v.key_alias, v.key_name, SUM(l.spend)::float8 AS total_spend
       FROM "LiteLLM_SpendLogs" l LEFT JOIN "LiteLLM_VerificationToken" v ON l.api_key = v.token
      WHERE l."startTime" >= $1 GROUP BY l.api_key, v.key_alias, v.key_name ORDER BY total_spend DESC LIMIT $2`,
    [since30Days(call), limit],
  );
}

export async function globalSpendModels(call: Call): Promise<unknown> {
  const limit = qInt(call.req.query, 'limit', 100, 1, 10_000);
  return q(
    readDb(call.ctx.db),
    `SELECT model, SUM(spend)::float8 AS total_spend FROM "LiteLLM_SpendLogs"
      WHERE "startTime" >= $1 AND model IS NOT NULL AND model <> '' GROUP BY model ORDER BY total_spend DESC LIMIT $2`,
    [since30Days(call), limit],
  );
}

export async function globalSpendTeams(call: Call): Promise<unknown> {
  const rows = await q<{ team: string; day: string; total_spend: number }>(
    readDb(call.ctx.db),
    `SELECT COALESCE(t.team_alias, l.team_id, 'Unassigned') AS team, to_char(date_trunc('day', l."startTime"), 'YYYY-MM-DD') AS day,
            SUM(l.spend)::float8 AS total_spend
       FROM "LiteLLM_SpendLogs" l LEFT JOIN "LiteLLM_TeamTable" t ON l.team_id = t.team_id
      WHERE l."startTime" >= $1 GROUP BY 1, 2 ORDER BY 2, 1`,
    [since30Days(call)],
  );
  const days = new Map<string, Row>();
  const teams = new Set<string>();
  for (const r of rows) {
    let d = days.get(r.day);
    if (!d) days.set(r.day, (d = { date: r.day }));
    d[r.team] = r.total_spend;
    teams.add(r.team);
  }
  return { daily_spend: [...days.values()], teams: [...teams] };
}

const EndUsersBody = z.object({ api_key: opt(text), startTime: opt(text), endTime: opt(text) });

export async function globalSpendEndUsers(call: Call): Promise<unknown> {
  const b = call.req.method === 'POST' ? parseBody(EndUsersBody, call.req.body) : {};
  const parse = (v: string | null | undefined, param: string) => {
    if (!v) return null;
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) throw badRequest(`${param}: invalid date '${v}'`, param);
    return d.toISOString();
  };
  const start = parse(b.startTime, 'startTime') ?? since30Days(call);
  const end = parse(b.endTime, 'endTime');
  return q(
    readDb(call.ctx.db),
    `SELECT end_user, COUNT(*)::int AS total_events, SUM(spend)::float8 AS total_spend
       FROM "LiteLLM_SpendLogs"
      WHERE end_user IS NOT NULL AND end_user <> '' AND "startTime" >= $1 AND ($2::timestamp IS NULL OR "startTime" <= $2)
        AND ($3::text IS NULL OR api_key = $3)
      GROUP BY end_user ORDER BY total_spend DESC LIMIT 100`,
    [start, end, b.api_key ? tokenOf(b.api_key) : null],
  );
}

// ---- daily activity ------------------------------------------------------------------------------------

interface Metrics {
  spend: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

const zero = (): Metrics => ({
  spend: 0,
  prompt_tokens: 0,
  completion_tokens: 0,
  total_tokens: 0,
  api_requests: 0,
  successful_requests: 0,
  failed_requests: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
});

function add(m: Metrics, r: Row): void {
  const n = (k: string) => Number(r[k] ?? 0) || 0;
  m.spend += n('spend');
  m.prompt_tokens += n('prompt_tokens');
  m.completion_tokens += n('completion_tokens');
  m.total_tokens += n('prompt_tokens') + n('completion_tokens');
  m.api_requests += n('api_requests');
  m.successful_requests += n('successful_requests');
  m.failed_requests += n('failed_requests');
  m.cache_read_input_tokens += n('cache_read_input_tokens');
  m.cache_creation_input_tokens += n('cache_creation_input_tokens');
}

interface Bucket {
  metrics: Metrics;
  metadata: Row;
  api_key_breakdown?: Record<string, { metrics: Metrics; metadata: Row }>;
}

function bucket(map: Record<string, Bucket>, name: string, metadata: Row, withKeys: boolean): Bucket {
  let b = map[name];
  if (!b) map[name] = b = withKeys ? { metrics: zero(), metadata, api_key_breakdown: {} } : { metrics: zero(), metadata };
  return b;
}

interface ActivityKind {
  table: string;
  entityColumn: string;
  /** Filter on the entity column: from the query (user_id, team_ids), narrowed to what a caller who
   *  does not see everything may read (`view`). */
  entityFilter(call: Call, view: View | null): string[] | null;
  entityMetadata(db: Db, ids: string[]): Promise<Map<string, Row>>;
}

async function dailyActivity(call: Call, kind: ActivityKind): Promise<unknown> {
  const qy = call.req.query;
  const start = qDate(qy, 'start_date');
  const end = qDate(qy, 'end_date');
  if (start === null || end === null) throw badRequest('Please provide start_date and end_date', start === null ? 'start_date' : 'end_date');
  const page = qInt(qy, 'page', 1, 1, 1_000_000);
  const pageSize = qInt(qy, 'page_size', 50, 1, 1000);
  const model = qStr(qy, 'model');
  const apiKeyRaw = qStr(qy, 'api_key');
  const excluded = qStr(qy, 'exclude_team_ids')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
  const db = readDb(call.ctx.db);
  const entities = kind.entityFilter(call, await viewOf(call, db));
  if (!(await hasTable(db, kind.table))) throw badRequest(`${kind.table} does not exist in this database`);
  const col = `"${kind.entityColumn}"`;
  const params = [start.slice(0, 10), end.slice(0, 10), model, apiKeyRaw === null ? null : tokenOf(apiKeyRaw), entities, excluded];
  const where = `WHERE date >= $1 AND date <= $2 AND ($3::text IS NULL OR model = $3) AND ($4::text IS NULL OR api_key = $4)
                   AND ($5::text[] IS NULL OR ${col} = ANY($5::text[])) AND ($6::text[] IS NULL OR NOT (${col} = ANY($6::text[])))`;
  const total = Number((await q1<{ n: number }>(db, `SELECT count(*)::int AS n FROM "${kind.table}" ${where}`, params))?.n ?? 0);
  const rows = await q(db, `SELECT * FROM "${kind.table}" ${where} ORDER BY date DESC, api_key, model NULLS LAST, id LIMIT $7 OFFSET $8`, [...params, pageSize, (page - 1) * pageSize]);

  const keyRows = await findByIds(db, 'LiteLLM_VerificationToken', 'token', [...new Set(rows.map((r) => r.api_key as string))]);
  const keyMeta = new Map(keyRows.map((k) => [k.token as string, { key_alias: k.key_alias ?? null, team_id: k.team_id ?? null, user_id: k.user_id ?? null, key_exists: true }]));
  const keyMetadata = (k: string): Row => keyMeta.get(k) ?? { key_alias: null, team_id: null, user_id: null, key_exists: false };
  const entityMeta = await kind.entityMetadata(db, [...new Set(rows.map((r) => r[kind.entityColumn] as string))]);

  const days = new Map<string, { date: string; metrics: Metrics; breakdown: Record<string, Record<string, Bucket>> }>();
  const totals = zero();
  for (const r of rows) {
    const date = String(r.date);
    let d = days.get(date);
    if (!d)
      days.set(date, (d = { date, metrics: zero(), breakdown: { models: {}, model_groups: {}, mcp_servers: {}, providers: {}, endpoints: {}, api_keys: {}, entities: {} } }));
    add(d.metrics, r);
    add(totals, r);
    const key = r.api_key as string;
    const addTo = (map: Record<string, Bucket>, name: unknown, metadata: Row, withKeys: boolean) => {
      if (name === null || name === undefined || name === '') return;
      const b = bucket(map, String(name), metadata, withKeys);
      add(b.metrics, r);
      if (b.api_key_breakdown) {
        const kb = (b.api_key_breakdown[key] ??= { metrics: zero(), metadata: keyMetadata(key) });
        add(kb.metrics, r);
      }
    };
    const bd = d.breakdown;
    addTo(bd.models!, r.model, {}, true);
    addTo(bd.model_groups!, r.model_group ?? r.model, {}, true);
    addTo(bd.mcp_servers!, r.mcp_namespaced_tool_name, {}, true);
    addTo(bd.providers!, r.custom_llm_provider || 'unknown', {}, false);
    addTo(bd.endpoints!, r.endpoint, {}, false);
    addTo(bd.api_keys!, key, keyMetadata(key), false);
    const entity = r[kind.entityColumn] as string;
    addTo(bd.entities!, entity, entityMeta.get(entity) ?? {}, true);
  }
  const results = [...days.values()].sort((a, b) => (a.date < b.date ? 1 : a.date > b.date ? -1 : 0));
  const totalPages = Math.max(1, Math.ceil(total / pageSize));
  return {
    results,
    metadata: {
      total_spend: totals.spend,
      total_prompt_tokens: totals.prompt_tokens,
      total_completion_tokens: totals.completion_tokens,
      total_tokens: totals.total_tokens,
      total_api_requests: totals.api_requests,
      total_successful_requests: totals.successful_requests,
      total_failed_requests: totals.failed_requests,
      total_cache_read_input_tokens: totals.cache_read_input_tokens,
      total_cache_creation_input_tokens: totals.cache_creation_input_tokens,
      page,
      total_pages: totalPages,
      has_more: page < totalPages,
    },
  };
}

const list = (v: string | null) => (v === null ? null : v.split(',').map((s) => s.trim()).filter(Boolean));

export const userDailyActivity = (call: Call) =>
  dailyActivity(call, {
    table: 'LiteLLM_DailyUserSpend',
    entityColumn: 'user_id',
    entityFilter: (c, view) => {
      const asked = list(qStr(c.req.query, 'user_id'));
      if (!view) return asked;
      const other = asked?.find((u) => u !== view.userId);
      if (other !== undefined) throw forbidden(`Non-admin users can only view their own spend. Asked for user_id=${other}, your user_id=${view.userId ?? 'unknown'}`, 'user_id');
      return [view.userId ?? ''];
    },
    entityMetadata: async (db, ids) => {
      const users = await findByIds(db, 'LiteLLM_UserTable', 'user_id', ids);
      return new Map(users.map((u) => [u.user_id as string, { user_email: u.user_email ?? null, user_alias: u.user_alias ?? null }]));
    },
  });

export const teamDailyActivity = (call: Call) =>
  dailyActivity(call, {
    table: 'LiteLLM_DailyTeamSpend',
    entityColumn: 'team_id',
    entityFilter: (c, view) => {
      const asked = list(qStr(c.req.query, 'team_ids') ?? qStr(c.req.query, 'team_id'));
      if (!view) return asked;
      // A team's spend is for its admins (the members' own spend is in /user/daily/activity).
      const other = asked?.find((t) => !view.adminTeams.includes(t));
      if (other !== undefined) throw forbidden(`User=${view.userId ?? 'unknown'} is not an admin of team_id=${other}; only a team's admins and proxy admins see its spend.`, 'team_ids');
      return asked ?? view.adminTeams;
    },
    entityMetadata: async (db, ids) => {
      const teams = await findByIds(db, 'LiteLLM_TeamTable', 'team_id', ids);
      return new Map(teams.map((t) => [t.team_id as string, { team_alias: t.team_alias ?? null }]));
    },
  });
