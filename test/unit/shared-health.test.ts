// Shared deployment health between instances, with a clock stepped by hand on a real redis-server:
// an instance that goes quiet stops weighing on the others' in-flight counts after 5 s, and an
// instance whose Redis came back says everything once more, so one that missed the first message
// (it subscribed later) still learns the failures of this minute. Messages travel through Redis
// pub/sub, so the tests poll for a state to appear; the clock decides everything else.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SlotTable } from '../../src/control/slots';
import { RedisLink } from '../../src/redis/link';
import { redisSettings } from '../../src/redis/settings';
import { SharedHealth } from '../../src/redis/shared-health';
import { ControlStatus } from '../../src/state/control-status';
import { DeploymentHealth } from '../../src/state/deployment-health';
import { startRedisServer, type RedisServer } from '../support/redis-server';

let redis: RedisServer;
let links: RedisLink[] = [];

before(async () => {
  redis = await startRedisServer();
});

/** Each test's instances leave with it, so the next counts its own subscribers. */
async function closeLinks(): Promise<void> {
  for (const l of links) await l.close();
  links = [];
}

after(async () => {
  await closeLinks();
  await redis.stop();
});

const DEPLOYMENT = 'dep-a';

/** One instance's view: its health table, its slot of DEPLOYMENT, its clock, its SharedHealth. */
async function instance(name: string, clock: { t: number }, capacity = 8) {
  const link = new RedisLink(redisSettings({ redis_url: redis.url } as never, {})!, ControlStatus.allocate());
  links.push(link);
  await link.start();
  const health = DeploymentHealth.allocate(capacity);
  // Every worker serves whatever was published last (the test publishes by hand).
  const slots = new SlotTable(capacity, { applied: () => Number.MAX_SAFE_INTEGER, held: (s) => health.inflight(s) > 0, reset: (s) => health.reset(s) });
  const slot = slots.slotFor(DEPLOYMENT);
  const shared = new SharedHealth(link, health, slots, name, () => clock.t);
  return { link, health, slots, slot, shared };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`never: ${what}`);
}

/** Waits until Redis counts `n` subscribers on the health channel (a message before that is lost). */
async function subscribers(n: number): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const r = (await redis.command(['PUBSUB', 'NUMSUB', 'weir:health'])) as unknown[];
    if (Number(r[1]) >= n) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail(`never ${n} subscribers on weir:health`);
}

test("a quiet instance's in-flight load is dropped after 5 s of silence; its counts of the minute stand", async () => {
  const clock = { t: Date.UTC(2026, 0, 1, 10, 0, 10) };
  const a = await instance('a1', clock);
  const b = await instance('b1', clock);
  await subscribers(2);

  a.health.begin(a.slot);
  a.health.recordFailure(a.slot, clock.t);
  a.shared.tick();
  await until('b hears a1 in flight', () => b.health.remoteInflight(b.slot) === 1);
  assert.equal(b.health.remoteFailuresThisMinute(b.slot, clock.t), 1);

  // a1 goes quiet (it died holding the request). 4.9 s later it still counts.
  clock.t += 4_900;
  b.shared.tick();
  assert.equal(b.health.remoteInflight(b.slot), 1);
  // Past 5 s its load is dropped; its failure of this minute stands until the minute ends.
  clock.t += 1_200;
  b.shared.tick();
  assert.equal(b.health.remoteInflight(b.slot), 0);
  assert.equal(b.health.remoteFailuresThisMinute(b.slot, clock.t), 1);
  clock.t += 60_000;
  b.shared.tick();
  assert.equal(b.health.remoteFailuresThisMinute(b.slot, clock.t), 0);
  await closeLinks();
});

test('back from an outage, an instance says everything again: one that subscribed meanwhile learns the failures', async () => {
  const clock = { t: Date.UTC(2026, 0, 1, 11, 0, 5) };
  const a = await instance('a2', clock);
  a.health.recordFailure(a.slot, clock.t);
  a.health.recordFailure(a.slot, clock.t);
  a.shared.tick(); // said once; nothing changes after, so nothing more would be said
  clock.t += 100;
  a.shared.tick();

  await redis.kill();
  await until('a2 sees Redis down', () => !a.link.up);
  await redis.restart();
  await until('a2 back up', () => a.link.up);

  // A new instance, subscribed after a2's only message.
  const c = await instance('c2', clock);
  await subscribers(2);
  assert.equal(c.health.remoteFailuresThisMinute(c.slot, clock.t), 0);
  clock.t += 25;
  a.shared.tick();
  await until('c2 hears the failures', () => c.health.remoteFailuresThisMinute(c.slot, clock.t) === 2);
  await closeLinks();
});

test('a slot freed and given to another deployment forgets what the other instances said about the one before', async () => {
  const clock = { t: Date.UTC(2026, 0, 1, 10, 0, 10) };
  const a = await instance('a3', clock);
  const b = await instance('b3', clock, 1);
  await subscribers(2);
  a.health.begin(a.slot);
  a.health.recordFailure(a.slot, clock.t);
  a.shared.tick();
  await until('b hears a3 in flight', () => b.health.remoteInflight(b.slot) === 1);
  assert.equal(b.health.remoteFailuresThisMinute(b.slot, clock.t), 1);

  // DEPLOYMENT leaves b's model list; its slot (b's only one) goes to another deployment.
  b.slots.published(2, new Set());
  assert.equal(b.slots.slotFor('dep-new'), b.slot);
  assert.equal(b.health.failuresThisMinute(b.slot, clock.t), 0);
  assert.equal(b.health.load(b.slot), 0);
  // a3 goes quiet: b's sweep drops its load, and writes nothing of it into the new deployment's words.
  clock.t += 5_100;
  b.shared.tick();
  assert.equal(b.health.failuresThisMinute(b.slot, clock.t), 0);
  assert.equal(b.health.load(b.slot), 0);
  await closeLinks();
});
