// The queue's consumer on one instance: takes queued runs when there is room (per job, per sandbox,
// per instance — store.claimQueued checks them under one lock for every instance on the database),
// holds them by a lease it renews, stops those asked to cancel, and cleans up after instances that
// died: their runs' sandboxes swept, keys blocked, and the runs ended as `failed: internal`.
import type pg from 'pg';
import type { RunExecution } from './executor';
import { claimQueued, expireQueued, orphanedRuns, renewLeases, takeOver, type RunRow } from './store';

export interface DispatcherOptions {
  pool: pg.Pool;
  instanceId: string;
  /** Runs this instance executes at once. */
  maxRuns(): number;
  jobLimit(job: string): number;
  sandboxLimit(sandbox: string): number;
  start(run: RunRow): RunExecution;
  /** After a crash or a lost instance: kill what is left of the run, block its key, record its end. */
  recover(run: RunRow, why: string): Promise<void>;
  /** A queued run passed its expiry (it already ended as `expired`). */
  expired(run: RunRow): Promise<void>;
  leaseMs: number;
  /** Why a run whose holder's lease expired ended (its error message). */
  leaseExpired: string;
  now(): Date;
  log(line: string): void;
}

export class Dispatcher {
  private readonly running = new Map<string, RunExecution>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** False once a claim found nothing more to take, until something is queued (or a round). A
   *  run's end then starts no claim: a fan-out's ends each ran one against an empty queue. */
  private maybeQueued = true;

  constructor(private readonly o: DispatcherOptions) {}

  get active(): number {
    return this.running.size;
  }

  execution(id: string): RunExecution | undefined {
    return this.running.get(id);
  }

  /** Room was made (a run ended): claims only when the queue may hold something. */
  pumpIfQueued(): Promise<void> {
    return this.maybeQueued ? this.pump() : Promise.resolve();
  }

  /**
   * Something may have been queued (here or on another instance): takes what the queue has room
   * for. Calls made while one is under way run once more after it.
   */
  pump(): Promise<void> {
    this.maybeQueued = true;
    if (this.stopped) return Promise.resolve();
    if (this.pumping) {
      this.again = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      do {
        this.again = false;
        try {
          const room = this.o.maxRuns() - this.running.size;
          const { runs, drained } = await claimQueued(this.o.pool, { instanceId: this.o.instanceId, leaseMs: this.o.leaseMs, room, jobLimit: this.o.jobLimit, sandboxLimit: this.o.sandboxLimit }, this.o.now());
          // A pump() called meanwhile set `again`: the next pass decides again.
          this.maybeQueued = !drained;
          for (const run of runs) {
            const ex = this.o.start(run);
            this.running.set(run.id, ex);
            void ex.done.then(() => {
              this.running.delete(run.id);
              void this.pumpIfQueued();
            });
          }
          if (runs.length === room && room > 0) this.again = true;
        } catch (e) {
          this.o.log(`dispatcher: ${(e as Error).message}`);
        }
      } while (this.again && !this.stopped);
      this.pumping = null;
    })();
    return this.pumping;
  }

  /**
   * The periodic round: renew this instance's leases (stopping runs asked to cancel), end queued runs
   * past their expiry, recover runs nobody holds, then look at the queue.
   */
  async round(): Promise<void> {
    const now = this.o.now();
    const ids = [...this.running.keys()];
    try {
      const held = await renewLeases(this.o.pool, this.o.instanceId, ids, new Date(now.getTime() + this.o.leaseMs));
      const heldIds = new Set(held.map((h) => h.id));
      for (const h of held) if (h.cancel_requested) this.running.get(h.id)?.cancel();
      // A run in our map whose row is no longer ours (taken over after a long pause): let it go.
      for (const id of ids) {
        if (heldIds.has(id)) continue;
        const ex = this.running.get(id);
        if (ex && (await this.o.pool.query(`SELECT 1 FROM "Weir_AgentRun" WHERE id = $1 AND status IN ('provisioning','running') AND instance_id <> $2`, [id, this.o.instanceId])).rowCount) ex.abandon();
      }
      for (const run of await expireQueued(this.o.pool, now)) await this.o.expired(run);
      await this.recoverOrphans(this.o.leaseExpired);
    } catch (e) {
      this.o.log(`dispatcher round: ${(e as Error).message}`);
    }
    await this.pump();
  }

  /** Runs in flight nobody holds: this instance's own from before a restart, and expired leases. */
  async recoverOrphans(why: string = this.o.leaseExpired): Promise<number> {
    const orphans = (await orphanedRuns(this.o.pool, this.o.instanceId, this.o.now())).filter((r) => !this.running.has(r.id));
    for (const run of orphans) {
      // Take it first (a conditional move), so two instances never clean up the same run.
      const taken = await takeOver(this.o.pool, run, this.o.instanceId, new Date(this.o.now().getTime() + this.o.leaseMs));
      if (!taken) continue;
      const reason = run.instance_id === this.o.instanceId ? 'Weir restarted while the run was in flight' : why;
      await this.o.recover(taken, reason).catch((e: unknown) => this.o.log(`recovering run ${run.id}: ${(e as Error).message}`));
    }
    return orphans.length;
  }

  /** Cancels a run this instance executes; false when it is not here. */
  cancelLocal(id: string): boolean {
    const ex = this.running.get(id);
    if (!ex) return false;
    ex.cancel();
    return true;
  }

  /**
   * Stops claiming, and stops the runs in flight here without recording an end: their agents are
   * killed and their sandboxes removed, and the runs are ended by whoever recovers them (this
   * instance when it starts again, or another once the lease has run out).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pumping;
    for (const ex of this.running.values()) ex.abandon();
    await Promise.allSettled([...this.running.values()].map((ex) => ex.done));
  }
}
