// Where each number of a metrics row lives. A row is one label set (key, end user, requested
// model, deployment); its numbers are counters and fixed-bucket histograms, so counting a call is
// a handful of additions at known offsets, and the control thread renders them without asking.

/** LiteLLM's LATENCY_BUCKETS (litellm/types/integrations/prometheus.py), in seconds; +Inf follows. */
export const LATENCY_BUCKETS = [
  0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0,
  9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0, 180.0, 240.0, 300.0,
];

/**
 * Weir's own overhead buckets: the gateway adds well under a millisecond, which LiteLLM's first
 * bucket (5 ms) cannot tell apart.
 */
export const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Event-loop lag buckets of the worker gauges, in seconds. */
export const LAG_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** Status codes counted each in its own cell; any other goes to the last cell, rendered by class. */
export const STATUSES = [200, 201, 400, 401, 403, 404, 408, 413, 422, 429, 499, 500, 502, 503, 504];
export const STATUS_OTHER_4XX = STATUSES.length;
export const STATUS_OTHER_5XX = STATUSES.length + 1;
export const STATUS_OTHER = STATUSES.length + 2;
export const STATUS_CELLS = STATUSES.length + 3;

const STATUS_INDEX = new Int8Array(600).fill(-1);
STATUSES.forEach((s, i) => (STATUS_INDEX[s] = i));

export function statusCell(status: number): number {
  const i = status >= 0 && status < 600 ? STATUS_INDEX[status]! : -1;
  if (i >= 0) return i;
  return status >= 400 && status < 500 ? STATUS_OTHER_4XX : status >= 500 && status < 600 ? STATUS_OTHER_5XX : STATUS_OTHER;
}

/** The status a cell is rendered as (the classes as LiteLLM would print an unusual code's class). */
export function cellStatus(cell: number): string {
  if (cell < STATUSES.length) return String(STATUSES[cell]);
  return cell === STATUS_OTHER_4XX ? '4xx' : cell === STATUS_OTHER_5XX ? '5xx' : 'other';
}

/** A histogram's cells: one count per bucket (+Inf last, not cumulative), then the sum. */
export const histogramCells = (buckets: readonly number[]) => buckets.length + 2;

// Offsets in a row (Float64 cells).
export const STATUS_AT = 0;
export const TOTAL_LATENCY_AT = STATUS_AT + STATUS_CELLS;
export const API_LATENCY_AT = TOTAL_LATENCY_AT + histogramCells(LATENCY_BUCKETS);
export const TTFT_AT = API_LATENCY_AT + histogramCells(LATENCY_BUCKETS);
export const OVERHEAD_AT = TTFT_AT + histogramCells(LATENCY_BUCKETS);
export const WEIR_OVERHEAD_AT = OVERHEAD_AT + histogramCells(LATENCY_BUCKETS);
export const SPEND_AT = WEIR_OVERHEAD_AT + histogramCells(OVERHEAD_BUCKETS);
export const INPUT_TOKENS_AT = SPEND_AT + 1;
export const OUTPUT_TOKENS_AT = SPEND_AT + 2;
export const CACHED_TOKENS_AT = SPEND_AT + 3;
export const FALLBACKS_AT = SPEND_AT + 4;
export const ROW_CELLS = SPEND_AT + 5;

/** Per-deployment cells (indexed by the deployment's health slot): cooldowns caused by a 429, and by anything else. */
export const DEPLOYMENT_CELLS = 2;

/** Worker gauges at the head of a shard: event-loop lag histogram (seconds), and the last max. */
export const LAG_AT = 0;
export const LAG_MAX_AT = LAG_AT + histogramCells(LAG_BUCKETS);
export const HEAD_CELLS = LAG_MAX_AT + 1;

/** The bucket a value falls in (linear over a few dozen bounds; the last index is +Inf). */
export function bucketOf(buckets: readonly number[], v: number): number {
  let i = 0;
  while (i < buckets.length && v > buckets[i]!) i++;
  return i;
}
