// The `e2b` and `daytona` sandbox providers: one SandboxProvider per kind, holding an SDK client
// per sandbox definition (made once per set of options, not per run). A run's sandbox is taken
// from the definition's warm pool when one is ready, else made for it; either way the machine is
// labelled with this installation and the run (or its pool slot), so that the sweeper can find
// and kill whatever a crash left, and given a lifetime of the run's timeout plus slack, so that a
// machine nobody kills still ends.
import type { Sandbox, SandboxDef, SandboxProvider } from '../types';
import { cloudOptions, type CloudOptions } from './cloud-options';
import { CloudSandbox, prepare } from './cloud-sandbox';
import type { Cloud, Machine } from './machine';
import { INSTALL_LABEL, POOL_LABEL, RUN_LABEL, SLOT_LABEL, type WarmPools } from './warm-pool';

export type CloudKind = 'e2b' | 'daytona';

const KEY_ENV: Record<CloudKind, string> = { e2b: 'E2B_API_KEY', daytona: 'DAYTONA_API_KEY' };
/** A run's timeout when the caller gives none (the profile default). */
const DEFAULT_RUN_MS = 30 * 60_000;

export interface CloudProviderOptions {
  kind: CloudKind;
  installation: string;
  pools?: WarmPools;
  log?: (line: string) => void;
  /** Tests: another SDK client than the real one. */
  makeCloud?: (kind: CloudKind, o: CloudOptions) => Cloud;
}

/**
 * The SDK client. Each SDK takes a second or more to load: loaded on first use, never by a Weir
 * whose config has no sandbox of that provider.
 */
export function makeCloud(kind: CloudKind, o: CloudOptions): Cloud {
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (kind === 'e2b') {
    const { E2BCloud } = require('./e2b') as typeof import('./e2b');
    return new E2BCloud(o);
  }
  const { DaytonaCloud } = require('./daytona') as typeof import('./daytona');
  return new DaytonaCloud(o);
  /* eslint-enable @typescript-eslint/no-require-imports */
}

export class CloudSandboxProvider implements SandboxProvider {
  private readonly clients = new Map<string, { key: string; cloud: Cloud; o: CloudOptions }>();

  constructor(private readonly p: CloudProviderOptions) {}

  get kind(): CloudKind {
    return this.p.kind;
  }

  /** The options and client of a definition (a changed definition gets a new client). */
  clientOf(def: SandboxDef): { cloud: Cloud; o: CloudOptions } {
    const key = JSON.stringify(def.options);
    const had = this.clients.get(def.name);
    if (had && had.key === key) return had;
    const o = cloudOptions(def.options, KEY_ENV[this.p.kind]);
    const made = { key, cloud: (this.p.makeCloud ?? makeCloud)(this.p.kind, o), o };
    this.clients.set(def.name, made);
    return made;
  }

  async create(def: SandboxDef, runId: string, labels: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<Sandbox> {
    const { cloud, o } = this.clientOf(def);
    const lifetime = (opts.timeoutMs ?? DEFAULT_RUN_MS) + o.lifetimeSlackMs;
    const pools = this.p.pools;
    if (o.warmPool > 0 && pools) {
      const warm = await pools.claim(def, cloud, runId);
      if (warm) {
        // Refilled behind the run so that the next run finds one ready too, but once this run's
        // start is over (CloudSandbox.started): a refill is a create and a first command, whose
        // SDK calls and pool rows would otherwise take the event loop and the database from it.
        const refill = () => void pools.maintain(def, cloud, o).catch((e: unknown) => this.p.log?.(`warm pool ${def.name}: ${(e as Error).message}`));
        try {
          await warm.machine.setLifetime(lifetime);
        } catch (e) {
          refill();
          await warm.machine.kill().catch(() => {});
          await pools.released(runId);
          throw e;
        }
        return new CloudSandbox(warm.machine, warm.home, this.p.kind, o.template, { kind: 'warm' }, (m) => this.destroy(m, runId), refill);
      }
    }
    const machine = await bounded(cloud.create({ ...labels, [INSTALL_LABEL]: this.p.installation, [RUN_LABEL]: runId }, lifetime), o.createTimeoutMs, `${this.p.kind} create`, (m) => m.kill());
    let home: string;
    try {
      home = await bounded(prepare(machine), o.createTimeoutMs, `${this.p.kind} sandbox ${machine.id}: its first command`);
    } catch (e) {
      await machine.kill().catch(() => {});
      throw e;
    }
    this.p.log?.(`agent sandbox ${runId}: ${this.p.kind} ${machine.id}`);
    return new CloudSandbox(machine, home, this.p.kind, o.template, { kind: 'cold' }, (m) => this.destroy(m, runId));
  }

  private async destroy(machine: Machine, runId: string): Promise<void> {
    try {
      await machine.kill();
    } finally {
      await this.p.pools?.released(runId);
    }
  }

  /** After a crash: kill what these runs left (by the run's label, and their pool slots). */
  async sweep(runIds: string[], def?: SandboxDef): Promise<void> {
    if (def) this.clientOf(def);
    for (const { cloud } of this.clients.values()) {
      for (const runId of runIds) {
        for (const m of await cloud.list({ [INSTALL_LABEL]: this.p.installation, [RUN_LABEL]: runId })) await cloud.kill(m.id);
      }
    }
    for (const runId of runIds) await this.p.pools?.released(runId);
  }

  /**
   * Every machine of this installation that no live run and no live pool slot owns is killed:
   * left by a Weir that crashed, by a run whose destroy failed, or by a create that answered after
   * its run gave up. `live(runId)` says whether a run still owns its sandbox.
   */
  async sweepOrphans(defs: SandboxDef[], live: (runIds: string[]) => Promise<Set<string>>, liveSlots: Set<string>): Promise<number> {
    // One listing per account: definitions with the same key and address share their machines.
    const accounts = new Map<string, Cloud>();
    for (const def of defs) {
      try {
        const { cloud, o } = this.clientOf(def);
        accounts.set(`${o.apiUrl ?? ''}|${o.sandboxUrl ?? ''}|${o.domain ?? ''}|${o.target ?? ''}|${o.apiKey}`, cloud);
      } catch {
        // A definition that cannot be used (its key is not set) has no machines to sweep.
      }
    }
    let killed = 0;
    for (const cloud of accounts.values()) {
      const machines = await cloud.list({ [INSTALL_LABEL]: this.p.installation });
      const runIds = machines.map((m) => m.labels[RUN_LABEL]).filter((x): x is string => !!x);
      const owned = runIds.length ? await live(runIds) : new Set<string>();
      for (const m of machines) {
        const run = m.labels[RUN_LABEL];
        const slot = m.labels[SLOT_LABEL];
        const keep = run ? owned.has(run) : slot && m.labels[POOL_LABEL] ? liveSlots.has(slot) : false;
        if (keep) continue;
        await cloud.kill(m.id).catch((e: unknown) => this.p.log?.(`sweeper: killing ${this.p.kind} ${m.id}: ${(e as Error).message}`));
        killed++;
      }
    }
    return killed;
  }
}

/**
 * `p` or a timeout error after `ms`. What `p` yields after the timeout is given to `late` (a machine
 * made after its run gave up is killed, not leaked).
 */
function bounded<T>(p: Promise<T>, ms: number, what: string, late?: (v: T) => Promise<unknown>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let over = false;
    const t = setTimeout(() => {
      over = true;
      reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s (create_timeout)`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        if (over) void late?.(v)?.catch(() => {});
        else resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        if (!over) reject(e);
      },
    );
  });
}
