// Virtual keys, budgets and spend on the LiteLLM Postgres schema, as the control thread runs them:
// the database connection (or an embedded PostgreSQL), the periodic read of LiteLLM's tables into
// the shared state, the one-off lookup of keys this instance has not seen, the management API,
// the spend writer that drains the workers' journals, and the budget resets. Workers never wait
// on any of it: they read the shared state and append to their journals.
import path from 'node:path';
import type pg from 'pg';
import { handleAdmin } from '../admin/router';
import type { Call } from '../admin/common';
import { blockRunKeys, generateRunKeys } from '../admin/keys';
import type { AdminContext, AdminRequest, AdminResponse, ModelSettings } from '../admin/types';
import type { LiteLLMConfig } from '../config/types';
import { databaseUrl } from '../config/database-url';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../db/embedded';
import { createPool, isConnectionError } from '../db/pool';
import { keyBundles, loadAll, loadKeys, type KeyBundle } from '../db/queries';
import { ensureSchema } from '../db/schema';
import { SpendWriter } from '../db/spend-writer';
import type { GovernanceDelta } from '../gateway/governance';
import { log } from '../log';
import type { ControlStatus } from '../state/control-status';
import type { WorkerInit } from '../server/worker-protocol';
import { resetBudgets } from './budget-reset';
import { type DbModelRow, modelTableDigest, readModelRows } from './db-models';
import { END_USER_RECORDS, GovernanceStore, PROXY_BUDGET_USER } from './governance-store';

/** How often the tables are re-read: changes made elsewhere take effect within this. */
const SYNC_INTERVAL_MS = positive(process.env.WEIR_SYNC_INTERVAL_MS, 2_000);
/** The budget reset job's period when general_settings.proxy_budget_rescheduler_min_time is unset. */
const RESET_INTERVAL_MS = 60_000;
/** End users holding a shared record at once (see src/control/end-user-slots.ts). */
const END_USER_RECORDS_MAX = positive(process.env.WEIR_END_USER_RECORDS, END_USER_RECORDS);
/** Unknown keys asked for within this window are looked up in one query. */
const LOOKUP_BATCH_MS = 5;

function positive(v: string | undefined, fallback: number): number {
  const n = Number(v);
  return v !== undefined && v !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}

export interface GovernanceOptions {
  cfg: LiteLLMConfig;
  /** Folder of the config file: .weir/ (journal, embedded data) lives beside it by default. */
  baseDir: string;
  status: ControlStatus;
  /** Sends a delta to every worker; `seq` is what a worker acknowledges once it applied it. */
  publish(delta: GovernanceDelta, seq: number): void;
  /** The highest delta sequence number every live worker has applied. */
  appliedSeq(): number;
  /** sha256 of the master key the current config sets (it changes on reload), or null. */
  masterKeyHash(): Uint8Array | null;
  /** The tables changed through this instance and its state has it (tells other instances). */
  changed?(): Promise<void>;
  /**
   * Models kept in LiteLLM_ProxyModelTable: read with the other tables while settings() says
   * store_model_in_db, and handed to apply() when they changed (it resolves once the new
   * snapshot is posted to the workers).
   */
  models?: {
    settings(): ModelSettings;
    apply(rows: DbModelRow[], truncated: boolean): Promise<void>;
  };
}

/**
 * The global proxy budget in USD, or null. LiteLLM checks and tracks it only when it is above 0
 * (its default is 0.0), so `max_budget: 0` is no budget, not a budget that refuses everything.
 */
export function globalBudget(cfg: LiteLLMConfig): number | null {
  const max = cfg.litellm_settings.max_budget;
  return max !== undefined && max > 0 ? max : null;
}

export class Governance {
  readonly store: GovernanceStore;
  readonly journalDir: string;
  private readonly writer: SpendWriter;
  private chain: Promise<unknown> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private schemaReady = false;
  private pendingLookups = new Map<string, ((found: boolean) => void)[]>();
  /** Run keys applied since the current full read began (cleared as each one begins: bounded by it). */
  private readonly mintedDuringRead = new Set<string>();
  private lookupTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** What the model rows said when last handed over (null: not read, or store_model_in_db off). */
  private modelsSeen: string | null = null;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly embedded: EmbeddedPostgres | null,
    private readonly opts: GovernanceOptions,
  ) {
    const cfg = opts.cfg;
    const ls = cfg.litellm_settings;
    this.store = new GovernanceStore(globalBudget(cfg), {
      onProblem: (line) => log.warn(line),
      endUserRecords: Math.max(1, Math.floor(END_USER_RECORDS_MAX)),
      endUserDefault: { budgetId: ls.max_end_user_budget_id ?? null, maxBudget: ls.max_end_user_budget ?? null },
    });
    this.journalDir = path.resolve(process.env.WEIR_JOURNAL_DIR ?? path.join(opts.baseDir, '.weir', 'journal'));
    this.writer = new SpendWriter(pool, this.journalDir, {
      batchIntervalMs: (cfg.general_settings.proxy_batch_write_at ?? 10) * 1000,
      disableSpendLogs: cfg.general_settings.disable_spend_logs === true,
      proxyBudgetUserId: globalBudget(cfg) !== null ? PROXY_BUDGET_USER : undefined,
      onCommitted: (t) => this.store.committed(t),
      onProblem: (m) => log.warn(`spend writer: ${m}`),
    });
  }

  /** Connects (or starts the embedded PostgreSQL) when the config names a database; else null. */
  static async start(opts: GovernanceOptions): Promise<Governance | null> {
    const url = databaseUrl(opts.cfg);
    if (!url) return null;
    let embedded: EmbeddedPostgres | null = null;
    let connection = url;
    if (url === 'embedded') {
      const dataDir = path.resolve(process.env.WEIR_DATA_DIR ?? path.join(opts.baseDir, '.weir', 'pgdata'));
      embedded = await startEmbeddedPostgres({ dataDir });
      connection = embedded.url;
      log.info(`database: embedded PostgreSQL, data in ${dataDir}`);
    } else {
      log.info(`database: ${redactUrl(url)}`);
    }
    const g = new Governance(createPool(connection), embedded, opts);
    await g.syncNow();
    // What an earlier process journaled (even one killed with -9) is written, and read back,
    // before the workers start: its spend counts against budgets from the first request.
    await g.flush();
    await g.ensureGlobalBudgetRow();
    await g.syncNow();
    g.loop(() => g.syncNow(), SYNC_INTERVAL_MS);
    g.loop(() => g.flush(), (opts.cfg.general_settings.proxy_batch_write_at ?? 10) * 1000);
    const resetEvery = opts.cfg.general_settings.proxy_budget_rescheduler_min_time;
    g.loop(() => g.resetDue(), resetEvery ? resetEvery * 1000 : RESET_INTERVAL_MS);
    return g;
  }

  private loop(fn: () => Promise<unknown>, everyMs: number): void {
    const t = setInterval(() => void fn(), everyMs);
    t.unref();
    this.timers.push(t);
  }

  /**
   * Runs database work one piece at a time, so a table read never races a spend commit (its spend
   * bases would lose the commit, or count it twice) and a full read never lands after a change made
   * since it began. Agent runs' key mints stay out of it (see mintRunKeys).
   */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => {});
    return p;
  }

  private setDb(up: boolean): void {
    const was = this.opts.status.db();
    this.opts.status.setDb(up ? 'up' : 'down');
    if (was === 'up' && !up) log.warn('database unreachable: known keys keep working, spend waits in the journal');
    if (was === 'down' && up) log.info('database reachable again');
  }

  /** Re-reads LiteLLM's tables into the shared state. */
  syncNow(): Promise<void> {
    return this.serial(async () => {
      if (this.stopped) return;
      try {
        if (!this.schemaReady) {
          await ensureSchema(this.pool);
          this.schemaReady = true;
        }
        // Keys minted from here on may be missing from this read's snapshot: it must not remove them.
        this.mintedDuringRead.clear();
        const state = await loadAll(this.pool, this.store.endUserScope());
        this.store.reclaim(this.opts.appliedSeq());
        const delta = this.store.applyAll(state, this.mintedDuringRead);
        if (delta) this.opts.publish(delta, this.store.seq);
        await this.syncModels();
        this.setDb(true);
      } catch (e) {
        if (!isConnectionError(e)) log.error(`governance sync: ${(e as Error).message}`);
        this.setDb(false);
      }
    });
  }

  /** Reads the model rows when models are stored in the database; hands them over when they changed. */
  private async syncModels(): Promise<void> {
    const m = this.opts.models;
    if (!m?.settings().storeInDb) {
      this.modelsSeen = null;
      return;
    }
    // Digested before the read: a change landing in between makes the next poll read again.
    const digest = await modelTableDigest(this.pool);
    if (digest === this.modelsSeen) return;
    const read = await readModelRows(this.pool);
    await m.apply(read.rows, read.truncated);
    this.modelsSeen = digest;
  }

  /**
   * LiteLLM keeps the global proxy budget's spend on a user row it creates at start; the spend
   * writer adds to it, so it must exist or global spend would not survive a restart.
   */
  private ensureGlobalBudgetRow(): Promise<unknown> {
    const max = globalBudget(this.opts.cfg);
    if (max === null) return Promise.resolve();
    return this.serial(async () => {
      try {
        await this.pool.query(
          `INSERT INTO "LiteLLM_UserTable" (user_id, max_budget, spend, models, teams, metadata) VALUES ($1, $2, 0, '{}', '{}', '{}') ON CONFLICT (user_id) DO NOTHING`,
          [PROXY_BUDGET_USER, max],
        );
      } catch (e) {
        if (!isConnectionError(e)) log.error(`global budget row: ${(e as Error).message}`);
      }
    });
  }

  private flush(): Promise<unknown> {
    return this.serial(async () => {
      const r = await this.writer.flushNow();
      if (!r.ok && r.error) this.setDb(false);
    });
  }

  private resetDue(): Promise<unknown> {
    return this.serial(async () => {
      try {
        const n = await resetBudgets(this.pool, new Date(), String(this.opts.cfg.litellm_settings.timezone ?? 'UTC'));
        if (n > 0) log.info(`budgets reset: ${n} row(s) reached their budget_reset_at`);
      } catch (e) {
        if (!isConnectionError(e)) log.error(`budget reset: ${(e as Error).message}`);
      }
    }).then(() => this.syncNow());
  }

  /** What a worker starts from. */
  workerInit(journalDir: string): NonNullable<WorkerInit['governance']> {
    return { entities: this.store.entities.buffers, keyIndex: this.store.index.buffer, state: this.store.workerState(), seq: this.store.seq, journalDir };
  }

  /**
   * A worker met a key it does not know. Lookups arriving together are answered by one query,
   * and the key's rows are in the shared state (and its profile sent) before the answer.
   */
  lookupKey(hash: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(hash)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiting = this.pendingLookups.get(hash);
      if (waiting) waiting.push(resolve);
      else this.pendingLookups.set(hash, [resolve]);
      this.lookupTimer ??= setTimeout(() => void this.runLookups(), LOOKUP_BATCH_MS);
    });
  }

  /** Keys read from the database go into the shared state, and out to the workers as one delta. */
  private applyBundles(bundles: KeyBundle[]): void {
    if (bundles.length > 0) this.opts.publish(this.store.applyBundles(bundles), this.store.seq);
  }

  private async runLookups(): Promise<void> {
    this.lookupTimer = null;
    const batch = this.pendingLookups;
    this.pendingLookups = new Map();
    await this.serial(async () => {
      let found = new Set<string>();
      try {
        const bundles = await loadKeys(this.pool, [...batch.keys()]);
        this.applyBundles(bundles);
        found = new Set(bundles.map((b) => b.key.token));
      } catch (e) {
        if (isConnectionError(e)) this.setDb(false);
      }
      for (const [hash, waiters] of batch) for (const w of waiters) w(found.has(hash));
    });
  }

  /** The management API; a change is in the shared state before the caller gets the answer. */
  async admin(req: AdminRequest): Promise<AdminResponse> {
    let changed = false;
    const res = await handleAdmin(
      req,
      this.adminContext(() => {
        changed = true;
      }),
    );
    if (changed) {
      await this.syncNow();
      await this.opts.changed?.();
    }
    // Spend endpoints read the database: commit what the journal holds first.
    if (req.path.startsWith('/spend') || req.path.startsWith('/global/spend') || req.path.endsWith('/daily/activity')) await this.flush();
    return res;
  }

  private adminContext(onChange: AdminContext['onChange']): AdminContext {
    return {
      db: this.pool,
      onChange,
      settings: {
        defaultKeyGenerateParams: this.opts.cfg.litellm_settings.default_key_generate_params as Record<string, unknown> | undefined,
        upperboundKeyGenerateParams: this.opts.cfg.litellm_settings.upperbound_key_generate_params as Record<string, unknown> | undefined,
        timezone: typeof this.opts.cfg.litellm_settings.timezone === 'string' ? this.opts.cfg.litellm_settings.timezone : undefined,
        storeAuditLogs: this.opts.cfg.litellm_settings.store_audit_logs === true,
        masterKeyHash: this.opts.masterKeyHash(),
        models: this.opts.models?.settings(),
      },
      now: () => new Date(),
    };
  }

  /**
   * Agent runs' keys, minted many at once (bodies as /key/generate takes them): in the database and
   * in the shared state, read back key by key, before this resolves. Not on the serial chain: a
   * fan-out's starts waited there behind admin calls, lookups, budget resets and spend writes that
   * have nothing to do with them. What the chain protects still holds: the read-back applies the new
   * keys and only records nobody holds yet (GovernanceStore.applyMinted: no spend base a commit could
   * race), and a full read under way when they land does not remove them (mintedDuringRead).
   */
  async mintRunKeys(bodies: unknown[], changedBy: string): Promise<{ key: string; token: string }[]> {
    const made = await generateRunKeys(this.systemCall(changedBy), bodies);
    try {
      // The rows the INSERT returned, not read again (a key made with a budget of its own is).
      const returned = made.flatMap((m) => (m.row ? [m.row] : []));
      const others = made.filter((m) => !m.row).map((m) => m.token);
      const bundles = [...(await keyBundles(this.pool, returned)), ...(others.length ? await loadKeys(this.pool, others) : [])];
      if (bundles.length > 0) {
        for (const b of bundles) this.mintedDuringRead.add(b.key.token);
        this.opts.publish(this.store.applyMinted(bundles), this.store.seq);
      }
    } catch (e) {
      // A worker meeting the key looks it up, and the periodic sync brings it in.
      if (isConnectionError(e)) this.setDb(false);
    }
    return made.map(({ key, token }) => ({ key, token }));
  }

  /** Blocks agent runs' keys, many at once; the workers refuse them before this resolves. */
  async blockRunKeys(tokens: string[], changedBy: string): Promise<void> {
    await blockRunKeys(this.systemCall(changedBy), tokens);
    // After any table read under way: one that began before the block committed would unblock.
    await this.serial(async () => this.store.blockKeys(tokens));
    await this.opts.changed?.();
  }

  private systemCall(changedBy: string): Call {
    return {
      req: { method: 'POST', path: '', query: {}, body: null, changedBy, caller: { isMasterKey: true, keyHash: null, userRole: 'proxy_admin', userId: null, open: false } },
      ctx: this.adminContext(() => {}),
    };
  }

  /** The database (agent runs keep their rows in it too). */
  get database(): pg.Pool {
    return this.pool;
  }

  /** Writes what the journal holds now (tests and shutdown). */
  flushNow(): Promise<unknown> {
    return this.flush();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.flush().catch(() => {});
    this.stopped = true;
    await this.chain;
    await this.pool.end().catch(() => {});
    await this.embedded?.stop().catch(() => {});
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return '(unparseable database_url)';
  }
}
