// Budgets (max_budget of keys and teams) across Weir instances, by leases. Redis holds, per budget
// and budget window (its budget_reset_at), the spend the database had when leasing began
// (`_start`) and, per instance, how much of the budget it was granted; a Lua script grants a slice
// only while `_start` + every grant stays within the budget. An instance's workers reserve from
// shared memory as before, and a reservation must also fit in what this instance was granted
// minus what it settled since (EntityTable.budgetHeadroom). So:
//
//   Bound. Spend across instances passes the budget by no more than one instance alone could:
//   the reserve-then-settle estimation error (src/gateway/reservation.ts) — every call's cost is
//   covered by a grant, and the grants sum to at most the budget. On the other side, grants held
//   and not spent by an idle instance (at most budget / (4 N) each) are unavailable to others:
//   the budget may refuse up to N × budget / (4 N) early. Spend another process writes to the
//   tables without leasing (a LiteLLM proxy, a hand edit) is seen only through the database, as
//   before. While Redis is down an instance spends what its grants hold and nothing more; strict
//   budgets (weir_strict_limits) are refused with a 503.
//
// Amounts in Redis are micro-dollars (Lua numbers are doubles: exact to 9e9 USD). A Redis restarted
// empty is rebuilt: the first instance back writes the database's spend as `_start`, each its
// grants not yet committed to the database.
import type { EntityTable } from '../state/entity-table';
import type { RedisLink } from './link';
import { redisStats } from './stats';

const TICK_MS = 50;
const SCAN_MS = 1_000;
/** Budgets live for their window; the hash outlives any window Weir resets (LiteLLM's longest is 30 days). */
const TTL_MS = 40 * 24 * 3_600_000;
const NANOS_PER_MICRO = 1_000n;
/** A grant ahead of use covers this long of the instance's recent spend. */
const AHEAD_MS = 5_000;

const GRANT = `
redis.call('HSETNX', KEYS[1], '_start', ARGV[4])
local total = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(v) end
local grant = math.min(tonumber(ARGV[2]), tonumber(ARGV[1]) - total)
if grant <= 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[3], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return grant`;

const REBUILD = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], '_start', ARGV[1]) end
redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

export interface BudgetLeasable {
  /** 'key:<token hash>' or 'team:<team_id>', with the budget window: the same on every instance. */
  id: string;
  window: string;
  rec: number;
  strict: boolean;
}

export type BudgetWait = 'granted' | 'exhausted' | 'strict_unavailable';

interface Tracked {
  l: BudgetLeasable;
  lastOwn: bigint;
  lastSize: bigint;
  /** Settled here and time at the last grant: the spend rate sizes the next one. */
  takeOwn: bigint;
  takeMs: number;
  waitingNanos: bigint;
  taking: Promise<void> | null;
  queued: Promise<void> | null;
}

interface Commands {
  weirBudgetGrant(key: string, maxMicros: string, wantMicros: string, field: string, startMicros: string, ttlMs: number): Promise<number>;
  weirBudgetRebuild(key: string, startMicros: string, field: string, outstandingMicros: string, ttlMs: number): Promise<number>;
}

const micros = (nanos: bigint, up: boolean): bigint => (up ? (nanos + NANOS_PER_MICRO - 1n) / NANOS_PER_MICRO : nanos / NANOS_PER_MICRO);

export class BudgetLeases {
  private readonly tracked = new Map<number, Tracked>();
  private active: Tracked[] = [];
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly link: RedisLink,
    private readonly table: EntityTable,
    private readonly leasable: () => BudgetLeasable[],
    private readonly instanceId: string,
    private readonly instances: () => number,
  ) {
    const cmd = link.cmd as unknown as { defineCommand(n: string, d: { numberOfKeys: number; lua: string }): void };
    cmd.defineCommand('weirBudgetGrant', { numberOfKeys: 1, lua: GRANT });
    cmd.defineCommand('weirBudgetRebuild', { numberOfKeys: 1, lua: REBUILD });
    link.onUp(() => void this.rebuild());
  }

  start(): void {
    this.scan();
    // Grants this instance holds from before (a reload that moved Redis) are written into this
    // Redis as after a restart: the link came up before anything was tracked.
    if (this.link.up) void this.rebuild();
    for (const [fn, ms] of [[() => this.scan(), SCAN_MS], [() => this.tick(), TICK_MS]] as const) {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
  }

  /** No Redis any more (a reload removed it): the budgets go back to this instance's own check. */
  release(): void {
    for (const rec of this.tracked.keys()) this.table.stopBudgetLease(rec);
    this.tracked.clear();
    this.active = [];
  }

  private scan(): void {
    const seen = new Set<number>();
    const active: Tracked[] = [];
    for (const l of this.leasable()) {
      seen.add(l.rec);
      let t = this.tracked.get(l.rec);
      if (!t || t.l.id !== l.id || t.l.window !== l.window) {
        // A new budget window (or a reused record) starts with nothing granted.
        if (t) this.table.startBudgetLease(l.rec);
        t = { l, lastOwn: 0n, lastSize: 0n, takeOwn: 0n, takeMs: Date.now(), waitingNanos: 0n, taking: null, queued: null };
        this.tracked.set(l.rec, t);
      }
      if (this.table.budgetLease(l.rec) < 0n) this.table.startBudgetLease(l.rec);
      t.l = l;
      const own = this.table.ownSettled(l.rec);
      if (!l.strict && (own !== t.lastOwn || this.table.budgetHeadroom(l.rec) < this.table.budgetLease(l.rec))) active.push(t);
      t.lastOwn = own;
    }
    for (const [rec] of this.tracked) {
      if (!seen.has(rec)) {
        this.tracked.delete(rec);
        this.table.stopBudgetLease(rec);
      }
    }
    this.active = active;
  }

  /** Refills busy budgets' grants before a call finds them spent. */
  private tick(): void {
    if (!this.link.up) return;
    for (const t of this.active) {
      if (t.lastSize > 0n && this.table.budgetHeadroom(t.l.rec) < t.lastSize / 2n) void this.take(t, false);
    }
  }

  /** A call's reservation did not fit in this instance's grants: resolves once a grant was tried for. */
  async waitFor(rec: number, nanos: bigint): Promise<BudgetWait> {
    if (!this.tracked.has(rec)) this.scan();
    const t = this.tracked.get(rec);
    if (!t) return 'exhausted';
    if (!this.link.up) return t.l.strict ? 'strict_unavailable' : 'exhausted';
    if (!t.l.strict && !this.active.includes(t)) this.active.push(t);
    redisStats.leaseWaits++;
    t.waitingNanos += nanos;
    const before = this.table.budgetLease(rec);
    await this.take(t, true);
    if (t.l.strict && !this.link.up) return 'strict_unavailable';
    // Only grants that grew admit anything more (src/gateway/lease-retry.ts waits again on them).
    return this.table.budgetLease(rec) > before ? 'granted' : 'exhausted';
  }

  private take(t: Tracked, waited: boolean): Promise<void> {
    if (t.taking && waited) {
      t.queued ??= t.taking.then(() => {
        t.queued = null;
        return this.take(t, true);
      });
      return t.queued;
    }
    if (t.taking) return t.taking;
    t.taking = this.grant(t, waited).finally(() => {
      t.taking = null;
    });
    return t.taking;
  }

  private async grant(t: Tracked, waited: boolean): Promise<void> {
    const rec = t.l.rec;
    const max = this.table.maxBudgetNanos(rec);
    const waiting = t.waitingNanos;
    t.waitingNanos = 0n;
    if (max < 0n || !this.link.up) return;
    const cap = max / BigInt(4 * Math.max(1, this.instances()));
    // What waits is asked for whole (it is spent at once); beyond that, what this instance spends
    // in AHEAD_MS at its rate since the last grant — doubling while calls keep finding the grants
    // spent — up to a quarter of the budget shared by the instances.
    const nowMs = Date.now();
    const own = this.table.ownSettled(rec);
    const rate = ((own - t.takeOwn) * BigInt(AHEAD_MS)) / BigInt(Math.max(1, nowMs - t.takeMs));
    let ahead = t.l.strict ? 0n : waited ? (t.lastSize === 0n ? waiting : t.lastSize * 2n) : t.lastSize;
    if (!t.l.strict && rate > ahead) ahead = rate;
    if (ahead > cap) ahead = cap;
    const want = waiting + ahead;
    if (want <= 0n) return;
    const start = this.table.spendNanos(rec);
    try {
      const got = BigInt(await this.cmds().weirBudgetGrant(keyOf(t.l), String(micros(max, false)), String(micros(want, true)), this.instanceId, String(micros(start, true)), TTL_MS));
      redisStats.leaseRefills++;
      if (got > 0n) this.table.addBudgetLease(rec, got * NANOS_PER_MICRO);
      if (!t.l.strict) t.lastSize = ahead > 0n ? ahead : waiting;
      t.takeOwn = own;
      t.takeMs = nowMs;
    } catch {
      // Redis went away mid-call: this instance goes on with what it holds.
    }
  }

  /**
   * Redis came back. If it lost the budgets (restarted empty), each is rebuilt: the database's spend
   * as `_start` (the first instance back writes it) and this instance's grants not yet committed.
   */
  private async rebuild(): Promise<void> {
    for (const t of this.tracked.values()) {
      const rec = t.l.rec;
      const granted = this.table.budgetLease(rec);
      if (granted <= 0n) continue;
      const outstanding = granted - this.table.ownSettled(rec) + this.table.ownUncommitted(rec);
      try {
        await this.cmds().weirBudgetRebuild(keyOf(t.l), String(micros(this.table.spendNanos(rec), true)), this.instanceId, String(micros(outstanding > 0n ? outstanding : 0n, true)), TTL_MS);
      } catch {
        return;
      }
    }
  }

  private cmds(): Commands {
    return this.link.cmd as unknown as Commands;
  }
}

const keyOf = (l: BudgetLeasable): string => `weir:{budget:${l.id}}:${l.window}`;
