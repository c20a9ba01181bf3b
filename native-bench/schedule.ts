// The open-loop (fixed-rate) generator's core, free of I/O so it can be tested on a fake clock.
// Request i is planned at start + i / rate and sent as soon as it is due, whether or not earlier
// requests have been answered; its latency counts from the PLANNED time. A target that stalls
// therefore shows every request that queued behind the stall at its true waiting time, instead of
// the single slow sample a closed-loop client (which waits before sending the next) would record:
// no coordinated omission.

export class OpenLoopSchedule {
  constructor(
    readonly rate: number,
    readonly total: number,
    readonly start: number,
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be > 0, got ${rate}`);
  }

  /** When request i is due (ms, same clock as start). */
  plannedAt(i: number): number {
    return this.start + (i * 1000) / this.rate;
  }

  /** How many requests are due by `now` (planned at or before it), at most `total`. */
  dueBy(now: number): number {
    if (now < this.start) return 0;
    return Math.min(this.total, Math.floor(((now - this.start) * this.rate) / 1000 + 1e-9) + 1);
  }
}

/** Latency of a request as the open-loop generator counts it. */
export function latencyFromPlanned(plannedAt: number, completedAt: number): number {
  return completedAt - plannedAt;
}

export interface OpenLoopDriver {
  now(): number;
  /** Waits about `ms` (real timers have ~1 ms granularity; the loop catches up on due requests). */
  sleep(ms: number): Promise<void>;
  /** Sends request i; resolves when it completes (never rejects). */
  send(i: number): Promise<{ end: number; ok: boolean; error?: string }>;
}

export interface OpenLoopOutcome {
  /** Latency from the planned send time, ms, of each successful request (index = request number). */
  latencies: Float64Array;
  ok: number;
  errors: number;
  firstError: string | null;
  /** The latest any request was sent after its planned time (the generator's own lag), ms. */
  maxSendLagMs: number;
  /** Wall time from the first planned send to the last completion, ms. */
  elapsedMs: number;
}

/** Runs `total` requests at `rate` per second through the driver. */
export async function runOpenLoop(rate: number, total: number, d: OpenLoopDriver): Promise<OpenLoopOutcome> {
  const s = new OpenLoopSchedule(rate, total, d.now());
  const lat = new Float64Array(total).fill(NaN);
  let next = 0;
  let inflight = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | null = null;
  let maxLag = 0;
  let lastEnd = s.start;
  let allDone: () => void = () => {};
  const drained = new Promise<void>((r) => (allDone = r));
  let sendingDone = false;

  const fire = (i: number, planned: number) => {
    inflight++;
    d.send(i).then((r) => {
      inflight--;
      if (r.end > lastEnd) lastEnd = r.end;
      if (r.ok) {
        lat[i] = latencyFromPlanned(planned, r.end);
        ok++;
      } else {
        errors++;
        firstError ??= r.error ?? 'failed';
      }
      if (sendingDone && inflight === 0) allDone();
    });
  };

  while (next < total) {
    const now = d.now();
    const due = s.dueBy(now);
    while (next < due) {
      const planned = s.plannedAt(next);
      if (now - planned > maxLag) maxLag = now - planned;
      fire(next++, planned);
    }
    if (next < total) await d.sleep(Math.max(0, s.plannedAt(next) - d.now()));
  }
  sendingDone = true;
  if (inflight > 0) await drained;
  const latencies = new Float64Array(ok);
  let k = 0;
  for (let i = 0; i < total; i++) if (!Number.isNaN(lat[i]!)) latencies[k++] = lat[i]!;
  return { latencies, ok, errors, firstError, maxSendLagMs: maxLag, elapsedMs: lastEnd - s.start };
}
