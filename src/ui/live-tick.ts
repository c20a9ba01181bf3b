// One tick of GET /ui/live: what the last second added to the request metrics the workers already
// keep (src/metrics/ rows: per-status counts and latency histograms), in total and per deployment,
// with each deployment's health (cooldown, in flight) from the shared health table. The metrics
// are cumulative, so a tick is the difference with the previous one: nothing is counted twice or
// lost, whenever a worker's row reaches the control thread. Linear in rows × cells per tick.
import type { Snapshot } from '../gateway/snapshot';
import { LATENCY_BUCKETS, OVERHEAD_BUCKETS, ROW_CELLS, STATUS_AT, STATUS_CELLS, STATUS_OTHER_4XX, STATUS_OTHER_5XX, STATUSES, TOTAL_LATENCY_AT, TTFT_AT, WEIR_OVERHEAD_AT, cellStatus } from '../metrics/layout';
import { L } from '../metrics/labels';
import type { Row } from '../metrics/render-rows';
import type { DeploymentHealth } from '../state/deployment-health';

export interface Percentiles {
  /** Milliseconds; null when nothing was measured this second. */
  p50: number | null;
  p99: number | null;
}

export interface DeploymentTick {
  model: string;
  deployment: string;
  rps: number;
  requests: number;
  latency_ms: Percentiles;
  errors: number;
  cooldown: boolean;
  in_flight: number;
}

export interface Tick {
  t: number;
  /** Requests finished per second over this tick. */
  rps: number;
  /** Requests finished in this tick, exactly (rps is this over the tick's length). */
  requests: number;
  overhead_ms: Percentiles;
  latency_ms: Percentiles;
  ttft_ms: Percentiles;
  errors: Record<string, number>;
  deployments: DeploymentTick[];
}

const TOTAL = '';

/** Status cells that count errors: the 4xx and 5xx codes and the two classes of unusual ones. */
const ERROR_CELLS = Array.from({ length: STATUS_CELLS }, (_, i) => i).filter((i) => (i < STATUSES.length ? STATUSES[i]! >= 400 : i === STATUS_OTHER_4XX || i === STATUS_OTHER_5XX));

/** The value under which a fraction `q` of a histogram's counts fall, interpolated in its bucket. */
export function quantileMs(cells: Float64Array, at: number, bounds: readonly number[], q: number): number | null {
  let total = 0;
  for (let i = 0; i <= bounds.length; i++) total += cells[at + i]!;
  if (total <= 0) return null;
  const target = q * total;
  let cum = 0;
  for (let i = 0; i <= bounds.length; i++) {
    const c = cells[at + i]!;
    if (c > 0 && cum + c >= target) {
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      const hi = i < bounds.length ? bounds[i]! : bounds[bounds.length - 1]!;
      return Math.round((lo + (hi - lo) * ((target - cum) / c)) * 1e6) / 1e3;
    }
    cum += c;
  }
  return Math.round(bounds[bounds.length - 1]! * 1e6) / 1e3;
}

function percentiles(cells: Float64Array, at: number, bounds: readonly number[]): Percentiles {
  return { p50: quantileMs(cells, at, bounds, 0.5), p99: quantileMs(cells, at, bounds, 0.99) };
}

function requestsIn(cells: Float64Array): number {
  let n = 0;
  for (let i = 0; i < STATUS_CELLS; i++) n += cells[STATUS_AT + i]!;
  return n;
}

/** Cumulative cells of the total and of each deployment (by model id), from the metrics rows. */
export function sumRows(rows: Row[]): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  const add = (key: string, cells: Float64Array) => {
    let into = out.get(key);
    if (!into) out.set(key, (into = new Float64Array(ROW_CELLS)));
    for (let i = 0; i < ROW_CELLS; i++) into[i]! += cells[i]!;
  };
  for (const r of rows) {
    add(TOTAL, r.cells);
    const id = r.labels[L.model_id];
    if (id) add(`d\u0000${id}`, r.cells);
  }
  return out;
}

function minus(now: Float64Array | undefined, before: Float64Array | undefined): Float64Array {
  const d = new Float64Array(ROW_CELLS);
  if (!now) return d;
  for (let i = 0; i < ROW_CELLS; i++) d[i] = Math.max(0, now[i]! - (before?.[i] ?? 0));
  return d;
}

/** The tick between two sums (sumRows), `elapsedMs` apart. */
export function tickBetween(before: Map<string, Float64Array>, now: Map<string, Float64Array>, elapsedMs: number, snap: Snapshot, health: DeploymentHealth, t: number): Tick {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  const total = minus(now.get(TOTAL), before.get(TOTAL));
  const requests = requestsIn(total);
  const errors: Record<string, number> = {};
  for (const i of ERROR_CELLS) {
    const n = total[STATUS_AT + i]!;
    if (n > 0) errors[cellStatus(i)] = n;
  }
  const deployments: DeploymentTick[] = [];
  const seen = new Set<string>();
  for (const g of snap.groups.values()) {
    for (const target of g.targets) {
      if (seen.has(target.id)) continue;
      seen.add(target.id);
      const key = `d\u0000${target.id}`;
      const d = minus(now.get(key), before.get(key));
      const n = requestsIn(d);
      let errs = 0;
      for (const i of ERROR_CELLS) errs += d[STATUS_AT + i]!;
      deployments.push({
        model: g.name,
        deployment: target.id,
        rps: Math.round((n / seconds) * 100) / 100,
        requests: n,
        latency_ms: percentiles(d, TOTAL_LATENCY_AT, LATENCY_BUCKETS),
        errors: errs,
        cooldown: health.isCoolingDown(target.slot, t),
        in_flight: health.load(target.slot),
      });
    }
  }
  return {
    t,
    rps: Math.round((requests / seconds) * 100) / 100,
    requests,
    overhead_ms: percentiles(total, WEIR_OVERHEAD_AT, OVERHEAD_BUCKETS),
    latency_ms: percentiles(total, TOTAL_LATENCY_AT, LATENCY_BUCKETS),
    ttft_ms: percentiles(total, TTFT_AT, LATENCY_BUCKETS),
    errors,
    deployments,
  };
}
