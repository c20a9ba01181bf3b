// A key's per-model limits: where they are read from (model-limits.ts), the (key, model) records
// the control thread gives them and their budget windows (governance-store.ts), and how a request
// is charged to them (policy.ts chargedEntities / Charge).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyModelLimits } from '../../src/control/model-limits';
import { GovernanceStore } from '../../src/control/governance-store';
import { toKey, toTeam, type KeyRow, type TeamRow } from '../../src/db/rows';
import { Charge, chargedEntities } from '../../src/gateway/policy';
import { GatewayError } from '../../src/gateway/errors';

const TOKEN = 'cd'.repeat(32);
const key = (r: Record<string, unknown> = {}): KeyRow => toKey({ token: TOKEN, key_alias: 'k1', spend: 0, ...r }, null);
const team = (metadata: Record<string, unknown>): TeamRow => toTeam({ team_id: 't1', metadata }, new Map());

test('model_max_budget: {max_budget, budget_duration} and the older {budget_limit, time_period}', () => {
  const specs = keyModelLimits(key({ model_max_budget: { gpt: { max_budget: 2, budget_duration: '1d' }, claude: { budget_limit: '0.5', time_period: '1h' } } }), null);
  assert.deepEqual(specs, [
    { model: 'gpt', maxBudgetUsd: 2, periodMs: 86_400_000, rpm: null, tpm: null },
    { model: 'claude', maxBudgetUsd: 0.5, periodMs: 3_600_000, rpm: null, tpm: null },
  ]);
});

test('model_max_budget entries without a usable period or with a negative budget limit nothing', () => {
  const specs = keyModelLimits(key({ model_max_budget: { a: { max_budget: 1 }, b: { max_budget: 1, budget_duration: 'soon' }, c: { max_budget: -1, budget_duration: '1d' }, d: 'x', e: { budget_duration: '1d' } } }), null);
  assert.deepEqual(specs, []);
});

test('model rpm / tpm: key metadata first, then rpm_limit / tpm_limit of model_max_budget, then the team metadata', () => {
  const budget = { model_max_budget: { gpt: { rpm_limit: 7, tpm_limit: 700 } } };
  const teamRow = team({ model_rpm_limit: { gpt: 9, other: 3 }, model_tpm_limit: { gpt: 900 } });
  // Key metadata wins, each map on its own.
  let specs = keyModelLimits(key({ ...budget, metadata: { model_rpm_limit: { gpt: 5 } } }), teamRow);
  assert.deepEqual(specs, [{ model: 'gpt', maxBudgetUsd: null, periodMs: null, rpm: 5, tpm: 700 }]);
  // Then the entries of model_max_budget.
  specs = keyModelLimits(key(budget), teamRow);
  assert.deepEqual(specs, [{ model: 'gpt', maxBudgetUsd: null, periodMs: null, rpm: 7, tpm: 700 }]);
  // Then the team's metadata (the limit is still per key: one record per key).
  specs = keyModelLimits(key(), teamRow);
  assert.deepEqual(specs, [
    { model: 'gpt', maxBudgetUsd: null, periodMs: null, rpm: 9, tpm: 900 },
    { model: 'other', maxBudgetUsd: null, periodMs: null, rpm: 3, tpm: null },
  ]);
  // An empty map is no map; values that are not counts are left out.
  specs = keyModelLimits(key({ metadata: { model_rpm_limit: {}, model_tpm_limit: { gpt: 'lots', x: -1, y: '12' } } }), null);
  assert.deepEqual(specs, [{ model: 'y', maxBudgetUsd: null, periodMs: null, rpm: null, tpm: 12 }]);
});

/** A store holding the key, and the profile workers would get for it. */
function storeWith(k: KeyRow) {
  const store = new GovernanceStore(null);
  const delta = store.applyBundle({ key: k, team: null, teamMember: null, user: null, organization: null });
  return { store, profile: delta.keys[0]! };
}

test('each limited model gets a record of its own, with its budget and rate limits', () => {
  const { store, profile } = storeWith(key({ model_max_budget: { gpt: { max_budget: 0.01, budget_duration: '1d' } }, metadata: { model_rpm_limit: { gpt: 4, claude: 2 } } }));
  const gpt = profile.modelLimits!.gpt!;
  const claude = profile.modelLimits!.claude!;
  assert.deepEqual({ budget: gpt.budget, rate: gpt.rate, claudeBudget: claude.budget, claudeRate: claude.rate }, { budget: true, rate: true, claudeBudget: false, claudeRate: true });
  assert.notEqual(gpt.rec, profile.record);
  assert.notEqual(gpt.rec, claude.rec);
  assert.equal(store.entities.maxBudgetNanos(gpt.rec), 10_000_000n);
  assert.equal(store.entities.limit(gpt.rec, 'requests'), 4);
  assert.equal(store.entities.maxBudgetNanos(claude.rec), -1n);
  assert.equal(storeWith(key()).profile.modelLimits, null, 'a key without per-model limits has none');
});

function refusal(fn: () => void): GatewayError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatewayError);
    return e;
  }
  assert.fail('expected a refusal');
}

test('charging: the model record after the key; budget refused with LiteLLM message; other models untouched', () => {
  const { store, profile } = storeWith(key({ model_max_budget: { gpt: { max_budget: 0.000002, budget_duration: '1d' } } }));
  const table = store.entities;
  const now = Date.now();
  const charged = chargedEntities(profile, null, -1, 'gpt');
  assert.deepEqual(charged.map((c) => c.rec), [profile.record, profile.modelLimits!.gpt!.rec]);
  const c1 = new Charge(table);
  c1.acquire(charged, 1_000n, now);
  c1.settle(2_000n, 10, now);
  const e = refusal(() => new Charge(table).acquire(chargedEntities(profile, null, -1, 'gpt'), 1_000n, now));
  assert.equal(e.status, 429);
  assert.equal(e.type, 'budget_exceeded');
  assert.equal(e.message, `LiteLLM Virtual Key: ${TOKEN}, key_alias: k1, exceeded budget for model=gpt`);
  // The provider-prefixed name is governed by the same budget; another model is not.
  refusal(() => new Charge(table).acquire(chargedEntities(profile, null, -1, 'openai/gpt'), 1_000n, now));
  assert.deepEqual(chargedEntities(profile, null, -1, 'claude').map((c) => c.rec), [profile.record]);
  new Charge(table).acquire(chargedEntities(profile, null, -1, 'claude'), 1_000n, now);
});

test('model rpm: model_per_key on the exact name, in LiteLLM rate-limit message', () => {
  const { store, profile } = storeWith(key({ metadata: { model_rpm_limit: { gpt: 1 } } }));
  const now = Date.now();
  new Charge(store.entities).acquire(chargedEntities(profile, null, -1, 'gpt'), 0n, now);
  const e = refusal(() => new Charge(store.entities).acquire(chargedEntities(profile, null, -1, 'gpt'), 0n, now));
  assert.equal(e.status, 429);
  assert.equal(e.type, 'rate_limit_error');
  assert.match(e.message, new RegExp(`^Rate limit exceeded for model_per_key: ${TOKEN}:gpt\\. Limit type: requests\\. Current limit: 1, Remaining: 0\\.`));
  // rpm limits match the name exactly: `openai/gpt` is another name.
  new Charge(store.entities).acquire(chargedEntities(profile, null, -1, 'openai/gpt'), 0n, now);
});

test('a model budget window opens at the first spend, and the next starts from zero once its period is over', () => {
  const { store, profile } = storeWith(key({ model_max_budget: { gpt: { max_budget: 0.000001, budget_duration: '1h' } } }));
  const rec = profile.modelLimits!.gpt!.rec;
  const t0 = 1_000_000_000_000;
  store.rollModelWindows(t0);
  const c = new Charge(store.entities);
  c.acquire(chargedEntities(profile, null, -1, 'gpt'), 1_000n, t0);
  c.settle(1_000n, 1, t0);
  store.rollModelWindows(t0 + 1_000); // opens the window
  refusal(() => new Charge(store.entities).acquire(chargedEntities(profile, null, -1, 'gpt'), 1n, t0 + 2_000));
  store.rollModelWindows(t0 + 1_000 + 3_599_999);
  assert.equal(store.entities.spendNanos(rec), 1_000n, 'still in the window');
  store.rollModelWindows(t0 + 1_000 + 3_600_000);
  assert.equal(store.entities.spendNanos(rec), 0n, 'a new window');
  new Charge(store.entities).acquire(chargedEntities(profile, null, -1, 'gpt'), 1n, t0 + 3_700_000);
});

test('a model removed from the key, or the key removed, retires its record', () => {
  const { store, profile } = storeWith(key({ metadata: { model_rpm_limit: { gpt: 1, claude: 1 } } }));
  const claude = profile.modelLimits!.claude!.rec;
  const gpt = profile.modelLimits!.gpt!.rec;
  const d = store.applyBundle({ key: key({ metadata: { model_rpm_limit: { gpt: 1 } } }), team: null, teamMember: null, user: null, organization: null });
  assert.equal(d.keys[0]!.modelLimits!.gpt!.rec, gpt, 'the same model keeps its record (and its counters)');
  assert.equal(store.entities.flags(claude), 0);
  assert.notEqual(store.entities.flags(gpt), 0);
  store.applyAll({ keys: [], teams: [], teamMembers: [], users: [], endUsers: [], organizations: [], budgets: [], loadedAt: new Date() });
  assert.equal(store.entities.flags(gpt), 0);
});
