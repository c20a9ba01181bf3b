// /team/new|update|delete|info|list|block|unblock|member_add|member_delete|member_update.
import { z } from 'zod';
import { type Call, type Op, defined, mutate, newId } from './common';
import { type Db, type Row, findRow, hasTable, insertRow, q, readDb, updateRow } from './db';
import { badRequest, notFound } from './errors';
import { budgetById, budgetsById, createBudget, resetColumns, updateBudget } from './budgets';
import { archiveAndDeleteKeys, checkRefs } from './keys';
import { ensureUser } from './users';
import { assertTeamAdmin, assertTeamVisible, memberOfTeamSql, viewOf } from './scope';
import { duration, jsonObject, limit, modelMaxBudget, money, numberMap, opt, parseBody, qStr, text, texts } from './validation';

export const TEAMS = 'LiteLLM_TeamTable';
const MEMBERSHIP = 'LiteLLM_TeamMembership';

export const Member = z
  .object({ role: z.enum(['admin', 'user']).default('user'), user_id: opt(text), user_email: opt(text) })
  .refine((m) => !!(m.user_id || m.user_email), { message: 'a member needs user_id or user_email', path: ['user_id'] });
export type MemberIn = z.output<typeof Member>;

interface MemberWithRole {
  role: string;
  user_id: string | null;
  user_email: string | null;
}

const METADATA_FIELDS = ['tags', 'guardrails', 'prompts', 'model_rpm_limit', 'model_tpm_limit', 'team_member_key_duration'] as const;

const teamFields = {
  team_alias: opt(text),
  organization_id: opt(text),
  admins: opt(texts),
  members: opt(texts),
  metadata: opt(jsonObject),
  tpm_limit: opt(limit),
  rpm_limit: opt(limit),
  max_parallel_requests: opt(limit),
  max_budget: opt(money),
  soft_budget: opt(money),
  budget_duration: opt(duration),
  models: opt(texts),
  blocked: opt(z.boolean()),
  model_aliases: opt(jsonObject),
  tags: opt(texts),
  guardrails: opt(texts),
  prompts: opt(texts),
  policies: opt(texts),
  model_max_budget: opt(modelMaxBudget),
  model_rpm_limit: opt(numberMap),
  model_tpm_limit: opt(numberMap),
  team_member_budget: opt(money),
  team_member_budget_duration: opt(duration),
  team_member_rpm_limit: opt(limit),
  team_member_tpm_limit: opt(limit),
  team_member_key_duration: opt(duration),
  team_member_permissions: opt(texts),
  default_team_member_models: opt(texts),
  router_settings: opt(jsonObject),
  access_group_ids: opt(texts),
  allow_team_guardrail_config: opt(z.boolean()),
};

const NewTeam = z.object({ team_id: opt(text), members_with_roles: opt(z.array(Member)), ...teamFields });
const UpdateTeam = z.object({ team_id: text, ...teamFields });
type TeamBody = Partial<z.output<typeof NewTeam>>;

export const membershipId = (teamId: string, userId: string) => `${teamId}:${userId}`;

export async function teamRow(db: Db, teamId: string, lock = false): Promise<Row> {
  const row = await findRow(db, TEAMS, { team_id: teamId }, lock);
  if (!row) throw notFound(`Team not found, passed team_id=${teamId}`, 'team_id');
  return row;
}

function membersOf(team: Row): MemberWithRole[] {
  const m = team.members_with_roles;
  return Array.isArray(m) ? (m as MemberWithRole[]) : [];
}

function metadataWith(base: Record<string, unknown>, b: TeamBody): Record<string, unknown> {
  const m = { ...base };
  for (const f of METADATA_FIELDS) if (b[f] !== undefined) m[f] = b[f];
  return m;
}

/** team_member_budget / _duration / _rpm_limit / _tpm_limit → the shared budget row of the team's members. */
async function memberBudget(op: Op, b: TeamBody, metadata: Record<string, unknown>): Promise<void> {
  const v = defined({ max_budget: b.team_member_budget, budget_duration: b.team_member_budget_duration, rpm_limit: b.team_member_rpm_limit, tpm_limit: b.team_member_tpm_limit });
  if (Object.keys(v).length === 0) return;
  const existing = typeof metadata.team_member_budget_id === 'string' ? metadata.team_member_budget_id : null;
  if (existing && (await updateBudget(op, existing, v))) return;
  metadata.team_member_budget_id = (await createBudget(op, v)).budget_id;
}

async function modelAliases(op: Op, aliases: Record<string, unknown>, modelId: unknown): Promise<number | null> {
  if (!(await hasTable(op.db, 'LiteLLM_ModelTable'))) return null;
  if (modelId !== null && modelId !== undefined) {
    await updateRow(op.db, 'LiteLLM_ModelTable', { id: modelId }, { aliases, updated_at: op.nowIso, updated_by: op.actor });
    return modelId as number;
  }
  const row = await insertRow(op.db, 'LiteLLM_ModelTable', { aliases, created_at: op.nowIso, created_by: op.actor, updated_at: op.nowIso, updated_by: op.actor });
  return row.id as number;
}

function columns(b: TeamBody): Row {
  return defined({
    team_alias: b.team_alias,
    organization_id: b.organization_id,
    admins: b.admins,
    members: b.members,
    tpm_limit: b.tpm_limit,
    rpm_limit: b.rpm_limit,
    max_parallel_requests: b.max_parallel_requests,
    max_budget: b.max_budget,
    soft_budget: b.soft_budget,
    models: b.models,
    blocked: b.blocked,
    policies: b.policies,
    model_max_budget: b.model_max_budget,
    team_member_permissions: b.team_member_permissions,
    default_team_member_models: b.default_team_member_models,
    router_settings: b.router_settings,
    access_group_ids: b.access_group_ids,
    allow_team_guardrail_config: b.allow_team_guardrail_config,
  });
}

// ---- members -------------------------------------------------------------------------------------------

/** Adds users to a team: user rows created when missing, team appended to their `teams`, a
 *  TeamMembership row (with a budget row for max_budget_in_team, else the team's member budget). */
export async function addTeamMembers(op: Op, team: Row, members: MemberIn[], maxBudgetInTeam: number | null | undefined) {
  const teamId = team.team_id as string;
  const list = [...membersOf(team)];
  const users: Row[] = [];
  const memberships: Row[] = [];
  const meta = (team.metadata as Record<string, unknown>) ?? {};
  for (const m of members) {
    const user = await ensureUser(op, { user_id: m.user_id ?? null, user_email: m.user_email ?? null });
    const userId = user.user_id as string;
    if (list.some((x) => x.user_id === userId)) throw badRequest(`User ${userId} is already a member of team ${teamId}`, 'member');
    list.push({ role: m.role, user_id: userId, user_email: (user.user_email as string | null) ?? m.user_email ?? null });
    const teams = Array.isArray(user.teams) ? (user.teams as string[]) : [];
    const updatedUser = teams.includes(teamId) ? user : await updateRow(op.db, 'LiteLLM_UserTable', { user_id: userId }, { teams: [...teams, teamId], updated_at: op.nowIso });
    users.push(updatedUser!);
    let budgetId: string | null = null;
    if (maxBudgetInTeam !== undefined && maxBudgetInTeam !== null) budgetId = (await createBudget(op, { max_budget: maxBudgetInTeam })).budget_id as string;
    else if (typeof meta.team_member_budget_id === 'string') budgetId = meta.team_member_budget_id;
    const existing = await findRow(op.db, MEMBERSHIP, { user_id: userId, team_id: teamId });
    const ms = existing
      ? await updateRow(op.db, MEMBERSHIP, { user_id: userId, team_id: teamId }, budgetId ? { budget_id: budgetId } : {})
      : await insertRow(op.db, MEMBERSHIP, { user_id: userId, team_id: teamId, spend: 0, total_spend: 0, budget_id: budgetId });
    memberships.push({ ...ms, litellm_budget_table: await budgetById(op.db, ms!.budget_id as string | null) });
    op.notify('user', [userId]);
    op.notify('team_membership', [membershipId(teamId, userId)]);
  }
  const updated = (await updateRow(op.db, TEAMS, { team_id: teamId }, { members_with_roles: list, updated_at: op.nowIso }))!;
  op.notify('team', [teamId]);
  return { team: updated, users, memberships };
}

async function resolveMemberUserId(op: Op, team: Row, userId: string | null | undefined, email: string | null | undefined): Promise<string> {
  const found = membersOf(team).find((m) => (userId ? m.user_id === userId : m.user_email === email));
  if (found?.user_id) return found.user_id;
  if (!userId && email) {
    const u = await findRow(op.db, 'LiteLLM_UserTable', { user_email: email });
    if (u && membersOf(team).some((m) => m.user_id === u.user_id)) return u.user_id as string;
  }
  throw badRequest(`User ${userId ?? email} is not a member of team ${team.team_id as string}`, userId ? 'user_id' : 'user_email');
}

const MemberAdd = z.object({ team_id: text, member: z.union([Member, z.array(Member).min(1)]), max_budget_in_team: opt(money) });

export async function teamMemberAdd(call: Call): Promise<unknown> {
  const b = parseBody(MemberAdd, call.req.body);
  return mutate(call, async (op) => {
    const team = await teamRow(op.db, b.team_id, true);
    assertTeamAdmin(call, team, '/team/member_add');
    const r = await addTeamMembers(op, team, Array.isArray(b.member) ? b.member : [b.member], b.max_budget_in_team);
    return { ...r.team, updated_users: r.users, updated_team_memberships: r.memberships };
  });
}

const MemberRef = { team_id: text, user_id: opt(text), user_email: opt(text) };
const hasUser = (b: { user_id?: string | null; user_email?: string | null }) => !!(b.user_id || b.user_email);

export async function teamMemberDelete(call: Call): Promise<unknown> {
  const b = parseBody(z.object(MemberRef).refine(hasUser, { message: 'pass user_id or user_email', path: ['user_id'] }), call.req.body);
  return mutate(call, async (op) => {
    const team = await teamRow(op.db, b.team_id, true);
    assertTeamAdmin(call, team, '/team/member_delete');
    const userId = await resolveMemberUserId(op, team, b.user_id, b.user_email);
    const list = membersOf(team).filter((m) => m.user_id !== userId);
    const strip = (a: unknown) => (Array.isArray(a) ? (a as string[]).filter((x) => x !== userId) : a);
    const updated = await updateRow(op.db, TEAMS, { team_id: b.team_id }, { members_with_roles: list, admins: strip(team.admins), members: strip(team.members), updated_at: op.nowIso });
    await q(op.db, `UPDATE "LiteLLM_UserTable" SET teams = array_remove(teams, $1) WHERE user_id = $2`, [b.team_id, userId]);
    await q(op.db, `DELETE FROM "LiteLLM_TeamMembership" WHERE team_id = $1 AND user_id = $2`, [b.team_id, userId]);
    op.notify('team', [b.team_id]);
    op.notify('user', [userId]);
    op.notify('team_membership', [membershipId(b.team_id, userId)]);
    return updated;
  });
}

const MemberUpdate = z
  .object({ ...MemberRef, max_budget_in_team: opt(money), role: opt(z.enum(['admin', 'user'])), tpm_limit: opt(limit), rpm_limit: opt(limit) })
  .refine(hasUser, { message: 'pass user_id or user_email', path: ['user_id'] });

export async function teamMemberUpdate(call: Call): Promise<unknown> {
  const b = parseBody(MemberUpdate, call.req.body);
  return mutate(call, async (op) => {
    const team = await teamRow(op.db, b.team_id, true);
    assertTeamAdmin(call, team, '/team/member_update');
    const userId = await resolveMemberUserId(op, team, b.user_id, b.user_email);
    const list = membersOf(team).map((m) => (m.user_id === userId && b.role ? { ...m, role: b.role } : m));
    await updateRow(op.db, TEAMS, { team_id: b.team_id }, { members_with_roles: list, updated_at: op.nowIso });
    const v = defined({ max_budget: b.max_budget_in_team, tpm_limit: b.tpm_limit, rpm_limit: b.rpm_limit });
    let ms = await findRow(op.db, MEMBERSHIP, { team_id: b.team_id, user_id: userId }, true);
    if (!ms) ms = await insertRow(op.db, MEMBERSHIP, { user_id: userId, team_id: b.team_id, spend: 0, total_spend: 0 });
    if (Object.keys(v).length > 0) {
      const shared = ((team.metadata as Record<string, unknown>) ?? {}).team_member_budget_id;
      if (ms.budget_id && ms.budget_id !== shared) await updateBudget(op, ms.budget_id as string, v);
      else ms = await updateRow(op.db, MEMBERSHIP, { team_id: b.team_id, user_id: userId }, { budget_id: (await createBudget(op, v)).budget_id });
    }
    const budget = await budgetById(op.db, ms!.budget_id as string | null);
    op.notify('team', [b.team_id]);
    op.notify('team_membership', [membershipId(b.team_id, userId)]);
    const member = list.find((m) => m.user_id === userId)!;
    return {
      team_id: b.team_id,
      user_id: userId,
      user_email: member.user_email ?? null,
      role: member.role,
      max_budget_in_team: budget?.max_budget ?? null,
      tpm_limit: budget?.tpm_limit ?? null,
      rpm_limit: budget?.rpm_limit ?? null,
    };
  });
}

// ---- team rows -----------------------------------------------------------------------------------------

export async function teamNew(call: Call): Promise<unknown> {
  const b = parseBody(NewTeam, call.req.body);
  return mutate(call, async (op) => {
    const teamId = b.team_id ?? newId();
    if (await findRow(op.db, TEAMS, { team_id: teamId })) throw badRequest(`Team id = ${teamId} already exists. Please use a different team id.`, 'team_id');
    await checkRefs(op.db, { organization_id: b.organization_id });
    const metadata = metadataWith(b.metadata ?? {}, b);
    await memberBudget(op, b, metadata);
    const modelId = b.model_aliases ? await modelAliases(op, b.model_aliases, null) : null;
    let team = await insertRow(op.db, TEAMS, {
      team_id: teamId,
      admins: [],
      members: [],
      models: [],
      spend: 0,
      blocked: false,
      model_spend: {},
      model_max_budget: {},
      team_member_permissions: [],
      access_group_ids: [],
      policies: [],
      default_team_member_models: [],
      ...columns(b),
      members_with_roles: [],
      metadata,
      ...resetColumns(op, b.budget_duration ?? null),
      model_id: modelId ?? undefined,
      created_at: op.nowIso,
      updated_at: op.nowIso,
    });
    op.notify('team', [teamId]);
    if (b.members_with_roles?.length) team = (await addTeamMembers(op, team, b.members_with_roles, null)).team;
    await op.audit('created', TEAMS, teamId, null, team);
    return team;
  });
}

export async function teamUpdate(call: Call): Promise<unknown> {
  const b = parseBody(UpdateTeam, call.req.body);
  return mutate(call, async (op) => {
    const team = await teamRow(op.db, b.team_id, true);
    await checkRefs(op.db, { organization_id: b.organization_id });
    const set: Row = { ...columns(b), ...resetColumns(op, b.budget_duration), updated_at: op.nowIso };
    const touches = b.metadata !== undefined || METADATA_FIELDS.some((f) => b[f] !== undefined) || b.team_member_budget !== undefined || b.team_member_budget_duration !== undefined || b.team_member_rpm_limit !== undefined || b.team_member_tpm_limit !== undefined;
    if (touches) {
      const prev = (team.metadata as Record<string, unknown>) ?? {};
      const metadata = metadataWith(b.metadata !== undefined ? { ...(b.metadata ?? {}), ...(prev.team_member_budget_id ? { team_member_budget_id: prev.team_member_budget_id } : {}) } : prev, b);
      await memberBudget(op, b, metadata);
      set.metadata = metadata;
    }
    if (b.model_aliases !== undefined) set.model_id = await modelAliases(op, b.model_aliases ?? {}, team.model_id);
    for (const k of ['models', 'admins', 'members', 'policies', 'access_group_ids', 'team_member_permissions', 'default_team_member_models'] as const) if (set[k] === null) set[k] = [];
    const updated = await updateRow(op.db, TEAMS, { team_id: b.team_id }, set);
    op.notify('team', [b.team_id]);
    await op.audit('updated', TEAMS, b.team_id, team, updated);
    return { team_id: b.team_id, data: updated };
  });
}

export async function teamDelete(call: Call): Promise<unknown> {
  const b = parseBody(z.object({ team_ids: z.array(text).min(1, { message: 'pass at least one team id' }) }), call.req.body);
  return mutate(call, async (op) => {
    const rows = await q(op.db, `SELECT * FROM "LiteLLM_TeamTable" WHERE team_id = ANY($1::text[]) FOR UPDATE`, [b.team_ids]);
    const found = new Set(rows.map((r) => r.team_id));
    const missing = b.team_ids.filter((t) => !found.has(t));
    if (missing.length) throw notFound(`Team not found, passed team_id=${missing.join(', ')}. Nothing was deleted.`, 'team_ids');
    await archiveAndDeleteKeys(op, await q(op.db, `SELECT * FROM "LiteLLM_VerificationToken" WHERE team_id = ANY($1::text[]) FOR UPDATE`, [b.team_ids]));
    const ms = await q<{ team_id: string; user_id: string }>(op.db, `DELETE FROM "LiteLLM_TeamMembership" WHERE team_id = ANY($1::text[]) RETURNING team_id, user_id`, [b.team_ids]);
    op.notify('team_membership', ms.map((m) => membershipId(m.team_id, m.user_id)));
    for (const id of b.team_ids) {
      const users = await q<{ user_id: string }>(op.db, `UPDATE "LiteLLM_UserTable" SET teams = array_remove(teams, $1) WHERE $1 = ANY(teams) RETURNING user_id`, [id]);
      op.notify('user', users.map((u) => u.user_id));
    }
    if (await hasTable(op.db, 'LiteLLM_DeletedTeamTable')) {
      for (const r of rows)
        await insertRow(op.db, 'LiteLLM_DeletedTeamTable', { ...r, id: newId(), deleted_at: op.nowIso, deleted_by: op.actor, deleted_by_api_key: op.req.caller.keyHash, litellm_changed_by: op.req.changedBy });
    }
    await q(op.db, `DELETE FROM "LiteLLM_TeamTable" WHERE team_id = ANY($1::text[])`, [b.team_ids]);
    op.notify('team', b.team_ids);
    for (const r of rows) await op.audit('deleted', TEAMS, r.team_id as string, r, null);
    return { deleted_teams: b.team_ids };
  });
}

async function setBlocked(call: Call, blocked: boolean): Promise<unknown> {
  const b = parseBody(z.object({ team_id: text }), call.req.body);
  return mutate(call, async (op) => {
    const before = await teamRow(op.db, b.team_id, true);
    const updated = await updateRow(op.db, TEAMS, { team_id: b.team_id }, { blocked, updated_at: op.nowIso });
    op.notify('team', [b.team_id]);
    await op.audit(blocked ? 'blocked' : 'updated', TEAMS, b.team_id, before, updated);
    return updated;
  });
}

export const teamBlock = (call: Call) => setBlocked(call, true);
export const teamUnblock = (call: Call) => setBlocked(call, false);

export async function teamInfo(call: Call): Promise<unknown> {
  const teamId = qStr(call.req.query, 'team_id');
  if (!teamId) throw badRequest('Malformed request. No team id passed in.', 'team_id');
  const db = readDb(call.ctx.db);
  const team = await teamRow(db, teamId);
  assertTeamVisible(call, team);
  // A plain member sees its own keys of the team; the team's admins see them all.
  const view = await viewOf(call, db);
  const allKeys = !view || view.adminTeams.includes(teamId);
  const keys = await q(db, `SELECT * FROM "LiteLLM_VerificationToken" WHERE team_id = $1 AND ($2::boolean OR user_id = $3) ORDER BY created_at NULLS LAST, token`, [
    teamId,
    allKeys,
    view?.userId ?? null,
  ]);
  const ms = await q(db, `SELECT * FROM "LiteLLM_TeamMembership" WHERE team_id = $1 ORDER BY user_id`, [teamId]);
  const memberBudgetId = ((team.metadata as Record<string, unknown>) ?? {}).team_member_budget_id as string | undefined;
  const budgets = await budgetsById(db, [...ms.map((m) => m.budget_id as string), memberBudgetId]);
  return {
    team_id: teamId,
    team_info: { ...team, team_member_budget_table: memberBudgetId ? (budgets.get(memberBudgetId) ?? null) : null },
    keys,
    team_memberships: ms.map((m) => ({ ...m, litellm_budget_table: m.budget_id ? (budgets.get(m.budget_id as string) ?? null) : null })),
  };
}

export async function teamList(call: Call): Promise<unknown> {
  const userId = qStr(call.req.query, 'user_id');
  const orgId = qStr(call.req.query, 'organization_id');
  const db = readDb(call.ctx.db);
  // A caller that does not see everything lists the teams it is a member of ($3), with its own keys
  // of each and all the keys of those it admins.
  const view = await viewOf(call, db);
  const teams = await q(
    db,
    `SELECT * FROM "LiteLLM_TeamTable" t
      WHERE ($1::text IS NULL OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(t.members_with_roles) = 'array' THEN t.members_with_roles ELSE '[]'::jsonb END) m WHERE m->>'user_id' = $1))
        AND ($2::text IS NULL OR t.organization_id = $2)
        AND ($4::boolean OR ${memberOfTeamSql('$3')})
      ORDER BY t.created_at NULLS LAST, t.team_id`,
    [userId, orgId, view?.userId ?? null, !view],
  );
  const keys = await q(
    db,
    `SELECT * FROM "LiteLLM_VerificationToken" WHERE team_id = ANY($1::text[]) AND ($2::boolean OR user_id = $3 OR team_id = ANY($4::text[])) ORDER BY created_at NULLS LAST, token`,
    [teams.map((t) => t.team_id as string), !view, view?.userId ?? null, view?.adminTeams ?? []],
  );
  return teams.map((t) => ({ ...t, keys: keys.filter((k) => k.team_id === t.team_id) }));
}
