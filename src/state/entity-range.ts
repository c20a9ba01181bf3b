// The ranges the shared entity records can hold, and the one place a value is brought into them.
// Money is int64 nano-dollars: a budget or a spend of at most MAX_BUDGET_USD (1e9 USD = 1e18 nanos)
// leaves base + pending + reserved of one record under int64's 9.2e18 with room to spare, where
// 1e10 USD would wrap to a negative number ("no budget") and 1e308 would make BigInt() throw.
// Rate limits and expiry times are Int32 words.
//
// The management API refuses values outside these ranges (src/admin/validation.ts); rows another
// writer put in the database are clamped here, so one odd row can never stop the sync of the others.

/** Largest budget or spend a record holds, in USD. */
export const MAX_BUDGET_USD = 1e9;
/** Largest rpm / tpm / max_parallel_requests a record holds (Int32). */
export const MAX_RATE_LIMIT = 2 ** 31 - 1;

const NANOS_PER_USD = 1e9;
const MAX_NANOS = MAX_BUDGET_USD * NANOS_PER_USD;
/** Expiry is kept in epoch seconds in an Int32 word: 2038-01-19T03:14:07Z at most. */
const MAX_EPOCH_SECONDS = 2 ** 31 - 1;

/**
 * A money amount in nanos as the int64 word stores it: rounded, within ±MAX_NANOS. NaN (never
 * produced by the callers, but BigInt(NaN) throws) counts as 0.
 */
export function nanosWord(nanos: number): bigint {
  if (Number.isNaN(nanos)) return 0n;
  return BigInt(Math.round(Math.min(MAX_NANOS, Math.max(-MAX_NANOS, nanos))));
}

/** True when nanosWord() had to move the value (not counting rounding). */
export function nanosOutOfRange(nanos: number): boolean {
  return !(Math.abs(nanos) <= MAX_NANOS);
}

export interface StoredLimits {
  /** Nanos, or -1n for no budget. */
  maxBudget: bigint;
  /** -1 for no limit. */
  rpm: number;
  tpm: number;
  maxParallel: number;
  /** Epoch seconds, 0 for never. */
  expires: number;
  /** Names of the fields that were out of range and had to be clamped (empty when none). */
  clamped: string[];
}

/**
 * Brings a budget into [0, MAX_NANOS]. Above the maximum (or infinite) it is the maximum: a LiteLLM
 * user who writes 1e12 means "never stop", and 1e9 USD still never stops. Below 0 it is 0: LiteLLM
 * compares spend against the budget, so a negative budget refuses every call there as 0 does here.
 */
function budgetWord(nanos: number | null, clamped: string[]): bigint {
  if (nanos === null) return -1n;
  if (nanos >= 0 && nanos <= MAX_NANOS) return BigInt(Math.round(nanos));
  clamped.push('max_budget');
  return nanos < 0 ? 0n : BigInt(MAX_NANOS);
}

/** The same for an Int32 rate limit: [0, MAX_RATE_LIMIT], fractions dropped. */
function limitWord(v: number | null, name: string, clamped: string[]): number {
  if (v === null) return -1;
  if (v >= 0 && v <= MAX_RATE_LIMIT) return Math.floor(v);
  clamped.push(name);
  return v < 0 ? 0 : MAX_RATE_LIMIT;
}

/**
 * Expiry in epoch seconds. Before 1970 it is 1 s (long expired, as in LiteLLM), after 2038 it is
 * the last second an Int32 holds: a wrapped value would have made a key valid until 2125 expire
 * at once.
 */
function expiresWord(ms: number | null, clamped: string[]): number {
  if (ms === null) return 0;
  const s = Math.ceil(ms / 1000);
  if (s >= 1 && s <= MAX_EPOCH_SECONDS) return s;
  clamped.push('expires');
  return s > MAX_EPOCH_SECONDS ? MAX_EPOCH_SECONDS : 1;
}

export function storedLimits(l: { maxBudgetNanos: number | null; rpm: number | null; tpm: number | null; maxParallel: number | null; expiresMs: number | null }): StoredLimits {
  const clamped: string[] = [];
  return {
    maxBudget: budgetWord(l.maxBudgetNanos, clamped),
    rpm: limitWord(l.rpm, 'rpm_limit', clamped),
    tpm: limitWord(l.tpm, 'tpm_limit', clamped),
    maxParallel: limitWord(l.maxParallel, 'max_parallel_requests', clamped),
    expires: expiresWord(l.expiresMs, clamped),
    clamped,
  };
}
