// One LISTEN connection per EventLog: a client taken from the pool for good, LISTENing on the
// events channel, and taken again (with a growing pause) when the server or the network drops it.
// Notifications sent while it was away are lost, so each (re)connection is reported: the owner then
// reads again what its subscribers may have missed.
import type pg from 'pg';

export const EVENTS_CHANNEL = 'weir_agent_events';

export interface ListenerOptions {
  pool: pg.Pool;
  onNotify(payload: string): void;
  /** Called after each successful LISTEN (the first included): notifications may have been missed. */
  onListening(): void;
  onProblem(message: string): void;
}

const MIN_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

export class EventListener {
  private client: pg.PoolClient | null = null;
  private stopped = false;
  private retryMs = MIN_RETRY_MS;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: ListenerOptions) {}

  /** The first attempt; resolves whatever its outcome (a failure schedules the next). */
  async start(): Promise<void> {
    await this.connect();
  }

  get listening(): boolean {
    return this.client !== null;
  }

  private async connect(): Promise<void> {
    this.timer = null;
    if (this.stopped) return;
    let client: pg.PoolClient | null = null;
    try {
      client = await this.opts.pool.connect();
      const c = client;
      c.on('notification', (n) => {
        if (n.channel === EVENTS_CHANNEL && n.payload !== undefined) this.opts.onNotify(n.payload);
      });
      // 'error' (server gone, terminated) and 'end' both mean this connection is done.
      c.on('error', (e) => this.lost(c, e));
      c.on('end', () => this.lost(c, new Error('connection ended')));
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      if (this.stopped) {
        c.release(true);
        return;
      }
      this.client = c;
      this.retryMs = MIN_RETRY_MS;
      this.opts.onListening();
    } catch (e) {
      if (client) this.lost(client, e as Error);
      else this.retry(e as Error);
    }
  }

  private lost(c: pg.PoolClient, e: Error): void {
    const wasCurrent = this.client === c;
    if (wasCurrent) this.client = null;
    // A released client's second release throws: only the first loss gives it back (destroyed).
    if (!(c as { weirLost?: boolean }).weirLost) {
      (c as { weirLost?: boolean }).weirLost = true;
      try {
        c.release(true);
      } catch {
        /* already released */
      }
      this.retry(e);
    }
  }

  private retry(e: Error): void {
    if (this.stopped || this.timer) return;
    this.opts.onProblem(`agent events: LISTEN connection lost (${e.message}); retrying in ${this.retryMs} ms`);
    this.timer = setTimeout(() => void this.connect(), this.retryMs);
    this.timer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    if (c) {
      (c as { weirLost?: boolean }).weirLost = true;
      // UNLISTEN happens with the connection: destroyed, not returned to the pool still listening.
      c.release(true);
    }
  }
}
