// Per-deployment health shared by every worker thread: one fixed-width record of Int32 words per
// deployment slot in a SharedArrayBuffer. Workers change the words only through Atomics, so a pick
// on one thread sees the load and failures the others caused. The control thread owns the mapping
// from deployment id to slot (slots survive config reloads) and is the only one to hand them out;
// it clears a slot's words before handing it to another deployment (src/control/slots.ts).
// With Redis, the control thread also writes what the other instances report (their failures this
// minute, their in-flight requests and requests this minute: src/redis/shared-health.ts) into words of their own, so a
// worker reads the whole fleet's health with one more Atomics load and Redis stays off its path.

const WORDS = 9;
const INFLIGHT = 0; // requests currently at this deployment, across all workers
const FAILS = 1; // failures this minute, packed with the minute's tag (see recordFailure)
const REMOTE_FAILS = 2; // the other instances' failures this minute, packed the same way (control thread writes)
const COOLDOWN_UNTIL = 3; // epoch seconds until which the deployment is skipped, as uint32 (good to 2106)
const COOLDOWN_UNTIL_MS = 4; // sub-second part of the cooldown end, so short cooldowns are exact
const LATENCY_US = 5; // moving average of time to first byte, microseconds (0 = not measured yet)
const REQUESTS = 6; // requests sent this minute, packed with the minute's tag like FAILS
const REMOTE_INFLIGHT = 7; // the other instances' in-flight requests here (control thread writes)
const REMOTE_REQUESTS = 8; // the other instances' requests this minute, packed like REQUESTS (control thread writes)

const COUNT_BITS = 21;
const COUNT_MASK = (1 << COUNT_BITS) - 1;
const TAG_MASK = (1 << (32 - COUNT_BITS)) - 1;

export const DEFAULT_HEALTH_SLOTS = 4096;

export class DeploymentHealth {
  readonly words: Int32Array;
  readonly slots: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.slots = this.words.length / WORDS;
  }

  static allocate(slots = DEFAULT_HEALTH_SLOTS): DeploymentHealth {
    return new DeploymentHealth(new SharedArrayBuffer(slots * WORDS * 4));
  }

  /** Every word of the slot back to zero: a slot handed to another deployment starts clean. */
  reset(slot: number): void {
    const base = slot * WORDS;
    for (let i = 0; i < WORDS; i++) Atomics.store(this.words, base + i, 0);
  }

  /** This instance's requests at the deployment (what it publishes to the others). */
  inflight(slot: number): number {
    return Atomics.load(this.words, slot * WORDS + INFLIGHT);
  }

  /** Requests at the deployment across every instance: this one's and what the others last reported. */
  load(slot: number): number {
    const base = slot * WORDS;
    return Atomics.load(this.words, base + INFLIGHT) + Atomics.load(this.words, base + REMOTE_INFLIGHT);
  }

  remoteInflight(slot: number): number {
    return Atomics.load(this.words, slot * WORDS + REMOTE_INFLIGHT);
  }

  setRemoteInflight(slot: number, n: number): void {
    Atomics.store(this.words, slot * WORDS + REMOTE_INFLIGHT, n | 0);
  }

  begin(slot: number): void {
    Atomics.add(this.words, slot * WORDS + INFLIGHT, 1);
  }

  end(slot: number): void {
    Atomics.sub(this.words, slot * WORDS + INFLIGHT, 1);
  }

  /**
   * Counts a failure in the current minute and returns the count. The count and its minute share
   * one word (minute tag in the high 11 bits, count in the low 21), so rolling the minute and
   * counting is one compare-and-swap: no failure is lost or added to the wrong minute. The count
   * returned includes the other instances' failures this minute, so allowed_fails counts them all.
   */
  recordFailure(slot: number, nowMs: number): number {
    const i = slot * WORDS + FAILS;
    const tag = Math.floor(nowMs / 60_000) & TAG_MASK;
    for (;;) {
      const word = Atomics.load(this.words, i);
      const count = (word >>> COUNT_BITS === tag ? word & COUNT_MASK : 0) + 1;
      const next = ((tag << COUNT_BITS) | Math.min(count, COUNT_MASK)) | 0;
      if (Atomics.compareExchange(this.words, i, word, next) === word) return count + this.remoteFailuresThisMinute(slot, nowMs);
    }
  }

  /** Failures this minute across every instance. */
  failuresThisMinute(slot: number, nowMs: number): number {
    return this.localFailuresThisMinute(slot, nowMs) + this.remoteFailuresThisMinute(slot, nowMs);
  }

  /** This instance's failures this minute (what it publishes to the others). */
  localFailuresThisMinute(slot: number, nowMs: number): number {
    const word = Atomics.load(this.words, slot * WORDS + FAILS);
    return word >>> COUNT_BITS === (Math.floor(nowMs / 60_000) & TAG_MASK) ? word & COUNT_MASK : 0;
  }

  remoteFailuresThisMinute(slot: number, nowMs: number): number {
    const word = Atomics.load(this.words, slot * WORDS + REMOTE_FAILS);
    return word >>> COUNT_BITS === (Math.floor(nowMs / 60_000) & TAG_MASK) ? word & COUNT_MASK : 0;
  }

  /** The other instances' failures in the minute `minute` (epoch minutes); an older minute reads as 0. */
  setRemoteFailures(slot: number, minute: number, n: number): void {
    const tag = minute & TAG_MASK;
    Atomics.store(this.words, slot * WORDS + REMOTE_FAILS, ((tag << COUNT_BITS) | Math.min(Math.max(0, n), COUNT_MASK)) | 0);
  }

  /** Folds a time-to-first-byte sample into the moving average (weight 1/8, as an EWMA). */
  recordLatency(slot: number, ms: number): void {
    const i = slot * WORDS + LATENCY_US;
    const sample = Math.max(1, Math.min(2 ** 31 - 1, Math.round(ms * 1000)));
    const old = Atomics.load(this.words, i);
    // A lost update between threads only drops one sample from an average: no CAS loop needed.
    Atomics.store(this.words, i, old === 0 ? sample : Math.round(old + (sample - old) / 8));
  }

  latencyUs(slot: number): number {
    return Atomics.load(this.words, slot * WORDS + LATENCY_US);
  }

  /** Counts a request sent to the deployment in the current minute (usage-based routing). */
  countRequest(slot: number, nowMs: number): void {
    const i = slot * WORDS + REQUESTS;
    const tag = Math.floor(nowMs / 60_000) & TAG_MASK;
    for (;;) {
      const word = Atomics.load(this.words, i);
      const count = (word >>> COUNT_BITS === tag ? word & COUNT_MASK : 0) + 1;
      const next = ((tag << COUNT_BITS) | Math.min(count, COUNT_MASK)) | 0;
      if (Atomics.compareExchange(this.words, i, word, next) === word) return;
    }
  }

  /** Requests sent this minute across every instance (usage-based routing). */
  requestsThisMinute(slot: number, nowMs: number): number {
    const base = slot * WORDS;
    const tag = Math.floor(nowMs / 60_000) & TAG_MASK;
    const local = Atomics.load(this.words, base + REQUESTS);
    const remote = Atomics.load(this.words, base + REMOTE_REQUESTS);
    return (local >>> COUNT_BITS === tag ? local & COUNT_MASK : 0) + (remote >>> COUNT_BITS === tag ? remote & COUNT_MASK : 0);
  }

  /** This instance's requests this minute (what it publishes to the others). */
  localRequestsThisMinute(slot: number, nowMs: number): number {
    const word = Atomics.load(this.words, slot * WORDS + REQUESTS);
    return word >>> COUNT_BITS === (Math.floor(nowMs / 60_000) & TAG_MASK) ? word & COUNT_MASK : 0;
  }

  /** The other instances' requests in the minute `minute` (epoch minutes); an older minute reads as 0. */
  setRemoteRequests(slot: number, minute: number, n: number): void {
    const tag = minute & TAG_MASK;
    Atomics.store(this.words, slot * WORDS + REMOTE_REQUESTS, ((tag << COUNT_BITS) | Math.min(Math.max(0, n), COUNT_MASK)) | 0);
  }

  coolDown(slot: number, untilMs: number): void {
    const base = slot * WORDS;
    Atomics.store(this.words, base + COOLDOWN_UNTIL, Math.floor(untilMs / 1000) | 0);
    Atomics.store(this.words, base + COOLDOWN_UNTIL_MS, untilMs % 1000);
  }

  /** The cooldown's end in epoch ms (0 = never cooled down). */
  cooldownUntilMs(slot: number): number {
    const base = slot * WORDS;
    const sec = Atomics.load(this.words, base + COOLDOWN_UNTIL) >>> 0;
    return sec === 0 ? 0 : sec * 1000 + Atomics.load(this.words, base + COOLDOWN_UNTIL_MS);
  }

  isCoolingDown(slot: number, nowMs: number): boolean {
    const base = slot * WORDS;
    const sec = Atomics.load(this.words, base + COOLDOWN_UNTIL) >>> 0;
    if (sec === 0) return false;
    return sec * 1000 + Atomics.load(this.words, base + COOLDOWN_UNTIL_MS) > nowMs;
  }
}
