// /organization/new|update|delete|info|list|member_add. Every organization has a budget row.
import { z } from 'zod';
import { type Call, type Op, mutate, newId } from './common';
import { type Db, type Row, findByIds, findRow, hasTable, insertRow, q, readDb, updateRow } from './db';
import { badRequest, notFound } from './errors';
import { likeTerm, listRows, pageAsked, pagedAnswer } from './paging';
import { budgetById, budgetPart, budgetsById, createBudget, hasBudgetPart, updateBudget } from './budgets';
import { ensureUser } from './users';
import { budgetFields, jsonObject, money, numberMap, opt, parseBody, qStr, text, texts } from './validation';

export const ORGS = 'LiteLLM_OrganizationTable';
const ORG_MEMBERSHIP = 'LiteLLM_OrganizationMembership';

const orgFields = {
  models: opt(texts),
  budget_id: opt(text),
  metadata: opt(jsonObject),
  model_rpm_limit: opt(numberMap),
  model_tpm_limit: opt(numberMap),
  ...budgetFields,
};

const NewOrg = z.object({ organization_alias: text, organization_id: opt(text), ...orgFields });
const UpdateOrg = z.object({ organization_id: text, organization_alias: opt(text), spend: opt(money), ...orgFields });

export async function orgRow(db: Db, id: string, lock = false): Promise<Row> {
  const row = await findRow(db, ORGS, { organization_id: id }, lock);
  if (!row) throw notFound(`Organization not found, passed organization_id=${id}`, 'organization_id');
  return row;
}

export async function addOrgMembership(op: Op, orgId: string, userId: string, role: string | null, budgetId: string | null): Promise<Row> {
  const existing = await findRow(op.db, ORG_MEMBERSHIP, { user_id: userId, organization_id: orgId }, true);
  const row = existing
    ? (await updateRow(op.db, ORG_MEMBERSHIP, { user_id: userId, organization_id: orgId }, { user_role: role, ...(budgetId ? { budget_id: budgetId } : {}), updated_at: op.nowIso }))!
    : await insertRow(op.db, ORG_MEMBERSHIP, { user_id: userId, organization_id: orgId, user_role: role, spend: 0, budget_id: budgetId, created_at: op.nowIso, updated_at: op.nowIso });
  op.notify('organization', [orgId]);
  return row;
}

function metadataWith(base: Record<string, unknown>, b: { model_rpm_limit?: unknown; model_tpm_limit?: unknown }): Record<string, unknown> {
  const m = { ...base };
  if (b.model_rpm_limit !== undefined) m.model_rpm_limit = b.model_rpm_limit;
  if (b.model_tpm_limit !== undefined) m.model_tpm_limit = b.model_tpm_limit;
  return m;
}

async function withBudget(db: Db, row: Row | null): Promise<Row | null> {
  return row ? { ...row, litellm_budget_table: await budgetById(db, row.budget_id as string) } : null;
}

export async function orgNew(call: Call): Promise<unknown> {
  const b = parseBody(NewOrg, call.req.body);
  return mutate(call, async (op) => {
    const id = b.organization_id ?? newId();
    if (await findRow(op.db, ORGS, { organization_id: id })) throw badRequest(`Organization id = ${id} already exists. Please use a different organization id.`, 'organization_id');
    const budget = budgetPart(b);
    let budgetId: string;
    if (b.budget_id) {
      if (hasBudgetPart(budget)) throw badRequest('Pass budget_id or budget fields (max_budget, tpm_limit, …), not both', 'budget_id');
      if (!(await budgetById(op.db, b.budget_id))) throw badRequest(`Budget id = ${b.budget_id} does not exist. Create the budget first.`, 'budget_id');
      budgetId = b.budget_id;
    } else budgetId = (await createBudget(op, budget)).budget_id as string;
    const row = await insertRow(op.db, ORGS, {
      organization_id: id,
      organization_alias: b.organization_alias,
      budget_id: budgetId,
      metadata: metadataWith(b.metadata ?? {}, b),
      models: b.models ?? [],
      spend: 0,
      model_spend: {},
      created_at: op.nowIso,
      created_by: op.actor,
      updated_at: op.nowIso,
      updated_by: op.actor,
    });
    op.notify('organization', [id]);
    await op.audit('created', ORGS, id, null, row);
    return withBudget(op.db, row);
  });
}

export async function orgUpdate(call: Call): Promise<unknown> {
  const b = parseBody(UpdateOrg, call.req.body);
  return mutate(call, async (op) => {
    const org = await orgRow(op.db, b.organization_id, true);
    const set: Row = { updated_at: op.nowIso, updated_by: op.actor };
    if (b.organization_alias !== undefined) {
      if (b.organization_alias === null) throw badRequest('organization_alias cannot be null', 'organization_alias');
      set.organization_alias = b.organization_alias;
    }
    if (b.models !== undefined) set.models = b.models ?? [];
    if (b.spend !== undefined) set.spend = b.spend ?? 0;
    if (b.metadata !== undefined || b.model_rpm_limit !== undefined || b.model_tpm_limit !== undefined)
      set.metadata = metadataWith(b.metadata !== undefined ? (b.metadata ?? {}) : ((org.metadata as Record<string, unknown>) ?? {}), b);
    if (b.budget_id) {
      if (!(await budgetById(op.db, b.budget_id))) throw badRequest(`Budget id = ${b.budget_id} does not exist. Create the budget first.`, 'budget_id');
      set.budget_id = b.budget_id;
    }
    const budget = budgetPart(b);
    if (hasBudgetPart(budget)) await updateBudget(op, (set.budget_id ?? org.budget_id) as string, budget);
    const row = await updateRow(op.db, ORGS, { organization_id: b.organization_id }, set);
    op.notify('organization', [b.organization_id]);
    await op.audit('updated', ORGS, b.organization_id, org, row);
    return withBudget(op.db, row);
  });
}

export async function orgDelete(call: Call): Promise<unknown> {
  const b = parseBody(z.object({ organization_ids: z.array(text).min(1, { message: 'pass at least one organization id' }) }), call.req.body);
  return mutate(call, async (op) => {
    const ids = b.organization_ids;
    const rows = await q(op.db, `SELECT * FROM "LiteLLM_OrganizationTable" WHERE organization_id = ANY($1::text[]) FOR UPDATE`, [ids]);
    const found = new Set(rows.map((r) => r.organization_id));
    const missing = ids.filter((i) => !found.has(i));
    if (missing.length) throw notFound(`Organization not found, passed organization_id=${missing.join(', ')}. Nothing was deleted.`, 'organization_ids');
    const teams = await q<{ team_id: string }>(op.db, `UPDATE "LiteLLM_TeamTable" SET organization_id = NULL WHERE organization_id = ANY($1::text[]) RETURNING team_id`, [ids]);
    op.notify('team', teams.map((t) => t.team_id));
    const keys = await q<{ token: string }>(op.db, `UPDATE "LiteLLM_VerificationToken" SET organization_id = NULL WHERE organization_id = ANY($1::text[]) RETURNING token`, [ids]);
    op.notify('key', keys.map((k) => k.token));
    const users = await q<{ user_id: string }>(op.db, `UPDATE "LiteLLM_UserTable" SET organization_id = NULL WHERE organization_id = ANY($1::text[]) RETURNING user_id`, [ids]);
    op.notify('user', users.map((u) => u.user_id));
    if (await hasTable(op.db, ORG_MEMBERSHIP)) await q(op.db, `DELETE FROM "LiteLLM_OrganizationMembership" WHERE organization_id = ANY($1::text[])`, [ids]);
    await q(op.db, `DELETE FROM "LiteLLM_OrganizationTable" WHERE organization_id = ANY($1::text[])`, [ids]);
    op.notify('organization', ids);
    for (const r of rows) await op.audit('deleted', ORGS, r.organization_id as string, r, null);
    const budgets = await budgetsById(op.db, rows.map((r) => r.budget_id as string));
    return rows.map((r) => ({ ...r, litellm_budget_table: budgets.get(r.budget_id as string) ?? null }));
  });
}

async function describe(db: Db, orgs: Row[]): Promise<Row[]> {
  const ids = orgs.map((o) => o.organization_id as string);
  const budgets = await budgetsById(db, orgs.map((o) => o.budget_id as string));
  const members = (await hasTable(db, ORG_MEMBERSHIP)) ? await findByIds(db, ORG_MEMBERSHIP, 'organization_id', ids) : [];
  const teams = await findByIds(db, 'LiteLLM_TeamTable', 'organization_id', ids);
  return orgs.map((o) => ({
    ...o,
    litellm_budget_table: budgets.get(o.budget_id as string) ?? null,
    members: members.filter((m) => m.organization_id === o.organization_id),
    teams: teams.filter((t) => t.organization_id === o.organization_id),
  }));
}

/** GET ?organization_id= → one organization; POST {"organizations": [...]} → a list (older LiteLLM). */
export async function orgInfo(call: Call): Promise<unknown> {
  const db = readDb(call.ctx.db);
  if (call.req.method === 'POST') {
    const b = parseBody(z.object({ organizations: z.array(text).min(1, { message: 'pass at least one organization id' }) }), call.req.body);
    const rows = await findByIds(db, ORGS, 'organization_id', b.organizations);
    if (rows.length === 0) throw notFound(`Organization not found, passed organization_id=${b.organizations.join(', ')}`, 'organizations');
    return describe(db, rows);
  }
  const id = qStr(call.req.query, 'organization_id');
  if (!id) throw badRequest('Pass organization_id', 'organization_id');
  return (await describe(db, [await orgRow(db, id)]))[0];
}

export async function orgList(call: Call): Promise<unknown> {
  const db = readDb(call.ctx.db);
  // LiteLLM's filters: `org_id` exact, `org_alias` part of the alias (any case).
  const id = qStr(call.req.query, 'org_id');
  const alias = qStr(call.req.query, 'org_alias');
  const ask = pageAsked(call.req.query);
  const { rows, total } = await listRows(
    db,
    ask,
    { from: `"LiteLLM_OrganizationTable"`, where: `WHERE ($1::text IS NULL OR organization_id = $1) AND ($2::text IS NULL OR organization_alias ILIKE $2)`, order: `created_at NULLS LAST, organization_id` },
    [id, alias === null ? null : likeTerm(alias)],
  );
  return pagedAnswer('organizations', ask, await describe(db, rows), total);
}

const OrgMember = z
  .object({ role: z.enum(['org_admin', 'internal_user', 'internal_user_viewer']).default('internal_user'), user_id: opt(text), user_email: opt(text) })
  .refine((m) => !!(m.user_id || m.user_email), { message: 'a member needs user_id or user_email', path: ['user_id'] });

const MemberAdd = z.object({
  organization_id: text,
  member: z.union([OrgMember, z.array(OrgMember).min(1)]),
  max_budget_in_organization: opt(money),
});

export async function orgMemberAdd(call: Call): Promise<unknown> {
  const b = parseBody(MemberAdd, call.req.body);
  return mutate(call, async (op) => {
    await orgRow(op.db, b.organization_id, true);
    const members = Array.isArray(b.member) ? b.member : [b.member];
    const users: Row[] = [];
    const memberships: Row[] = [];
    for (const m of members) {
      const user = await ensureUser(op, { user_id: m.user_id ?? null, user_email: m.user_email ?? null, user_role: m.role });
      const budgetId = b.max_budget_in_organization != null ? ((await createBudget(op, { max_budget: b.max_budget_in_organization })).budget_id as string) : null;
      const ms = await addOrgMembership(op, b.organization_id, user.user_id as string, m.role, budgetId);
      users.push(user);
      memberships.push({ ...ms, litellm_budget_table: await budgetById(op.db, ms.budget_id as string | null) });
    }
    return { organization_id: b.organization_id, updated_users: users, updated_organization_memberships: memberships };
  });
}
