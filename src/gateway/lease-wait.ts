// A governed call's admission on the routes that take it through a continuation (the provider
// pass-through routes), and the wait when this instance's lease of an rpm, tpm or budget shared
// across instances is spent (the retry loop itself: lease-retry.ts). A charge belongs to the call
// only once the call has started: a continuation that throws before (its setup refused what it was
// given) gives the charge back at once, not when the worker retires, and the error is answered in
// the route's dialect. Made once per worker; a request allocates nothing here unless its lease is spent.
import type { Exchange } from '../server/exchange';
import { GatewayError, type Dialect } from './errors';
import type { ControlRpc } from './gateway-core';
import { LeaseSpent } from './lease-spent';
import { admitAfterLease, type LeaseAnswer } from './lease-retry';
import type { Charge } from './policy';

/** A strict key's (or team's) rpm is decided in Redis: while Redis is away it fails closed. */
const STRICT_UNAVAILABLE = new GatewayError(
  503,
  'Rate limits of this key or team are strict (weir_strict_limits) and the shared Redis that decides them is unreachable; try again shortly.',
  'service_unavailable',
  null,
  ['retry-after', '1'],
);

/**
 * A charge whose call never started: its reservation and rate-limit slots go back now, as costing
 * nothing. settle() acts once, so a charge the call had already settled is not given back twice.
 */
export function giveBack(charge: Charge | null): void {
  charge?.settle(0n, 0, Date.now());
}

export class LeaseWait {
  constructor(
    private readonly rpc: ControlRpc,
    /** Answers an error in the dialect (and counts it): the gateway's own. */
    private readonly fail: (ex: Exchange, dialect: Dialect, e: unknown) => void,
  ) {}

  /**
   * Admits and goes on, or, when the instance's lease is spent, goes on once a lease admitted it.
   * `go` starts the call: what it throws is the caller's to answer, once the charge is given back.
   */
  admitThen(ex: Exchange, dialect: Dialect, admit: () => Charge | null, go: (c: Charge | null) => void): void {
    let charge: Charge | null;
    try {
      charge = admit();
    } catch (e) {
      if (!(e instanceof LeaseSpent)) throw e;
      return this.afterLease(ex, dialect, e, admit, go);
    }
    try {
      go(charge);
    } catch (e) {
      giveBack(charge);
      throw e;
    }
  }

  /** The instance's lease of an rpm, tpm or budget shared across instances is spent: see lease-retry.ts. */
  afterLease(ex: Exchange, dialect: Dialect, refusal: LeaseSpent, admit: () => Charge | null, start: (c: Charge | null) => void): void {
    const wait = (s: LeaseSpent): Promise<LeaseAnswer> =>
      this.rpc('lease.wait', s.nanos === null ? { rec: s.rec, kind: s.kind } : { rec: s.rec, nanos: String(s.nanos) }).then((r) =>
        r.status === 503 ? 'strict_unavailable' : (r.body as { granted?: boolean } | null)?.granted === true ? 'granted' : 'exhausted',
      );
    admitAfterLease(refusal, wait, admit, () => ex.aborted, STRICT_UNAVAILABLE).then(
      (r) => {
        if (!r) return;
        try {
          start(r.admitted);
        } catch (e) {
          // Thrown before the call owned its charge: give the charge back, answer in the dialect.
          giveBack(r.admitted);
          this.fail(ex, dialect, e);
        }
      },
      (e: unknown) => {
        if (!ex.aborted) this.fail(ex, dialect, e);
      },
    );
  }
}
