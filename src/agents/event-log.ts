// The run event log (control thread): every line an agent prints and every status change, in order,
// stored in Weir_AgentRunEvent and streamed to whoever watches the run — on this instance or another.
// This file is the writing side; the reading side (pages, subscribers) is event-subscribers.ts,
// which reads the rows still in memory here through inMemory().
//
// append() numbers the event at once (seq, from open()'s lastSeq + 1), hands it to local
// subscribers at once, and buffers its row; rows go in batches (one multi-row INSERT … ON CONFLICT
// DO NOTHING, so a retried batch whose COMMIT reply was lost is harmless) every flushEveryMs or as
// soon as a batch is full. The same statement NOTIFYs `weir_agent_events, '<runId>:<lastSeq>'`,
// delivered at its commit, so other instances' subscribers read the new rows. While the database is
// away rows wait, at most maxPendingPerRun per run: beyond that the oldest are folded into one
// `events_dropped` row (at the first dropped seq, saying which seqs and how many) — memory stays
// bounded and the gap is explained to every later reader. A run's rows are forgotten once closed
// and committed: a subscriber reading after that finds them in the table.
import type pg from 'pg';
import { log as defaultLog } from '../log';
import { EVENTS_CHANNEL, EventListener } from './event-listener';
import { AppendedEvent, boundPayload, jsonbSafe, MAX_PAYLOAD_BYTES, safeType } from './event-row';
import { EventSubscribers, type EventLogLogger, type PendingRows } from './event-subscribers';
import type { RunEvent } from './types';

export type { EventLogLogger } from './event-subscribers';

export interface EventLogOptions {
  pool: pg.Pool;
  /** How often buffered rows are written (default 100 ms). */
  flushEveryMs?: number;
  /** Rows per INSERT (default 500); a full batch is written at once. */
  maxBatch?: number;
  /** Rows kept per run while the database is away (default 10,000). */
  maxPendingPerRun?: number;
  /** Characters of JSON kept per run while the database is away (default 32 M). */
  maxPendingCharsPerRun?: number;
  /** Payload JSON bytes kept per event (default 256 KB). */
  maxPayloadBytes?: number;
  log?: EventLogLogger;
}

/** A buffered row. `dropped` marks the row that stands for lines dropped during an outage. */
interface Row {
  runId: string;
  event: RunEvent;
  json: string;
  dropped?: { count: number; first: number; last: number };
}

interface RunState {
  nextSeq: number;
  /** Rows not yet taken by a flush, in seq order, from `head` on. */
  pending: Row[];
  head: number;
  /** Characters of JSON in `pending` (drop markers count 0). */
  chars: number;
  /** Rows of the flush under way (back to `pending` if it fails). */
  inflight: Row[];
  closed: boolean;
}

const DROP_REASON = 'event buffer full (database unavailable or too slow)';

/**
 * Errors that condemn a row, not the database: data exceptions (22…), constraint violations (23…)
 * and a trigger's RAISE (P0…). Anything else (an outage, a read-only standby after a failover, a
 * timeout) keeps the rows and retries them.
 */
function isRowRefusal(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|P0)/.test(code);
}
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
const MAX_BACKOFF_MS = 5_000;
const MAX_RUN_ID_CHARS = 200;

export class EventLog implements PendingRows {
  private readonly runs = new Map<string, RunState>();
  private readonly subscribers: EventSubscribers;
  private readonly flushEveryMs: number;
  private readonly maxBatch: number;
  private readonly maxPendingPerRun: number;
  private readonly maxPendingChars: number;
  private readonly maxPayloadBytes: number;
  private readonly log: EventLogLogger;
  private readonly listener: EventListener;
  private timer: NodeJS.Timeout | null = null;
  /** Flushes run one after the other. */
  private busy: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private backoffMs = 0;
  private retryAt = 0;
  private stopped = false;

  private constructor(private readonly opts: EventLogOptions) {
    this.flushEveryMs = opts.flushEveryMs ?? 100;
    this.maxBatch = Math.max(1, opts.maxBatch ?? 500);
    this.maxPendingPerRun = Math.max(2, opts.maxPendingPerRun ?? 10_000);
    this.maxPendingChars = opts.maxPendingCharsPerRun ?? 32 * 1024 * 1024;
    this.maxPayloadBytes = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
    this.log = opts.log ?? defaultLog;
    this.subscribers = new EventSubscribers(opts.pool, this, this.maxPendingPerRun, this.log);
    this.listener = new EventListener({
      pool: opts.pool,
      onNotify: (p) => this.subscribers.notified(p),
      onListening: () => this.subscribers.catchUpAll(),
      onProblem: (m) => this.log.warn(m),
    });
  }

  static async start(opts: EventLogOptions): Promise<EventLog> {
    const el = new EventLog(opts);
    await el.listener.start();
    el.timer = setInterval(() => el.tick(), el.flushEveryMs);
    el.timer.unref();
    return el;
  }

  /** This instance writes `runId` from now on; its next event is `lastSeq + 1`. */
  open(runId: string, lastSeq = 0): void {
    // The id goes into a NOTIFY payload (at most 8,000 bytes) and TEXT columns (no NUL).
    if (runId.length === 0 || runId.length > MAX_RUN_ID_CHARS || runId.includes('\u0000')) {
      throw new Error(`agent events: a run id must be 1 to ${MAX_RUN_ID_CHARS} characters without NUL`);
    }
    const st = this.runs.get(runId);
    if (st) {
      st.closed = false;
      st.nextSeq = Math.max(st.nextSeq, lastSeq + 1);
      return;
    }
    this.runs.set(runId, { nextSeq: lastSeq + 1, pending: [], head: 0, chars: 0, inflight: [], closed: false });
  }

  /**
   * Numbers the event, delivers it to local subscribers and buffers its row. `at` (ms since the
   * epoch): when the agent printed it, as its reader saw it; without it, now.
   */
  append(runId: string, type: string, payload: unknown, at?: number): RunEvent {
    const st = this.runs.get(runId);
    if (!st || st.closed || this.stopped) throw new Error(`agent events: run ${runId} is not open on this instance`);
    const b = boundPayload(payload, this.maxPayloadBytes);
    const event = new AppendedEvent(st.nextSeq++, new Date(at ?? Date.now()).toISOString(), safeType(type), b.payload, b.json);
    const json = jsonbSafe(b.json);
    st.pending.push({ runId, event, json });
    st.chars += json.length;
    this.capPending(st);
    this.subscribers.appended(runId, event);
    if (Date.now() >= this.retryAt && (st.chars >= MAX_BATCH_BYTES || this.countPending() >= this.maxBatch)) this.kick();
    return event;
  }

  /** Writes the run's remaining rows; the run takes no more events. Rejects if the database refused
   *  (the rows stay buffered and keep being retried). */
  async close(runId: string): Promise<void> {
    const st = this.runs.get(runId);
    if (!st) return;
    st.closed = true;
    await this.flush();
    this.forgetIfDone(runId, st);
  }

  /** Writes every buffered row; rejects if the database refused (rows stay buffered). */
  flush(): Promise<void> {
    const p = this.busy.then(() => this.writeAll());
    this.busy = p.catch(() => {});
    return p;
  }

  /** Rows buffered for a run (not yet committed). */
  buffered(runId: string): number {
    const st = this.runs.get(runId);
    return st ? st.inflight.length + st.pending.length - st.head : 0;
  }

  /** Stops timers and the LISTEN connection after one last flush attempt. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.listener.stop();
    this.subscribers.stop();
    try {
      await this.flush();
    } catch (e) {
      let n = 0;
      for (const id of this.runs.keys()) n += this.buffered(id);
      this.log.error(`agent events: ${n} event rows not written at stop (${(e as Error).message})`);
    }
  }

  /** Up to `limit` events after `afterSeq`: the table, then rows of this instance not yet written. */
  page(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    return this.subscribers.page(runId, afterSeq, limit);
  }

  /** Replays the events after `afterSeq`, then delivers new ones, in seq order; returns the
   *  unsubscribe function. */
  subscribe(runId: string, afterSeq: number, onEvent: (e: RunEvent) => void): () => void {
    if (this.stopped) return () => {};
    return this.subscribers.subscribe(runId, afterSeq, onEvent);
  }

  // ---- writing ---------------------------------------------------------------------------------

  /** Beyond the caps (rows, characters), the oldest rows fold into one `events_dropped` row at the front. */
  private capPending(st: RunState): void {
    for (;;) {
      const n = st.pending.length - st.head;
      if (n <= this.maxPendingPerRun && (st.chars <= this.maxPendingChars || n < 2)) break;
      const front = st.pending[st.head]!;
      let marker = front;
      if (!front.dropped) {
        marker = { runId: front.runId, event: { ...front.event, type: 'events_dropped' }, json: '', dropped: { count: 1, first: front.event.seq, last: front.event.seq } };
        st.chars -= front.json.length;
      }
      const next = st.pending[st.head + 1]!;
      if (!next.dropped) st.chars -= next.json.length;
      const d = marker.dropped!;
      d.count += next.dropped ? next.dropped.count : 1;
      d.last = next.dropped ? next.dropped.last : next.event.seq;
      st.pending[st.head + 1] = marker;
      st.pending[st.head] = undefined as unknown as Row;
      st.head++;
    }
    // Keep the array from growing without end: compact once the dead front is half of it.
    if (st.head > 1024 && st.head * 2 > st.pending.length) {
      st.pending = st.pending.slice(st.head);
      st.head = 0;
    }
  }

  private countPending(): number {
    let n = 0;
    for (const st of this.runs.values()) n += st.pending.length - st.head;
    return n;
  }

  private tick(): void {
    if (this.flushQueued || Date.now() < this.retryAt || this.countPending() === 0) return;
    this.kick();
  }

  private kick(): void {
    if (this.flushQueued || this.stopped) return;
    this.flushQueued = true;
    this.flush().then(
      () => {
        if (this.backoffMs) this.log.warn('agent events: writing again');
        this.backoffMs = 0;
        this.retryAt = 0;
      },
      (e: Error) => {
        if (!this.backoffMs) this.log.warn(`agent events: cannot write event rows (${e.message}); they wait in memory (at most ${this.maxPendingPerRun} per run)`);
        this.backoffMs = Math.min(Math.max(this.backoffMs * 2, this.flushEveryMs), MAX_BACKOFF_MS);
        this.retryAt = Date.now() + this.backoffMs;
      },
    ).finally(() => {
      this.flushQueued = false;
    });
  }

  private async writeAll(): Promise<void> {
    for (;;) {
      const batch = this.take();
      if (batch.length === 0) return;
      try {
        await this.write(batch);
      } catch (e) {
        if (!isRowRefusal(e)) {
          this.putBack();
          throw e;
        }
        await this.writeOneByOne(batch);
      }
      for (const [id, st] of this.runs) {
        st.inflight = [];
        this.forgetIfDone(id, st);
      }
    }
  }

  /**
   * A batch with a row the database refuses as data: that row must not hold back every run's
   * events for ever. Rows are written one by one and the refused ones dropped (and logged).
   */
  private async writeOneByOne(batch: Row[]): Promise<void> {
    for (const r of batch) {
      try {
        await this.write([r]);
      } catch (e) {
        if (!isRowRefusal(e)) {
          this.putBack();
          throw e;
        }
        this.log.error(`agent events: event ${r.event.seq} of run ${r.runId} (${r.event.type}) refused by the database, dropped: ${(e as Error).message}`);
      }
    }
  }

  /** Moves up to maxBatch rows (and MAX_BATCH_BYTES of JSON) from pending to inflight. */
  private take(): Row[] {
    const batch: Row[] = [];
    let bytes = 0;
    for (const st of this.runs.values()) {
      while (st.head < st.pending.length && batch.length < this.maxBatch && (batch.length === 0 || bytes < MAX_BATCH_BYTES)) {
        const r = st.pending[st.head]!;
        st.pending[st.head] = undefined as unknown as Row;
        st.head++;
        if (!r.dropped) st.chars -= r.json.length;
        if (r.dropped) r.json = JSON.stringify({ dropped: r.dropped.count, first_seq: r.dropped.first, last_seq: r.dropped.last, reason: DROP_REASON });
        st.inflight.push(r);
        batch.push(r);
        bytes += r.json.length;
      }
      if (st.head === st.pending.length) {
        st.pending = [];
        st.head = 0;
      }
    }
    return batch;
  }

  private putBack(): void {
    for (const st of this.runs.values()) {
      if (st.inflight.length === 0) continue;
      st.pending = st.inflight.concat(st.pending.slice(st.head));
      st.head = 0;
      st.inflight = [];
      st.chars = 0;
      for (const r of st.pending) if (!r.dropped) st.chars += r.json.length;
      this.capPending(st);
    }
  }

  private forgetIfDone(runId: string, st: RunState): void {
    if (st.closed && st.inflight.length === 0 && st.head === st.pending.length && this.runs.get(runId) === st) this.runs.delete(runId);
  }

  private async write(batch: Row[]): Promise<void> {
    const values: unknown[] = [];
    const tuples: string[] = [];
    const lastSeq = new Map<string, number>();
    for (const r of batch) {
      const i = values.length;
      tuples.push(`($${i + 1}, $${i + 2}, $${i + 3}::timestamp, $${i + 4}, $${i + 5}::jsonb)`);
      values.push(r.runId, r.event.seq, r.event.ts, r.event.type, r.json);
      lastSeq.set(r.runId, Math.max(lastSeq.get(r.runId) ?? 0, r.event.seq));
    }
    values.push([...lastSeq].map(([id, seq]) => `${id}:${seq}`));
    // A data-modifying WITH runs once whatever the outer SELECT does; the notifications leave at
    // the statement's commit, with the rows.
    const text = `WITH ins AS (INSERT INTO "Weir_AgentRunEvent" (run_id, seq, ts, type, payload) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING)
      SELECT pg_notify('${EVENTS_CHANNEL}', n) FROM unnest($${values.length}::text[]) AS n`;
    await this.opts.pool.query({ text, values });
  }

  // ---- what the readers see of the rows not yet written ----------------------------------------

  /** This instance's rows of the run not yet committed, after `afterSeq`, in seq order. */
  inMemory(runId: string, afterSeq: number): RunEvent[] {
    const st = this.runs.get(runId);
    if (!st) return [];
    const out: RunEvent[] = [];
    const add = (r: Row | undefined) => {
      if (!r || r.event.seq <= afterSeq) return;
      if (r.dropped) out.push({ ...r.event, payload: { dropped: r.dropped.count, first_seq: r.dropped.first, last_seq: r.dropped.last, reason: DROP_REASON } });
      else out.push(r.event);
    };
    for (const r of st.inflight) add(r);
    for (let i = st.head; i < st.pending.length; i++) add(st.pending[i]);
    return out;
  }
}
