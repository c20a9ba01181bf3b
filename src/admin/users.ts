// /user/new|update|delete|info|list.
import { z } from 'zod';
import { type Call, type Op, defined, mutate, newId } from './common';
import { type Row, findByIds, findRow, hasTable, insertRow, q, q1, readDb, updateRow } from './db';
import { AdminError, badRequest, notFound } from './errors';
import { hashLiteLLMPassword } from '../ui/password';
import { seesAll } from './roles';
import { resetColumns } from './budgets';
import { archiveAndDeleteKeys, createKey } from './keys';
import { TEAMS, addTeamMembers, membershipId } from './teams';
import { addOrgMembership } from './organizations';
import { duration, jsonObject, limit, modelMaxBudget, money, opt, parseBody, qInt, qStr, text, texts } from './validation';

export const USERS = 'LiteLLM_UserTable';

export const USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'org_admin', 'internal_user', 'internal_user_viewer', 'team', 'customer'] as const;
const role = z.enum(USER_ROLES);

const userFields = {
  user_email: opt(text),
  user_alias: opt(text),
  user_role: opt(role),
  max_budget: opt(money),
  budget_duration: opt(duration),
  models: opt(texts),
  tpm_limit: opt(limit),
  rpm_limit: opt(limit),
  max_parallel_requests: opt(limit),
  metadata: opt(jsonObject),
  model_max_budget: opt(modelMaxBudget),
  allowed_cache_controls: opt(texts),
  policies: opt(texts),
  password: opt(z.string().min(8, { message: 'must be at least 8 characters' }).max(128, { message: 'must be at most 128 characters' })),
  send_invite_email: opt(z.boolean()),
};

const TeamRef = z.union([text, z.object({ team_id: text, max_budget_in_team: opt(money), user_role: opt(z.enum(['admin', 'user'])) })]);

const NewUser = z.object({
  user_id: opt(text),
  teams: opt(z.array(TeamRef)),
  organizations: opt(texts),
  auto_create_key: opt(z.boolean()),
  duration: opt(duration),
  key_alias: opt(text),
  ...userFields,
});

const UpdateUser = z
  .object({ user_id: opt(text), spend: opt(money), ...userFields })
  .refine((b) => !!(b.user_id || b.user_email), { message: 'pass user_id or user_email', path: ['user_id'] });

/** The user with this id (or, without an id, this email); created as an internal_user when missing. */
export async function ensureUser(op: Op, who: { user_id: string | null; user_email: string | null; user_role?: string | null }): Promise<Row> {
  if (who.user_id) {
    const row = await findRow(op.db, USERS, { user_id: who.user_id }, true);
    if (row) return row;
  } else if (who.user_email) {
    const row = await q1(op.db, `SELECT * FROM "LiteLLM_UserTable" WHERE user_email = $1 ORDER BY created_at NULLS LAST LIMIT 1 FOR UPDATE`, [who.user_email]);
    if (row) return row;
  }
  const id = who.user_id ?? newId();
  const row = await insertRow(op.db, USERS, {
    user_id: id,
    user_email: who.user_email ?? null,
    user_role: who.user_role ?? 'internal_user',
    teams: [],
    models: [],
    spend: 0,
    metadata: {},
    model_spend: {},
    model_max_budget: {},
    allowed_cache_controls: [],
    policies: [],
    created_at: op.nowIso,
    updated_at: op.nowIso,
  });
  op.notify('user', [id]);
  return row;
}

async function emailFree(op: Op, email: string | null | undefined, exceptUser: string | null): Promise<void> {
  if (!email) return;
  const hit = await q1(op.db, `SELECT user_id FROM "LiteLLM_UserTable" WHERE user_email = $1 AND ($2::text IS NULL OR user_id <> $2) LIMIT 1`, [email, exceptUser]);
  if (hit) throw badRequest(`User with email ${email} already exists`, 'user_email');
}

export async function userNew(call: Call): Promise<unknown> {
  const b = parseBody(NewUser, call.req.body);
  return mutate(call, async (op) => {
    const id = b.user_id ?? newId();
    if (await findRow(op.db, USERS, { user_id: id })) throw badRequest(`User with id ${id} already exists`, 'user_id');
    await emailFree(op, b.user_email, null);
    const teams = (b.teams ?? []).map((t) => (typeof t === 'string' ? { team_id: t, max_budget_in_team: null, user_role: 'user' as const } : t));
    const teamRows: Row[] = [];
    for (const t of teams) {
      const row = await findRow(op.db, TEAMS, { team_id: t.team_id }, true);
      if (!row) throw badRequest(`Team id = ${t.team_id} does not exist. Create the team first.`, 'teams');
      teamRows.push(row);
    }
    for (const o of b.organizations ?? [])
      if (!(await findRow(op.db, 'LiteLLM_OrganizationTable', { organization_id: o })))
        throw badRequest(`Organization id = ${o} does not exist. Create the organization first.`, 'organizations');
    let user = await insertRow(op.db, USERS, {
      user_id: id,
      user_email: b.user_email ?? null,
      user_alias: b.user_alias ?? null,
      user_role: b.user_role ?? 'internal_user',
      teams: [],
      models: b.models ?? [],
      spend: 0,
      max_budget: b.max_budget ?? null,
      tpm_limit: b.tpm_limit ?? null,
      rpm_limit: b.rpm_limit ?? null,
      max_parallel_requests: b.max_parallel_requests ?? null,
      metadata: b.metadata ?? {},
      model_spend: {},
      model_max_budget: b.model_max_budget ?? {},
      allowed_cache_controls: b.allowed_cache_controls ?? [],
      policies: b.policies ?? [],
      ...(b.password ? { password: await hashLiteLLMPassword(b.password) } : {}),
      ...resetColumns(op, b.budget_duration ?? null),
      created_at: op.nowIso,
      updated_at: op.nowIso,
    });
    op.notify('user', [id]);
    for (let i = 0; i < teams.length; i++)
      await addTeamMembers(op, teamRows[i]!, [{ role: teams[i]!.user_role ?? 'user', user_id: id, user_email: b.user_email ?? null }], teams[i]!.max_budget_in_team);
    for (const o of b.organizations ?? []) await addOrgMembership(op, o, id, b.user_role ?? 'internal_user', null);
    user = (await findRow(op.db, USERS, { user_id: id }))!;
    const { password: _password, ...userOut } = user;
    await op.audit('created', USERS, id, null, userOut);
    if (b.auto_create_key === false) return { ...userOut, key: null, token: null };
    const key = await createKey(op, { user_id: id, models: b.models ?? [], duration: b.duration, key_alias: b.key_alias });
    return { ...key, ...userOut, key: key.key, token: key.token, token_id: key.token_id, key_alias: key.key_alias, expires: key.expires };
  });
}

async function userByRef(op: Op, b: { user_id?: string | null; user_email?: string | null }): Promise<Row> {
  const row = b.user_id
    ? await findRow(op.db, USERS, { user_id: b.user_id }, true)
    : await q1(op.db, `SELECT * FROM "LiteLLM_UserTable" WHERE user_email = $1 LIMIT 1 FOR UPDATE`, [b.user_email]);
  if (!row) throw notFound(`User not found, passed ${b.user_id ? `user_id=${b.user_id}` : `user_email=${b.user_email}`}`, b.user_id ? 'user_id' : 'user_email');
  return row;
}

export async function userUpdate(call: Call): Promise<unknown> {
  const b = parseBody(UpdateUser, call.req.body);
  return mutate(call, async (op) => {
    const row = await userByRef(op, b);
    const userId = row.user_id as string;
    if (b.user_id && b.user_email !== undefined) await emailFree(op, b.user_email, userId);
    const set: Row = {
      ...defined({
        user_email: b.user_id ? b.user_email : undefined,
        user_alias: b.user_alias,
        user_role: b.user_role,
        max_budget: b.max_budget,
        models: b.models,
        tpm_limit: b.tpm_limit,
        rpm_limit: b.rpm_limit,
        max_parallel_requests: b.max_parallel_requests,
        metadata: b.metadata,
        model_max_budget: b.model_max_budget,
        allowed_cache_controls: b.allowed_cache_controls,
        policies: b.policies,
        spend: b.spend,
      }),
      ...(b.password ? { password: await hashLiteLLMPassword(b.password) } : {}),
      ...resetColumns(op, b.budget_duration),
      updated_at: op.nowIso,
    };
    for (const k of ['models', 'allowed_cache_controls', 'policies'] as const) if (set[k] === null) set[k] = [];
    for (const k of ['metadata', 'model_max_budget'] as const) if (set[k] === null) set[k] = {};
    const updated = (await updateRow(op.db, USERS, { user_id: userId }, set))!;
    op.notify('user', [userId]);
    const { password: _password, ...data } = updated;
    const { password: _old, ...before } = row;
    await op.audit('updated', USERS, userId, before, data);
    return { user_id: userId, data };
  });
}

export async function userDelete(call: Call): Promise<unknown> {
  const b = parseBody(z.object({ user_ids: z.array(text).min(1, { message: 'pass at least one user id' }) }), call.req.body);
  return mutate(call, async (op) => {
    const rows = await q(op.db, `SELECT * FROM "LiteLLM_UserTable" WHERE user_id = ANY($1::text[]) FOR UPDATE`, [b.user_ids]);
    const found = new Set(rows.map((r) => r.user_id));
    const missing = b.user_ids.filter((u) => !found.has(u));
    if (missing.length) throw notFound(`User not found, passed user_id=${missing.join(', ')}. Nothing was deleted.`, 'user_ids');
    await archiveAndDeleteKeys(op, await q(op.db, `SELECT * FROM "LiteLLM_VerificationToken" WHERE user_id = ANY($1::text[]) FOR UPDATE`, [b.user_ids]));
    const ms = await q<{ team_id: string; user_id: string }>(op.db, `DELETE FROM "LiteLLM_TeamMembership" WHERE user_id = ANY($1::text[]) RETURNING team_id, user_id`, [b.user_ids]);
    op.notify('team_membership', ms.map((m) => membershipId(m.team_id, m.user_id)));
    if (await hasTable(op.db, 'LiteLLM_OrganizationMembership'))
      await q(op.db, `DELETE FROM "LiteLLM_OrganizationMembership" WHERE user_id = ANY($1::text[])`, [b.user_ids]);
    const teams = await q(
      op.db,
      `SELECT * FROM "LiteLLM_TeamTable" t WHERE jsonb_typeof(t.members_with_roles) = 'array'
         AND EXISTS (SELECT 1 FROM jsonb_array_elements(t.members_with_roles) m WHERE m->>'user_id' = ANY($1::text[])) FOR UPDATE`,
      [b.user_ids],
    );
    for (const t of teams) {
      const list = (t.members_with_roles as Array<{ user_id?: string }>).filter((m) => !m.user_id || !found.has(m.user_id));
      await updateRow(op.db, 'LiteLLM_TeamTable', { team_id: t.team_id }, { members_with_roles: list, updated_at: op.nowIso });
      op.notify('team', [t.team_id as string]);
    }
    await q(op.db, `DELETE FROM "LiteLLM_UserTable" WHERE user_id = ANY($1::text[])`, [b.user_ids]);
    op.notify('user', b.user_ids);
    for (const { password: _password, ...r } of rows) await op.audit('deleted', USERS, r.user_id as string, r, null);
    return { deleted_users: b.user_ids };
  });
}

export async function userInfo(call: Call): Promise<unknown> {
  const c = call.req.caller;
  const mine = !seesAll(c);
  // An internal user reads only itself (LiteLLM's route check on /user/info); no user_id means itself.
  const userId = qStr(call.req.query, 'user_id') ?? (mine ? c.userId : null);
  if (mine && userId !== c.userId)
    throw new AdminError(403, `key not allowed to access this user's info. user_id=${userId}, key's user_id=${c.userId}`, 'user_id');
  if (!userId) throw badRequest('Pass user_id', 'user_id');
  const db = readDb(call.ctx.db);
  const user = await findRow(db, USERS, { user_id: userId });
  if (!user) throw notFound(`User ${userId} not found`, 'user_id');
  const { password: _password, ...userInfoRow } = user;
  const keys = await q(db, `SELECT * FROM "LiteLLM_VerificationToken" WHERE user_id = $1 ORDER BY created_at NULLS LAST, token`, [userId]);
  const teams = await findByIds(db, 'LiteLLM_TeamTable', 'team_id', Array.isArray(user.teams) ? (user.teams as string[]) : []);
  return { user_id: userId, user_info: userInfoRow, keys, teams };
}

export async function userList(call: Call): Promise<unknown> {
  const qy = call.req.query;
  const page = qInt(qy, 'page', 1, 1, 1_000_000);
  const size = qInt(qy, 'page_size', 25, 1, 100);
  const roleFilter = qStr(qy, 'role');
  if (roleFilter && !(USER_ROLES as readonly string[]).includes(roleFilter)) throw badRequest(`Invalid role '${roleFilter}'`, 'role');
  const ids = qStr(qy, 'user_ids')?.split(',').map((s) => s.trim()).filter(Boolean) ?? null;
  const team = qStr(qy, 'team');
  const email = qStr(qy, 'user_email');
  const params = [roleFilter, ids, team, email];
  const where = `WHERE ($1::text IS NULL OR u.user_role = $1) AND ($2::text[] IS NULL OR u.user_id = ANY($2::text[]))
                   AND ($3::text IS NULL OR $3 = ANY(u.teams)) AND ($4::text IS NULL OR u.user_email ILIKE '%' || $4 || '%')`;
  const db = readDb(call.ctx.db);
  const total = Number((await q1<{ n: number }>(db, `SELECT count(*)::int AS n FROM "LiteLLM_UserTable" u ${where}`, params))?.n ?? 0);
  const rows = await q(
    db,
    `SELECT u.*, (SELECT count(*)::int FROM "LiteLLM_VerificationToken" k WHERE k.user_id = u.user_id) AS key_count
       FROM "LiteLLM_UserTable" u ${where} ORDER BY u.created_at DESC NULLS LAST, u.user_id LIMIT $5 OFFSET $6`,
    [...params, size, (page - 1) * size],
  );
  const users = rows.map(({ password: _password, ...u }) => u);
  return { users, total, page, page_size: size, total_pages: Math.ceil(total / size) };
}
