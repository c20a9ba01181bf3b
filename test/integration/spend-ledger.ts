// The ledger check run after every governance test file, once the gateway has stopped (a stop
// writes all pending spend): every entity's `spend` column equals the sum of its
// LiteLLM_SpendLogs rows, so no call's row was lost while its spend moved (or the reverse).
// Entities whose spend is reset by design (a budget_duration) or that the test set by hand are
// left out.
import assert from 'node:assert/strict';
import { Pool } from 'pg';

/** Entities whose spend never resets: no budget_duration of their own or through their budget row. */
const OWN_DURATION = `t."budget_duration" IS NULL`;
const BUDGET_DURATION = `NOT EXISTS (SELECT 1 FROM "LiteLLM_BudgetTable" b WHERE b."budget_id" = t."budget_id" AND b."budget_duration" IS NOT NULL)`;

const ENTITIES = [
  { table: 'LiteLLM_VerificationToken', id: 'token', logColumn: 'api_key', steady: `${OWN_DURATION} AND ${BUDGET_DURATION}` },
  { table: 'LiteLLM_TeamTable', id: 'team_id', logColumn: 'team_id', steady: OWN_DURATION },
  { table: 'LiteLLM_UserTable', id: 'user_id', logColumn: 'user', steady: OWN_DURATION },
  { table: 'LiteLLM_OrganizationTable', id: 'organization_id', logColumn: 'organization_id', steady: BUDGET_DURATION },
  { table: 'LiteLLM_EndUserTable', id: 'user_id', logColumn: 'end_user', steady: BUDGET_DURATION },
] as const;

/** Rows that LiteLLM keeps for the global proxy budget: its spend is every call's. */
const GLOBAL_BUDGET_USER = 'litellm-proxy-budget';

export async function assertSpendLedger(dbUrl: string, opts: { except?: string[] } = {}): Promise<void> {
  const pool = new Pool({ connectionString: dbUrl, max: 1 });
  pool.on('error', () => {});
  try {
    const except = [GLOBAL_BUDGET_USER, ...(opts.except ?? [])];
    for (const e of ENTITIES) {
      const { rows } = await pool.query<{ id: string; spend: number; logged: number; n: number }>(
        `SELECT t."${e.id}" AS id, COALESCE(t."spend", 0) AS spend, COALESCE(SUM(l."spend"), 0) AS logged, COUNT(l."request_id")::int AS n
           FROM "${e.table}" t LEFT JOIN "LiteLLM_SpendLogs" l ON l."${e.logColumn}" = t."${e.id}"
          WHERE NOT (t."${e.id}" = ANY($1::text[])) AND ${e.steady}
          GROUP BY t."${e.id}", t."spend"`,
        [except],
      );
      for (const r of rows) {
        assert.ok(Math.abs(r.spend - r.logged) <= 1e-9 * Math.max(1, r.n), `${e.table} ${r.id}: spend ${r.spend} but its ${r.n} SpendLogs rows sum to ${r.logged}`);
      }
    }
  } finally {
    await pool.end();
  }
}
