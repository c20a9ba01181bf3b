// The control thread's side of governance, fed table reads directly: every row is applied on its
// own (one that fails is logged once and skipped), keys are applied before end users, the work per
// sync is linear in the rows, and records are reused so capacity is about what is live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { GovernanceStore } from '../../src/control/governance-store';
import { GovernanceView } from '../../src/gateway/governance';
import type { GovernanceState as DbState } from '../../src/db/queries';
import type { BudgetRow, EndUserRow, KeyRow, TeamRow } from '../../src/db/rows';
import { FLAG_BLOCKED, FLAG_LIVE } from '../../src/state/entity-table';

const token = (n: number | string): string => createHash('sha256').update(`sk-${n}`).digest('hex');

function keyRow(n: number | string, over: Partial<KeyRow> = {}): KeyRow {
  return {
    token: token(n), key_name: null, key_alias: null, spend: 0, max_budget: null, soft_budget: null, tpm_limit: null, rpm_limit: null,
    max_parallel_requests: null, budget_duration: null, budget_reset_at: null, expires: null, blocked: false, models: [], aliases: {},
    config: {}, metadata: {}, permissions: {}, allowed_routes: [], allowed_cache_controls: [], model_max_budget: {}, model_spend: {},
    soft_budget_cooldown: false, user_id: null, team_id: null, organization_id: null, project_id: null, agent_id: null, budget_id: null,
    created_at: null, updated_at: null, key_type: null, ...over,
  };
}

function budgetRow(id: string, over: Partial<BudgetRow> = {}): BudgetRow {
  return { budget_id: id, max_budget: null, soft_budget: null, max_parallel_requests: null, tpm_limit: null, rpm_limit: null, model_max_budget: null, budget_duration: null, budget_reset_at: null, allowed_models: [], ...over };
}

function endUserRow(id: string, budget: BudgetRow | null = null, spend = 0): EndUserRow {
  return { user_id: id, alias: null, spend, blocked: false, allowed_model_region: null, default_model: null, budget_id: budget?.budget_id ?? null, budget };
}

function state(over: Partial<DbState> = {}): DbState {
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

const committed = (endUsers: string[]) => {
  const m = () => new Map<string, number>();
  const totals = { keys: m(), users: m(), teams: m(), teamMembers: m(), orgs: m(), endUsers: new Map(endUsers.map((id) => [id, 0])), keyModels: m(), records: 0 };
  return { ...totals, recovered: { keys: m(), users: m(), teams: m(), teamMembers: m(), orgs: m(), endUsers: m(), keyModels: m(), records: 0 } };
};

test('records of deleted keys are reused once every worker applied the removal and no request holds them: capacity is about live keys', () => {
  const lines: string[] = [];
  const store = new GovernanceStore(null, { capacity: 32, onProblem: (l) => lines.push(l) });
  const keys = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => keyRow(from + i));
  store.applyAll(state({ keys: keys(0, 20) }));
  assert.equal(store.usage.records, 20);
  const held = recordOf(store, 19);
  // A request is in flight on key 19 (a rate-limit slot counts every admitted request).
  assert.equal(store.entities.admit(held, Date.now()), null);

  // Keys 10..19 deleted: their records wait until the workers have applied that delta.
  const removal = store.applyAll(state({ keys: keys(0, 10) }))!;
  assert.equal(removal.removedKeys.length, 10);
  const removalSeq = store.seq;
  store.reclaim(removalSeq - 1);
  assert.equal(store.usage.quarantined, 10);
  // 13 new keys do not fit beside 20 live-or-waiting records in 32: the last one is refused (logged), the others are applied.
  store.applyAll(state({ keys: [...keys(0, 10), ...keys(100, 113)] }));
  assert.equal(store.workerState().keys.length, 22);
  assert.deepEqual(lines, [`governance: key ${token(112).slice(0, 12)}… was not applied: no free entity record (all 32 are live or wait to be reused)`]);

  // Every worker applied the removal: the 9 unheld records are reused, the held one is not.
  store.reclaim(removalSeq);
  assert.equal(store.usage.quarantined, 1);
  store.applyAll(state({ keys: [...keys(0, 10), ...keys(100, 120)] }));
  const live = store.workerState().keys;
  assert.equal(live.length, 30);
  assert.ok(!live.some((p) => p.record === held), 'a record a request still holds is not handed out');
  assert.equal(new Set(live.map((p) => p.record)).size, 30);
  // The request ends; the record is reused at the next sync.
  store.entities.release(held, 0, Date.now());
  store.reclaim(store.seq);
  assert.equal(store.usage.quarantined, 0);
  // A reused record starts clean: no spend, no count of another key's requests.
  const reused = recordOf(store, 100);
  assert.equal(store.entities.spendNanos(reused), 0n);
  assert.equal(store.entities.used(reused, 'max_parallel_requests', Date.now()), 0);
});

test('end users take a record only when there is something to enforce: a budget or limits on their row, or the default end-user budget', () => {
  const capped = budgetRow('b-cap', { max_budget: 2 });
  const rpm = budgetRow('b-rpm', { rpm_limit: 5 });
  const empty = budgetRow('b-empty', { budget_duration: '30d' });
  const rows = [endUserRow('no-budget'), endUserRow('capped', capped), endUserRow('rpm', rpm), endUserRow('empty-budget', empty)];
  const plain = new GovernanceStore(null);
  plain.applyAll(state({ endUsers: rows, budgets: [capped, rpm, empty] }));
  assert.deepEqual(plain.workerState().endUsers.map(([id]) => id).sort(), ['capped', 'rpm']);
  assert.deepEqual(plain.endUserScope(), { ids: [], defaultBudgetId: null });

  // max_end_user_budget: every end user without a budget of its own has it.
  const withDefault = new GovernanceStore(null, { endUserDefault: { budgetId: null, maxBudget: 0.5 } });
  withDefault.applyAll(state({ endUsers: rows, budgets: [capped, rpm, empty] }));
  const held = new Map(withDefault.workerState().endUsers);
  assert.deepEqual([...held.keys()].sort(), ['capped', 'no-budget', 'rpm']);
  assert.equal(withDefault.entities.maxBudgetNanos(held.get('no-budget')!), 500_000_000n);
  assert.equal(withDefault.entities.maxBudgetNanos(held.get('capped')!), 2_000_000_000n);

  // max_end_user_budget_id: the budget row it names (wins over max_end_user_budget).
  const tier = budgetRow('tier', { max_budget: 10, tpm_limit: 1000 });
  const byId = new GovernanceStore(null, { endUserDefault: { budgetId: 'tier', maxBudget: 0.5 } });
  byId.applyAll(state({ endUsers: [endUserRow('no-budget')], budgets: [tier] }));
  const rec = new Map(byId.workerState().endUsers).get('no-budget')!;
  assert.equal(byId.entities.maxBudgetNanos(rec), 10_000_000_000n);
  assert.equal(byId.entities.limit(rec, 'tokens'), 1000);
  assert.deepEqual(byId.endUserScope(), { ids: ['no-budget'], defaultBudgetId: 'tier' });

  // A budget taken off the row: the end user leaves the shared state (workers learn it).
  const d = plain.applyAll(state({ endUsers: [endUserRow('capped'), endUserRow('rpm', rpm)], budgets: [rpm] }))!;
  assert.deepEqual(d.removedEndUsers, ['capped']);
  assert.deepEqual(plain.workerState().endUsers.map(([id]) => id), ['rpm']);
});

test('past the bound, an end user active since the last sync takes the place of the least recently used quiet one', () => {
  const b = budgetRow('b', { max_budget: 1 });
  const rows = ['a', 'b', 'c', 'd', 'e'].map((id) => endUserRow(id, b));
  const store = new GovernanceStore(null, { endUserRecords: 3 });
  store.applyAll(state({ endUsers: rows, budgets: [b] }));
  assert.deepEqual(store.workerState().endUsers.map(([id]) => id), ['a', 'b', 'c']);
  // Nothing active: the bound holds, nobody moves.
  assert.equal(store.applyAll(state({ endUsers: rows, budgets: [b] })), null);

  // `a` spent something (most recently used now), `e` too (not resident: wanted).
  store.committed(committed(['a', 'e']));
  // `b` is the least recently used, but a request holds it: `c` goes instead.
  const recB = new Map(store.workerState().endUsers).get('b')!;
  assert.equal(store.entities.admit(recB, Date.now()), null);
  const d = store.applyAll(state({ endUsers: rows, budgets: [b] }))!;
  assert.deepEqual(d.removedEndUsers, ['c']);
  assert.deepEqual(d.endUsers.map(([id]) => id), ['e']);
  assert.deepEqual(store.workerState().endUsers.map(([id]) => id).sort(), ['a', 'b', 'e']);
  assert.equal(store.usage.endUsers, 3);
  // Spend settled but not yet committed keeps an end user too (its spend would be lost from the shared state).
  store.entities.release(recB, 0, Date.now());
  store.entities.settle(recB, 0n, 5n);
  store.committed(committed(['d']));
  assert.deepEqual(store.applyAll(state({ endUsers: rows, budgets: [b] }))!.removedEndUsers, ['a']);
});

test('150,000 end users with budgets: the sync is linear, holds at most the bound, and still applies key changes', () => {
  const budget = budgetRow('b', { max_budget: 5 });
  const endUsers = Array.from({ length: 150_000 }, (_, i) => endUserRow(`eu-${i}`, budget, 0.01));
  const store = new GovernanceStore(null, { endUserRecords: 4_096 });
  const keys = (blocked: boolean) => Array.from({ length: 100 }, (_, i) => keyRow(i, { blocked: blocked && i === 7 }));
  store.applyAll(state({ keys: keys(false), endUsers, budgets: [budget] }));
  assert.equal(store.usage.endUsers, 4_096);
  assert.equal(store.usage.records, 100 + 4_096);
  // Every end user active at once: still the bound.
  store.committed(committed(endUsers.map((e) => e.user_id)));
  store.applyAll(state({ keys: keys(true), endUsers, budgets: [budget] }));
  assert.equal(store.entities.flags(recordOf(store, 7)), FLAG_LIVE | FLAG_BLOCKED);
  assert.equal(store.usage.endUsers, 4_096);
  assert.ok(store.usage.records <= 100 + 2 * 4_096, `${store.usage.records}`);
  assert.ok(store.workerState().endUsers.length <= 4_096);
});

test('end users never take the records keys need: with the table full of end users, a new key still gets one', () => {
  const budget = budgetRow('b', { max_budget: 5 });
  const endUsers = Array.from({ length: 1_000 }, (_, i) => endUserRow(`eu-${i}`, budget));
  const store = new GovernanceStore(null, { capacity: 64, endUserRecords: 32 });
  store.applyAll(state({ endUsers, budgets: [budget] }));
  store.applyAll(state({ keys: [keyRow(1), keyRow(2)], endUsers, budgets: [budget] }));
  assert.equal(store.workerState().keys.length, 2);
  assert.equal(store.usage.endUsers, 32);
});

test('a worker view that applies each delta holds exactly the end users the store holds, also when more are active than the bound', () => {
  const b = budgetRow('b', { max_budget: 1 });
  const rows = Array.from({ length: 12 }, (_, i) => endUserRow(`u${i}`, b));
  const store = new GovernanceStore(null, { endUserRecords: 2 });
  const view = new GovernanceView(store.workerState());
  const check = () => assert.deepEqual([...view.endUsers.entries()].sort(), store.workerState().endUsers.sort());
  const sync = () => {
    const d = store.applyAll(state({ endUsers: rows, budgets: [b] }));
    if (d) view.apply(d);
    store.reclaim(store.seq);
    check();
  };
  sync();
  for (let round = 0; round < 6; round++) {
    // Many more active than the bound: each sync, the wanted ones compete for two records.
    store.committed(committed(rows.map((r) => r.user_id)));
    sync();
    assert.equal(store.usage.endUsers, 2);
  }
  // A row whose budget goes away and one that is deleted leave the view too.
  const [first] = store.workerState().endUsers.map(([id]) => id);
  const d = store.applyAll(state({ endUsers: rows.filter((r) => r.user_id !== first), budgets: [b] }));
  if (d) view.apply(d);
  check();
});

function teamRow(id: string, spend: number): TeamRow {
  return {
    team_id: id, team_alias: null, organization_id: null, spend, max_budget: 100, soft_budget: null, tpm_limit: null, rpm_limit: null,
    max_parallel_requests: null, budget_duration: null, budget_reset_at: null, blocked: false, models: [], metadata: {}, members_with_roles: [],
    model_max_budget: {}, router_settings: null, model_aliases: null, updated_at: null,
  };
}

const teamRecord = (store: GovernanceStore, n: number | string): number => store.workerState().keys.find((p) => p.tokenHash === token(n))!.teamRecord;

test("agent runs' keys read back outside the serial work: a held team's spend base is left alone, a new team is applied, and a full read that began before them does not remove them", () => {
  const store = new GovernanceStore(null);
  store.applyAll(state({ keys: [keyRow(1, { team_id: 't1' })], teams: [teamRow('t1', 5)] }));
  const t1 = teamRecord(store, 1);
  assert.equal(store.entities.spendNanos(t1), 5_000_000_000n);

  // Read while a spend commit was under way: the team row says 3, the record holds 5. The key is
  // applied (pointing at the team), the team's base is not touched.
  const d = store.applyMinted([
    { key: keyRow('run-1', { team_id: 't1' }), team: teamRow('t1', 3), teamMember: null, user: null, organization: null },
    { key: keyRow('run-2', { team_id: 't2' }), team: teamRow('t2', 7), teamMember: null, user: null, organization: null },
  ]);
  assert.deepEqual(d.keys.map((k) => k.tokenHash).sort(), [token('run-1'), token('run-2')].sort());
  assert.equal(store.entities.spendNanos(t1), 5_000_000_000n, 'the held team keeps its base');
  assert.equal(teamRecord(store, 'run-1'), t1);
  const t2 = teamRecord(store, 'run-2');
  assert.equal(store.entities.spendNanos(t2), 7_000_000_000n, 'a team nobody held is applied as read');

  // A full read whose snapshot predates the run keys: with them kept, they stay; without, they go.
  const before = state({ keys: [keyRow(1, { team_id: 't1' })], teams: [teamRow('t1', 5)] });
  const kept = store.applyAll(before, new Set([token('run-1'), token('run-2')]));
  assert.equal(kept, null, 'nothing removed');
  assert.equal(store.workerState().keys.length, 3);
  const removed = store.applyAll(before)!;
  assert.equal(removed.removedKeys.length, 2);
  assert.deepEqual(store.workerState().keys.map((p) => p.tokenHash), [token(1)]);
});
