// The control thread's side of governance, fed table reads directly: every row is applied on its
// own (one that fails is logged once and skipped), keys are applied before end users, the work per
// sync is linear in the rows, and records are reused so capacity is about what is live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GovernanceStore } from '../../src/control/governance-store';
import type { GovernanceState as DbState } from '../../src/db/queries';
import type { BudgetRow, EndUserRow, KeyRow } from '../../src/db/rows';
import { FLAG_BLOCKED, FLAG_LIVE } from '../../src/state/entity-table';

export const token = (n: number | string): string => createHash('sha256').update(`sk-${n}`).digest('hex');

export function keyRow(n: number | string, over: Partial<KeyRow> = {}): KeyRow {
  return {
    token: token(n), key_name: null, key_alias: null, spend: 0, max_budget: null, soft_budget: null, tpm_limit: null, rpm_limit: null,
    max_parallel_requests: null, budget_duration: null, budget_reset_at: null, expires: null, blocked: false, models: [], aliases: {},
    config: {}, metadata: {}, permissions: {}, allowed_routes: [], allowed_cache_controls: [], model_max_budget: {}, model_spend: {},
    soft_budget_cooldown: false, user_id: null, team_id: null, organization_id: null, project_id: null, agent_id: null, budget_id: null,
    created_at: null, updated_at: null, ...over,
  };
}

export function budgetRow(id: string, over: Partial<BudgetRow> = {}): BudgetRow {
  return { budget_id: id, max_budget: null, soft_budget: null, max_parallel_requests: null, tpm_limit: null, rpm_limit: null, model_max_budget: null, budget_duration: null, budget_reset_at: null, allowed_models: [], ...over };
}

export function endUserRow(id: string, budget: BudgetRow | null = null, spend = 0): EndUserRow {
  return { user_id: id, alias: null, spend, blocked: false, allowed_model_region: null, default_model: null, budget_id: budget?.budget_id ?? null, budget };
}

export function state(over: Partial<DbState> = {}): DbState {
  return { keys: [], teams: [], teamMembers: [], users: [], endUsers: [], organizations: [], budgets: [], loadedAt: new Date(), ...over };
}

function recordOf(store: GovernanceStore, n: number): number {
  return store.workerState().keys.find((p) => p.tokenHash === token(n))!.record;
}

test('a row that cannot be applied is skipped and logged once; the rows after it are applied, on every pass', () => {
  const lines: string[] = [];
  const store = new GovernanceStore(null, { onProblem: (l) => lines.push(l) });
  // metadata null is what no reader produces: key() fails on it.
  const broken = keyRow(1, { metadata: null as unknown as Record<string, unknown> });
  for (const blocked of [false, true, true]) {
    store.applyAll(state({ keys: [broken, keyRow(2, { blocked })] }));
    assert.equal(store.entities.flags(recordOf(store, 2)), FLAG_LIVE | (blocked ? FLAG_BLOCKED : 0));
  }
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, new RegExp(`^governance: key ${token(1).slice(0, 12)}… was not applied: `));
  // Fixed in the table: the problem is forgotten, and logged again only if it comes back.
  store.applyAll(state({ keys: [keyRow(1), keyRow(2)] }));
  store.applyAll(state({ keys: [broken, keyRow(2)] }));
  assert.equal(lines.length, 2);
});
