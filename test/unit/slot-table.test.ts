// SlotTable: deployment id → slot of the shared health table. Slots of deployments that left the
// model list are reused, but only once every worker serves a snapshot without them and no attempt
// is open at them; a reused slot starts with clean health.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SlotTable } from '../../src/control/slots';
import { DeploymentHealth } from '../../src/state/deployment-health';

const T0 = Date.UTC(2025, 5, 1, 10, 30, 0, 0);

/** A table over a real health table, with the workers' acknowledged version set by hand. */
function rig(capacity: number) {
  const health = DeploymentHealth.allocate(capacity);
  const state = { applied: 1 };
  const slots = new SlotTable(capacity, { applied: () => state.applied, held: (s) => health.inflight(s) > 0, reset: (s) => health.reset(s) });
  let version = 0;
  /** Builds and "publishes" a snapshot of these ids; returns their slots. */
  const publish = (...ids: string[]) => {
    const got = ids.map((id) => slots.slotFor(id));
    slots.published(++version, new Set(ids));
    return got;
  };
  return { health, state, slots, publish, version: () => version };
}

test('more distinct deployments than the capacity, added and removed one at a time: every change works', () => {
  const r = rig(3);
  r.publish('a0');
  for (let i = 1; i < 50; i++) {
    // Every worker serves the previous snapshot before the next change.
    r.state.applied = r.version();
    const [slot] = r.publish(`a${i}`);
    assert.ok(slot! >= 0 && slot! < 3);
  }
  assert.equal(r.slots.known('a0'), -1, 'a deployment long gone has no slot');
  assert.equal(r.slots.free(), 1, 'a48 left in the last snapshot, which the workers do not serve yet');
  r.state.applied = r.version();
  assert.equal(r.slots.free(), 2);
});

test('a slot is not freed before every worker serves a snapshot without its deployment', () => {
  const r = rig(2);
  r.publish('a', 'b');
  r.publish('b'); // a leaves at version 2; the workers still serve version 1
  assert.throws(() => r.publish('b', 'c'), /more than 2 deployments/);
  assert.equal(r.slots.free(), 0);
  r.state.applied = 2;
  assert.equal(r.slots.free(), 1);
  const [, c] = r.publish('b', 'c');
  assert.equal(c, 0, "c takes a's slot");
});

test('a reused slot starts clean: no cooldown, failures, latency or load of the deployment before', () => {
  const r = rig(1);
  const [a] = r.publish('a');
  r.health.coolDown(a!, T0 + 600_000);
  r.health.recordFailure(a!, T0);
  r.health.recordLatency(a!, 250);
  r.health.countRequest(a!, T0);
  r.health.setRemoteInflight(a!, 3);
  r.publish(); // a leaves
  r.state.applied = r.version();
  const [b] = r.publish('b');
  assert.equal(b, a);
  assert.equal(r.health.isCoolingDown(b!, T0), false);
  assert.equal(r.health.cooldownUntilMs(b!), 0);
  assert.equal(r.health.failuresThisMinute(b!, T0), 0);
  assert.equal(r.health.latencyUs(b!), 0);
  assert.equal(r.health.requestsThisMinute(b!, T0), 0);
  assert.equal(r.health.load(b!), 0);
});

test('a slot held by a request in flight on the old snapshot is not reused while it is held', () => {
  const r = rig(2);
  const [a] = r.publish('a');
  r.health.begin(a!); // an attempt open at a, on the snapshot that still has it
  r.publish('b');
  r.state.applied = r.version();
  assert.throws(() => r.publish('c'), /more than 2 deployments/);
  assert.equal(r.slots.known('a'), a, 'a keeps its slot while the request holds it');
  r.health.end(a!);
  const [c] = r.publish('c');
  assert.equal(c, a);
  assert.equal(r.slots.known('a'), -1);
});

test('a deployment that leaves and comes back before its slot is freed keeps it, counters and all', () => {
  const r = rig(2);
  const [a] = r.publish('a');
  r.health.coolDown(a!, T0 + 600_000);
  r.publish('b');
  const [back] = r.publish('a', 'b');
  assert.equal(back, a);
  assert.equal(r.health.isCoolingDown(a!, T0), true);
  r.state.applied = r.version();
  assert.equal(r.slots.collect(), 0, 'a is in the model list again: its slot is not freed');
});

test('freed slots are announced to what keeps state per slot', () => {
  const r = rig(1);
  const freed: number[] = [];
  const stop = r.slots.onFreed((s) => freed.push(s));
  const [a] = r.publish('a');
  r.publish();
  r.state.applied = r.version();
  r.publish('b');
  assert.deepEqual(freed, [a]);
  stop();
  r.publish();
  r.state.applied = r.version();
  r.publish('c');
  assert.deepEqual(freed, [a]);
});

test('without hooks (snapshots built alone) nothing is freed: the capacity is a hard bound', () => {
  const slots = new SlotTable(2);
  slots.slotFor('a');
  slots.published(1, new Set(['a']));
  slots.slotFor('b');
  slots.published(2, new Set(['b']));
  assert.throws(() => slots.slotFor('c'), /more than 2 deployments/);
});
