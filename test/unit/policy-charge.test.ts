// Charge: what a call holds on the shared counters, given back exactly once; the worker's last
// resort, releaseLiveCharges, which a retiring worker runs once it serves no request; and the
// entities a key's requests are charged to, built once per key profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntityTable } from '../../src/state/entity-table';
import { Charge, chargedEntities, releaseLiveCharges } from '../../src/gateway/policy';
import type { KeyProfile } from '../../src/gateway/governance';

function table(): { t: EntityTable; rec: number } {
  const t = EntityTable.allocate(4);
  t.setLimits(0, { maxBudgetNanos: 1000, rpm: null, tpm: null, maxParallel: 1, expiresMs: null, blocked: false });
  return { t, rec: 0 };
}

const charged = (rec: number) => [{ rec, descriptor: 'api_key', value: 'k', describe: () => 'key' }];

test('a settled charge frees its reservation and its parallel slot once, whatever is settled again', () => {
  const { t, rec } = table();
  const c = new Charge(t);
  c.acquire(charged(rec), 800n, 0);
  assert.throws(() => new Charge(t).acquire(charged(rec), 100n, 0), /max_parallel_requests/);
  c.settle(300n, 10, 0);
  c.settle(300n, 10, 0);
  assert.equal(t.spendNanos(rec), 300n);
  assert.equal(t.used(rec, 'max_parallel_requests', 0), 0);
  assert.equal(releaseLiveCharges(0), 0, 'nothing is left to release');
});

test('releaseLiveCharges gives back what unsettled charges hold, as costing nothing', () => {
  const { t, rec } = table();
  const c = new Charge(t);
  c.acquire(charged(rec), 900n, 0);
  assert.equal(releaseLiveCharges(0), 1);
  assert.equal(t.spendNanos(rec), 0n);
  assert.equal(t.used(rec, 'max_parallel_requests', 0), 0);
  // The whole budget can be reserved again.
  new Charge(t).acquire(charged(rec), 1000n, 0);
});

test('charges settled in any order leave exactly the unsettled ones to releaseLiveCharges', () => {
  releaseLiveCharges(0); // what the tests before left held
  const t = EntityTable.allocate(4);
  t.setLimits(0, { maxBudgetNanos: 1000, rpm: null, tpm: null, maxParallel: 3, expiresMs: null, blocked: false });
  const [a, b, c] = [new Charge(t), new Charge(t), new Charge(t)];
  for (const x of [a, b, c]) x.acquire(charged(0), 100n, 0);
  assert.equal(t.used(0, 'max_parallel_requests', 0), 3);
  a.settle(10n, 1, 0); // the first: the last takes its place
  c.settle(20n, 1, 0); // that one, now first
  c.settle(20n, 1, 0); // again: nothing more
  assert.equal(t.spendNanos(0), 30n);
  assert.equal(t.used(0, 'max_parallel_requests', 0), 1, 'b still holds its slot');
  assert.equal(releaseLiveCharges(0), 1);
  assert.equal(t.used(0, 'max_parallel_requests', 0), 0);
  b.settle(50n, 1, 0); // released already: settling it again changes nothing
  assert.equal(t.spendNanos(0), 30n);
  assert.equal(releaseLiveCharges(0), 0);
});

function profile(over: Partial<KeyProfile> = {}): KeyProfile {
  return {
    record: 0,
    tokenHash: 'ab'.repeat(32),
    keyAlias: 'my-key',
    keyName: null,
    models: [],
    aliases: {},
    userId: 'u1',
    userRecord: 3,
    userRole: null,
    teamId: 't1',
    teamAlias: null,
    teamRecord: 2,
    teamModels: [],
    memberRecord: 1,
    orgId: 'o1',
    orgRecord: 5,
    tags: [],
    spendLogsMetadata: null,
    allowedRoutes: [],
    passThroughRoutes: [],
    modelLimits: { gpt: { rec: 6, budget: true, rate: true } },
    ...over,
  };
}

test("a key's entities are built once per profile, in LiteLLM's order, and name the right entity", () => {
  const p = profile();
  const end = { id: 'customer-1', rec: 4 };
  const first = chargedEntities(p, end, 7, 'gpt');
  assert.deepEqual(
    first.map((c) => [c.rec, c.descriptor, c.value]),
    [
      [0, 'api_key', p.tokenHash],
      [6, 'model_per_key', `${p.tokenHash}:gpt`],
      [1, 'team_member', 't1:u1'],
      [2, 'team', 't1'],
      [3, 'user', 'u1'],
      [4, 'end_user', 'customer-1'],
      [5, null, 'o1'],
      [7, null, 'global'],
    ],
  );
  assert.equal(first[0]!.describe('1.0', '0.5'), 'Budget has been exceeded! Key=my-key Current cost: 1.0, Max budget: 0.5');
  assert.equal(first[3]!.describe('2', '1'), 'Budget has been exceeded! Team=t1 Current cost: 2, Max budget: 1');
  assert.equal(first[7]!.describe('3', '2'), 'ExceededBudget: LiteLLM Proxy has exceeded its budget. Current cost: 3, Max budget: 2');
  // The next request of the same key: the same entity objects, nothing built again.
  const again = chargedEntities(p, null, 7, 'claude');
  assert.deepEqual(again.map((c) => c.rec), [0, 1, 2, 3, 5, 7]);
  for (const c of again) assert.ok(first.includes(c), `entity ${c.rec} is reused`);
  // A changed key arrives as a new profile: its entities are its own.
  const renamed = profile({ keyAlias: 'renamed', teamRecord: -1 });
  const fresh = chargedEntities(renamed, null, -1, 'claude');
  assert.deepEqual(fresh.map((c) => c.rec), [0, 1, 3, 5]);
  assert.match(fresh[0]!.describe('1', '1'), /Key=renamed /);
  assert.ok(!first.includes(fresh[0]!));
});
