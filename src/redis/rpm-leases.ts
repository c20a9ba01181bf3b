// Requests-per-minute limits across Weir instances, by leases. Redis holds, per rate-limited key
// or team and per minute, how many requests of its rpm have been granted to instances so far; an
// instance takes a slice (a lease) with one Lua script that never grants past the limit, and its
// workers admit from shared memory up to what this instance holds (EntityTable.rpmLease). So:
//
//   Bound. Across N instances the requests admitted in a minute never pass the rpm while Redis is
//   up: every admission is covered by a grant and the grants of a minute sum to at most the rpm.
//   The cost is on the other side: a lease one instance holds and does not use is unavailable to
//   the others until the minute ends, at most N × the largest lease (rpm / (4 N), so a quarter of
//   the rpm) refused early in the worst case. A low limit (rpm < 8 N) is leased only on demand, one
//   request per waiting request, never ahead: exact, no request refused that the limit allows. While Redis is down each instance admits on its own up to ceil(rpm / N) a minute (N as
//   last seen), so a minute spanning an outage admits at most rpm + N × ceil(rpm / N) in total;
//   what it admitted is added to Redis's count when Redis is back (nothing counted twice).
//
// Leases are refilled in the background (a 50 ms tick, before the lease runs out, sized to the
// traffic of the last take); a request that finds its instance's lease spent waits for one
// script run (worker → control thread → Redis) before it is refused, so an idle instance does not
// refuse what the limit still allows. Redis keys carry the entity in a hash tag, for Cluster.
import { log } from '../log';
import type { EntityTable } from '../state/entity-table';
import type { RedisLink } from './link';
import { redisStats } from './stats';

const TICK_MS = 50;
/** Active entities are rediscovered this often (a full walk of the rate-limited records). */
const SCAN_MS = 1_000;
/** The next minute's lease is taken this long before it starts, for entities busy this minute. */
const PREFETCH_MS = 2_000;
/** Instances say they are alive this often (a pipeline of three commands), and count as gone after INSTANCE_TTL_MS. */
const HEARTBEAT_MS = 10_000;
const INSTANCE_TTL_MS = 30_000;
/** A lease ahead of use covers this long of the instance's recent traffic. */
const AHEAD_MS = 5_000;

// One hash per (entity, minute): each instance's field is what it was granted, so the sum is what
// every instance together may admit, and a Redis that restarted empty is rebuilt field by field
// from what each instance holds (RECONCILE never lowers a field: nothing counted twice or lost).
const GRANT = `
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
local grant = math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) - total)
if grant <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[4], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return grant`;

const RECONCILE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
local want = tonumber(ARGV[1])
if want > cur then
  redis.call('HSET', KEYS[1], ARGV[3], want)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return want
end
return cur`;

const TTL_MS = 120_000;

export interface Leasable {
  /** Stable across instances: 'key:<token hash>' or 'team:<team_id>'. */
  id: string;
  rec: number;
  /** weir_strict_limits: no lease held ahead; each request waits for its own grant. */
  strict: boolean;
}

/** What a waiting request learns: try again, or (strict, Redis down) refuse with a 503. */
export type LeaseWait = 'granted' | 'strict_unavailable';

interface Tracked {
  id: string;
  rec: number;
  strict: boolean;
  /** Minute → requests Redis granted this instance in it (two minutes kept). */
  granted: Map<number, number>;
  /** Count of requests and time at the last take, for the lease size. */
  lastTakeCount: number;
  lastTakeMs: number;
  lastSize: number;
  taking: Promise<void> | null;
  /** The take that follows the one in flight, for requests that started waiting meanwhile. */
  queued: Promise<void> | null;
  /** Requests waiting for the next take: it asks for at least that many. */
  waiters: number;
}

export class RpmLeases {
  private readonly tracked = new Map<number, Tracked>();
  private active: Tracked[] = [];
  private instances = 1;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly link: RedisLink,
    private readonly table: EntityTable,
    private readonly leasable: () => Leasable[],
    private readonly instanceId: string,
    private readonly now: () => number = Date.now,
  ) {
    const cmd = link.cmd as unknown as { defineCommand(n: string, d: { numberOfKeys: number; lua: string }): void };
    cmd.defineCommand('weirGrant', { numberOfKeys: 1, lua: GRANT });
    cmd.defineCommand('weirReconcile', { numberOfKeys: 1, lua: RECONCILE });
    link.onUp(() => void this.reconcile());
  }

  start(): void {
    this.scan();
    const every = (fn: () => void, ms: number) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(() => this.scan(), SCAN_MS);
    every(() => this.tick(), TICK_MS);
    every(() => void this.heartbeat(), HEARTBEAT_MS);
    void this.heartbeat();
  }

  /** Instances seen in the last few seconds (1 until Redis answered). */
  get instanceCount(): number {
    return this.instances;
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** Records under leases now: new rate-limited ones start leased, ones that lost their rpm stop. */
  private scan(): void {
    const minute = this.minute();
    const seen = new Set<number>();
    const active: Tracked[] = [];
    for (const l of this.leasable()) {
      seen.add(l.rec);
      let t = this.tracked.get(l.rec);
      if (!t || t.id !== l.id) {
        t = { id: l.id, rec: l.rec, strict: l.strict, granted: new Map(), lastTakeCount: 0, lastTakeMs: 0, lastSize: 1, taking: null, queued: null, waiters: 0 };
        this.tracked.set(l.rec, t);
        if (this.table.rpmLease(l.rec, minute) < 0) this.table.startRpmLease(l.rec, minute);
      }
      this.table.ageRpmLease(l.rec, minute);
      t.strict = l.strict;
      if (t.strict) continue; // nothing to refill ahead
      if (this.table.requestsIn(l.rec, minute) > 0 || this.table.rpmLease(l.rec, minute) > 0) active.push(t);
    }
    for (const [rec] of this.tracked) {
      if (!seen.has(rec)) {
        this.tracked.delete(rec);
        // A reused record was reset already; one whose rpm was removed goes back to local limits.
        this.table.stopRpmLease(rec);
      }
    }
    this.active = active;
  }

  /** Refills busy leases before they run out, and takes the next minute's for busy entities. */
  private tick(): void {
    const nowMs = this.now();
    const minute = Math.floor(nowMs / 60_000);
    const prefetch = (minute + 1) * 60_000 - nowMs <= PREFETCH_MS;
    for (const t of this.active) {
      // A low limit (under 8 requests per instance) is leased only on demand: a request held
      // ahead on an idle instance would be one another instance refuses.
      if (this.table.limit(t.rec, 'requests') < 8 * this.instances) continue;
      const used = this.table.requestsIn(t.rec, minute);
      const held = this.table.rpmLease(t.rec, minute);
      if (used > 0 && held - used <= Math.floor(t.lastSize / 2)) void this.take(t, minute, false);
      else if (prefetch && used > 0 && this.table.rpmLease(t.rec, minute + 1) <= 0) void this.take(t, minute + 1, false);
    }
  }

  /** A worker's request found this record's lease spent: resolves once a lease was tried for. */
  async waitFor(rec: number): Promise<LeaseWait> {
    // A record leased since the last walk (a key just created or looked up): walk now.
    if (!this.tracked.has(rec)) this.scan();
    const t = this.tracked.get(rec);
    if (!t) return 'granted';
    // Strict limits fail closed: no Redis, no grant (the request is refused with a 503).
    if (t.strict && !this.link.up) return 'strict_unavailable';
    if (!t.strict && !this.active.includes(t)) this.active.push(t);
    redisStats.leaseWaits++;
    t.waiters++;
    await this.take(t, this.minute(), true);
    return t.strict && !this.link.up ? 'strict_unavailable' : 'granted';
  }

  private minute(): number {
    return Math.floor(this.now() / 60_000);
  }

  /** One lease at a time per record: callers arriving meanwhile share it. */
  private take(t: Tracked, minute: number, waited: boolean): Promise<void> {
    if (t.taking && waited) {
      // The take in flight was sized before these requests waited: they get the next one.
      t.queued ??= t.taking.then(() => {
        t.queued = null;
        return this.take(t, this.minute(), true);
      });
      return t.queued;
    }
    if (t.taking) return t.taking;
    t.taking = this.grant(t, minute, waited).finally(() => {
      t.taking = null;
    });
    return t.taking;
  }

  private size(t: Tracked, limit: number): number {
    const nowMs = this.now();
    const cap = Math.max(1, Math.floor(limit / (4 * this.instances)));
    const used = this.table.requestsIn(t.rec, Math.floor(nowMs / 60_000));
    const elapsed = Math.max(1, nowMs - t.lastTakeMs);
    const since = Math.max(0, used - t.lastTakeCount);
    // What the last take's traffic would use in AHEAD_MS; it grows as traffic does, up to the cap.
    const want = Math.ceil((since * AHEAD_MS) / elapsed);
    return Math.max(1, Math.min(cap, Math.max(want, t.lastSize)));
  }

  private async grant(t: Tracked, minute: number, waited: boolean): Promise<void> {
    const limit = this.table.limit(t.rec, 'requests');
    if (limit < 0) return;
    const held = Math.max(0, this.table.rpmLease(t.rec, minute));
    const waiting = t.waiters;
    t.waiters = 0;
    if (!this.link.up) {
      if (t.strict) return;
      // Alone until Redis is back: this instance's share of the limit, reconciled later.
      const share = Math.ceil(limit / this.instances);
      if (held < share) this.table.setRpmLease(t.rec, minute, share);
      return;
    }
    // Requests waiting now are consumed at once: asking for them leaves nothing idle in the lease.
    const want = t.strict ? waiting : Math.max(this.size(t, limit), waiting);
    if (want <= 0) return;
    try {
      const got = Number(await this.rpc().weirGrant(keyOf(t.id, minute), limit, want, TTL_MS, this.instanceId));
      redisStats.leaseRefills++;
      t.granted.set(minute, (t.granted.get(minute) ?? 0) + got);
      for (const m of t.granted.keys()) if (m < minute - 1) t.granted.delete(m);
      if (got > 0) this.table.setRpmLease(t.rec, minute, Math.max(0, this.table.rpmLease(t.rec, minute)) + got);
      t.lastTakeCount = this.table.requestsIn(t.rec, Math.floor(this.now() / 60_000));
      t.lastTakeMs = this.now();
      // A spent lease that had to be waited for doubles the next one; an unused grant keeps it.
      t.lastSize = waited ? Math.min(want * 2, Math.max(1, Math.floor(limit / (4 * this.instances)))) : want;
    } catch {
      // Redis went away mid-call: the next attempt takes the local share.
      if (waited && !this.link.up) return this.grant(t, minute, waited);
    }
  }

  /**
   * Redis is back (or was restarted, empty): this instance's field of each minute it was busy in
   * becomes what it admitted or holds, whichever is more — the requests it admitted alone are
   * counted once, and a Redis that lost its data learns every instance's grants again.
   */
  private async reconcile(): Promise<void> {
    const minute = this.minute();
    let added = 0;
    let busy = 0;
    for (const t of this.tracked.values()) {
      const used = this.table.requestsIn(t.rec, minute);
      const known = t.granted.get(minute) ?? 0;
      if (used === 0 && known === 0) continue;
      busy++;
      const claim = Math.max(used, known);
      let field: number;
      try {
        field = Number(await this.rpc().weirReconcile(keyOf(t.id, minute), claim, TTL_MS, this.instanceId));
      } catch {
        return; // down again: the next reconnection reconciles
      }
      added += Math.max(0, used - known);
      t.granted.set(minute, field);
      // From now on the lease is what Redis holds for this instance: the local share is gone.
      this.table.setRpmLease(t.rec, minute, field);
    }
    redisStats.reconciledRequests += added;
    if (busy > 0) log.info(`redis: reconciled ${added} request(s) admitted while it was away`);
  }

  private rpc(): LeaseCommands {
    return this.link.cmd as unknown as LeaseCommands;
  }

  /** Instances seen in the last few seconds: the lease size and the outage share divide by it. */
  private async heartbeat(): Promise<void> {
    if (!this.link.up) return;
    const nowMs = this.now();
    try {
      const r = await this.link.cmd.pipeline().zadd('weir:instances', nowMs, this.instanceId).zremrangebyscore('weir:instances', 0, nowMs - INSTANCE_TTL_MS).zcard('weir:instances').exec();
      const n = Number(r?.[2]?.[1] ?? 1);
      if (n > 0) this.instances = n;
    } catch {
      // the link reports the outage
    }
  }
}

interface LeaseCommands {
  weirGrant(key: string, limit: number, want: number, ttlMs: number, field: string): Promise<number>;
  weirReconcile(key: string, claim: number, ttlMs: number, field: string): Promise<number>;
}

const keyOf = (id: string, minute: number): string => `weir:{rpm:${id}}:${minute}`;
