// The reading side of the run event log (control thread): pages of a run's events, and the
// subscribers that replay a run's events after a seq and then follow it live.
//
// The hand-over from replay to live has no gap and no duplicate: the subscriber is registered before
// anything is read, events appended meanwhile queue up, the rows still in memory (a read-only view
// of the writer's, event-log.ts) are taken before each read of the table — a row leaves memory only
// once committed, so it is in one or the other — and delivery is by strictly increasing seq. Runs
// written by other instances are followed through their NOTIFY (event-listener.ts); after that
// connection comes back every subscriber reads again what it may have missed.
import type pg from 'pg';
import { weirTypes } from '../db/pool';
import type { RunEvent } from './types';

export interface EventLogLogger {
  warn(msg: string): void;
  error(msg: string): void;
}

/** What the writer still holds of a run (not yet committed), read-only. */
export interface PendingRows {
  /** The run's rows in memory after `afterSeq`, in seq order. */
  inMemory(runId: string, afterSeq: number): RunEvent[];
}

interface Sub {
  runId: string;
  /** The last seq delivered. */
  last: number;
  onEvent: (e: RunEvent) => void;
  /** Caught up: local appends are delivered straight away. */
  live: boolean;
  /** Local appends that came while catching up. */
  queue: RunEvent[];
  running: boolean;
  /** Something new may be in the table since the read under way began. */
  dirty: boolean;
  closed: boolean;
  retryMs: number;
  retryTimer: NodeJS.Timeout | null;
}

const PAGE = 1_000;
const MAX_BACKOFF_MS = 5_000;

export class EventSubscribers {
  private readonly subs = new Map<string, Set<Sub>>();
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly pending: PendingRows,
    /** A subscriber's local queue beyond this is dropped and read again from memory or the table. */
    private readonly maxQueue: number,
    private readonly log: EventLogLogger,
  ) {}

  /** Up to `limit` events after `afterSeq`: the table, then rows of this instance not yet written. */
  async page(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    const n = Math.max(1, Math.min(Math.floor(limit) || PAGE, 10 * PAGE));
    const mem = this.pending.inMemory(runId, afterSeq);
    const rows = await this.readRows(runId, afterSeq, n);
    if (rows.length === n) return rows;
    let last = rows.length ? rows[rows.length - 1]!.seq : afterSeq;
    for (const e of mem) {
      if (rows.length >= n) break;
      if (e.seq > last) {
        rows.push(e);
        last = e.seq;
      }
    }
    return rows;
  }

  /** Replays the events after `afterSeq`, then delivers new ones, in seq order; returns the
   *  unsubscribe function. */
  subscribe(runId: string, afterSeq: number, onEvent: (e: RunEvent) => void): () => void {
    if (this.stopped) return () => {};
    const sub: Sub = { runId, last: afterSeq, onEvent, live: false, queue: [], running: false, dirty: false, closed: false, retryMs: 100, retryTimer: null };
    let set = this.subs.get(runId);
    if (!set) this.subs.set(runId, (set = new Set()));
    set.add(sub);
    this.catchUp(sub);
    return () => {
      this.unsub(sub);
      const s = this.subs.get(runId);
      if (s) {
        s.delete(sub);
        if (s.size === 0) this.subs.delete(runId);
      }
    };
  }

  /** A local append: to the run's subscribers, straight through or queued behind their catch-up. */
  appended(runId: string, e: RunEvent): void {
    const set = this.subs.get(runId);
    if (set) for (const s of set) this.offer(s, e);
  }

  /** A NOTIFY `<runId>:<lastSeq>` from an instance that committed rows. */
  notified(payload: string): void {
    const at = payload.lastIndexOf(':');
    if (at <= 0) return;
    const set = this.subs.get(payload.slice(0, at));
    if (!set) return;
    const seq = Number(payload.slice(at + 1));
    for (const s of set) if (!(s.last >= seq)) this.catchUp(s);
  }

  /** The LISTEN connection is (back) up: notifications may have been missed. */
  catchUpAll(): void {
    for (const set of this.subs.values()) for (const s of set) this.catchUp(s);
  }

  stop(): void {
    this.stopped = true;
    for (const set of this.subs.values()) for (const s of set) this.unsub(s);
    this.subs.clear();
  }

  private async readRows(runId: string, afterSeq: number, limit: number): Promise<RunEvent[]> {
    const { rows } = await this.pool.query<{ seq: number; ts: Date; type: string; payload: unknown }>({
      text: 'SELECT seq, ts, type, payload FROM "Weir_AgentRunEvent" WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
      values: [runId, afterSeq, limit],
      types: weirTypes,
    });
    return rows.map((r) => ({ seq: r.seq, ts: r.ts.toISOString(), type: r.type, payload: r.payload }));
  }

  private deliver(s: Sub, e: RunEvent): void {
    if (s.closed || e.seq <= s.last) return;
    s.last = e.seq;
    try {
      s.onEvent(e);
    } catch (err) {
      this.log.error(`agent events: a subscriber of run ${s.runId} failed: ${(err as Error).message}`);
    }
  }

  /** A local append for a subscriber: straight through when caught up and next in line. */
  private offer(s: Sub, e: RunEvent): void {
    if (s.live && e.seq === s.last + 1) return this.deliver(s, e);
    if (e.seq <= s.last) return;
    s.queue.push(e);
    if (s.queue.length > this.maxQueue) {
      // Everything queued is also in memory or in the table: read it again instead of holding it.
      s.queue = [];
      s.dirty = true;
    }
    if (s.live) {
      s.live = false;
      this.catchUp(s);
    }
  }

  /** Reads the table (and this instance's unwritten rows) after the subscriber's last seq until
   *  nothing is left, then hands over to live delivery. */
  private catchUp(s: Sub): void {
    if (s.closed) return;
    if (s.running) {
      s.dirty = true;
      return;
    }
    s.running = true;
    void this.readUntilCaughtUp(s).then(
      () => {
        s.running = false;
        s.retryMs = 100;
      },
      (e: Error) => {
        s.running = false;
        if (s.closed) return;
        this.log.warn(`agent events: cannot read events of run ${s.runId} (${e.message}); retrying`);
        s.retryTimer = setTimeout(() => {
          s.retryTimer = null;
          this.catchUp(s);
        }, s.retryMs);
        s.retryTimer.unref();
        s.retryMs = Math.min(s.retryMs * 2, MAX_BACKOFF_MS);
      },
    );
  }

  private async readUntilCaughtUp(s: Sub): Promise<void> {
    do {
      s.dirty = false;
      for (;;) {
        // Taken before the read: a row leaves memory only once committed, so it is in one or the other.
        const mem = this.pending.inMemory(s.runId, s.last);
        const rows = await this.readRows(s.runId, s.last, PAGE);
        if (s.closed) return;
        for (const e of rows) this.deliver(s, e);
        if (rows.length < PAGE) {
          for (const e of mem) this.deliver(s, e);
          break;
        }
      }
    } while (s.dirty && !s.closed);
    // No await from here on: nothing can slip in between the queue and going live.
    const q = s.queue;
    s.queue = [];
    for (const e of q) this.deliver(s, e);
    s.live = true;
  }

  private unsub(s: Sub): void {
    s.closed = true;
    s.queue = [];
    if (s.retryTimer) clearTimeout(s.retryTimer);
    s.retryTimer = null;
  }
}
