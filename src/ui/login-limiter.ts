// Failed logins, counted per client address: past MAX_FAILURES in one window the address is refused
// (429) without its credentials being checked, until the window that began at its first failure
// ends. A success clears the address. The table is bounded: past MAX_ADDRESSES the address whose
// window began first goes out (its count starting again is the worst that can happen).

export const MAX_FAILURES = 10;
export const WINDOW_MS = 5 * 60_000;
export const MAX_ADDRESSES = 10_000;

interface Entry {
  since: number;
  failures: number;
}

export class LoginLimiter {
  private readonly byAddress = new Map<string, Entry>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly maxFailures = MAX_FAILURES,
    private readonly windowMs = WINDOW_MS,
    private readonly maxAddresses = MAX_ADDRESSES,
  ) {}

  /** Seconds until this address may try again, or 0 when it may now. */
  retryAfterS(address: string): number {
    const e = this.byAddress.get(address);
    if (!e) return 0;
    const left = e.since + this.windowMs - this.now();
    if (left <= 0) {
      this.byAddress.delete(address);
      return 0;
    }
    return e.failures >= this.maxFailures ? Math.ceil(left / 1000) : 0;
  }

  failed(address: string): void {
    const now = this.now();
    const e = this.byAddress.get(address);
    if (e && e.since + this.windowMs > now) {
      e.failures++;
      return;
    }
    if (e) this.byAddress.delete(address);
    while (this.byAddress.size >= this.maxAddresses) this.byAddress.delete(this.byAddress.keys().next().value!);
    this.byAddress.set(address, { since: now, failures: 1 });
  }

  succeeded(address: string): void {
    this.byAddress.delete(address);
  }
}
