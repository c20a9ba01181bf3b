// A request refused because this instance's lease of a key's (or team's) rpm, tpm or budget is
// spent, while other instances share the limit through Redis (src/redis/minute-leases.ts,
// budget-leases.ts). The gateway asks the control thread for a lease and admits the request again;
// the refusal is final only once Redis had nothing left to grant (see Gateway.afterLease).
import type { MinuteKind } from '../state/entity-table';
import { GatewayError } from './errors';

export class LeaseSpent extends GatewayError {
  constructor(
    refusal: GatewayError,
    readonly rec: number,
    /** For a budget: what the call reserves (the lease asked for covers it); null for rpm and tpm. */
    readonly nanos: bigint | null = null,
    /** Which minute limit's lease is spent, when `nanos` is null. */
    readonly kind: MinuteKind = 'requests',
  ) {
    super(refusal.status, refusal.message, refusal.type, refusal.param, refusal.headers);
  }
}
