// Requests-per-minute limits across Weir instances, by leases (the mechanism: minute-leases.ts).
// Every admission is counted before the call, against what this instance was granted, so:
//
//   Bound. Across N instances the requests admitted in a minute never pass the rpm while Redis is
//   up: every admission is covered by a grant and the grants of a minute sum to at most the rpm.
//   The cost is on the other side: a lease one instance holds and does not use is unavailable to
//   the others until the minute ends, at most N × the largest lease (rpm / (4 N), so a quarter of
//   the rpm) refused early in the worst case. A low limit (rpm < 8 N) is leased only on demand, one
//   request per waiting request, never ahead: exact, no request refused that the limit allows. A
//   strict limit (weir_strict_limits) is leased the same way whatever its size. While Redis is down
//   each instance admits on its own up to ceil(rpm / N) a minute (N as last seen), so a minute
//   spanning an outage admits at most rpm + N × ceil(rpm / N) in total; what it admitted is added
//   to Redis's count when Redis is back (nothing counted twice). For the rest of that minute
//   nothing is leased ahead, only one grant per waiting request: a lease taken ahead before every
//   instance has put back its admissions would add unused grants on top of them.
import type { MinutePolicy } from './minute-leases';

export const rpmPolicy: MinutePolicy = {
  kind: 'requests',
  name: 'rpm',
  perRequest: () => 1,
  // One request each, ahead or strict alike: a waiting request is admitted on its own grant.
  forWaiters: (waiting) => waiting,
};
