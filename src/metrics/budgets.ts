// The remaining-budget gauges: keys and teams with a max_budget, as the shared table holds them
// (committed spend plus what this instance settled). At most `limit` of each, like the other
// per-key series.
import type { KeyProfile } from '../gateway/governance';
import { NANOS_PER_USD } from '../accounting/spend-record';
import type { EntityTable } from '../state/entity-table';
import type { BudgetGauge } from './hub';

export function budgetGauges(profiles: Iterable<{ profile: KeyProfile }>, entities: EntityTable, limit: number): { keys: BudgetGauge[]; teams: BudgetGauge[] } {
  const keys: BudgetGauge[] = [];
  const teams = new Map<number, BudgetGauge>();
  const gauge = (rec: number, labels: string[]): BudgetGauge | null => {
    const max = entities.maxBudgetNanos(rec);
    if (max < 0n) return null;
    return { labels, maxUsd: Number(max) / NANOS_PER_USD, spendUsd: Number(entities.spendNanos(rec)) / NANOS_PER_USD };
  };
  for (const { profile: p } of profiles) {
    if (keys.length < limit && p.record >= 0) {
      const k = gauge(p.record, [p.tokenHash, p.keyAlias ?? '']);
      if (k) keys.push(k);
    }
    if (p.teamRecord >= 0 && !teams.has(p.teamRecord) && teams.size < limit) {
      const t = gauge(p.teamRecord, [p.teamId ?? '', p.teamAlias ?? '']);
      if (t) teams.set(p.teamRecord, t);
    }
    if (keys.length >= limit && teams.size >= limit) break;
  }
  return { keys, teams: [...teams.values()] };
}
