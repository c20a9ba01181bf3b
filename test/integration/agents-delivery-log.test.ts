// Webhook deliveries against a real PostgreSQL: a delivery id is taken once per job (also when two
// instances record it at the same moment), its run is attached, a failed one can be forgotten, and
// old ones are pruned.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { attachRun, deliveryRun, forgetDelivery, pruneDeliveries, recordDelivery } from '../../src/agents/delivery-log';
import { createPool } from '../../src/db/pool';
import { ensureSchema } from '../../src/db/schema';
import { freshDatabase, stopTestPostgres } from '../support/postgres';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

async function pools(label: string) {
  const url = await freshDatabase(label);
  const a = createPool(url);
  const b = createPool(url);
  cleanups.push(() => a.end(), () => b.end());
  await ensureSchema(a);
  return { a, b };
}

test('a delivery is recorded once per job: the replay is false, on any instance, even at the same moment', async () => {
  const { a, b } = await pools('deliveries');
  assert.equal(await recordDelivery(a, 'triage', 'd-1'), true);
  assert.equal(await recordDelivery(b, 'triage', 'd-1'), false);
  assert.equal(await recordDelivery(a, 'other-job', 'd-1'), true);
  // Twenty concurrent recordings of one new id over two pools: exactly one is first.
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => recordDelivery(i % 2 ? a : b, 'triage', 'd-2')));
  assert.equal(results.filter(Boolean).length, 1);

  assert.equal(await deliveryRun(a, 'triage', 'd-1'), null);
  await attachRun(a, 'triage', 'd-1', 'run_abc');
  assert.equal(await deliveryRun(b, 'triage', 'd-1'), 'run_abc');
  assert.equal(await deliveryRun(b, 'triage', 'never'), null);

  // A delivery whose run could not be created is forgotten, so the redelivery is served; one with
  // a run is never forgotten.
  await forgetDelivery(a, 'triage', 'd-2');
  assert.equal(await recordDelivery(b, 'triage', 'd-2'), true);
  await forgetDelivery(a, 'triage', 'd-1');
  assert.equal(await recordDelivery(b, 'triage', 'd-1'), false);
});

test('pruneDeliveries deletes what was received before the cut, and only that', async () => {
  const { a } = await pools('deliveries_prune');
  const t0 = Date.parse('2026-03-01T00:00:00Z');
  for (let d = 0; d < 10; d++) await recordDelivery(a, 'j', `d-${d}`, new Date(t0 + d * 86_400_000));
  assert.equal(await pruneDeliveries(a, new Date(t0 + 7 * 86_400_000)), 7);
  const left = (await a.query(`SELECT delivery_id FROM "Weir_AgentDelivery" ORDER BY delivery_id`)).rows.map((r) => r.delivery_id);
  assert.deepEqual(left, ['d-7', 'd-8', 'd-9']);
  // A pruned id is new again.
  assert.equal(await recordDelivery(a, 'j', 'd-0'), true);
  assert.equal(await pruneDeliveries(a, new Date(t0)), 0);
});
