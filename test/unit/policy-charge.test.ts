// Charge: what a call holds on the shared counters, given back exactly once; and the worker's
// last resort, releaseLiveCharges, which a retiring worker runs once it serves no request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EntityTable } from '../../src/state/entity-table';
import { Charge, releaseLiveCharges } from '../../src/gateway/policy';

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
