// The reads that load governance state into the control thread: everything at start and on each
// sync (loadAll), and one key that a worker met but the instance does not know (loadKey). Column
// lists are explicit and cut to what the database has, so extra columns are ignored and missing
// optional ones read as defaults; a missing table reads as empty.
import type pg from 'pg';
import { tableColumns } from './introspect';
import { weirTypes } from './pool';
import {
  BUDGET_COLUMNS,
  END_USER_COLUMNS,
  KEY_COLUMNS,
  MEMBER_COLUMNS,
  ORG_COLUMNS,
  TEAM_COLUMNS,
  USER_COLUMNS,
  num,
  toBudget,
  toEndUser,
  toKey,
  toMember,
  toOrganization,
  toTeam,
  toUser,
  type BudgetRow,
  type EndUserRow,
  type Json,
  type KeyRow,
  type OrganizationRow,
  type TeamMemberRow,
  type TeamRow,
  type UserRow,
} from './rows';
import { q } from './schema';

export interface GovernanceState {
  keys: KeyRow[];
  teams: TeamRow[];
  teamMembers: TeamMemberRow[];
  users: UserRow[];
  endUsers: EndUserRow[];
  organizations: OrganizationRow[];
  budgets: BudgetRow[];
  /** When the reads began: changes after it arrive with the next load. */
  loadedAt: Date;
}

/**
 * Which end-user rows a read includes: those with a budget of their own (other than the config's
 * default end-user budget), and those of `ids`. Any client can add end users, so a table with a
 * million of them must not be read in full every 2 s; what else there is has nothing to enforce.
 */
export interface EndUserScope {
  ids: string[];
  /** litellm_settings.max_end_user_budget_id: rows linked to it are default ones, read by id only. */
  defaultBudgetId: string | null;
}

export interface KeyBundle {
  key: KeyRow;
  team: TeamRow | null;
  teamMember: TeamMemberRow | null;
  user: UserRow | null;
  organization: OrganizationRow | null;
}

type Row = Record<string, unknown>;

type Db = pg.Pool | pg.PoolClient;

/** `owner` keys the introspection cache (the pool); `db` runs the query. */
async function selectOn(owner: pg.Pool, db: Db, table: string, wanted: string[], where = '', values: unknown[] = []): Promise<Row[]> {
  const have = await tableColumns(owner, table);
  if (have.size === 0) return [];
  const cols = wanted.filter((c) => have.has(c));
  const res = await db.query({
    text: `SELECT ${cols.map(q).join(', ')} FROM ${q(table)}${where ? ` WHERE ${where}` : ''}`,
    values,
    types: weirTypes,
  });
  return res.rows as Row[];
}

const select = (pool: pg.Pool, table: string, wanted: string[], where = '', values: unknown[] = []): Promise<Row[]> =>
  selectOn(pool, pool, table, wanted, where, values);

const byId = <T>(rows: T[], id: (r: T) => string): Map<string, T> => new Map(rows.map((r) => [id(r), r]));

async function modelAliases(pool: pg.Pool, ids?: number[], db: Db = pool): Promise<Map<number, Json | null>> {
  if (ids && ids.length === 0) return new Map();
  const rows = await selectOn(pool, db, 'LiteLLM_ModelTable', ['id', 'aliases'], ids ? `"id" = ANY($1::int[])` : '', ids ? [ids] : []);
  return new Map(rows.map((r) => [Number(r.id), r.aliases && typeof r.aliases === 'object' ? (r.aliases as Json) : null]));
}

/** The WHERE clause and values of a scoped end-user read (null: every row). */
function endUserWhere(scope: EndUserScope | null, cols: Set<string>): { where: string; values: unknown[] } | null {
  if (!scope) return null;
  if (!cols.has('budget_id')) return { where: `"user_id" = ANY($1::text[])`, values: [scope.ids] };
  return { where: `("budget_id" IS NOT NULL AND "budget_id" IS DISTINCT FROM $1) OR "user_id" = ANY($2::text[])`, values: [scope.defaultBudgetId, scope.ids] };
}

/**
 * Everything governance needs, read in one snapshot transaction so the parts agree. End users are
 * read in full without a scope (tests, tools), else only those of the scope. Expired keys are left
 * out: nothing can use them, and the table keeps every one (each agent run mints a key), so a read
 * every 2 s must not grow with them. A worker that meets one looks it up, and refuses it.
 */
export async function loadAll(pool: pg.Pool, endUsers: EndUserScope | null = null): Promise<GovernanceState> {
  const loadedAt = new Date();
  // Introspection first (outside the snapshot): it is cached per pool after the first load.
  for (const t of ['LiteLLM_BudgetTable', 'LiteLLM_VerificationToken', 'LiteLLM_TeamTable', 'LiteLLM_ModelTable', 'LiteLLM_TeamMembership', 'LiteLLM_UserTable', 'LiteLLM_EndUserTable', 'LiteLLM_OrganizationTable']) {
    await tableColumns(pool, t);
  }
  const client = await pool.connect();
  let rows: Row[][];
  let aliasMap: Map<number, Json | null>;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    rows = [];
    const endUserScope = endUserWhere(endUsers, await tableColumns(pool, 'LiteLLM_EndUserTable'));
    const keyScope = (await tableColumns(pool, 'LiteLLM_VerificationToken')).has('expires') ? { where: `"expires" IS NULL OR "expires" > ($1::timestamptz AT TIME ZONE 'UTC')`, values: [loadedAt.toISOString()] } : null;
    for (const [table, cols] of [
      ['LiteLLM_BudgetTable', BUDGET_COLUMNS],
      ['LiteLLM_VerificationToken', KEY_COLUMNS],
      ['LiteLLM_TeamTable', TEAM_COLUMNS],
      ['LiteLLM_TeamMembership', MEMBER_COLUMNS],
      ['LiteLLM_UserTable', USER_COLUMNS],
      ['LiteLLM_EndUserTable', END_USER_COLUMNS],
      ['LiteLLM_OrganizationTable', ORG_COLUMNS],
    ] as const) {
      const scoped = table === 'LiteLLM_EndUserTable' ? endUserScope : table === 'LiteLLM_VerificationToken' ? keyScope : null;
      rows.push(await selectOn(pool, client, table, [...cols], scoped?.where ?? '', scoped?.values ?? []));
    }
    aliasMap = await modelAliases(pool, undefined, client);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
  const [budgetRows, keyRows, teamRows, memberRows, userRows, endUserRows, orgRows] = rows as [Row[], Row[], Row[], Row[], Row[], Row[], Row[]];
  const budgets = budgetRows.map(toBudget);
  const budget = byId(budgets, (b) => b.budget_id);
  const b = (id: unknown): BudgetRow | null => (id === null || id === undefined ? null : (budget.get(String(id)) ?? null));
  return {
    keys: keyRows.map((r) => toKey(r, b(r.budget_id))),
    teams: teamRows.map((r) => toTeam(r, aliasMap)),
    teamMembers: memberRows.map((r) => toMember(r, b(r.budget_id))),
    users: userRows.map(toUser),
    endUsers: endUserRows.map((r) => toEndUser(r, b(r.budget_id))),
    organizations: orgRows.map((r) => toOrganization(r, b(r.budget_id))),
    budgets,
    loadedAt,
  };
}

/** Distinct non-empty ids, as text. */
function ids(values: unknown[]): string[] {
  const out = new Set<string>();
  for (const v of values) if (v !== null && v !== undefined && v !== '') out.add(String(v));
  return [...out];
}

/** Rows of `table` whose `column` is one of `values`, by that column (none asked: none read). */
async function rowsBy(pool: pg.Pool, table: string, cols: readonly string[], column: string, values: string[]): Promise<Row[]> {
  return values.length ? select(pool, table, [...cols], `${q(column)} = ANY($1::text[])`, [values]) : [];
}

/** One key by its hash, with the team, membership, user and organization it draws on. */
export async function loadKey(pool: pg.Pool, tokenHash: string): Promise<KeyBundle | null> {
  return (await loadKeys(pool, [tokenHash]))[0] ?? null;
}

/**
 * Keys by their hashes, each with the team, membership, user and organization it draws on, in a
 * fixed number of queries however many keys (agent runs mint and block dozens at once). Unknown
 * hashes are left out.
 */
export async function loadKeys(pool: pg.Pool, tokenHashes: string[]): Promise<KeyBundle[]> {
  return keyBundles(pool, await rowsBy(pool, 'LiteLLM_VerificationToken', KEY_COLUMNS, 'token', ids(tokenHashes)));
}

/** Key rows already in hand (an INSERT's RETURNING), each with what it draws on, as loadKeys. */
export async function keyBundles(pool: pg.Pool, keyRows: Row[]): Promise<KeyBundle[]> {
  if (keyRows.length === 0) return [];
  const teamRows = await rowsBy(pool, 'LiteLLM_TeamTable', TEAM_COLUMNS, 'team_id', ids(keyRows.map((k) => k.team_id)));
  const userIds = ids(keyRows.map((k) => k.user_id));
  const memberRows = teamRows.length && userIds.length
    ? await select(pool, 'LiteLLM_TeamMembership', [...MEMBER_COLUMNS], `"team_id" = ANY($1::text[]) AND "user_id" = ANY($2::text[])`, [teamRows.map((t) => String(t.team_id)), userIds])
    : [];
  const userRows = await rowsBy(pool, 'LiteLLM_UserTable', USER_COLUMNS, 'user_id', userIds);
  const teamById = new Map(teamRows.map((t) => [String(t.team_id), t]));
  const orgOf = (k: Row) => k.organization_id ?? teamById.get(String(k.team_id))?.organization_id ?? null;
  const orgRows = await rowsBy(pool, 'LiteLLM_OrganizationTable', ORG_COLUMNS, 'organization_id', ids(keyRows.map(orgOf)));
  const budgetRows = await rowsBy(pool, 'LiteLLM_BudgetTable', BUDGET_COLUMNS, 'budget_id', ids([...keyRows, ...memberRows, ...orgRows].map((r) => r.budget_id)));
  const modelIds = teamRows.map((t) => num(t.model_id)).filter((m): m is number => m !== null);
  const aliasMap = await modelAliases(pool, [...new Set(modelIds)]);

  const budget = byId(budgetRows.map(toBudget), (b) => b.budget_id);
  const b = (id: unknown): BudgetRow | null => (id === null || id === undefined ? null : (budget.get(String(id)) ?? null));
  const teams = new Map(teamRows.map((t) => [String(t.team_id), toTeam(t, aliasMap)]));
  const users = new Map(userRows.map((u) => [String(u.user_id), toUser(u)]));
  const members = new Map(memberRows.map((m) => [`${String(m.team_id)}\0${String(m.user_id)}`, toMember(m, b(m.budget_id))]));
  const orgs = new Map(orgRows.map((o) => [String(o.organization_id), toOrganization(o, b(o.budget_id))]));
  return keyRows.map((k) => {
    const key = toKey(k, b(k.budget_id));
    const team = key.team_id ? (teams.get(key.team_id) ?? null) : null;
    const orgId = orgOf(k);
    return {
      key,
      team,
      teamMember: team && key.user_id ? (members.get(`${key.team_id}\0${key.user_id}`) ?? null) : null,
      user: key.user_id ? (users.get(key.user_id) ?? null) : null,
      organization: orgId === null ? null : (orgs.get(String(orgId)) ?? null),
    };
  });
}
