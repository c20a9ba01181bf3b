// Everything Weir runs on E2B and Daytona, seen from the runtime: the two providers, their warm
// pools (kept full on every dispatcher round, one maintenance at a time) and the sweeper that
// kills this installation's machines no live run or pool slot owns.
import type pg from 'pg';
import type { SandboxDef } from '../types';
import { cloudOptions } from './cloud-options';
import { CloudSandboxProvider, type CloudKind, type CloudProviderOptions } from './cloud-provider';
import { WarmPools } from './warm-pool';

export interface FleetOptions {
  pool: pg.Pool;
  installation: string;
  instanceId: string;
  now(): Date;
  log(line: string): void;
  makeCloud?: CloudProviderOptions['makeCloud'];
}

const KINDS: CloudKind[] = ['e2b', 'daytona'];

export class CloudFleet {
  readonly pools: WarmPools;
  readonly providers: CloudSandboxProvider[];
  private maintaining: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: FleetOptions) {
    this.pools = new WarmPools({ pool: o.pool, installation: o.installation, instanceId: o.instanceId, now: o.now, log: o.log });
    this.providers = KINDS.map((kind) => new CloudSandboxProvider({ kind, installation: o.installation, pools: this.pools, log: o.log, makeCloud: o.makeCloud }));
  }

  private provider(kind: SandboxDef['provider']): CloudSandboxProvider | undefined {
    return this.providers.find((p) => p.kind === kind);
  }

  /** The start line of a cloud sandbox: where it runs, its template and pool, or why it cannot run. */
  describe(def: SandboxDef): string {
    try {
      const o = cloudOptions(def.options, def.provider === 'e2b' ? 'E2B_API_KEY' : 'DAYTONA_API_KEY');
      return `${o.apiUrl ?? 'default API'}${o.template ? `, template ${o.template}` : ''}${o.warmPool ? `, warm pool of ${o.warmPool}` : ''}`;
    } catch (e) {
      return `unusable: ${(e as Error).message}`;
    }
  }

  /** Starts filling and retiring the pools of these definitions unless a maintenance still runs. */
  maintainPools(defs: SandboxDef[]): void {
    if (this.maintaining || this.stopped) return;
    this.maintaining = (async () => {
      const pooled = new Set<string>();
      for (const def of defs) {
        const p = this.provider(def.provider);
        if (!p) continue;
        let client;
        try {
          client = p.clientOf(def);
        } catch {
          continue; // unusable definition: its runs say why
        }
        if (client.o.warmPool <= 0) continue;
        pooled.add(def.name);
        await this.pools.maintain(def, client.cloud, client.o).catch((e: unknown) => this.o.log(`warm pool ${def.name}: ${(e as Error).message}`));
      }
      await this.pools.drain(pooled, (name) => {
        const def = defs.find((d) => d.name === name);
        const p = def && this.provider(def.provider);
        try {
          return p ? p.clientOf(def).cloud : null;
        } catch {
          return null;
        }
      });
    })()
      .catch((e: unknown) => this.o.log(`warm pools: ${(e as Error).message}`))
      .finally(() => (this.maintaining = null));
  }

  /** Pool maintenance under way (tests and the bench wait on it). */
  get busy(): Promise<void> | null {
    return this.maintaining;
  }

  /** Kills the machines nobody owns; how many. */
  async sweep(defs: SandboxDef[], live: (runIds: string[]) => Promise<Set<string>>): Promise<number> {
    let killed = 0;
    for (const o of await this.pools.orphans()) {
      const def = defs.find((d) => d.name === o.sandbox);
      const p = def && this.provider(def.provider);
      if (p && def && o.machineId) await p.clientOf(def).cloud.kill(o.machineId).then(() => killed++, () => {});
    }
    const slots = await this.pools.liveSlots();
    for (const p of this.providers) {
      const mine = defs.filter((d) => d.provider === p.kind);
      if (!mine.length) continue;
      killed += await p.sweepOrphans(mine, live, slots).catch((e: unknown) => {
        this.o.log(`sweeper (${p.kind}): ${(e as Error).message}`);
        return 0;
      });
    }
    return killed;
  }

  stop(): void {
    this.stopped = true;
  }
}
