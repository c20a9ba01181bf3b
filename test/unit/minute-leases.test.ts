// Minute leases (rpm, tpm) driven directly on a real redis-server: the control thread's side
// (MinuteLeases), the worker's admission (Charge on a real EntityTable) and the wait-and-admit
// loop (admitAfterLease), with the interleavings that matter placed by hand, so every outcome is
// decided by counts, never by timing. No timers run (start() is not called) unless a test says so.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GatewayError } from '../../src/gateway/errors';
import { LeaseSpent } from '../../src/gateway/lease-spent';
import { admitAfterLease } from '../../src/gateway/lease-retry';
import { Charge } from '../../src/gateway/policy';
import { RedisLink } from '../../src/redis/link';
import { MinuteLeases, type Leasable } from '../../src/redis/minute-leases';
import { redisSettings } from '../../src/redis/settings';
import { rpmPolicy } from '../../src/redis/rpm-leases';
import { tpmPolicy } from '../../src/redis/tpm-leases';
import { ControlStatus } from '../../src/state/control-status';
import { EntityTable, type MinuteKind } from '../../src/state/entity-table';
import { startRedisServer, type RedisServer } from '../support/redis-server';

let redis: RedisServer;
const links: RedisLink[] = [];

before(async () => {
  redis = await startRedisServer();
});

after(async () => {
  for (const l of links) await l.close();
  await redis?.stop();
});

const none = { maxBudgetNanos: null, rpm: null, tpm: null, maxParallel: null, expiresMs: null, blocked: false };
const STRICT = new GatewayError(503, 'strict', 'service_unavailable');
let ids = 0;

/** One instance: its own entity table (record 0) and lease keeper on the shared Redis; `n` instances in all. */
async function instance(name: string, kind: MinuteKind, limit: number, entity: string, n = 3, strict = false) {
  const link = new RedisLink(redisSettings({ redis_url: redis.url }, {})!, ControlStatus.allocate());
  links.push(link);
  await link.start();
  assert.ok(link.up);
  const table = EntityTable.allocate(2);
  table.setLimits(0, { ...none, [kind === 'requests' ? 'rpm' : 'tpm']: limit });
  const minute = Math.floor(Date.now() / 60_000);
  table.startLease(0, kind, minute);
  const leasable: Leasable[] = [{ id: entity, rec: 0, strict }];
  const leases = new MinuteLeases(link, table, kind === 'requests' ? rpmPolicy : tpmPolicy, () => leasable, `${name}-${++ids}`, () => n);
  const charged = [{ rec: 0, descriptor: 'api_key', value: entity, describe: () => 'over budget' }];
  /** A request arriving at this instance's worker: admitted (its charge) or refused (thrown). */
  const admit = () => {
    const c = new Charge(table);
    c.acquire(charged, 0n, Date.now());
    return c;
  };
  return { link, table, leases, admit };
}

const fields = async (name: string, entity: string) => {
  const minute = Math.floor(Date.now() / 60_000);
  const v = (await redis.command(['HVALS', `weir:{${name}:${entity}}:${minute}`])) as string[];
  return v.map(Number).reduce((a, b) => a + b, 0);
};

/** Far enough from a minute's end that one test's grants all belong to one minute. */
async function awayFromMinuteEdge(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 55_000) await new Promise((r) => setTimeout(r, 60_000 - into + 100));
}

test('rpm: a waiter whose grant a request that never waited took first waits again and is admitted while the rpm has room (the CI 5-of-6 defect)', async () => {
  await awayFromMinuteEdge();
  const a = await instance('a', 'requests', 60, 'key:steal');
  let refusal: unknown;
  try {
    a.admit();
  } catch (e) {
    refusal = e;
  }
  assert.ok(refusal instanceof LeaseSpent, 'nothing leased yet: the first request waits');
  let waits = 0;
  const minute = Math.floor(Date.now() / 60_000);
  const r = await admitAfterLease(
    refusal,
    async (s) => {
      const answer = await a.leases.waitFor(s.rec);
      if (++waits === 1) {
        // The worker runs another request between the grant and this retry: it takes the grant.
        assert.equal(answer, 'granted');
        a.admit();
        assert.equal(a.table.requestsIn(0, minute), a.table.lease(0, 'requests', minute), 'the grant is spent: one retry alone would be refused');
        assert.throws(() => a.admit(), LeaseSpent);
      }
      return answer;
    },
    a.admit,
    () => false,
    STRICT,
  );
  assert.ok(r?.admitted instanceof Charge, 'admitted on the next grant');
  assert.equal(waits, 2);
  assert.equal(a.table.requestsIn(0, minute), 2);
  assert.ok((await fields('rpm', 'key:steal')) <= 60);
});

test('rpm: the refusal is final once Redis has nothing left; every admission across instances was granted', async () => {
  await awayFromMinuteEdge();
  // rpm 5 across three instances: leased on demand, one request per waiting request.
  const insts = await Promise.all(['a', 'b', 'c'].map((n) => instance(n, 'requests', 5, 'key:full')));
  let admitted = 0;
  let refused = 0;
  for (let i = 0; i < 9; i++) {
    const x = insts[i % 3]!;
    try {
      x.admit();
      admitted++;
      continue;
    } catch (e) {
      assert.ok(e instanceof LeaseSpent);
      try {
        await admitAfterLease(e, (s) => x.leases.waitFor(s.rec), x.admit, () => false, STRICT);
        admitted++;
      } catch (final) {
        assert.ok(final instanceof LeaseSpent, String(final));
        refused++;
      }
    }
  }
  assert.deepEqual({ admitted, refused }, { admitted: 5, refused: 4 });
  assert.equal(await fields('rpm', 'key:full'), 5);
});

test('rpm: three requests waiting at once on one instance share the takes and are all admitted', async () => {
  await awayFromMinuteEdge();
  const a = await instance('a', 'requests', 60, 'key:together');
  const waiting = [0, 1, 2].map(() => {
    try {
      a.admit();
      return null;
    } catch (e) {
      return admitAfterLease(e as LeaseSpent, (s) => a.leases.waitFor(s.rec), a.admit, () => false, STRICT);
    }
  });
  const rs = await Promise.all(waiting);
  assert.ok(rs.every((r) => r?.admitted instanceof Charge));
});

test('tpm: a call counted past its lease is claimed in Redis, and the other instances are granted only what is left', async () => {
  await awayFromMinuteEdge();
  const a = await instance('a', 'tokens', 1_000, 'key:tpm');
  const b = await instance('b', 'tokens', 1_000, 'key:tpm');
  const minute = Math.floor(Date.now() / 60_000);
  const first = await admitAfterLease(
    (() => {
      try {
        a.admit();
      } catch (e) {
        return e as LeaseSpent;
      }
      throw new Error('admitted without a lease');
    })(),
    (s) => a.leases.waitFor(s.rec),
    a.admit,
    () => false,
    STRICT,
  );
  assert.ok(first);
  // The call used 700 tokens, far past what was granted for it.
  first.admitted.settle(0n, 700, Date.now());
  assert.ok(a.table.lease(0, 'tokens', minute) < 700);
  assert.throws(() => a.admit(), LeaseSpent, 'its lease is spent');
  // A's tick claims the 700: Redis counts them for every instance (nothing is granted ahead: a
  // 1,000 tpm is low for 700-token calls).
  a.leases.start();
  const deadline = Date.now() + 5_000;
  while ((await fields('tpm', 'key:tpm')) < 700) assert.ok(Date.now() < deadline, 'the claim reached Redis');
  a.leases.stop();
  assert.equal(await fields('tpm', 'key:tpm'), 700);
  // B's calls take what is left, and no more: 300 tokens in 100-token calls.
  let passed = 0;
  for (let i = 0; i < 10; i++) {
    let c: Charge;
    try {
      c = b.admit();
    } catch (e) {
      try {
        const r = await admitAfterLease(e as LeaseSpent, (s) => b.leases.waitFor(s.rec), b.admit, () => false, STRICT);
        c = r!.admitted;
      } catch {
        break;
      }
    }
    passed++;
    c.settle(0n, 100, Date.now());
  }
  const total = a.table.tokensInMinute(0, minute) + b.table.tokensInMinute(0, minute);
  assert.equal(passed, 3, `B passed ${passed} calls`);
  assert.equal(total, 1_000);
  assert.equal(await fields('tpm', 'key:tpm'), 1_000);
});

test('tpm strict: nothing held ahead; each wait grants one token past what the instance counted', async () => {
  await awayFromMinuteEdge();
  const a = await instance('a', 'tokens', 1_000, 'key:tpm-strict', 3, true);
  const minute = Math.floor(Date.now() / 60_000);
  let e: unknown;
  try {
    a.admit();
  } catch (x) {
    e = x;
  }
  const r = await admitAfterLease(e as LeaseSpent, (s) => a.leases.waitFor(s.rec), a.admit, () => false, STRICT);
  assert.equal(a.table.lease(0, 'tokens', minute), 1);
  r!.admitted.settle(0n, 400, Date.now());
  assert.throws(() => a.admit());
  await a.leases.waitFor(0);
  assert.equal(a.table.lease(0, 'tokens', minute), 401, 'the 400 counted are claimed, one token granted past them');
  assert.equal(await fields('tpm', 'key:tpm-strict'), 401);
});

/** Admits `n` requests on one instance, waiting for leases as a worker does; fails on a refusal. */
async function admitMany(x: Awaited<ReturnType<typeof instance>>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    try {
      x.admit();
    } catch (e) {
      assert.ok(e instanceof LeaseSpent, String(e));
      const r = await admitAfterLease(e, (s) => x.leases.waitFor(s.rec), x.admit, () => false, STRICT);
      assert.ok(r?.admitted instanceof Charge, `request ${i + 1} of ${n} admitted`);
    }
  }
}

/** Polls a condition (a state to reach, not a time to wait); fails after 15 s with `what`. */
async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await ok())) {
    assert.ok(Date.now() < deadline, what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Last: it restarts the shared Redis.
test('rpm: in the minute Redis comes back, requests are granted one by one and nothing is leased ahead; what each admitted alone is put back once', async () => {
  await awayFromMinuteEdge();
  const a = await instance('a', 'requests', 60, 'key:outage', 2);
  const b = await instance('b', 'requests', 60, 'key:outage', 2);
  const minute = Math.floor(Date.now() / 60_000);
  await redis.kill();
  await until('both instances to see Redis gone', () => !a.link.up && !b.link.up);
  // Alone, each admits up to its share, ceil(60 / 2) = 30.
  await admitMany(a, 25);
  await admitMany(b, 3);
  await redis.restart();
  await until('both to reconnect and put back what they admitted', async () => a.link.up && b.link.up && (await fields('rpm', 'key:outage')) === 28);
  // B's next four requests each wait for their own grant: Redis counts exactly what was admitted,
  // and B holds nothing it has not used (ahead, grants would double with each wait: 1, 2, 4).
  await admitMany(b, 4);
  assert.equal(b.table.requestsIn(0, minute), 7);
  assert.equal(b.table.lease(0, 'requests', minute), 7);
  assert.equal(await fields('rpm', 'key:outage'), 32);
});

