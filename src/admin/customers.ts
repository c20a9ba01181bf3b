// /customer/new|update|delete|info|block|unblock (also served as /end_user/*). Budget fields on a
// customer live in a LiteLLM_BudgetTable row linked by budget_id.
import { z } from 'zod';
import { type Call, mutate } from './common';
import { type Row, findRow, insertRow, q, readDb, updateRow } from './db';
import { badRequest, notFound } from './errors';
import { likeTerm, listRows, pageAsked, pagedAnswer } from './paging';
import { budgetById, budgetPart, budgetsById, createBudget, hasBudgetPart, updateBudget } from './budgets';
import { budgetFields, opt, parseBody, qStr, text } from './validation';

export const END_USERS = 'LiteLLM_EndUserTable';

const customerFields = {
  alias: opt(text),
  blocked: opt(z.boolean()),
  budget_id: opt(text),
  allowed_model_region: opt(z.enum(['eu', 'us'])),
  default_model: opt(text),
  ...budgetFields,
};

const NewCustomer = z.object({ user_id: text, ...customerFields });
const UpdateCustomer = z.object({ user_id: text, ...customerFields });

export async function customerNew(call: Call): Promise<unknown> {
  const b = parseBody(NewCustomer, call.req.body);
  return mutate(call, async (op) => {
    if (await findRow(op.db, END_USERS, { user_id: b.user_id })) throw badRequest(`Customer id = ${b.user_id} already exists. Please use a different user_id.`, 'user_id');
    const budget = budgetPart(b);
    let budgetId: string | null = null;
    if (b.budget_id) {
      if (hasBudgetPart(budget)) throw badRequest('Pass budget_id or budget fields (max_budget, tpm_limit, …), not both', 'budget_id');
      if (!(await budgetById(op.db, b.budget_id))) throw badRequest(`Budget id = ${b.budget_id} does not exist. Create the budget first.`, 'budget_id');
      budgetId = b.budget_id;
    } else if (hasBudgetPart(budget)) budgetId = (await createBudget(op, budget)).budget_id as string;
    const row = await insertRow(op.db, END_USERS, {
      user_id: b.user_id,
      alias: b.alias ?? null,
      spend: 0,
      allowed_model_region: b.allowed_model_region ?? null,
      default_model: b.default_model ?? null,
      budget_id: budgetId,
      blocked: b.blocked ?? false,
    });
    op.notify('end_user', [b.user_id]);
    return { ...row, litellm_budget_table: await budgetById(op.db, budgetId) };
  });
}

export async function customerUpdate(call: Call): Promise<unknown> {
  const b = parseBody(UpdateCustomer, call.req.body);
  return mutate(call, async (op) => {
    const row = await findRow(op.db, END_USERS, { user_id: b.user_id }, true);
    if (!row) throw notFound(`End User Id=${b.user_id} does not exist in db`, 'user_id');
    const set: Row = {};
    for (const k of ['alias', 'allowed_model_region', 'default_model'] as const) if (b[k] !== undefined) set[k] = b[k];
    if (b.blocked !== undefined) set.blocked = b.blocked ?? false;
    if (b.budget_id !== undefined) {
      if (b.budget_id && !(await budgetById(op.db, b.budget_id))) throw badRequest(`Budget id = ${b.budget_id} does not exist. Create the budget first.`, 'budget_id');
      set.budget_id = b.budget_id;
    }
    const budget = budgetPart(b);
    if (hasBudgetPart(budget)) {
      const target = (set.budget_id ?? row.budget_id) as string | null;
      if (target) await updateBudget(op, target, budget);
      else set.budget_id = (await createBudget(op, budget)).budget_id;
    }
    const updated = (await updateRow(op.db, END_USERS, { user_id: b.user_id }, set))!;
    op.notify('end_user', [b.user_id]);
    return { ...updated, litellm_budget_table: await budgetById(op.db, updated.budget_id as string | null) };
  });
}

const Ids = z.object({ user_ids: z.array(text).min(1, { message: 'pass at least one user id' }) });

export async function customerDelete(call: Call): Promise<unknown> {
  const b = parseBody(Ids, call.req.body);
  return mutate(call, async (op) => {
    const rows = await q(op.db, `SELECT user_id FROM "LiteLLM_EndUserTable" WHERE user_id = ANY($1::text[]) FOR UPDATE`, [b.user_ids]);
    const found = new Set(rows.map((r) => r.user_id));
    const missing = b.user_ids.filter((u) => !found.has(u));
    if (missing.length) throw notFound(`End User Id=${missing.join(', ')} does not exist in db. Nothing was deleted.`, 'user_ids');
    await q(op.db, `DELETE FROM "LiteLLM_EndUserTable" WHERE user_id = ANY($1::text[])`, [b.user_ids]);
    op.notify('end_user', b.user_ids);
    return { deleted_customers: b.user_ids };
  });
}

/** Block creates customers it does not know yet (LiteLLM upserts), so a caller can be refused up front. */
export async function customerBlock(call: Call): Promise<unknown> {
  const b = parseBody(Ids, call.req.body);
  return mutate(call, async (op) => {
    const out: Row[] = [];
    for (const id of b.user_ids) {
      const row = await updateRow(op.db, END_USERS, { user_id: id }, { blocked: true });
      out.push(row ?? (await insertRow(op.db, END_USERS, { user_id: id, spend: 0, blocked: true })));
    }
    op.notify('end_user', b.user_ids);
    return { blocked_users: out };
  });
}

export async function customerUnblock(call: Call): Promise<unknown> {
  const b = parseBody(Ids, call.req.body);
  return mutate(call, async (op) => {
    const rows = await q(op.db, `UPDATE "LiteLLM_EndUserTable" SET blocked = false WHERE user_id = ANY($1::text[]) RETURNING *`, [b.user_ids]);
    if (rows.length === 0) throw notFound(`End User Id=${b.user_ids.join(', ')} does not exist in db`, 'user_ids');
    op.notify('end_user', rows.map((r) => r.user_id as string));
    return { blocked_users: rows };
  });
}

export async function customerInfo(call: Call): Promise<unknown> {
  const id = qStr(call.req.query, 'end_user_id') ?? qStr(call.req.query, 'user_id');
  if (!id) throw badRequest('Pass end_user_id', 'end_user_id');
  const db = readDb(call.ctx.db);
  const row = await findRow(db, END_USERS, { user_id: id });
  if (!row) throw notFound(`End User Id=${id} does not exist in db`, 'end_user_id');
  return { ...row, litellm_budget_table: (await budgetsById(db, [row.budget_id as string])).get(row.budget_id as string) ?? null };
}

export async function customerList(call: Call): Promise<unknown> {
  const db = readDb(call.ctx.db);
  // `search`: part of the end user's id or alias, any case (for the admin page; LiteLLM has none).
  const search = qStr(call.req.query, 'search');
  const ask = pageAsked(call.req.query);
  const { rows, total } = await listRows(
    db,
    ask,
    { from: `"LiteLLM_EndUserTable"`, where: `WHERE ($1::text IS NULL OR user_id ILIKE $1 OR alias ILIKE $1)`, order: `user_id` },
    [search === null ? null : likeTerm(search)],
  );
  const budgets = await budgetsById(db, rows.map((r) => r.budget_id as string));
  return pagedAnswer('customers', ask, rows.map((r) => ({ ...r, litellm_budget_table: budgets.get(r.budget_id as string) ?? null })), total);
}
