// LiteLLM's budget-reset job: every row whose budget_reset_at has passed gets spend = 0 and its
// next reset time, calendar aligned in litellm_settings.timezone (see admin/durations.ts). Keys,
// users and teams carry their own budget_duration; end users, team members and organizations
// take it from their LiteLLM_BudgetTable row.
import type pg from 'pg';
import { budgetResetAt, isValidDuration } from '../admin/durations';

interface Due {
  id: string;
  budget_duration: string | null;
}

/** Tables with their own spend, budget_duration and budget_reset_at columns. */
const OWN: { table: string; id: string }[] = [
  { table: 'LiteLLM_VerificationToken', id: 'token' },
  { table: 'LiteLLM_UserTable', id: 'user_id' },
  { table: 'LiteLLM_TeamTable', id: 'team_id' },
];

/** Tables whose budget lives in LiteLLM_BudgetTable (budget_id). */
const VIA_BUDGET: { table: string }[] = [{ table: 'LiteLLM_EndUserTable' }, { table: 'LiteLLM_TeamMembership' }, { table: 'LiteLLM_OrganizationTable' }];

function next(duration: string | null, now: Date, tz: string): Date | null {
  return duration && isValidDuration(duration) ? budgetResetAt(duration, now, tz) : null;
}

/** Resets what is due; returns the number of rows reset. */
export async function resetBudgets(pool: pg.Pool, now: Date, timezone: string): Promise<number> {
  const client = await pool.connect();
  let reset = 0;
  try {
    await client.query('BEGIN');
    for (const { table, id } of OWN) {
      const due = await client.query<Due>(`SELECT "${id}" AS id, budget_duration FROM "${table}" WHERE budget_reset_at IS NOT NULL AND budget_reset_at <= $1 FOR UPDATE SKIP LOCKED`, [now]);
      for (const row of due.rows) {
        await client.query(`UPDATE "${table}" SET spend = 0, budget_reset_at = $2 WHERE "${id}" = $1`, [row.id, next(row.budget_duration, now, timezone)]);
        reset++;
      }
    }
    const budgets = await client.query<Due>(`SELECT budget_id AS id, budget_duration FROM "LiteLLM_BudgetTable" WHERE budget_reset_at IS NOT NULL AND budget_reset_at <= $1 FOR UPDATE SKIP LOCKED`, [now]);
    for (const b of budgets.rows) {
      for (const { table } of VIA_BUDGET) {
        const r = await client.query(`UPDATE "${table}" SET spend = 0 WHERE budget_id = $1`, [b.id]);
        reset += r.rowCount ?? 0;
      }
      await client.query(`UPDATE "LiteLLM_BudgetTable" SET budget_reset_at = $2, updated_at = $3 WHERE budget_id = $1`, [b.id, next(b.budget_duration, now, timezone), now]);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
  return reset;
}
