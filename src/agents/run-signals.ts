// What instances on one database tell each other about runs, over PostgreSQL's LISTEN/NOTIFY:
// runs were queued (whoever has room claims them), and a run is asked to cancel (whoever executes
// it stops it). A missed signal costs a delay, never a run: the dispatcher's round looks at the
// queue and the cancel flags anyway.
//
// A NOTIFY reaches every listener on the channel, its sender's own included. The instance that
// queued runs has already pumped its own queue (after their insert committed), so its own
// `queued` comes back carrying its origin and is not pumped again: a second claim query per POST,
// and per run of a fan-out, was all it did. Signals without an origin (an older Weir) are heard.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { coalesce } from './coalesce';

const CHANNEL = 'weir_agent_runs';
const RELISTEN_MS = 1_000;

export interface RunSignalsOptions {
  pool: pg.Pool;
  /** Another instance queued runs. */
  queued(): void;
  /** A run was asked to cancel (it may run here). */
  cancel(runId: string): void;
  log(line: string): void;
}

export class RunSignals {
  /** This instance's mark on its own `queued` signals (per process: a restart is another sender). */
  private readonly origin = randomBytes(8).toString('hex');
  private listener: pg.PoolClient | null = null;
  private stopped = false;

  constructor(private readonly o: RunSignalsOptions) {}

  /** Listens until stop(); a lost connection is replaced a second later. */
  async listen(): Promise<void> {
    try {
      const c = await this.o.pool.connect();
      c.on('notification', (n) => this.heard(n.channel, n.payload));
      c.on('error', () => {
        this.listener = null;
        c.release(true);
        this.relisten();
      });
      await c.query(`LISTEN ${CHANNEL}`);
      if (this.stopped) return c.release(true);
      this.listener = c;
    } catch (e) {
      this.o.log(`LISTEN failed (${(e as Error).message}); other instances' runs are seen at the next round`);
      this.relisten();
    }
  }

  private relisten(): void {
    if (!this.stopped) setTimeout(() => void this.listen(), RELISTEN_MS).unref();
  }

  private heard(channel: string, payload: string | undefined): void {
    if (channel !== CHANNEL || !payload) return;
    const sep = payload.indexOf(':');
    const what = sep < 0 ? payload : payload.slice(0, sep);
    const arg = sep < 0 ? '' : payload.slice(sep + 1);
    if (what === 'queued' && arg !== this.origin) this.o.queued();
    if (what === 'cancel' && arg) this.o.cancel(arg);
  }

  /** Runs were queued here (and this instance pumped already): the others are told, once for runs queued together. */
  readonly queued = coalesce(() => this.notify(`queued:${this.origin}`));

  /** A run that does not run here was asked to cancel. */
  cancel(runId: string): void {
    void this.notify(`cancel:${runId}`);
  }

  private notify(payload: string): Promise<void> {
    return this.o.pool.query(`SELECT pg_notify($1, $2)`, [CHANNEL, payload]).then(
      () => {},
      () => {},
    );
  }

  stop(): void {
    this.stopped = true;
    this.listener?.release(true);
    this.listener = null;
  }
}
