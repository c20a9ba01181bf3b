// Tokens-per-minute limits across Weir instances, by leases (the mechanism: minute-leases.ts).
// A request is admitted while the tokens this instance counted this minute are under what it
// holds (EntityTable.admit); its tokens are counted when it ends. Tokens are only known after
// the call, so a lease bounds admissions, not tokens: an instance may count past its field, and
// what it counted past is claimed in Redis (on its next take, or within a 50 ms tick) and counts
// against the limit for every instance from then on. So:
//
//   Bound. While Redis is up, the tokens counted in a minute across N instances pass the tpm by at
//   most the tokens of the calls in flight when the limit was reached (admitted under a lease
//   before, ended after, on any instance) and of calls that ended in the 50 ms before it was (not
//   yet claimed) — the first is what LiteLLM's own tpm also lets through within one instance. Calls that started in the
//   previous minute count in the minute they end, as within one instance. On the other side,
//   leases held and not used are unavailable to others until the minute ends: at most N × the
//   largest lease (tpm / (4 N), a quarter of the tpm) refused early. A low limit (tpm under 8 N
//   calls' worth of tokens, at the average call this instance saw) is leased only on demand, a
//   call's worth per waiting request (at most tpm / (4 N) a take: any grant admits every request
//   waiting, since admission needs only the count under the lease). A strict limit (weir_strict_limits) holds nothing ahead: a
//   waiting request's script claims what the instance counted and grants one token past it, only
//   while the fields sum under the tpm, so the instance admits on its own only until its next
//   call ends, and no lease sits idle (at most one token per instance refused early). Strict is
//   not exact for tpm as it is for rpm: a call's tokens reach Redis after the call (within a
//   tick), so the bound above holds for it too; exact would need a Redis call at each call's end.
//   While Redis is down each instance admits on its own until it counted ceil(tpm / N)
//   (N as last seen), claimed in Redis when it is back (nothing counted twice).
import type { EntityTable } from '../state/entity-table';
import type { MinutePolicy } from './minute-leases';

export const tpmPolicy: MinutePolicy = {
  kind: 'tokens',
  name: 'tpm',
  // The average call of this minute as this instance counted it (calls in flight count as none).
  perRequest: (table: EntityTable, rec: number, minute: number) => {
    const calls = table.requestsIn(rec, minute);
    return calls > 0 ? Math.max(1, Math.ceil(table.tokensInMinute(rec, minute) / calls)) : 1;
  },
  // Admission needs the count under the lease, so one token past it admits every waiting request:
  // strict asks no more. Otherwise a call's worth each, so the lease is not spent at once again,
  // up to the largest lease held ahead (what sits idle on an instance stays within the bound).
  forWaiters: (waiting, perRequest, strict, cap) => (strict ? 1 : Math.max(1, Math.min(waiting * perRequest, cap))),
};
