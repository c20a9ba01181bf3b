// Limits and counters of every governed entity (keys, users, teams, team members, end users,
// organizations, the global proxy budget), one fixed-width record each, in SharedArrayBuffers
// every worker maps. Money is an integer of nano-dollars in a BigInt64Array, changed only with
// Atomics; rate-limit windows are Int32 words. The control thread writes limits and the spend the
// database knows; workers only move the counters.
//
// Every value is brought into the range its word holds in one place (./entity-range.ts): a
// wrapped budget would read as "no budget", a wrapped expiry as long expired.
//
// Budgets are reserve-then-settle: a request reserves its worst-case cost on every entity it is
// charged to before it is forwarded, and is refused when spend + reservations would pass a
// budget. However many threads race, the sum of what they reserved never passes the budget.

const MONEY_WORDS = 6;
const BASE = 0; // spend the database has (committed), as last read by the control thread
const PENDING = 1; // settled here, not yet committed to the database
const RESERVED = 2; // reservations of requests in flight
const MAX_BUDGET = 3; // -1 when there is no budget
// Scale-out (src/redis/budget-leases.ts): 0 = the budget is not leased. Otherwise 1 + the nanos
// this instance was granted of the budget in all (Redis never grants past it), and OWN the spend
// this instance settled since; a reservation must fit in what the grants leave.
const BUDGET_LEASE = 4;
const OWN = 5;

import { nanosOutOfRange, nanosWord, storedLimits } from './entity-range';

const INT_WORDS = 13;
const FLAGS = 0;
const RPM = 1; // -1 = no limit
const TPM = 2;
const PARALLEL_LIMIT = 3;
const WINDOW = 4; // epoch minute TOKENS belongs to
const REQUESTS = 5; // window tag and request count, packed (see countRequest)
const TOKENS = 6;
const PARALLEL = 7;
const EXPIRES = 8; // epoch seconds, 0 = never
// Scale-out (src/redis/minute-leases.ts): the requests (RPM_LEASE) and tokens (TPM_LEASE) this
// instance may admit in a minute, leased from the shared Redis. 0 = not leased (RPM / TPM alone
// decide). Otherwise one word per minute parity, each the minute's tag and the grant packed (see
// packLease): a word whose tag is not the current minute's grants nothing, so a new minute never
// inherits an old lease.
const RPM_LEASE = 9; // and 10
const TPM_LEASE = 11; // and 12

const COUNT_BITS = 21;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
const WINDOW_TAG_MASK = (1 << (32 - COUNT_BITS)) - 1;

// A lease word below its tag: a 5-bit shift and 16 bits of units + 1, the grant being units << shift
// (rounded down: an instance never admits more than it was granted). Below 65,535 the grant is
// exact; above, it loses less than one part in 32,767, and a tpm in the millions still fits.
const UNIT_BITS = 16;
const UNIT_MASK = (1 << UNIT_BITS) - 1;
const MAX_LEASE = (UNIT_MASK - 1) * 2 ** 15;

/** A minute's grant as its lease word (the tag of `minute`, never 0). */
function packLease(minute: number, granted: number): number {
  let g = Math.max(0, Math.min(Math.floor(granted), MAX_LEASE));
  let shift = 0;
  while (g > UNIT_MASK - 1) {
    g = Math.floor(g / 2);
    shift++;
  }
  return (((minute & WINDOW_TAG_MASK) << COUNT_BITS) | (shift << UNIT_BITS) | (g + 1)) | 0;
}

/** What a lease word grants in `minute`: 0 when the word belongs to another minute. */
function leaseOf(word: number, minute: number): number {
  return word >>> COUNT_BITS === (minute & WINDOW_TAG_MASK) ? ((word & UNIT_MASK) - 1) * (1 << ((word >>> UNIT_BITS) & 31)) : 0;
}

/** The counters leased per minute across instances. */
export type MinuteKind = 'requests' | 'tokens';
const leaseWord = (kind: MinuteKind): number => (kind === 'requests' ? RPM_LEASE : TPM_LEASE);

export const FLAG_LIVE = 1;
export const FLAG_BLOCKED = 2;

export const NO_LIMIT = -1;

export interface EntityLimits {
  maxBudgetNanos: number | null;
  rpm: number | null;
  tpm: number | null;
  maxParallel: number | null;
  /** Epoch ms, or null. */
  expiresMs: number | null;
  blocked: boolean;
}

export interface EntityBuffers {
  money: SharedArrayBuffer;
  ints: SharedArrayBuffer;
}

export type LimitKind = 'requests' | 'tokens' | 'max_parallel_requests';

export class EntityTable {
  readonly money: BigInt64Array;
  readonly ints: Int32Array;
  readonly capacity: number;

  constructor(readonly buffers: EntityBuffers) {
    this.money = new BigInt64Array(buffers.money);
    this.ints = new Int32Array(buffers.ints);
    this.capacity = this.ints.length / INT_WORDS;
  }

  static allocate(capacity: number): EntityTable {
    return new EntityTable({
      money: new SharedArrayBuffer(capacity * MONEY_WORDS * 8),
      ints: new SharedArrayBuffer(capacity * INT_WORDS * 4),
    });
  }

  // ---- control thread ----------------------------------------------------------------------

  /**
   * Writes the limits of a record (control thread only). Values outside what the words hold are
   * clamped; the names of those fields are returned (empty when everything was in range).
   */
  setLimits(rec: number, l: EntityLimits): string[] {
    const i = rec * INT_WORDS;
    const v = storedLimits(l);
    Atomics.store(this.money, rec * MONEY_WORDS + MAX_BUDGET, v.maxBudget);
    Atomics.store(this.ints, i + RPM, v.rpm);
    Atomics.store(this.ints, i + TPM, v.tpm);
    Atomics.store(this.ints, i + PARALLEL_LIMIT, v.maxParallel);
    Atomics.store(this.ints, i + EXPIRES, v.expires);
    Atomics.store(this.ints, i + FLAGS, FLAG_LIVE | (l.blocked ? FLAG_BLOCKED : 0));
    return v.clamped;
  }

  /** Sets the blocked flag of a live record, its limits untouched (control thread only). */
  block(rec: number): void {
    const i = rec * INT_WORDS + FLAGS;
    if (Atomics.load(this.ints, i) & FLAG_LIVE) Atomics.or(this.ints, i, FLAG_BLOCKED);
  }

  /** Marks a record gone (deleted entity): lookups through it fail from now on. */
  retire(rec: number): void {
    Atomics.store(this.ints, rec * INT_WORDS + FLAGS, 0);
  }

  /**
   * No request holds the record: none took a rate-limit slot on it (admit() counts every admitted
   * request in PARALLEL, limit or not, until release()) and nothing is reserved on it.
   */
  unheld(rec: number): boolean {
    return Atomics.load(this.ints, rec * INT_WORDS + PARALLEL) === 0 && Atomics.load(this.money, rec * MONEY_WORDS + RESERVED) === 0n;
  }

  /** Unheld, and everything settled on it is committed to the database (nothing pending). */
  quiet(rec: number): boolean {
    return this.unheld(rec) && Atomics.load(this.money, rec * MONEY_WORDS + PENDING) === 0n;
  }

  /** Clears a retired record before it is handed to another entity (control thread, once unheld). */
  reset(rec: number): void {
    for (let w = 0; w < MONEY_WORDS; w++) Atomics.store(this.money, rec * MONEY_WORDS + w, 0n);
    for (let w = 0; w < INT_WORDS; w++) Atomics.store(this.ints, rec * INT_WORDS + w, 0);
    Atomics.store(this.money, rec * MONEY_WORDS + MAX_BUDGET, -1n);
    for (const w of [RPM, TPM, PARALLEL_LIMIT]) Atomics.store(this.ints, rec * INT_WORDS + w, NO_LIMIT);
  }

  /**
   * The spend the database holds, as just read (control thread; never while a flush is applied).
   * True when it was out of range and clamped.
   */
  setBaseSpend(rec: number, nanos: number): boolean {
    Atomics.store(this.money, rec * MONEY_WORDS + BASE, nanosWord(nanos));
    return nanosOutOfRange(nanos);
  }

  /** Spend another process recorded and this flush committed: the database has it, we did not. */
  addBase(rec: number, nanos: number): void {
    Atomics.add(this.money, rec * MONEY_WORDS + BASE, nanosWord(nanos));
  }

  /** A flush committed `nanos` of this record's pending spend to the database. */
  commitPending(rec: number, nanos: number): void {
    const n = nanosWord(nanos);
    Atomics.add(this.money, rec * MONEY_WORDS + BASE, n);
    Atomics.sub(this.money, rec * MONEY_WORDS + PENDING, n);
  }

  /**
   * A new budget window of a record whose spend the database does not hold (a key's per-model
   * budget): what was spent so far stops counting. Settles racing with it count in the new window.
   */
  resetSpend(rec: number): void {
    const m = rec * MONEY_WORDS;
    Atomics.store(this.money, m + BASE, -Atomics.load(this.money, m + PENDING));
  }

  // ---- workers -----------------------------------------------------------------------------

  flags(rec: number): number {
    return Atomics.load(this.ints, rec * INT_WORDS + FLAGS);
  }

  expiresSec(rec: number): number {
    return Atomics.load(this.ints, rec * INT_WORDS + EXPIRES);
  }

  /** Spend as this instance knows it: committed + settled here (nano-dollars). */
  spendNanos(rec: number): bigint {
    const m = rec * MONEY_WORDS;
    return Atomics.load(this.money, m + BASE) + Atomics.load(this.money, m + PENDING);
  }

  maxBudgetNanos(rec: number): bigint {
    return Atomics.load(this.money, rec * MONEY_WORDS + MAX_BUDGET);
  }

  /**
   * Reserves `nanos` against the record's budget. False (and nothing reserved) when spend plus
   * every reservation, this one included, would pass the budget. LiteLLM refuses only once spend
   * is already over; refusing on spend + reserved is what keeps concurrent requests inside it.
   */
  reserve(rec: number, nanos: bigint): boolean {
    const m = rec * MONEY_WORDS;
    const max = Atomics.load(this.money, m + MAX_BUDGET);
    if (max < 0n) {
      Atomics.add(this.money, m + RESERVED, nanos);
      return true;
    }
    const reservedAfter = Atomics.add(this.money, m + RESERVED, nanos) + nanos;
    const spend = Atomics.load(this.money, m + BASE) + Atomics.load(this.money, m + PENDING);
    // A request that costs nothing passes as long as the budget is not already spent.
    if (spend + reservedAfter > max && (nanos > 0n || spend >= max)) {
      Atomics.sub(this.money, m + RESERVED, nanos);
      return false;
    }
    // Shared across instances: the reservation must also fit in what this instance was granted.
    const lease = Atomics.load(this.money, m + BUDGET_LEASE);
    if (lease !== 0n && nanos > 0n && Atomics.load(this.money, m + OWN) + reservedAfter > lease - 1n) {
      Atomics.sub(this.money, m + RESERVED, nanos);
      return false;
    }
    return true;
  }

  /** Replaces a reservation by what the request really cost. */
  settle(rec: number, reservedNanos: bigint, actualNanos: bigint): void {
    const m = rec * MONEY_WORDS;
    // Counted against the grants before the reservation goes, so the pair never looks freer than it is.
    if (Atomics.load(this.money, m + BUDGET_LEASE) !== 0n) Atomics.add(this.money, m + OWN, actualNanos);
    Atomics.add(this.money, m + PENDING, actualNanos);
    Atomics.sub(this.money, m + RESERVED, reservedNanos);
  }

  // ---- budget leases (control thread writes; see BUDGET_LEASE) ------------------------------

  /** Nanos this instance was granted in all, or -1 when the budget is not leased. */
  budgetLease(rec: number): bigint {
    return Atomics.load(this.money, rec * MONEY_WORDS + BUDGET_LEASE) - 1n;
  }

  /** Puts the budget under leases (nothing granted yet, nothing settled under them). */
  startBudgetLease(rec: number): void {
    Atomics.store(this.money, rec * MONEY_WORDS + OWN, 0n);
    Atomics.store(this.money, rec * MONEY_WORDS + BUDGET_LEASE, 1n);
  }

  stopBudgetLease(rec: number): void {
    Atomics.store(this.money, rec * MONEY_WORDS + BUDGET_LEASE, 0n);
  }

  addBudgetLease(rec: number, nanos: bigint): void {
    Atomics.add(this.money, rec * MONEY_WORDS + BUDGET_LEASE, nanos);
  }

  /** What the grants leave: granted - settled here since - reserved here now (negative when over). */
  budgetHeadroom(rec: number): bigint {
    const m = rec * MONEY_WORDS;
    const lease = Atomics.load(this.money, m + BUDGET_LEASE);
    if (lease === 0n) return -1n;
    return lease - 1n - Atomics.load(this.money, m + OWN) - Atomics.load(this.money, m + RESERVED);
  }

  /** Settled here under leases and not yet committed to the database's spend. */
  ownUncommitted(rec: number): bigint {
    return Atomics.load(this.money, rec * MONEY_WORDS + PENDING);
  }

  /** Settled here since the budget was leased. */
  ownSettled(rec: number): bigint {
    return Atomics.load(this.money, rec * MONEY_WORDS + OWN);
  }

  /**
   * Counts a request against the record's rpm, tpm and parallel limits in the current 60-second
   * window. Returns null when admitted, else which limit refused it (and nothing was counted).
   */
  admit(rec: number, nowMs: number): LimitKind | null {
    const i = rec * INT_WORDS;
    const minute = Math.floor(nowMs / 60_000);
    let tpm = Atomics.load(this.ints, i + TPM);
    if (tpm >= 0) {
      const lease = Atomics.load(this.ints, i + TPM_LEASE + (minute & 1));
      if (lease !== 0) tpm = Math.min(tpm, leaseOf(lease, minute));
      if (this.tokensIn(i, minute) >= tpm) return 'tokens';
    }
    let rpm = Atomics.load(this.ints, i + RPM);
    if (rpm >= 0) {
      const lease = Atomics.load(this.ints, i + RPM_LEASE + (minute & 1));
      if (lease !== 0) rpm = Math.min(rpm, leaseOf(lease, minute));
    }
    if (!this.countRequest(i, minute, rpm)) return 'requests';
    const par = Atomics.load(this.ints, i + PARALLEL_LIMIT);
    if (Atomics.add(this.ints, i + PARALLEL, 1) >= par && par >= 0) {
      Atomics.sub(this.ints, i + PARALLEL, 1);
      this.uncountRequest(i, minute);
      return 'max_parallel_requests';
    }
    return null;
  }

  /**
   * The request count and its window share one word (window in the high 11 bits, count in the
   * low 21), so rolling the window and counting are one compare-and-swap: exact at the minute
   * boundary too, whatever the number of threads.
   */
  private countRequest(i: number, minute: number, rpm: number): boolean {
    const tag = minute & WINDOW_TAG_MASK;
    for (;;) {
      const word = Atomics.load(this.ints, i + REQUESTS);
      const count = (word >>> COUNT_BITS) === tag ? word & COUNT_MASK : 0;
      if (rpm >= 0 && count >= rpm) return false;
      const next = ((tag << COUNT_BITS) | Math.min(count + 1, COUNT_MASK)) | 0;
      if (Atomics.compareExchange(this.ints, i + REQUESTS, word, next) === word) return true;
    }
  }

  private uncountRequest(i: number, minute: number): void {
    const tag = minute & WINDOW_TAG_MASK;
    for (;;) {
      const word = Atomics.load(this.ints, i + REQUESTS);
      if (word >>> COUNT_BITS !== tag || (word & COUNT_MASK) === 0) return;
      if (Atomics.compareExchange(this.ints, i + REQUESTS, word, word - 1) === word) return;
    }
  }

  private tokensIn(i: number, minute: number): number {
    return Atomics.load(this.ints, i + WINDOW) === minute ? Atomics.load(this.ints, i + TOKENS) : 0;
  }

  /** A request admitted by admit() is over: it used `tokens` (counted in the minute it ended). */
  release(rec: number, tokens: number, nowMs: number): void {
    const i = rec * INT_WORDS;
    Atomics.sub(this.ints, i + PARALLEL, 1);
    if (tokens <= 0) return;
    const minute = Math.floor(nowMs / 60_000);
    const seen = Atomics.load(this.ints, i + WINDOW);
    if (seen !== minute && Atomics.compareExchange(this.ints, i + WINDOW, seen, minute) === seen) {
      // This thread opened the new minute; tokens are counted after the call, so a count lost
      // to a racing thread in this instant only makes the tpm check a request later.
      Atomics.store(this.ints, i + TOKENS, 0);
    }
    Atomics.add(this.ints, i + TOKENS, Math.min(tokens, 2 ** 30));
  }

  // ---- minute leases (control thread writes; see RPM_LEASE, TPM_LEASE) -----------------------

  /** The requests or tokens this instance may admit in `minute`: -1 when the limit is not leased. */
  lease(rec: number, kind: MinuteKind, minute: number): number {
    const word = Atomics.load(this.ints, rec * INT_WORDS + leaseWord(kind) + (minute & 1));
    return word === 0 ? -1 : leaseOf(word, minute);
  }

  /** Sets what this instance may admit in `minute` (exact below 65,535; see packLease). */
  setLease(rec: number, kind: MinuteKind, minute: number, granted: number): void {
    Atomics.store(this.ints, rec * INT_WORDS + leaseWord(kind) + (minute & 1), packLease(minute, granted));
  }

  /** Puts the record's limit under leases: nothing is granted until a lease is taken. */
  startLease(rec: number, kind: MinuteKind, minute: number): void {
    // Tags of minutes long gone: both words grant 0, and mark the record leased.
    this.setLease(rec, kind, minute - 2, 0);
    this.setLease(rec, kind, minute - 3, 0);
  }

  /**
   * Rewrites each lease word that belongs to neither `minute` nor the next one as granting nothing.
   * The tag is 11 bits: a word left alone for 2,048 minutes would match again, so the control
   * thread ages every leased record's words (once a second) and none is ever that old.
   */
  ageLease(rec: number, kind: MinuteKind, minute: number): void {
    for (const m of [minute, minute + 1]) {
      const i = rec * INT_WORDS + leaseWord(kind) + (m & 1);
      const w = Atomics.load(this.ints, i);
      if (w !== 0 && w >>> COUNT_BITS !== (m & WINDOW_TAG_MASK)) Atomics.store(this.ints, i, packLease(m - 2, 0));
    }
  }

  /** Back to the local limit alone (no Redis configured, or the limit was removed). */
  stopLease(rec: number, kind: MinuteKind): void {
    Atomics.store(this.ints, rec * INT_WORDS + leaseWord(kind), 0);
    Atomics.store(this.ints, rec * INT_WORDS + leaseWord(kind) + 1, 0);
  }

  /** Tokens counted in `minute` (calls that ended in it). */
  tokensInMinute(rec: number, minute: number): number {
    return this.tokensIn(rec * INT_WORDS, minute);
  }

  /** Requests counted in `minute` (the control thread compares it with the lease). */
  requestsIn(rec: number, minute: number): number {
    const word = Atomics.load(this.ints, rec * INT_WORDS + REQUESTS);
    return word >>> COUNT_BITS === (minute & WINDOW_TAG_MASK) ? word & COUNT_MASK : 0;
  }

  limit(rec: number, kind: LimitKind): number {
    const i = rec * INT_WORDS;
    return Atomics.load(this.ints, i + (kind === 'requests' ? RPM : kind === 'tokens' ? TPM : PARALLEL_LIMIT));
  }

  /** Current use of a limit, for the x-ratelimit-* headers. */
  used(rec: number, kind: LimitKind, nowMs: number): number {
    const i = rec * INT_WORDS;
    const minute = Math.floor(nowMs / 60_000);
    if (kind === 'tokens') return this.tokensIn(i, minute);
    if (kind === 'max_parallel_requests') return Atomics.load(this.ints, i + PARALLEL);
    const word = Atomics.load(this.ints, i + REQUESTS);
    return word >>> COUNT_BITS === (minute & WINDOW_TAG_MASK) ? word & COUNT_MASK : 0;
  }
}
