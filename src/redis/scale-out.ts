// Many Weir instances on one Redis: the pieces the control thread runs when the config names a
// Redis (src/redis/settings.ts) — rpm and budget leases, shared deployment health (cooldowns, failures, in-flight), invalidation by pub/sub — over one
// link that tracks whether Redis is up. Without a Redis setting nothing here starts.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { LiteLLMConfig } from '../config/types';
import { log } from '../log';
import type { ControlStatus } from '../state/control-status';
import type { DeploymentHealth } from '../state/deployment-health';
import type { EntityTable } from '../state/entity-table';
import type { SlotTable } from '../control/slots';
import { Invalidation } from './invalidation';
import { BudgetLeases, type BudgetLeasable } from './budget-leases';
import { RedisLink } from './link';
import { registerRedisMetrics } from './redis-metrics';
import { RpmLeases, type Leasable, type LeaseWait } from './rpm-leases';
import { redisSettings } from './settings';
import { SharedHealth } from './shared-health';

export interface ScaleOutOptions {
  cfg: LiteLLMConfig;
  env: NodeJS.ProcessEnv;
  status: ControlStatus;
  health: DeploymentHealth;
  slots: SlotTable;
  /** Present when a database is: keys and teams, their limits, and a re-read of the tables. */
  governance: { entities: EntityTable; rateLimited(): Leasable[]; budgeted(): BudgetLeasable[]; resync(): void; shareLimits(): void } | null;
}

export class ScaleOut {
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly leases: RpmLeases | null;
  private readonly budgets: BudgetLeases | null;
  private readonly health: SharedHealth;
  private readonly invalidation: Invalidation | null;

  private constructor(
    private readonly link: RedisLink,
    opts: ScaleOutOptions,
  ) {
    const g = opts.governance;
    this.leases = g ? new RpmLeases(link, g.entities, () => g.rateLimited(), this.instanceId) : null;
    const leases = this.leases;
    this.budgets = g && leases ? new BudgetLeases(link, g.entities, () => g.budgeted(), this.instanceId, () => leases.instanceCount) : null;
    this.invalidation = g ? new Invalidation(link, this.instanceId, () => g.resync()) : null;
    this.health = new SharedHealth(link, opts.health, opts.slots, this.instanceId);
  }

  /** Null when the config names no Redis. Never waits for Redis to be reachable. */
  static async start(opts: ScaleOutOptions): Promise<ScaleOut | null> {
    const settings = redisSettings(opts.cfg.router_settings, opts.env);
    if (!settings) return null;
    opts.governance?.shareLimits();
    registerRedisMetrics();
    const link = new RedisLink(settings, opts.status);
    const s = new ScaleOut(link, opts);
    await link.start();
    s.leases?.start();
    s.budgets?.start();
    s.health.start();
    log.info(`scale-out: redis ${settings.shown}, instance ${s.instanceId}: rpm and budgets leased across instances, deployment health (cooldowns, failures, in-flight) shared, key and team changes published`);
    return s;
  }

  /** A worker's request found its lease spent (control call `lease.wait`): the rpm's, or the budget's when `nanos` (its reservation) is given. */
  leaseWait(rec: number, nanos: bigint | null): Promise<LeaseWait> {
    if (nanos !== null) return this.budgets?.waitFor(rec, nanos) ?? Promise.resolve('granted');
    return this.leases?.waitFor(rec) ?? Promise.resolve('granted');
  }

  /** Key, team or budget changes went through this instance. */
  changed(): Promise<void> {
    return this.invalidation?.changed() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.leases?.stop();
    this.budgets?.stop();
    this.health.stop();
    await this.link.close();
  }
}
