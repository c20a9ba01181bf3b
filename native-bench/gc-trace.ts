// The GC trace of a Weir under test (`node --trace-gc-nvp`): one line per GC from every isolate of
// the process (the control thread's and each worker's, since a worker thread is an isolate of its
// own), read from the child's stdout as it comes, and summed over the windows in which one target
// was being measured: GC count and pauses per kind, the bytes allocated between GCs, and the bytes
// scavenges promoted to the old generation.
//
// What V8 11.3 (Node 20) prints, one line per GC (name=value pairs, abridged):
//   [pid:0x7f50b4000f00]     1234 ms: pause=0.4 mutator=12.1 gc=s … allocated=1048576 promoted=0 …
// `gc` is s (scavenge), mc (mark-compact), mmc (minor mark-compact); `pause` is the main-thread
// pause in ms; `allocated` is the bytes the heap grew by since the isolate's previous GC
// (total_size_before of this GC − total_size_after of the previous): what the isolate allocated
// in between on its JS heap. It misses what concurrent sweeping freed meanwhile (after a
// mark-compact) and Buffer contents, which live outside the heap (their JS objects are counted).
// `promoted` is what the GC moved from the young generation to the old: for a scavenge, objects
// that lived through two. A request's garbage promoted is paid twice (copied, then found dead only
// by a mark-compact); a server that keeps nothing per request promotes next to nothing.
// The time is ms since the isolate was created: the isolate with the earliest creation time (line
// arrival − that time) is the process's main isolate, the control thread; the others are workers.

export type GcKind = 'scavenge' | 'mark-compact' | 'minor mark-compact' | 'other';

export interface GcLine {
  /** The isolate's address as printed (one per thread). */
  isolate: string;
  /** ms since the isolate was created. */
  sinceStartMs: number;
  kind: GcKind;
  pauseMs: number;
  /** Incremental marking time before a mark-compact's pause (main thread, spread over many steps), ms. */
  incrementalMs: number;
  /** Bytes allocated since this isolate's previous GC. */
  allocated: number;
  /** Bytes this GC moved from the young generation to the old. */
  promoted: number;
}

const KINDS: Record<string, GcKind> = { s: 'scavenge', mc: 'mark-compact', ms: 'mark-compact', mmc: 'minor mark-compact' };

/**
 * One line of `--trace-gc-nvp` output, or null when it is not a GC record (Weir's own output, a
 * blank line). Two threads can print at once: V8 writes the `[pid:isolate] t ms: ` prefix and the
 * record in two calls, so another thread's prefix can land between them. The record belongs to the
 * last prefix before `pause=`; a record with no prefix of its own has isolate ''.
 */
export function parseGcLine(line: string): GcLine | null {
  const at = line.indexOf('pause=');
  if (at < 0 || line.indexOf(' gc=', at) < 0) return null;
  const head = line.slice(0, at);
  let isolate = '';
  let sinceStartMs = NaN;
  const prefix = /\[\d+:(0x[0-9a-f]+)\]\s+([\d.]+) ms: /g;
  for (let m = prefix.exec(head); m; m = prefix.exec(head)) {
    isolate = m[1]!;
    sinceStartMs = Number(m[2]);
  }
  const fields = new Map<string, string>();
  const body = line.slice(at);
  let i = 0;
  while (i < body.length) {
    let j = body.indexOf(' ', i);
    if (j < 0) j = body.length;
    const eq = body.indexOf('=', i);
    if (eq > i && eq < j) fields.set(body.slice(i, eq), body.slice(eq + 1, j));
    i = j + 1;
  }
  const pauseMs = Number(fields.get('pause'));
  if (!Number.isFinite(pauseMs)) return null;
  const allocated = Number(fields.get('allocated') ?? NaN);
  const promoted = Number(fields.get('promoted') ?? NaN);
  const incremental = Number(fields.get('incremental') ?? 0);
  return {
    isolate,
    sinceStartMs,
    kind: KINDS[fields.get('gc') ?? ''] ?? 'other',
    pauseMs,
    incrementalMs: Number.isFinite(incremental) ? incremental : 0,
    allocated: Number.isFinite(allocated) ? allocated : 0,
    promoted: Number.isFinite(promoted) ? promoted : 0,
  };
}

/** A GC record and when the bench read it (performance.now() of the bench). */
export interface GcRecord extends GcLine {
  arrivedMs: number;
}

/** A stretch of time in which one target was measured, and the requests it served then. */
export interface GcWindow {
  startMs: number;
  endMs: number;
  requests: number;
}

export interface GcKindSummary {
  kind: GcKind;
  count: number;
  pauseMs: number;
  maxPauseMs: number;
  incrementalMs: number;
}

export interface GcSummary {
  requests: number;
  /** Per kind, every isolate of the process (the control thread's and the workers'). */
  kinds: GcKindSummary[];
  /** Bytes allocated per request in the worker isolates, and in the control thread's. */
  workerBytesPerReq: number;
  controlBytesPerReq: number;
  /**
   * How far the per-request bytes can be off: each worker's largest single GC's `allocated`,
   * summed, per request. The first GC counted also holds what that worker allocated before the
   * windows began, and what it allocated after its last GC counted is not in: at most one GC's
   * worth per worker at each end. Between two windows of the target its workers are idle (other
   * targets are measured), so what one window leaves uncounted is counted in the next.
   */
  workerBytesErrPerReq: number;
  /** Bytes the worker isolates' scavenges promoted to the old generation, per request. */
  workerPromotedPerReq: number;
  /** Records without an isolate of their own (two threads printed at once), counted in the kinds only. */
  unattributed: number;
}

/**
 * When each isolate was created, on the bench's clock: arrival − time since its start, least over
 * its records (the one read with the least delay after it was printed).
 */
export function isolateOrigins(records: readonly GcRecord[]): Map<string, number> {
  const origin = new Map<string, number>();
  for (const r of records) {
    if (!r.isolate || !Number.isFinite(r.sinceStartMs)) continue;
    const o = r.arrivedMs - r.sinceStartMs;
    if (!(o >= (origin.get(r.isolate) ?? Infinity))) origin.set(r.isolate, o);
  }
  return origin;
}

/** The control thread's isolate: the one created first (smallest arrival − time since its start). */
export function controlIsolate(records: readonly GcRecord[]): string | null {
  let best: string | null = null;
  let bestO = Infinity;
  for (const [iso, o] of isolateOrigins(records)) {
    if (o < bestO) {
      bestO = o;
      best = iso;
    }
  }
  return best;
}

/**
 * The GCs that ran inside the windows, summed. A GC is dated by its own time (its isolate's
 * origin + its time since that start), not by when the bench read its line: a line can be read
 * after the window of the request that caused it has ended, and with windows of a few calls
 * (scenario 7) that put a GC in the gap after its window or in the next target's. A record with
 * no isolate of its own keeps its arrival. `records` is the whole trace (the origins come from
 * it); `control` names the control thread's isolate (controlIsolate over the whole trace: a window
 * may hold none of its GCs). Windows must not overlap (one target is measured at a time).
 */
export function summariseGc(records: readonly GcRecord[], windows: readonly GcWindow[], control: string | null): GcSummary {
  const ws = [...windows].sort((a, b) => a.startMs - b.startMs);
  const origins = isolateOrigins(records);
  const dated = records.map((r) => {
    const o = r.isolate ? origins.get(r.isolate) : undefined;
    return { r, at: o !== undefined && Number.isFinite(r.sinceStartMs) ? o + r.sinceStartMs : r.arrivedMs };
  });
  dated.sort((a, b) => a.at - b.at);
  const requests = ws.reduce((a, w) => a + w.requests, 0);
  const kinds = new Map<GcKind, GcKindSummary>();
  let workerBytes = 0;
  let controlBytes = 0;
  let workerPromoted = 0;
  const maxWorkerGc = new Map<string, number>();
  let unattributed = 0;
  let w = 0;
  for (const { r, at } of dated) {
    while (w < ws.length && ws[w]!.endMs < at) w++;
    if (w >= ws.length) break;
    if (at < ws[w]!.startMs) continue;
    const k = kinds.get(r.kind) ?? { kind: r.kind, count: 0, pauseMs: 0, maxPauseMs: 0, incrementalMs: 0 };
    k.count++;
    k.pauseMs += r.pauseMs;
    k.maxPauseMs = Math.max(k.maxPauseMs, r.pauseMs);
    k.incrementalMs += r.incrementalMs;
    kinds.set(r.kind, k);
    if (!r.isolate) unattributed++;
    else if (r.isolate === control) controlBytes += r.allocated;
    else {
      workerBytes += r.allocated;
      if (r.kind === 'scavenge') workerPromoted += r.promoted;
      maxWorkerGc.set(r.isolate, Math.max(maxWorkerGc.get(r.isolate) ?? 0, r.allocated));
    }
  }
  const per = (x: number) => (requests > 0 ? x / requests : NaN);
  return {
    requests,
    kinds: [...kinds.values()].sort((a, b) => order(a.kind) - order(b.kind)),
    workerBytesPerReq: per(workerBytes),
    controlBytesPerReq: per(controlBytes),
    workerBytesErrPerReq: per([...maxWorkerGc.values()].reduce((a, b) => a + b, 0)),
    workerPromotedPerReq: per(workerPromoted),
    unattributed,
  };
}

function order(k: GcKind): number {
  return ['scavenge', 'minor mark-compact', 'mark-compact', 'other'].indexOf(k);
}

/** At most this many records are kept (a soak of a million requests makes a few thousand). */
export const MAX_GC_RECORDS = 200_000;

/** Collects the GC records of a process from its stdout, line by line, as they arrive. */
export class GcTrace {
  readonly records: GcRecord[] = [];
  dropped = 0;
  private partial = '';

  constructor(private readonly now: () => number) {}

  /** Feeds output as it came; an unfinished last line waits for the rest. */
  push(chunk: string): void {
    const t = this.now();
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', start)) {
      const line = start === 0 && this.partial ? this.partial + chunk.slice(0, nl) : chunk.slice(start, nl);
      if (start === 0) this.partial = '';
      this.take(line, t);
      start = nl + 1;
    }
    // A line longer than any GC record (≈ 2 KB) is not one: keep only its tail.
    if (start < chunk.length) this.partial = (this.partial + chunk.slice(start)).slice(-8192);
  }

  private take(line: string, t: number): void {
    const g = parseGcLine(line);
    if (!g) return;
    if (this.records.length >= MAX_GC_RECORDS) {
      this.dropped++;
      return;
    }
    this.records.push({ ...g, arrivedMs: t });
  }

  summary(windows: readonly GcWindow[]): GcSummary {
    return summariseGc(this.records, windows, controlIsolate(this.records));
  }
}
