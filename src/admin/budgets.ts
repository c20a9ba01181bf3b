// /budget/new|update|delete|info|list, and the LiteLLM_BudgetTable rows other entities create
// (key soft budgets, customers, organizations, team members).
import { z } from 'zod';
import { type Call, type Op, defined, mutate, newId } from './common';
import { type Db, type Row, findByIds, findRow, insertRow, q, readDb, updateRow } from './db';
import { budgetResetAt } from './durations';
import { badRequest, notFound } from './errors';
import { listRows, pageAsked, pagedAnswer } from './paging';
import { budgetFields, opt, parseBody, text } from './validation';

export const BUDGET = 'LiteLLM_BudgetTable';

export interface BudgetValues {
  max_budget?: number | null;
  soft_budget?: number | null;
  max_parallel_requests?: number | null;
  tpm_limit?: number | null;
  rpm_limit?: number | null;
  budget_duration?: string | null;
  model_max_budget?: Record<string, unknown> | null;
  budget_reset_at?: string | null;
  allowed_models?: string[];
}

export const BUDGET_FIELD_NAMES = ['max_budget', 'soft_budget', 'max_parallel_requests', 'tpm_limit', 'rpm_limit', 'budget_duration', 'model_max_budget'] as const;

/** Picks the budget fields out of a request (undefined = not given). */
export function budgetPart(body: Record<string, unknown>): BudgetValues {
  const out: Record<string, unknown> = {};
  for (const k of BUDGET_FIELD_NAMES) if (body[k] !== undefined) out[k] = body[k];
  return out as BudgetValues;
}

export function hasBudgetPart(v: BudgetValues): boolean {
  return Object.values(v).some((x) => x !== undefined);
}

/** `budget_duration` → { budget_duration, budget_reset_at } (calendar aligned); {} when not given. */
export function resetColumns(op: Op, budgetDuration: string | null | undefined): Row {
  if (budgetDuration === undefined) return {};
  if (budgetDuration === null) return { budget_duration: null, budget_reset_at: null };
  return { budget_duration: budgetDuration, budget_reset_at: budgetResetAt(budgetDuration, op.now, op.ctx.settings.timezone).toISOString() };
}

export async function createBudget(op: Op, v: BudgetValues, budgetId: string = newId()): Promise<Row> {
  const row = await insertRow(op.db, BUDGET, {
    budget_id: budgetId,
    ...defined({ ...v, budget_duration: undefined, budget_reset_at: undefined }),
    ...resetColumns(op, v.budget_duration),
    ...(v.budget_reset_at !== undefined ? { budget_reset_at: v.budget_reset_at } : {}),
    created_at: op.nowIso,
    created_by: op.actor,
    updated_at: op.nowIso,
    updated_by: op.actor,
  });
  op.notify('budget', [budgetId]);
  return row;
}

export async function updateBudget(op: Op, budgetId: string, v: BudgetValues): Promise<Row | null> {
  const row = await updateRow(op.db, BUDGET, { budget_id: budgetId }, {
    ...defined({ ...v, budget_duration: undefined, budget_reset_at: undefined }),
    ...resetColumns(op, v.budget_duration),
    ...(v.budget_reset_at !== undefined ? { budget_reset_at: v.budget_reset_at } : {}),
    updated_at: op.nowIso,
    updated_by: op.actor,
  });
  if (row) op.notify('budget', [budgetId]);
  return row;
}

export async function budgetById(db: Db, id: string | null | undefined): Promise<Row | null> {
  if (!id) return null;
  return findRow(db, BUDGET, { budget_id: id });
}

/** Map budget_id → row, for attaching `litellm_budget_table` to many rows at once. */
export async function budgetsById(db: Db, ids: Array<string | null | undefined>): Promise<Map<string, Row>> {
  const wanted = [...new Set(ids.filter((x): x is string => !!x))];
  const rows = await findByIds(db, BUDGET, 'budget_id', wanted);
  return new Map(rows.map((r) => [r.budget_id as string, r]));
}

// ---- endpoints -------------------------------------------------------------------------------------

const isoDate = z.string().refine((s) => !Number.isNaN(new Date(s).getTime()), { message: 'must be an ISO date-time' });

const NewBudget = z.object({ budget_id: opt(text), ...budgetFields, budget_reset_at: opt(isoDate) });
const UpdateBudget = z.object({ budget_id: text, ...budgetFields, budget_reset_at: opt(isoDate) });

function values(b: z.output<typeof NewBudget>): BudgetValues {
  return {
    ...budgetPart(b),
    ...(b.budget_reset_at !== undefined ? { budget_reset_at: b.budget_reset_at === null ? null : new Date(b.budget_reset_at).toISOString() } : {}),
  };
}

export async function budgetNew(call: Call): Promise<unknown> {
  const b = parseBody(NewBudget, call.req.body);
  return mutate(call, async (op) => {
    const id = b.budget_id ?? newId();
    if (await budgetById(op.db, id)) throw badRequest(`Budget id = ${id} already exists. Please use a different budget_id.`, 'budget_id');
    return createBudget(op, values(b), id);
  });
}

export async function budgetUpdate(call: Call): Promise<unknown> {
  const b = parseBody(UpdateBudget, call.req.body);
  return mutate(call, async (op) => {
    const row = await updateBudget(op, b.budget_id, values(b));
    if (!row) throw notFound(`Budget id = ${b.budget_id} not found`, 'budget_id');
    return row;
  });
}

export async function budgetInfo(call: Call): Promise<unknown> {
  const b = parseBody(z.object({ budgets: z.array(text).min(1, { message: 'pass at least one budget id' }) }), call.req.body);
  const rows = await findByIds(readDb(call.ctx.db), BUDGET, 'budget_id', b.budgets);
  if (rows.length === 0) throw notFound(`Budgets not found: ${b.budgets.join(', ')}`, 'budgets');
  return rows;
}

export async function budgetDelete(call: Call): Promise<unknown> {
  const b = parseBody(z.object({ id: text }), call.req.body);
  return mutate(call, async (op) => {
    const rows = await q(op.db, `DELETE FROM "LiteLLM_BudgetTable" WHERE budget_id = $1 RETURNING *`, [b.id]);
    if (rows.length === 0) throw notFound(`Budget id = ${b.id} not found`, 'id');
    op.notify('budget', [b.id]);
    return rows[0];
  });
}

export async function budgetList(call: Call): Promise<unknown> {
  const ask = pageAsked(call.req.query);
  const { rows, total } = await listRows(readDb(call.ctx.db), ask, { from: `"LiteLLM_BudgetTable"`, where: '', order: `created_at DESC NULLS LAST, budget_id` }, []);
  return pagedAnswer('budgets', ask, rows, total);
}
