// What a request does when its instance's lease of a shared limit is spent (LeaseSpent): ask the
// control thread for a lease, then admit again. What Redis grants belongs to the instance, not to
// the request that asked: a request that never waited may be admitted on it first (it reached the
// worker between the grant and this retry). So a retry refused again waits again as long as the
// last wait found room in Redis; the refusal is final once Redis had nothing left to grant. Each
// round that goes on took part of the limit from Redis, so the rounds end within the limit; the
// round cap bounds them whatever a bug elsewhere does.
import type { GatewayError } from './errors';
import { LeaseSpent } from './lease-spent';

/** The control thread's answer: the lease grew (try again), Redis had nothing left, or a strict limit without Redis. */
export type LeaseAnswer = 'granted' | 'exhausted' | 'strict_unavailable';

export const MAX_LEASE_ROUNDS = 32;

/**
 * Waits and admits until admitted (the admission's result), the client is gone (null), or the
 * refusal is final (thrown: the last refusal, or `strictError` for a strict limit without Redis).
 */
export async function admitAfterLease<T>(refusal: LeaseSpent, wait: (r: LeaseSpent) => Promise<LeaseAnswer>, admit: () => T, gone: () => boolean, strictError: GatewayError): Promise<{ admitted: T } | null> {
  let spent = refusal;
  for (let round = 1; ; round++) {
    let answer: LeaseAnswer;
    try {
      answer = await wait(spent);
    } catch {
      throw spent;
    }
    if (gone()) return null;
    if (answer === 'strict_unavailable') throw strictError;
    try {
      return { admitted: admit() };
    } catch (e) {
      if (!(e instanceof LeaseSpent) || answer !== 'granted' || round >= MAX_LEASE_ROUNDS) throw e;
      spent = e;
    }
  }
}
