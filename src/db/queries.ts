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
 * read in full without a scope (tests, tools), else only those of the scope.
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
    for (const [table, cols] of [
      ['LiteLLM_BudgetTable', BUDGET_COLUMNS],
      ['LiteLLM_VerificationToken', KEY_COLUMNS],
      ['LiteLLM_TeamTable', TEAM_COLUMNS],
      ['LiteLLM_TeamMembership', MEMBER_COLUMNS],
      ['LiteLLM_UserTable', USER_COLUMNS],
      ['LiteLLM_EndUserTable', END_USER_COLUMNS],
      ['LiteLLM_OrganizationTable', ORG_COLUMNS],
    ] as const) {
      const scoped = table === 'LiteLLM_EndUserTable' ? endUserScope : null;
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

async function budgetById(pool: pg.Pool, id: unknown): Promise<BudgetRow | null> {
  if (id === null || id === undefined) return null;
  const rows = await select(pool, 'LiteLLM_BudgetTable', BUDGET_COLUMNS, `"budget_id" = $1`, [String(id)]);
  return rows[0] ? toBudget(rows[0]) : null;
}

/** One key by its hash, with the team, membership, user and organization it draws on. */
export async function loadKey(pool: pg.Pool, tokenHash: string): Promise<KeyBundle | null> {
  const [k] = await select(pool, 'LiteLLM_VerificationToken', KEY_COLUMNS, `"token" = $1`, [tokenHash]);
  if (!k) return null;
  const key = toKey(k, await budgetById(pool, k.budget_id));

  let team: TeamRow | null = null;
  let teamMember: TeamMemberRow | null = null;
  if (key.team_id) {
    const [t] = await select(pool, 'LiteLLM_TeamTable', TEAM_COLUMNS, `"team_id" = $1`, [key.team_id]);
    if (t) {
      const modelId = num(t.model_id);
      team = toTeam(t, await modelAliases(pool, modelId === null ? [] : [modelId]));
    }
    if (key.user_id) {
      const [m] = await select(pool, 'LiteLLM_TeamMembership', MEMBER_COLUMNS, `"team_id" = $1 AND "user_id" = $2`, [key.team_id, key.user_id]);
      if (m) teamMember = toMember(m, await budgetById(pool, m.budget_id));
    }
  }
  let user: UserRow | null = null;
  if (key.user_id) {
    const [u] = await select(pool, 'LiteLLM_UserTable', USER_COLUMNS, `"user_id" = $1`, [key.user_id]);
    if (u) user = toUser(u);
  }
  let organization: OrganizationRow | null = null;
  const orgId = key.organization_id ?? team?.organization_id ?? null;
  if (orgId) {
    const [o] = await select(pool, 'LiteLLM_OrganizationTable', ORG_COLUMNS, `"organization_id" = $1`, [orgId]);
    if (o) organization = toOrganization(o, await budgetById(pool, o.budget_id));
  }
  return { key, team, teamMember, user, organization };
}
