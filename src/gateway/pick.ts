// simple-shuffle, as LiteLLM does it: skip deployments that cannot be called or are cooling down,
// keep the lowest `order` tier, then pick weighted by `weight`, else by rpm, else tpm, else
// uniformly. On a retry the deployments already tried are avoided while others remain.
import type { DeploymentHealth } from '../state/deployment-health';
import type { Target } from './snapshot';

function usable(t: Target, health: DeploymentHealth, nowMs: number, cooldowns: boolean): boolean {
  return t.unavailable === null && !(cooldowns && health.isCoolingDown(t.slot, nowMs));
}

export function pickTarget(
  targets: Target[],
  health: DeploymentHealth,
  nowMs: number,
  cooldowns: boolean,
  tried: Target[] | null,
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
