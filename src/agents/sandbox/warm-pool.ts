// Warm pools of cloud sandboxes (`warm_pool: N` on an e2b or daytona sandbox): N machines made
// ahead, their workspace ready, waiting for runs. Which run holds which pooled machine lives in
// Postgres (Weir_AgentSandboxPool), not in the provider's labels, which are fixed when a machine is
// made: a pooled machine carries only its pool's name and its slot, and every instance on the
// database shares the pool.
//
// A slot's row is written before its machine is asked for ('creating'), so the sweeper never takes
// a machine being made for an orphan; it becomes 'ready' once a shell answers in it, 'claimed' by
// one run (a pooled machine serves one run and dies with it: runs never see each other's files),
// and is refilled in the background. A ready machine unclaimed for `pool_idle` is retired and
// replaced (its lifetime at the provider is that plus slack, so none outlives a dead Weir long).
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { SandboxDef } from '../types';
import type { CloudOptions } from './cloud-options';
import { prepare } from './cloud-sandbox';
import type { Cloud, Machine } from './machine';

export const POOL_TABLE = '"Weir_AgentSandboxPool"';
/** Label of every machine Weir makes: the installation (one database's Weirs). */
export const INSTALL_LABEL = 'weir_install';
export const RUN_LABEL = 'weir_run_id';
export const POOL_LABEL = 'weir_pool';
export const SLOT_LABEL = 'weir_slot';

export interface PoolDeps {
  pool: pg.Pool;
  installation: string;
  instanceId: string;
  log(line: string): void;
  now(): Date;
}

export interface Claimed {
  machine: Machine;
  home: string;
  slot: string;
}

interface SlotRow {
  slot_id: string;
  machine_id: string | null;
  home: string | null;
}

export class WarmPools {
  /** Machines this instance made and still holds a handle on (a claim here needs no connect call). */
  private readonly handles = new Map<string, Machine>();
  /** Pools being filled by this instance now (one fill at a time per pool). */
  private readonly filling = new Set<string>();

  constructor(private readonly d: PoolDeps) {}

  /**
   * Takes a ready machine of this pool for a run, or null when none is ready (the run starts cold).
   * A machine that no longer answers is dropped and the next one tried.
   */
  async claim(def: SandboxDef, cloud: Cloud, runId: string): Promise<Claimed | null> {
    for (;;) {
      const r = await this.d.pool.query<SlotRow>(
        `UPDATE ${POOL_TABLE} SET state = 'claimed', run_id = $2, instance_id = $3, claimed_at = $4
          WHERE slot_id = (SELECT slot_id FROM ${POOL_TABLE} WHERE sandbox_name = $1 AND state = 'ready' ORDER BY ready_at LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING slot_id, machine_id, home`,
        [def.name, runId, this.d.instanceId, this.d.now()],
      );
      const row = r.rows[0];
      if (!row) return null;
      let machine = this.handles.get(row.slot_id);
      this.handles.delete(row.slot_id);
      try {
        machine ??= await cloud.connect(row.machine_id!);
        return { machine, home: row.home!, slot: row.slot_id };
      } catch (e) {
        this.d.log(`warm pool ${def.name}: slot ${row.slot_id} (${row.machine_id}) is gone: ${(e as Error).message}`);
        await this.drop(row.slot_id, cloud, row.machine_id);
      }
    }
  }

  /** The run that held a pooled machine ended (its sandbox is destroyed): the slot goes. */
  async released(runId: string): Promise<void> {
    await this.d.pool.query(`DELETE FROM ${POOL_TABLE} WHERE run_id = $1`, [runId]);
  }

  /**
   * Brings the pool to `warmPool` ready (or coming) machines and retires idle ones. Safe to call
   * often and from several instances: the count and the new slots are taken under one advisory lock.
   */
  async maintain(def: SandboxDef, cloud: Cloud, o: CloudOptions): Promise<void> {
    if (this.filling.has(def.name)) return;
    this.filling.add(def.name);
    try {
      await this.retire(def, cloud, o);
      const slots = await this.reserve(def, o.warmPool, cloud.kind);
      // Made together: a pool of N fills in the time of one create.
      await Promise.all(slots.map((slot) => this.make(def, cloud, o, slot)));
    } finally {
      this.filling.delete(def.name);
    }
  }

  /** Slots of pools no longer configured (or set to 0) are emptied. */
  async drain(keep: Set<string>, cloudOf: (name: string) => Cloud | null): Promise<void> {
    const r = await this.d.pool.query<SlotRow & { sandbox_name: string }>(
      `DELETE FROM ${POOL_TABLE} WHERE state = 'ready' AND NOT (sandbox_name = ANY($1)) RETURNING slot_id, machine_id, home, sandbox_name`,
      [[...keep]],
    );
    for (const row of r.rows) {
      this.handles.delete(row.slot_id);
      const cloud = cloudOf(row.sandbox_name);
      if (cloud && row.machine_id) await cloud.kill(row.machine_id).catch((e: unknown) => this.d.log(`warm pool ${row.sandbox_name}: retiring ${row.machine_id}: ${(e as Error).message}`));
    }
  }

  private async reserve(def: SandboxDef, want: number, provider: string): Promise<string[]> {
    const c = await this.d.pool.connect();
    try {
      await c.query('BEGIN');
      const lock = await c.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok`, [`weir-pool:${def.name}`]);
      if (!lock.rows[0]!.ok) {
        await c.query('ROLLBACK');
        return [];
      }
      const n = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${POOL_TABLE} WHERE sandbox_name = $1 AND state IN ('creating', 'ready')`, [def.name]);
      const missing = Math.max(0, want - n.rows[0]!.n);
      const slots = Array.from({ length: missing }, () => `slot_${randomBytes(10).toString('hex')}`);
      for (const slot of slots) {
        await c.query(`INSERT INTO ${POOL_TABLE} (slot_id, sandbox_name, provider, state, instance_id, created_at) VALUES ($1, $2, $3, 'creating', $4, $5)`, [slot, def.name, provider, this.d.instanceId, this.d.now()]);
      }
      await c.query('COMMIT');
      return slots;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  private async make(def: SandboxDef, cloud: Cloud, o: CloudOptions, slot: string): Promise<void> {
    let machine: Machine | null = null;
    try {
      machine = await cloud.create({ [INSTALL_LABEL]: this.d.installation, [POOL_LABEL]: def.name, [SLOT_LABEL]: slot }, o.poolIdleMs + o.lifetimeSlackMs);
      const home = await prepare(machine);
      const r = await this.d.pool.query(`UPDATE ${POOL_TABLE} SET state = 'ready', machine_id = $2, home = $3, ready_at = $4 WHERE slot_id = $1 AND state = 'creating'`, [slot, machine.id, home, this.d.now()]);
      if (r.rowCount === 0) throw new Error('its slot was removed while it was made');
      this.handles.set(slot, machine);
    } catch (e) {
      this.d.log(`warm pool ${def.name}: could not make a sandbox: ${(e as Error).message}`);
      await this.drop(slot, cloud, machine?.id ?? null);
    }
  }

  private async retire(def: SandboxDef, cloud: Cloud, o: CloudOptions): Promise<void> {
    const before = new Date(this.d.now().getTime() - o.poolIdleMs);
    const r = await this.d.pool.query<SlotRow>(
      `DELETE FROM ${POOL_TABLE} WHERE sandbox_name = $1 AND ((state = 'ready' AND ready_at < $2) OR (state = 'creating' AND created_at < $3)) RETURNING slot_id, machine_id, home`,
      [def.name, before, new Date(this.d.now().getTime() - 2 * o.createTimeoutMs)],
    );
    for (const row of r.rows) {
      this.handles.delete(row.slot_id);
      if (row.machine_id) await cloud.kill(row.machine_id).catch((e: unknown) => this.d.log(`warm pool ${def.name}: retiring ${row.machine_id}: ${(e as Error).message}`));
    }
    if (r.rows.length) this.d.log(`warm pool ${def.name}: retired ${r.rows.length} idle sandbox(es)`);
  }

  private async drop(slot: string, cloud: Cloud, machineId: string | null): Promise<void> {
    this.handles.delete(slot);
    await this.d.pool.query(`DELETE FROM ${POOL_TABLE} WHERE slot_id = $1`, [slot]).catch(() => {});
    if (machineId) await cloud.kill(machineId).catch(() => {});
  }

  /** For the sweeper: the slots that still own their machine (creating, ready, or claimed by a live run). */
  async liveSlots(): Promise<Set<string>> {
    const r = await this.d.pool.query<{ slot_id: string }>(
      `SELECT p.slot_id FROM ${POOL_TABLE} p LEFT JOIN "Weir_AgentRun" r ON r.id = p.run_id
        WHERE p.state IN ('creating', 'ready') OR (p.state = 'claimed' AND r.status IN ('provisioning', 'running'))`,
    );
    return new Set(r.rows.map((x) => x.slot_id));
  }

  /** Claimed slots whose run has ended (a Weir died before it destroyed them): removed, their machines returned. */
  async orphans(): Promise<{ slot: string; machineId: string | null; sandbox: string }[]> {
    const r = await this.d.pool.query<{ slot_id: string; machine_id: string | null; sandbox_name: string }>(
      `DELETE FROM ${POOL_TABLE} p WHERE p.state = 'claimed' AND NOT EXISTS (SELECT 1 FROM "Weir_AgentRun" r WHERE r.id = p.run_id AND r.status IN ('provisioning', 'running'))
        RETURNING p.slot_id, p.machine_id, p.sandbox_name`,
    );
    return r.rows.map((x) => ({ slot: x.slot_id, machineId: x.machine_id, sandbox: x.sandbox_name }));
  }
}
