// Per-deployment health shared by every worker thread: one fixed-width record of Int32 words per
// deployment slot in a SharedArrayBuffer. Workers change the words only through Atomics, so a pick
// on one thread sees the load and failures the others caused. The control thread owns the mapping
// from deployment id to slot (slots survive config reloads) and is the only one to hand them out.

const WORDS = 8;
const INFLIGHT = 0; // requests currently at this deployment, across all workers
const FAILS = 1; // failures counted in the minute stored in FAIL_MINUTE
const FAIL_MINUTE = 2; // epoch minute FAILS belongs to
const COOLDOWN_UNTIL = 3; // epoch milliseconds / 1000 (seconds) until which the deployment is skipped
const COOLDOWN_UNTIL_MS = 4; // sub-second part of the cooldown end, so short cooldowns are exact

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

  inflight(slot: number): number {
    return Atomics.load(this.words, slot * WORDS + INFLIGHT);
  }

  begin(slot: number): void {
    Atomics.add(this.words, slot * WORDS + INFLIGHT, 1);
  }

  end(slot: number): void {
    Atomics.sub(this.words, slot * WORDS + INFLIGHT, 1);
  }

  /** Counts a failure in the current minute and returns the count, the minute rolling over atomically. */
  recordFailure(slot: number, nowMs: number): number {
    const base = slot * WORDS;
    const minute = Math.floor(nowMs / 60_000);
    const seen = Atomics.load(this.words, base + FAIL_MINUTE);
    if (seen !== minute && Atomics.compareExchange(this.words, base + FAIL_MINUTE, seen, minute) === seen) {
      // This thread rolled the window: the count restarts at this failure.
      Atomics.store(this.words, base + FAILS, 1);
      return 1;
    }
    return Atomics.add(this.words, base + FAILS, 1) + 1;
  }

  failuresThisMinute(slot: number, nowMs: number): number {
    const base = slot * WORDS;
    if (Atomics.load(this.words, base + FAIL_MINUTE) !== Math.floor(nowMs / 60_000)) return 0;
    return Atomics.load(this.words, base + FAILS);
  }

  coolDown(slot: number, untilMs: number): void {
    const base = slot * WORDS;
    Atomics.store(this.words, base + COOLDOWN_UNTIL, Math.floor(untilMs / 1000));
    Atomics.store(this.words, base + COOLDOWN_UNTIL_MS, untilMs % 1000);
  }

  isCoolingDown(slot: number, nowMs: number): boolean {
    const base = slot * WORDS;
    const sec = Atomics.load(this.words, base + COOLDOWN_UNTIL);
    if (sec === 0) return false;
    return sec * 1000 + Atomics.load(this.words, base + COOLDOWN_UNTIL_MS) > nowMs;
  }
}
