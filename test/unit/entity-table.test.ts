// The shared entity records never hold a wrapped value: budgets, spends, rate limits and expiry
// times outside what their words can hold are clamped (and said so), never wrapped or thrown on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntityTable, type EntityLimits } from '../../src/state/entity-table';
import { MAX_BUDGET_USD, MAX_RATE_LIMIT } from '../../src/state/entity-range';

const NANOS = 1e9;
const none: EntityLimits = { maxBudgetNanos: null, rpm: null, tpm: null, maxParallel: null, expiresMs: null, blocked: false };
const MAX_NANOS = BigInt(MAX_BUDGET_USD * NANOS);

test('a budget past the maximum is the maximum: 1e10 USD no longer wraps to "no budget", 1e308 and Infinity no longer throw', () => {
  const t = EntityTable.allocate(8);
  for (const usd of [1e10, 1e308, Infinity]) {
    const clamped = t.setLimits(0, { ...none, maxBudgetNanos: usd * NANOS });
    assert.equal(t.maxBudgetNanos(0), MAX_NANOS, `${usd}`);
    assert.deepEqual(clamped, ['max_budget'], `${usd}`);
    // Still a budget: a call is admitted against it.
    assert.equal(t.reserve(0, 1_000n), true);
    t.settle(0, 1_000n, 0n);
  }
  // In range: stored as given, nothing reported.
  assert.deepEqual(t.setLimits(1, { ...none, maxBudgetNanos: MAX_BUDGET_USD * NANOS }), []);
  assert.equal(t.maxBudgetNanos(1), MAX_NANOS);
  assert.deepEqual(t.setLimits(2, { ...none, maxBudgetNanos: 2.5 * NANOS }), []);
  assert.equal(t.maxBudgetNanos(2), 2_500_000_000n);
});

test('a negative budget is 0 (LiteLLM refuses every call over it), not "no budget"', () => {
  const t = EntityTable.allocate(4);
  assert.deepEqual(t.setLimits(0, { ...none, maxBudgetNanos: -5 * NANOS }), ['max_budget']);
  assert.equal(t.maxBudgetNanos(0), 0n);
  assert.equal(t.reserve(0, 1n), false);
});

test('rpm, tpm and max_parallel past Int32 are the Int32 maximum, never a wrapped or negative word', () => {
  const t = EntityTable.allocate(4);
  const clamped = t.setLimits(0, { ...none, rpm: 1e10, tpm: 2 ** 40, maxParallel: 1e12 });
  assert.deepEqual(clamped, ['rpm_limit', 'tpm_limit', 'max_parallel_requests']);
  assert.equal(t.limit(0, 'requests'), MAX_RATE_LIMIT);
  assert.equal(t.limit(0, 'tokens'), MAX_RATE_LIMIT);
  assert.equal(t.limit(0, 'max_parallel_requests'), MAX_RATE_LIMIT);
  assert.equal(t.admit(0, Date.now()), null);
});

test('an expiry after 2038 is the last Int32 second (a wrapped one expired a key valid until 2125 at once); one before 1970 is expired', () => {
  const t = EntityTable.allocate(4);
  assert.deepEqual(t.setLimits(0, { ...none, expiresMs: Date.UTC(2125, 0, 1) }), ['expires']);
  assert.equal(t.expiresSec(0), 2 ** 31 - 1);
  assert.deepEqual(t.setLimits(1, { ...none, expiresMs: Date.UTC(1960, 0, 1) }), ['expires']);
  assert.equal(t.expiresSec(1), 1);
  assert.deepEqual(t.setLimits(2, { ...none, expiresMs: Date.UTC(2030, 0, 1) }), []);
  assert.equal(t.expiresSec(2), Date.UTC(2030, 0, 1) / 1000);
});

test('spend past the maximum is clamped instead of throwing; amounts committed never throw', () => {
  const t = EntityTable.allocate(4);
  assert.equal(t.setBaseSpend(0, 1e308 * NANOS), true);
  assert.equal(t.spendNanos(0), MAX_NANOS);
  assert.equal(t.setBaseSpend(1, 3 * NANOS), false);
  assert.equal(t.spendNanos(1), 3_000_000_000n);
  t.addBase(1, Number.NaN);
  t.commitPending(1, Infinity);
  assert.ok(t.spendNanos(1) <= MAX_NANOS + 3_000_000_000n);
});

test('rpm leases: a leased record admits what this instance was granted for the minute, a new minute nothing until leased, and never more than the rpm', () => {
  const t = EntityTable.allocate(4);
  t.setLimits(0, { ...none, rpm: 10 });
  const minute = 29_000_000;
  const at = minute * 60_000 + 1_000;
  t.startLease(0, 'requests', minute);
  assert.equal(t.lease(0, 'requests', minute), 0);
  assert.equal(t.admit(0, at), 'requests', 'leased and nothing granted: refused');
  t.setLease(0, 'requests', minute, 3);
  for (let i = 0; i < 3; i++) assert.equal(t.admit(0, at), null);
  assert.equal(t.admit(0, at), 'requests');
  t.setLease(0, 'requests', minute, 50);
  let admitted = 0;
  while (t.admit(0, at) === null) admitted++;
  assert.equal(admitted, 7, 'a grant past the rpm still stops at the rpm');
  // The next minute starts with nothing of the old grant.
  assert.equal(t.lease(0, 'requests', minute + 1), 0);
  assert.equal(t.admit(0, at + 60_000), 'requests');
  t.setLease(0, 'requests', minute + 1, 1);
  assert.equal(t.admit(0, at + 60_000), null);
  // A lease word 2,048 minutes old would carry the current tag again: ageing (every second, from
  // the control thread) rewrites words of past minutes, so none lives that long.
  t.setLease(0, 'requests', minute + 1, 4);
  assert.equal(t.lease(0, 'requests', minute + 2049), 4, 'without ageing, the tag wraps');
  t.ageLease(0, 'requests', minute + 5);
  assert.equal(t.lease(0, 'requests', minute + 2049), 0, 'aged: the old grant is gone');
  t.setLease(0, 'requests', minute + 6, 2);
  t.ageLease(0, 'requests', minute + 5);
  assert.equal(t.lease(0, 'requests', minute + 6), 2, 'a grant for the next minute is kept');
  // Back to the local rpm alone.
  t.stopLease(0, 'requests');
  assert.equal(t.lease(0, 'requests', minute + 1), -1);
  assert.equal(t.admit(0, at + 60_000), null);
});

test('tpm leases: a leased record admits while the tokens of the minute are under what this instance was granted, never past the tpm', () => {
  const t = EntityTable.allocate(4);
  t.setLimits(0, { ...none, tpm: 5_000_000 });
  const minute = 29_000_000;
  const at = minute * 60_000 + 1_000;
  t.startLease(0, 'tokens', minute);
  assert.equal(t.lease(0, 'tokens', minute), 0);
  assert.equal(t.admit(0, at), 'tokens', 'leased and nothing granted: refused');
  t.setLease(0, 'tokens', minute, 100);
  assert.equal(t.admit(0, at), null);
  t.release(0, 99, at);
  assert.equal(t.admit(0, at), null, '99 of 100 used: still under the lease');
  t.release(0, 1, at);
  assert.equal(t.admit(0, at), 'tokens', 'the lease is used up');
  // Large grants are stored in coarser units, rounded down: never more than was granted.
  t.setLease(0, 'tokens', minute, 1_234_567);
  const held = t.lease(0, 'tokens', minute);
  assert.ok(held <= 1_234_567 && held > 1_234_567 - 1_234_567 / 32_767, `held ${held}`);
  t.setLease(0, 'tokens', minute, 9_000_000_000);
  assert.ok(t.lease(0, 'tokens', minute) < 2 ** 31, 'clamped to what a word holds');
  t.release(0, 5_000_000, at);
  assert.equal(t.admit(0, at), 'tokens', 'a grant past the tpm still stops at the tpm');
  // The rpm's lease words are apart: leasing tokens leaves requests to the local rpm.
  assert.equal(t.lease(0, 'requests', minute), -1);
  assert.equal(t.lease(0, 'tokens', minute + 1), 0, 'the next minute starts with nothing');
  t.stopLease(0, 'tokens');
  assert.equal(t.lease(0, 'tokens', minute), -1);
});

test('budget leases: a reservation must fit in what this instance was granted, less what it settled; unleased budgets are as before', () => {
  const t = EntityTable.allocate(4);
  t.setLimits(0, { ...none, maxBudgetNanos: 100 });
  assert.equal(t.budgetLease(0), -1n);
  assert.equal(t.reserve(0, 60n), true, 'not leased: the budget alone decides');
  t.settle(0, 60n, 0n);
  t.startBudgetLease(0);
  assert.equal(t.budgetLease(0), 0n);
  assert.equal(t.reserve(0, 1n), false, 'leased, nothing granted');
  assert.equal(t.reserve(0, 0n), true, 'a call that costs nothing still passes');
  t.settle(0, 0n, 0n);
  t.addBudgetLease(0, 30n);
  assert.equal(t.reserve(0, 20n), true);
  assert.equal(t.reserve(0, 20n), false, '20 + 20 is past the 30 granted');
  assert.equal(t.budgetHeadroom(0), 10n);
  t.settle(0, 20n, 15n);
  assert.equal(t.ownSettled(0), 15n);
  assert.equal(t.budgetHeadroom(0), 15n, 'what a call did not spend goes back to the grant');
  assert.equal(t.reserve(0, 15n), true);
  assert.equal(t.reserve(0, 1n), false);
  // Granted past the budget: the budget still stops it.
  t.addBudgetLease(0, 1000n);
  assert.equal(t.reserve(0, 90n), false, 'spend 15 + reserved 15 + 90 passes the budget of 100');
});
