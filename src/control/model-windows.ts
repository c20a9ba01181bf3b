// The budget windows of a key's per-model budgets (model_max_budget): a window opens with the
// first spend after the last one closed and lasts the entry's period, after which the record's
// spend starts again from zero — as LiteLLM's model budget limiter keeps it (in memory, per
// instance). Rolled at every sync, so a window closes at most one sync late.
import type { EntityTable } from '../state/entity-table';

interface Window {
  periodMs: number;
  /** Epoch ms the window opened, or null while nothing was spent in it. */
  openedMs: number | null;
}

export class ModelWindows {
  private readonly windows = new Map<number, Window>();

  /** The record's budget period (a change keeps an open window); null: it has no budget. */
  set(rec: number, periodMs: number | null): void {
    if (periodMs === null) {
      this.windows.delete(rec);
      return;
    }
    const w = this.windows.get(rec);
    if (w) w.periodMs = periodMs;
    else this.windows.set(rec, { periodMs, openedMs: null });
  }

  delete(rec: number): void {
    this.windows.delete(rec);
  }

  roll(entities: EntityTable, nowMs: number): void {
    for (const [rec, w] of this.windows) {
      if (w.openedMs === null) {
        if (entities.spendNanos(rec) > 0n) w.openedMs = nowMs;
      } else if (nowMs >= w.openedMs + w.periodMs) {
        entities.resetSpend(rec);
        w.openedMs = null;
      }
    }
  }
}
