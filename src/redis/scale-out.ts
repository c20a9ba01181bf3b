// Many Weir instances on one Redis: the pieces the control thread runs when the config names a
// Redis (src/redis/settings.ts) — rpm, tpm and budget leases, shared deployment health (cooldowns, failures, in-flight), invalidation by pub/sub — over one
// link that tracks whether Redis is up. Without a Redis setting nothing here starts.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { LiteLLMConfig } from '../config/types';
import { log } from '../log';
import type { ControlStatus } from '../state/control-status';
import type { DeploymentHealth } from '../state/deployment-health';
import type { EntityTable, MinuteKind } from '../state/entity-table';
import type { SlotTable } from '../control/slots';
import { Invalidation } from './invalidation';
import { BudgetLeases, type BudgetLeasable } from './budget-leases';
import { RedisLink } from './link';
import { registerRedisMetrics } from './redis-metrics';
import { Instances } from './instances';
import { MinuteLeases, type Leasable, type LeaseWait } from './minute-leases';
import { rpmPolicy } from './rpm-leases';
import { tpmPolicy } from './tpm-leases';
import { redisSettings } from './settings';
import { SharedHealth } from './shared-health';

export interface ScaleOutOptions {
  cfg: LiteLLMConfig;
  env: NodeJS.ProcessEnv;
  status: ControlStatus;
  health: DeploymentHealth;
  slots: SlotTable;
  /** Present when a database is: keys and teams, their limits, and a re-read of the tables. */
  governance: { entities: EntityTable; rateLimited(kind: MinuteKind): Leasable[]; budgeted(): BudgetLeasable[]; resync(): void; shareLimits(on: boolean): void } | null;
}

export class ScaleOut {
  readonly instanceId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly instances: Instances;
  private readonly rpm: MinuteLeases | null;
  private readonly tpm: MinuteLeases | null;
  private readonly budgets: BudgetLeases | null;
  private readonly health: SharedHealth;
  private readonly invalidation: Invalidation | null;

  private readonly governance: ScaleOutOptions['governance'];
  private readonly status: ControlStatus;

  private constructor(
    private readonly link: RedisLink,
    opts: ScaleOutOptions,
  ) {
    const g = opts.governance;
    this.governance = g;
    this.status = opts.status;
    const instances = new Instances(link, this.instanceId);
    this.instances = instances;
    const n = () => instances.count;
    this.rpm = g ? new MinuteLeases(link, g.entities, rpmPolicy, () => g.rateLimited('requests'), this.instanceId, n) : null;
    this.tpm = g ? new MinuteLeases(link, g.entities, tpmPolicy, () => g.rateLimited('tokens'), this.instanceId, n) : null;
    this.budgets = g ? new BudgetLeases(link, g.entities, () => g.budgeted(), this.instanceId, n) : null;
    this.invalidation = g ? new Invalidation(link, this.instanceId, () => g.resync()) : null;
    this.health = new SharedHealth(link, opts.health, opts.slots, this.instanceId);
  }

  /** Null when the config names no Redis. Never waits for Redis to be reachable. */
  static async start(opts: ScaleOutOptions): Promise<ScaleOut | null> {
    const settings = redisSettings(opts.cfg.router_settings, opts.env);
    if (!settings) return null;
    opts.governance?.shareLimits(true);
    registerRedisMetrics();
    const link = new RedisLink(settings, opts.status);
    const s = new ScaleOut(link, opts);
    await link.start();
    s.instances.start();
    s.rpm?.start();
    s.tpm?.start();
    s.budgets?.start();
    s.health.start();
    log.info(`scale-out: redis ${settings.shown}, instance ${s.instanceId}: rpm, tpm and budgets leased across instances, deployment health (cooldowns, failures, in-flight) shared, key and team changes published`);
    return s;
  }

  /** A worker's request found its lease spent (control call `lease.wait`): the rpm's or tpm's, or the budget's when `nanos` (its reservation) is given. */
  leaseWait(rec: number, nanos: bigint | null, kind: MinuteKind = 'requests'): Promise<LeaseWait> {
    if (nanos !== null) return this.budgets?.waitFor(rec, nanos) ?? Promise.resolve('exhausted');
    return (kind === 'tokens' ? this.tpm : this.rpm)?.waitFor(rec) ?? Promise.resolve('exhausted');
  }

  /** Key, team or budget changes went through this instance. */
  changed(): Promise<void> {
    return this.invalidation?.changed() ?? Promise.resolve();
  }

  /**
   * Stops every timer and closes the link. `release` (a reload that changed or removed the Redis
   * settings): leased records go back to their local limits until a new link leases them again.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.instances.stop();
    this.rpm?.stop();
    this.tpm?.stop();
    this.budgets?.stop();
    this.health.stop();
    await this.link.close();
    if (opts.release) {
      this.rpm?.release();
      this.tpm?.release();
      this.budgets?.release();
      this.governance?.shareLimits(false);
      this.status.setRedis('none');
    }
  }
}

/**
 * What a reload compares to know whether Redis moved: the settings read from the config and the
 * environment, password included (compared in memory, never shown). '' when no Redis is named.
 */
export function scaleOutIdentity(cfg: LiteLLMConfig, env: NodeJS.ProcessEnv): string {
  const s = redisSettings(cfg.router_settings, env);
  return s ? JSON.stringify(s) : '';
}
