// Picking a deployment, as LiteLLM does it: skip deployments that cannot be called or are cooling
// down, keep the lowest `order` tier, then choose by the routing strategy. On a retry the
// deployments already tried are avoided while others remain. Every strategy reads the shared
// health table, so a pick on one worker sees the load the others put on each deployment.
//   simple-shuffle         weighted by `weight`, else rpm, else tpm, else uniformly
//   least-busy             fewest requests in flight
//   latency-based-routing  lowest moving average of time to first byte (unmeasured ones first)
//   usage-based-routing    most rpm headroom this minute (fewest requests when no rpm is set)
//   cost-based-routing     lowest price per token
import type { DeploymentHealth } from '../state/deployment-health';
import type { Target } from './snapshot';

function usable(t: Target, health: DeploymentHealth, nowMs: number, cooldowns: boolean): boolean {
  return t.unavailable === null && !(cooldowns && health.isCoolingDown(t.slot, nowMs));
}

export type RoutingStrategy = 'simple-shuffle' | 'least-busy' | 'latency-based-routing' | 'usage-based-routing' | 'usage-based-routing-v2' | 'cost-based-routing';

export function pickTarget(
  targets: Target[],
  health: DeploymentHealth,
  nowMs: number,
  cooldowns: boolean,
  tried: Target[] | null,
  strategy: RoutingStrategy = 'simple-shuffle',
): Target | null {
  if (targets.length === 1) {
    const only = targets[0]!;
    return usable(only, health, nowMs, cooldowns) ? only : null;
  }
  let candidates = targets.filter((t) => usable(t, health, nowMs, cooldowns));
  if (tried && tried.length) {
    const fresh = candidates.filter((t) => !tried.includes(t));
    if (fresh.length) candidates = fresh;
  }
  if (candidates.length === 0) return null;
  let minOrder = Infinity;
  for (const t of candidates) if (t.order < minOrder) minOrder = t.order;
  if (minOrder !== Infinity) candidates = candidates.filter((t) => t.order === minOrder);
  if (candidates.length === 1) return candidates[0]!;
  if (strategy !== 'simple-shuffle') return lowest(candidates, scorer(strategy, health, nowMs));
  const by: 'weight' | 'rpm' | 'tpm' | null = candidates.some((t) => t.weight > 0)
    ? 'weight'
    : candidates.some((t) => t.rpm > 0)
      ? 'rpm'
      : candidates.some((t) => t.tpm > 0)
        ? 'tpm'
        : null;
  if (!by) return candidates[Math.floor(Math.random() * candidates.length)]!;
  let total = 0;
  for (const t of candidates) total += t[by];
  let r = Math.random() * total;
  for (const t of candidates) {
    r -= t[by];
    if (r < 0) return t;
  }
  return candidates[candidates.length - 1]!;
}

function scorer(strategy: RoutingStrategy, health: DeploymentHealth, nowMs: number): (t: Target) => number {
  switch (strategy) {
    case 'least-busy':
      return (t) => health.load(t.slot);
    case 'latency-based-routing':
      return (t) => health.latencyUs(t.slot);
    case 'cost-based-routing':
      return (t) => t.price.input + t.price.output;
    default:
      // usage-based: share of the rpm already used this minute; without rpm, the raw count.
      return (t) => {
        const used = health.requestsThisMinute(t.slot, nowMs);
        return t.rpm > 0 ? used / t.rpm : used;
      };
  }
}

/** The candidate with the lowest score; ties broken at random so equal deployments share load. */
function lowest(candidates: Target[], score: (t: Target) => number): Target {
  let best: Target[] = [];
  let bestScore = Infinity;
  for (const t of candidates) {
    const sc = score(t);
    if (sc < bestScore) {
      bestScore = sc;
      best = [t];
    } else if (sc === bestScore) best.push(t);
  }
  return best[Math.floor(Math.random() * best.length)]!;
}
