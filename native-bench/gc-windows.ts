// The GC figures of traced targets over the windows in which each was measured alone: a log of
// each target's windows (fed by the latency and rate rounds' onWindow) and one row per traced
// target from it (gc-trace.ts sums the records that arrived inside them).
import type { GcWindow } from './gc-trace';
import type { OnWindow } from './latency-rounds';
import type { GcRow } from './results';
import type { Target } from './targets';

/** Collects each target's measured windows of one phase. */
export function windowLog(): { onWindow: OnWindow; of: (t: Target) => GcWindow[] } {
  const byTarget = new Map<Target, GcWindow[]>();
  return {
    onWindow: (t, w) => {
      const list = byTarget.get(t) ?? [];
      list.push(w);
      byTarget.set(t, list);
    },
    of: (t) => byTarget.get(t) ?? [],
  };
}

/** A row for each target that runs traced. */
export function gcRows(phase: string, targets: Target[], windows: (t: Target) => GcWindow[]): GcRow[] {
  return targets.filter((t) => t.gc).map((t) => ({ phase, target: t.kind, label: t.label, gc: t.gc!.summary(windows(t)), dropped: t.gc!.dropped }));
}
