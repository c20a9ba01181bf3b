// Per-minute limits (rpm, tpm) across Weir instances, by leases: the mechanism both share; what
// each bounds is stated in rpm-leases.ts and tpm-leases.ts. Redis holds, per rate-limited key or
// team and per minute, one hash whose field per instance is what that instance was granted (or
// claimed: tokens it counted past its grants); an instance takes a slice (a lease) with one Lua
// script that never grants past the limit, and its workers admit from shared memory up to what
// this instance holds (EntityTable.lease). The instance's lease is its field in Redis.
//
// Leases are refilled in the background (a 50 ms tick, before the lease runs out, sized to the
// traffic of the last take); a request that finds its instance's lease spent waits for one script
// run (worker → control thread → Redis) and is admitted again, and waits again while Redis still
// had room (src/gateway/lease-retry.ts), so an idle instance does not refuse what the limit still
// allows. A low limit is leased only on demand, never ahead. While Redis is down each instance
// admits on its own up to ceil(limit / N) a minute (N as last seen); what it admitted is claimed in
// Redis when Redis is back (RECONCILE never lowers a field: nothing counted twice or lost). For the
// rest of the minute Redis came back in, nothing is leased ahead, only what waiting requests need:
// a Redis that restarted empty learns each instance's admissions only as that instance
// reconnects, and a lease taken ahead before then would be granted out of room those admissions
// had already used (the rpm passed in Redis's own count). Redis keys carry the entity in a hash
// tag, for Cluster.
import { log } from '../log';
import type { EntityTable, MinuteKind } from '../state/entity-table';
import type { RedisLink } from './link';
import { redisStats } from './stats';

const TICK_MS = 50;
/** Active entities are rediscovered this often (a full walk of the rate-limited records). */
const SCAN_MS = 1_000;
/** The next minute's lease is taken this long before it starts, for entities busy this minute. */
const PREFETCH_MS = 2_000;
/** A lease ahead of use covers this long of the instance's recent traffic. */
const AHEAD_MS = 5_000;
const TTL_MS = 120_000;

// The instance's field first becomes at least what it counted (`claim`: tokens are known only after
// the call, so an instance may have counted past its grants; those are used, and count against
// the limit even past it), then it is granted up to `want` while the fields sum within the limit.
// Returns the grant and the field: the field is what the instance may admit this minute.
const GRANT = `
local field = tonumber(redis.call('HGET', KEYS[1], ARGV[4]) or '0')
local claim = tonumber(ARGV[5])
if claim > field then
  redis.call('HSET', KEYS[1], ARGV[4], claim)
  field = claim
end
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
local grant = math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) - total)
if grant > 0 then field = redis.call('HINCRBY', KEYS[1], ARGV[4], grant) else grant = 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {grant, field}`;

// A Redis that restarted empty is rebuilt field by field from what each instance holds.
const RECONCILE = `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
local want = tonumber(ARGV[1])
if want > cur then
  redis.call('HSET', KEYS[1], ARGV[3], want)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return want
end
return cur`;

export interface Leasable {
  /** Stable across instances: 'key:<token hash>' or 'team:<team_id>'. */
  id: string;
  rec: number;
  /** weir_strict_limits: no lease held ahead; each request waits for its own grant. */
  strict: boolean;
}

/** What a waiting request learns: the lease grew (try again), Redis had no room left, or (strict, Redis down) refuse with a 503. */
export type LeaseWait = 'granted' | 'exhausted' | 'strict_unavailable';

/** What differs between the limits leased per minute. */
export interface MinutePolicy {
  kind: MinuteKind;
  /** In Redis keys: 'rpm', 'tpm'. */
  name: string;
  /** What one request takes of the limit, as this instance saw it lately (≥ 1). */
  perRequest(table: EntityTable, rec: number, minute: number): number;
  /**
   * What `waiting` requests need granted now to be admitted (strict: exactly that, nothing ahead);
   * `cap` is the largest lease held ahead (limit / 4 N).
   */
  forWaiters(waiting: number, perRequest: number, strict: boolean, cap: number): number;
}

interface Tracked {
  id: string;
  rec: number;
  strict: boolean;
  /** Minute → this instance's field in Redis (what it was granted or claimed; two minutes kept). */
  granted: Map<number, number>;
  /** Use and time at the last take, for the lease size. */
  lastTakeCount: number;
  lastTakeMs: number;
  lastSize: number;
  taking: Promise<void> | null;
  /** The take that follows the one in flight, for requests that started waiting meanwhile. */
  queued: Promise<void> | null;
  /** Requests waiting for the next take: it asks for at least what they need. */
  waiters: number;
}

export class MinuteLeases {
  private readonly tracked = new Map<number, Tracked>();
  private active: Tracked[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly kind: MinuteKind;
  /** The minute Redis came back in after an outage: leased on demand only (see the header). */
  private recoveryMinute = -1;

  constructor(
    private readonly link: RedisLink,
    private readonly table: EntityTable,
    private readonly policy: MinutePolicy,
    private readonly leasable: () => Leasable[],
    private readonly instanceId: string,
    private readonly instances: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.kind = policy.kind;
    const cmd = link.cmd as unknown as { defineCommand(n: string, d: { numberOfKeys: number; lua: string }): void };
    cmd.defineCommand('weirGrant', { numberOfKeys: 1, lua: GRANT });
    cmd.defineCommand('weirReconcile', { numberOfKeys: 1, lua: RECONCILE });
    link.onUp((afterOutage) => {
      if (afterOutage) this.recoveryMinute = this.minute();
      void this.reconcile();
    });
  }

  start(): void {
    this.scan();
    for (const [fn, ms] of [[() => this.scan(), SCAN_MS], [() => this.tick(), TICK_MS]] as const) {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** No Redis any more (a reload removed it): the records go back to their local limits. */
  release(): void {
    for (const rec of this.tracked.keys()) this.table.stopLease(rec, this.kind);
    this.tracked.clear();
    this.active = [];
  }

  private used(rec: number, minute: number): number {
    return this.kind === 'requests' ? this.table.requestsIn(rec, minute) : this.table.tokensInMinute(rec, minute);
  }

  /** Records under leases now: new rate-limited ones start leased, ones that lost their limit stop. */
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
        // Nothing held until Redis (this link's) granted it: the lease words left from another
        // link (a reload that changed Redis) is not this Redis's to spend. The first take claims
        // what was admitted this minute, and a grant on the same Redis returns what was held.
        this.table.startLease(l.rec, this.kind, minute);
      }
      this.table.ageLease(l.rec, this.kind, minute);
      t.strict = l.strict;
      if (this.used(l.rec, minute) > 0 || this.table.lease(l.rec, this.kind, minute) > 0) active.push(t);
    }
    for (const [rec] of this.tracked) {
      if (!seen.has(rec)) {
        this.tracked.delete(rec);
        // A reused record was reset already; one whose limit was removed goes back to local limits.
        this.table.stopLease(rec, this.kind);
      }
    }
    this.active = active;
  }

  /**
   * Claims what busy records counted past their field (tokens of calls that ended after their
   * admission), refills leases before they run out, and takes the next minute's for busy entities.
   */
  private tick(): void {
    if (!this.link.up) return;
    const nowMs = this.now();
    const minute = Math.floor(nowMs / 60_000);
    const prefetch = (minute + 1) * 60_000 - nowMs <= PREFETCH_MS;
    const n = this.instances();
    for (const t of this.active) {
      const used = this.used(t.rec, minute);
      if (used > (t.granted.get(minute) ?? 0)) {
        void this.take(t, minute, false);
        continue;
      }
      if (t.strict) continue; // nothing held ahead
      if (minute === this.recoveryMinute) continue; // on demand only until the minute ends
      // A low limit (under 8 requests per instance) is leased only on demand: a lease held ahead
      // on an idle instance would be a request another instance refuses.
      if (this.table.limit(t.rec, this.kind) < 8 * n * this.policy.perRequest(this.table, t.rec, minute)) continue;
      const held = this.table.lease(t.rec, this.kind, minute);
      if (used > 0 && held - used <= Math.floor(t.lastSize / 2)) void this.take(t, minute, false);
      else if (prefetch && used > 0 && this.table.lease(t.rec, this.kind, minute + 1) <= 0) void this.take(t, minute + 1, false);
    }
  }

  /** A worker's request found this record's lease spent: resolves once a lease was tried for. */
  async waitFor(rec: number): Promise<LeaseWait> {
    // A record leased since the last walk (a key just created or looked up): walk now.
    if (!this.tracked.has(rec)) this.scan();
    const t = this.tracked.get(rec);
    if (!t) return 'exhausted';
    // Strict limits fail closed: no Redis, no grant (the request is refused with a 503).
    if (t.strict && !this.link.up) return 'strict_unavailable';
    if (!this.active.includes(t)) this.active.push(t);
    redisStats.leaseWaits++;
    const minute = this.minute();
    const before = this.table.lease(rec, this.kind, minute);
    t.waiters++;
    await this.take(t, minute, true);
    if (t.strict && !this.link.up) return 'strict_unavailable';
    // A new minute is new room; else only a lease that grew admits anything more.
    const after = this.minute();
    return after !== minute || this.table.lease(rec, this.kind, after) > before ? 'granted' : 'exhausted';
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

  private cap(limit: number): number {
    return Math.max(1, Math.floor(limit / (4 * this.instances())));
  }

  private size(t: Tracked, limit: number): number {
    const nowMs = this.now();
    const used = this.used(t.rec, Math.floor(nowMs / 60_000));
    const elapsed = Math.max(1, nowMs - t.lastTakeMs);
    const since = Math.max(0, used - t.lastTakeCount);
    // What the last take's traffic would use in AHEAD_MS; it grows as traffic does, up to the cap.
    const want = Math.ceil((since * AHEAD_MS) / elapsed);
    return Math.max(1, Math.min(this.cap(limit), Math.max(want, t.lastSize)));
  }

  private async grant(t: Tracked, minute: number, waited: boolean): Promise<void> {
    const limit = this.table.limit(t.rec, this.kind);
    if (limit < 0) return;
    const held = Math.max(0, this.table.lease(t.rec, this.kind, minute));
    const waiting = t.waiters;
    t.waiters = 0;
    if (!this.link.up) {
      if (t.strict) return;
      // Alone until Redis is back: this instance's share of the limit, reconciled later.
      const share = Math.ceil(limit / this.instances());
      if (held < share) this.table.setLease(t.rec, this.kind, minute, share);
      return;
    }
    const used = this.used(t.rec, minute);
    const known = t.granted.get(minute) ?? 0;
    const per = this.policy.perRequest(this.table, t.rec, minute);
    const low = limit < 8 * this.instances() * per;
    // Requests waiting now are admitted at once: what they need leaves nothing idle in the lease.
    // Beyond that a lease ahead, unless the limit is strict or low.
    const need = waiting > 0 ? this.policy.forWaiters(waiting, per, t.strict, this.cap(limit)) : 0;
    const want = t.strict || low || minute === this.recoveryMinute ? need : Math.max(this.size(t, limit), need);
    // Nothing to ask: a claim alone (counted past the field) still goes to Redis.
    if (want <= 0 && used <= known) return;
    try {
      const [, field] = (await this.rpc().weirGrant(keyOf(this.policy.name, t.id, minute), limit, Math.max(0, want), TTL_MS, this.instanceId, used)).map(Number) as [number, number];
      redisStats.leaseRefills++;
      t.granted.set(minute, field);
      for (const m of t.granted.keys()) if (m < minute - 1) t.granted.delete(m);
      // The lease is the field: what this instance was granted this minute, claims included.
      this.table.setLease(t.rec, this.kind, minute, field);
      t.lastTakeCount = this.used(t.rec, Math.floor(this.now() / 60_000));
      t.lastTakeMs = this.now();
      // A spent lease that had to be waited for doubles the next one; an unused grant keeps it.
      if (want > 0) t.lastSize = waited ? Math.min(want * 2, this.cap(limit)) : want;
    } catch {
      // Redis went away mid-call: the next attempt takes the local share.
      if (waited && !this.link.up) return this.grant(t, minute, waited);
    }
  }

  /**
   * Redis is back (or was restarted, empty): this instance's field of each minute it was busy in
   * becomes what it admitted or holds, whichever is more — what it admitted alone is counted once,
   * and a Redis that lost its data learns every instance's grants again.
   */
  private async reconcile(): Promise<void> {
    const minute = this.minute();
    let added = 0;
    let busy = 0;
    for (const t of this.tracked.values()) {
      const used = this.used(t.rec, minute);
      const known = t.granted.get(minute) ?? 0;
      if (used === 0 && known === 0) continue;
      busy++;
      let field: number;
      try {
        field = Number(await this.rpc().weirReconcile(keyOf(this.policy.name, t.id, minute), Math.max(used, known), TTL_MS, this.instanceId));
      } catch {
        return; // down again: the next reconnection reconciles
      }
      added += Math.max(0, used - known);
      t.granted.set(minute, field);
      // From now on the lease is what Redis holds for this instance: the local share is gone.
      this.table.setLease(t.rec, this.kind, minute, field);
    }
    if (this.kind === 'requests') redisStats.reconciledRequests += added;
    const unit = this.kind === 'requests' ? 'request(s)' : 'token(s)';
    if (busy > 0) log.info(`redis: reconciled ${added} ${unit} admitted while it was away`);
  }

  private rpc(): LeaseCommands {
    return this.link.cmd as unknown as LeaseCommands;
  }
}

interface LeaseCommands {
  weirGrant(key: string, limit: number, want: number, ttlMs: number, field: string, claim: number): Promise<[number, number]>;
  weirReconcile(key: string, claim: number, ttlMs: number, field: string): Promise<number>;
}

const keyOf = (name: string, id: string, minute: number): string => `weir:{${name}:${id}}:${minute}`;
