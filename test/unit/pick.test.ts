// pickTarget with a real DeploymentHealth: simple-shuffle as LiteLLM does it — skip what cannot be
// called or is cooling down, keep the lowest order tier, pick by weight, else rpm, else tpm, else
// uniformly, and avoid deployments already tried while others remain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickTarget } from '../../src/gateway/pick';
import { DeploymentHealth } from '../../src/state/deployment-health';
import type { Target } from '../../src/gateway/snapshot';
import { UNKNOWN_PRICE } from '../../src/pricing/cost';

let nextSlot = 0;
function target(id: string, over: Partial<Target> = {}): Target {
  return {
    id,
    slot: nextSlot++,
    group: 'g',
    provider: 'openai',
    dialect: 'openai',
    upstreamModel: id,
    upstreamModelJson: JSON.stringify(id),
    origin: 'https://api.example.com',
    path: '/v1/chat/completions',
    apiBase: 'https://api.example.com/v1',
    headers: [],
    secrets: [],
    unavailable: null,
    timeoutMs: 600_000,
    streamTimeoutMs: 600_000,
    weight: 0,
    rpm: 0,
    tpm: 0,
    order: Infinity,
    cooldownMs: null,
    price: UNKNOWN_PRICE,
    responsesPath: null,
    embeddingsPath: null,
    ...over,
  };
}

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0, 250);

/** Picks n times and counts by id. */
function distribution(targets: Target[], health: DeploymentHealth, n: number, tried: Target[] | null = null): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = pickTarget(targets, health, NOW, true, tried);
    assert.ok(t, 'expected a target');
    counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
  }
  return counts;
}

/** Asserts count/n is within tol of p. */
function near(count: number | undefined, n: number, p: number, tol = 0.02, what = ''): void {
  const share = (count ?? 0) / n;
  assert.ok(Math.abs(share - p) <= tol, `${what} share ${share.toFixed(4)}, expected ${p} ± ${tol}`);
}

test('a single target is returned when usable, null when not', () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a');
  assert.equal(pickTarget([a], h, NOW, true, null), a);
  assert.equal(pickTarget([a], h, NOW, true, [a]), a, 'a retry may reuse the only deployment');
  const u = target('u', { unavailable: 'no API key for openai' });
  assert.equal(pickTarget([u], h, NOW, true, null), null);
  const c = target('c');
  h.coolDown(c.slot, NOW + 1000);
  assert.equal(pickTarget([c], h, NOW, true, null), null);
  assert.equal(pickTarget([c], h, NOW, false, null), c, 'cooldowns disabled: cooling targets are used');
  assert.equal(pickTarget([c], h, NOW + 1000, true, null), c, 'usable once the cooldown ends');
});

test('an empty list gives null', () => {
  assert.equal(pickTarget([], DeploymentHealth.allocate(4), NOW, true, null), null);
});

test('unavailable targets are never picked', () => {
  const h = DeploymentHealth.allocate(256);
  const ok = target('ok');
  const targets = [target('u1', { unavailable: 'x', weight: 100 }), ok, target('u2', { unavailable: 'y' })];
  for (let i = 0; i < 500; i++) assert.equal(pickTarget(targets, h, NOW, true, null), ok);
  assert.equal(pickTarget([target('u3', { unavailable: 'x' }), target('u4', { unavailable: 'y' })], h, NOW, true, null), null);
});

test('cooling-down targets are skipped, and usable again after the cooldown (sub-second)', () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a');
  const b = target('b');
  h.coolDown(a.slot, NOW + 1500);
  for (let i = 0; i < 300; i++) assert.equal(pickTarget([a, b], h, NOW, true, null), b);
  for (let i = 0; i < 300; i++) assert.equal(pickTarget([a, b], h, NOW + 1499, true, null), b);
  // At the cooldown end both are candidates again.
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) seen.add(pickTarget([a, b], h, NOW + 1500, true, null)!.id);
  assert.deepEqual([...seen].sort(), ['a', 'b']);
  // With cooldowns disabled, the cooling target is a candidate.
  const seen2 = new Set<string>();
  for (let i = 0; i < 300; i++) seen2.add(pickTarget([a, b], h, NOW, false, null)!.id);
  assert.deepEqual([...seen2].sort(), ['a', 'b']);
  // All cooling → null.
  h.coolDown(b.slot, NOW + 10);
  assert.equal(pickTarget([a, b], h, NOW, true, null), null);
  assert.equal(pickTarget([a, b], h, NOW + 10, true, null), b);
});

test('the lowest order tier is used first; order Infinity (unset) comes last', () => {
  const h = DeploymentHealth.allocate(256);
  const o1 = target('o1', { order: 1 });
  const o2 = target('o2', { order: 2 });
  const unset = target('unset', { weight: 1000 });
  for (let i = 0; i < 300; i++) assert.equal(pickTarget([unset, o2, o1], h, NOW, true, null), o1);
  // Tier 1 cooling down → tier 2.
  h.coolDown(o1.slot, NOW + 5000);
  for (let i = 0; i < 300; i++) assert.equal(pickTarget([unset, o2, o1], h, NOW, true, null), o2);
  // Tier 2 unavailable too → the unset tier.
  const o2u = { ...o2, unavailable: 'gone' };
  for (let i = 0; i < 300; i++) assert.equal(pickTarget([unset, o2u, o1], h, NOW, true, null), unset);
  // Two in the same tier share it.
  const o1b = target('o1b', { order: 1 });
  const d = distribution([o1b, o2, target('o1c', { order: 1 })], h, 4000);
  assert.equal(d.get('o2'), undefined);
  near(d.get('o1b'), 4000, 0.5, 0.05, 'o1b');
});

test('weights 3:1 over 20,000 picks', () => {
  const h = DeploymentHealth.allocate(256);
  const n = 20_000;
  const d = distribution([target('heavy', { weight: 3 }), target('light', { weight: 1 })], h, n);
  near(d.get('heavy'), n, 0.75, 0.015, 'heavy');
  near(d.get('light'), n, 0.25, 0.015, 'light');
});

test('weights 1:2:7, and weight 0 next to weighted targets is never picked', () => {
  const h = DeploymentHealth.allocate(256);
  const n = 20_000;
  const d = distribution([target('w1', { weight: 1 }), target('w2', { weight: 2 }), target('w7', { weight: 7 }), target('w0', { weight: 0, rpm: 1000 })], h, n);
  near(d.get('w1'), n, 0.1, 0.015, 'w1');
  near(d.get('w2'), n, 0.2, 0.015, 'w2');
  near(d.get('w7'), n, 0.7, 0.015, 'w7');
  assert.equal(d.get('w0'), undefined);
});

test('rpm is used when no weight is set', () => {
  const h = DeploymentHealth.allocate(256);
  const n = 20_000;
  const d = distribution([target('r100', { rpm: 100, tpm: 1 }), target('r300', { rpm: 300, tpm: 1_000_000 })], h, n);
  near(d.get('r100'), n, 0.25, 0.015, 'r100');
  near(d.get('r300'), n, 0.75, 0.015, 'r300');
});

test('tpm is used when neither weight nor rpm is set', () => {
  const h = DeploymentHealth.allocate(256);
  const n = 20_000;
  const d = distribution([target('t1', { tpm: 10_000 }), target('t4', { tpm: 40_000 })], h, n);
  near(d.get('t1'), n, 0.2, 0.015, 't1');
  near(d.get('t4'), n, 0.8, 0.015, 't4');
});

test('uniform when nothing is set', () => {
  const h = DeploymentHealth.allocate(256);
  const n = 20_000;
  const d = distribution([target('u1'), target('u2'), target('u3'), target('u4')], h, n);
  for (const id of ['u1', 'u2', 'u3', 'u4']) near(d.get(id), n, 0.25, 0.02, id);
});

test('weights are taken among the usable targets only', () => {
  const h = DeploymentHealth.allocate(256);
  const big = target('big', { weight: 9 });
  const a = target('a', { weight: 1 });
  const b = target('b', { weight: 1 });
  h.coolDown(big.slot, NOW + 60_000);
  const d = distribution([big, a, b], h, 10_000);
  assert.equal(d.get('big'), undefined);
  near(d.get('a'), 10_000, 0.5, 0.03, 'a');
});

test('tried targets are avoided while others remain', () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a', { weight: 100 });
  const b = target('b', { weight: 1 });
  const c = target('c', { weight: 1 });
  for (let i = 0; i < 500; i++) {
    const t = pickTarget([a, b, c], h, NOW, true, [a]);
    assert.ok(t === b || t === c, `picked ${t?.id}`);
  }
  for (let i = 0; i < 200; i++) assert.equal(pickTarget([a, b, c], h, NOW, true, [a, b]), c);
  // Avoidance goes across order tiers: a fresh lower-priority tier beats a tried higher one.
  const p1 = target('p1', { order: 1 });
  const p2 = target('p2', { order: 2 });
  for (let i = 0; i < 100; i++) assert.equal(pickTarget([p1, p2], h, NOW, true, [p1]), p2);
});

test('tried targets are reused when none other remain', () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a', { weight: 3 });
  const b = target('b', { weight: 1 });
  const d = distribution([a, b], h, 8000, [a, b]);
  near(d.get('a'), 8000, 0.75, 0.03, 'a');
  // The only untried one is cooling down: reuse a tried one rather than give up.
  const c = target('c');
  h.coolDown(c.slot, NOW + 1000);
  for (let i = 0; i < 200; i++) {
    const t = pickTarget([a, b, c], h, NOW, true, [a, b]);
    assert.ok(t === a || t === b, `picked ${t?.id}`);
  }
  // …and the unavailable ones are never reused.
  const u = target('u', { unavailable: 'x' });
  assert.equal(pickTarget([u, c], h, NOW, true, [u]), null);
});

test('returns null when nothing is usable', () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a');
  const b = target('b', { unavailable: 'no key' });
  h.coolDown(a.slot, NOW + 1);
  assert.equal(pickTarget([a, b], h, NOW, true, null), null);
  assert.equal(pickTarget([a, b], h, NOW, true, [a, b]), null);
  assert.equal(pickTarget([a, b], h, NOW + 1, true, null), a);
});

test('the pick does not change the health table', () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a');
  const b = target('b');
  const before = Array.from(h.words);
  for (let i = 0; i < 100; i++) pickTarget([a, b], h, NOW, true, null);
  assert.deepEqual(Array.from(h.words), before);
});

test("least-busy counts the other instances' in-flight requests too", () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a');
  const b = target('b');
  h.begin(b.slot); // one here at b
  h.setRemoteInflight(a.slot, 3); // three elsewhere at a
  for (let i = 0; i < 50; i++) assert.equal(pickTarget([a, b], h, NOW, true, null, 'least-busy'), b);
  h.setRemoteInflight(a.slot, 0);
  for (let i = 0; i < 50; i++) assert.equal(pickTarget([a, b], h, NOW, true, null, 'least-busy'), a);
});

test("usage-based counts the other instances' requests this minute too", () => {
  const h = DeploymentHealth.allocate(256);
  const a = target('a');
  const b = target('b');
  h.countRequest(b.slot, NOW); // one here to b
  h.setRemoteRequests(a.slot, Math.floor(NOW / 60_000), 3); // three elsewhere to a
  for (let i = 0; i < 50; i++) assert.equal(pickTarget([a, b], h, NOW, true, null, 'usage-based-routing'), b);
});
