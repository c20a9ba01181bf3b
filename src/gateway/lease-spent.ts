// A request refused because this instance's lease of a key's (or team's) rpm or budget is spent,
// while other instances share the limit through Redis (src/redis/rpm-leases.ts, budget-leases.ts). The gateway asks the control
// thread for one more lease and admits the request again once; only then is the refusal final.
import { GatewayError } from './errors';

export class LeaseSpent extends GatewayError {
  constructor(
    refusal: GatewayError,
    readonly rec: number,
    /** For a budget: what the call reserves (the lease asked for covers it); null for rpm. */
    readonly nanos: bigint | null = null,
  ) {
    super(refusal.status, refusal.message, refusal.type, refusal.param, refusal.headers);
  }
}
