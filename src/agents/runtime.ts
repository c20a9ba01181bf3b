// Agent runs on the control thread: wires the catalog, the queue (dispatcher), the executions, the
// event log, cron, webhooks and notifications together, and answers the agent API. One per Weir
// process; several processes on one database share the queue, the schedules and the events (and
// signal each other through run-signals.ts).
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type pg from 'pg';
import { MCP_PATH, type AgentCall } from '../gateway/agent-relay';
import type { StreamSink } from '../server/worker-protocol';
import { log } from '../log';
import { handleAgentCall, runForStream, type ApiAnswer, type ApiServices } from './api';
import { Catalog, resolveEnvRef } from './catalog';
import { CronScheduler } from './cron';
import { Dispatcher } from './dispatcher';
import { coalesce } from './coalesce';
import { pruneDeliveries } from './delivery-log';
import { EventLog } from './event-log';
import { streamRunEvents } from './event-stream';
import { RunExecution, type ExecutorDeps } from './executor';
import { Gate } from './gate';
import { getArtifact, listArtifacts, saveArtifact } from './artifacts';
import { harnessFor } from './harness';
import { hookToken, serverSecretFrom } from './hook-token';
import { LineSplitter } from './lines';
import { prepareMemory } from './memory/mcp-config';
import { mergeSetups, SetupError } from './agent-setup';
import { AgentApiError } from './api-error';
import type { CaPair } from './vault/ca';
import { vaultKey, VaultKeyError, vaultSecretFrom, type VaultKey } from './vault/crypto';
import { Egress } from './vault/egress';
import { prepareVault, type VaultDeps } from './vault/run-vault';
import { scopeOf } from './memory/owner';
import { Notifier } from './notify';
import { cloneRepo } from './repo';
import { sweepRetention } from './retention';
import { RunSignals } from './run-signals';
import { RunStatements } from './run-statements';
import { keySpend, revokeRunKey, RunKeys, type RunKeyStore } from './run-key';
import { startRun, type StartRequest } from './run-starter';
import { LocalSandboxProvider } from './sandbox/local';
import { CloudFleet } from './sandbox/cloud-fleet';
import { sessionRestorer } from './session-state';
import { Sessions, sessionKeyVars } from './sessions';
import { sessionsApi } from './sessions-api';
import { Terminals, terminalSession } from './terminal';
import { attachViewer } from './terminal-attach';
import type { StreamStop } from '../control/supervisor';
import { moveRun, runView, updateRun, type NewRun, type RunRow } from './store';
import { checkTemplate as checkTemplateText, renderPrompt } from './template';
import { FINAL_STATUSES, type AgentSettings, type JobDef, type SandboxDef, type SandboxProvider } from './types';

// The MCP server (its SDK, ajv, zod's JSON schema) and the vault's CA (node-forge) weigh about
// 8 MB of heap: loaded on their first use, so an installation that uses neither never pays it.
const lazyMcpServer = (): typeof import('./memory/mcp-server') => require('./memory/mcp-server') as typeof import('./memory/mcp-server');
const lazyVaultCa = (): typeof import('./vault/ca') => require('./vault/ca') as typeof import('./vault/ca');

export interface AgentRuntimeOptions {
  pool: pg.Pool;
  settings: AgentSettings;
  /** Mints and blocks run keys (the management code, as the control thread runs it). */
  keys: RunKeyStore;
  flushSpend(): Promise<void>;
  /** Whether a model group of the current snapshot serves this name. */
  modelKnown(model: string): boolean;
  /** The gateway's own address (used when agent_settings.public_url is not set). */
  localUrl(): string;
  masterKey(): string | null;
  /** Folder for local sandboxes (a folder of it per database holds the workspaces and homes). */
  sandboxRoot: string;
  /** Distinguishes this instance's runs; stable across restarts of the same instance. */
  instanceId: string;
  now?: () => Date;
}

const LEASE_MS = Number(process.env.WEIR_AGENT_LEASE_MS ?? 30_000);
const ROUND_MS = Math.max(250, Math.floor(LEASE_MS / 6));
const RETENTION_EVERY_MS = 60 * 60_000;
/** How often cloud machines no live run or pool slot owns are looked for (a crash's leftovers). */
const CLOUD_SWEEP_EVERY_MS = Number(process.env.WEIR_CLOUD_SWEEP_MS ?? 5 * 60_000);
/** Runs going through their start (or their end) at once: see gate.ts. */
const RUNS_AT_ONCE = 8;
/** How often the event-loop lag is sampled (its histogram's timer). */
const LAG_RESOLUTION_MS = 10;
const LEASE_EXPIRED = 'its instance stopped holding it (lease expired)';
/** How often idle sessions are looked for (idle_timeout is hours; a minute late is nothing). */
const REAP_EVERY_MS = 60_000;

/** An instance id that a restart of the same instance (host, port, config) finds again. */
export function stableInstanceId(port: number, configPath: string): string {
  const fromEnv = process.env.WEIR_INSTANCE_ID;
  if (fromEnv) return fromEnv.slice(0, 128);
  return `${os.hostname()}:${port}:${createHash('sha256').update(path.resolve(configPath)).digest('hex').slice(0, 12)}`;
}

export class AgentRuntime {
  readonly catalog: Catalog;
  private readonly events: EventLog;
  private readonly dispatcher: Dispatcher;
  private readonly cron: CronScheduler;
  readonly sessions: Sessions;
  private readonly terminals: Terminals;
  private readonly notifier = new Notifier({});
  private readonly providers = new Map<string, SandboxProvider>();
  private readonly lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  private readonly timers: NodeJS.Timeout[] = [];
  /** Key minting and blocking, batched across runs (see run-key.ts). */
  private readonly keys: RunKeys;
  private readonly starts = new Gate(RUNS_AT_ONCE);
  private readonly ends = new Gate(RUNS_AT_ONCE);
  /** What the other instances on the database are told, and what they tell this one. */
  private readonly signals: RunSignals;
  private fleet!: CloudFleet;
  private hookSecret: string | null = null;
  private readonly now: () => Date;
  /** The installation's label (its sandboxes' folder, its CA's name). */
  private install = '';
  private ca: Promise<CaPair> | null = null;
  private egressProxy: Egress | null = null;

  private constructor(
    private readonly o: AgentRuntimeOptions,
    events: EventLog,
  ) {
    this.now = o.now ?? (() => new Date());
    this.events = events;
    this.keys = new RunKeys(o.keys);
    this.statements = new RunStatements(o.pool);
    this.catalog = new Catalog(o.pool, o.settings, (t) => checkTemplateText(t));

    this.dispatcher = new Dispatcher({
      pool: o.pool,
      instanceId: o.instanceId,
      maxRuns: () => this.catalog.config.max_concurrent_runs,
      jobLimit: (job) => this.jobLimits.get(job) ?? 1,
      sandboxLimit: (sb) => this.sandboxLimits.get(sb) ?? Infinity,
      start: (run) => new RunExecution(run, this.executorDeps),
      recover: (run, why) => this.recover(run, why),
      expired: (run) => this.finalEvent(run, 'expired', run.error_message),
      leaseMs: LEASE_MS,
      leaseExpired: LEASE_EXPIRED,
      now: this.now,
      log: (l) => log.warn(`agents: ${l}`),
    });
    this.sessions = new Sessions({
      pool: o.pool,
      start: (req) => this.start(req),
      cancel: (run) => this.cancel(run),
      idleMs: () => this.catalog.config.session_idle_ms,
      now: this.now,
      closeTerminal: (id, why) => void this.terminals.close(id, why),
    });
    this.terminals = new Terminals({
      pool: o.pool,
      keys: this.keys,
      sandboxDef: (name) => this.catalog.find('sandbox', name),
      provider: (kind) => this.provider(kind),
      harness: (kind) => harnessFor(kind),
      prepare: (session, sandbox, input) => prepareVault(this.vaultDeps, session, sandbox, input),
      baseUrl: () => this.catalog.config.public_url ?? this.o.localUrl(),
      keyLifeMs: () => this.catalog.config.session_idle_ms,
      log: (l) => log.info(`agents: ${l}`),
    });
    this.signals = new RunSignals({
      pool: o.pool,
      queued: () => void this.dispatcher.pump(),
      cancel: (id) => this.dispatcher.cancelLocal(id),
      log: (l) => log.warn(`agents: ${l}`),
    });
    this.cron = new CronScheduler({ pool: o.pool, now: this.now, fire: (job, tick) => this.fireCron(job, tick), log: (l) => log.warn(`cron: ${l}`) });
  }

  static async start(o: AgentRuntimeOptions): Promise<AgentRuntime> {
    const events = await EventLog.start({ pool: o.pool, log: { warn: (l) => log.warn(`agent events: ${l}`), error: (l) => log.error(`agent events: ${l}`) } });
    const rt = new AgentRuntime(o, events);
    // One folder per database: every Weir of this machine on that database finds (and may clean up)
    // the others' sandboxes, and never touches those of a Weir on another database.
    const install = await rt.storedSecret('installation', () => randomBytes(6).toString('hex'));
    rt.install = install;
    rt.providers.set('local', new LocalSandboxProvider({ root: path.join(o.sandboxRoot, install), log: (l) => log.debug(`sandbox: ${l}`), forwarder: () => rt.vaultDeps.egress }));
    // E2B and Daytona, their warm pools and the sweeper of their machines (see sandbox/cloud-fleet.ts).
    rt.fleet = new CloudFleet({ pool: o.pool, installation: install, instanceId: o.instanceId, now: rt.now, log: (l) => log.warn(`agents: ${l}`) });
    for (const p of rt.fleet.providers) rt.providers.set(p.kind, p);
    rt.lag.enable();
    await rt.refreshLimits();
    rt.hookSecret = serverSecretFrom(process.env, o.masterKey()) ?? (await rt.storedSecret('webhooks', () => randomBytes(32).toString('hex')));
    await rt.signals.listen();
    // Runs this instance held before a restart (even kill -9) are found and ended first.
    const recovered = await rt.dispatcher.recoverOrphans();
    if (recovered) log.warn(`agents: ${recovered} run(s) in flight before the restart ended as failed: internal`);
    await rt.sweepLeftovers();
    await rt.sweepCloud();
    await rt.cron.sync(await rt.catalog.list('job'));
    rt.cron.start();
    rt.every(ROUND_MS, async () => {
      await rt.refreshLimits();
      await rt.dispatcher.round();
      const sandboxes = await rt.catalog.list('sandbox');
      rt.fleet.maintainPools(sandboxes);
      // Local warm pools: this instance's own, in its memory (sandbox/local-pool.ts).
      (rt.providers.get('local') as LocalSandboxProvider).maintainPools(sandboxes);
    });
    rt.every(REAP_EVERY_MS, async () => {
      const reaped = await rt.sessions.reap();
      if (reaped.length) log.info(`agents: ${reaped.length} session(s) idle past idle_timeout marked idle (their state is kept)`);
    });
    rt.every(CLOUD_SWEEP_EVERY_MS, () => rt.sweepCloud());
    rt.every(RETENTION_EVERY_MS, async () => {
      await rt.sweep();
      await rt.sweepLeftovers();
    });
    void rt.dispatcher.pump();
    return rt;
  }

  /** The start lines: what agent runs will use, and the isolation each local sandbox gets here. */
  async describe(): Promise<string[]> {
    const s = this.catalog.config;
    const lines = [`agents: ${s.sandboxes.length} sandbox(es), ${s.profiles.length} profile(s), ${s.jobs.length} job(s) in the config; up to ${s.max_concurrent_runs} runs at once`];
    const local = this.providers.get('local') as LocalSandboxProvider;
    for (const def of s.sandboxes) {
      if (def.provider === 'local') lines.push(`agents: sandbox "${def.name}" (local) isolation: ${await local.isolationOf(def)}`);
      else lines.push(`agents: sandbox "${def.name}" (${def.provider}): ${this.fleet.describe(def)}`);
    }
    return lines;
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    const t = setInterval(() => void fn().catch((e: unknown) => log.warn(`agents: ${(e as Error).message}`)), ms);
    t.unref();
    this.timers.push(t);
  }

  // ---- configuration ------------------------------------------------------------------------------

  private jobLimits = new Map<string, number>();
  private sandboxLimits = new Map<string, number>();

  private async refreshLimits(): Promise<void> {
    const jobs = await this.catalog.list('job');
    this.jobLimits = new Map(jobs.map((j) => [j.name, j.concurrency.limit]));
    const sbs = await this.catalog.list('sandbox');
    this.sandboxLimits = new Map(sbs.map((s) => [s.name, positiveOr(s.options.max_concurrency, Infinity)]));
  }

  /** An accepted config reload: new definitions, schedules re-synced. */
  async reload(settings: AgentSettings): Promise<void> {
    this.catalog.setConfig(settings);
    await this.refreshLimits();
    await this.cron.sync(await this.catalog.list('job'));
    void this.dispatcher.pump();
  }

  /**
   * A random value kept in the database, the same for every instance and restart: the webhook
   * secret when no master key or WEIR_WEBHOOK_SECRET gives one, and the installation's name.
   */
  private async storedSecret(name: string, fresh: () => string): Promise<string> {
    const id = `secret_${name}`;
    await this.o.pool.query(
      `INSERT INTO "Weir_AgentDefinition" (id, kind, name, spec) VALUES ($1, 'secret', $2, $3) ON CONFLICT DO NOTHING`,
      [id, name, JSON.stringify({ value: fresh() })],
    );
    const r = await this.o.pool.query<{ spec: { value: string } }>(`SELECT spec FROM "Weir_AgentDefinition" WHERE id = $1`, [id]);
    return r.rows[0]!.spec.value;
  }

  /** Runs ending together share one spend write (see coalesce.ts). */
  private readonly flushSpend = coalesce(() => this.o.flushSpend());

  // ---- runs ---------------------------------------------------------------------------------------

  /** The statements of runs on their way, batched across the runs making them together. */
  private readonly statements: RunStatements;

  private get executorDeps(): ExecutorDeps {
    return {
      pool: this.o.pool,
      keys: this.keys,
      markRunning: (move) => this.statements.markRunning(move),
      markFinished: (move) => this.statements.markFinished(move),
      keySpend: (token) => this.statements.keySpend(token),
      recordKeyToken: (id, token) => this.statements.recordKeyToken(id, token),
      starts: this.starts,
      ends: this.ends,
      flushSpend: () => this.flushSpend(),
      events: this.events,
      sandboxDef: (name) => this.catalog.find('sandbox', name),
      provider: (kind) => this.provider(kind),
      harness: (kind) => harnessFor(kind),
      lineSplitter: () => new LineSplitter(),
      cloneRepo,
      saveArtifact: async (runId, name, kind, content) => {
        await saveArtifact(this.o.pool, runId, name, kind, content, this.catalog.config.artifact_max_bytes);
      },
      baseUrl: () => this.catalog.config.public_url ?? this.o.localUrl(),
      secret: (ref) => resolveEnvRef(ref),
      prepareAgent: async (run, sandbox, input) => {
        const memory = await prepareMemory(this.o.pool, scopeOf(run), sandbox, input);
        const vault = await prepareVault(this.vaultDeps, run, sandbox, input).catch((e: unknown) => {
          throw e instanceof AgentApiError || e instanceof VaultKeyError ? new SetupError((e as Error).message) : e;
        });
        return mergeSetups([memory, vault]);
      },
      ended: (run) => this.ended(run),
      maxAttempts: 3,
      log: (l) => log.warn(`agents: ${l}`),
      sessionRestorer: (run) =>
        sessionRestorer({ pool: this.o.pool, maxBytes: () => this.catalog.config.artifact_max_bytes, now: this.now, sessionOf: (id) => this.statements.sessionOf(id) }, run),
    };
  }

  private provider(kind: SandboxDef['provider']): SandboxProvider {
    const p = this.providers.get(kind);
    if (!p) throw new Error(`sandbox provider "${kind}" is not available in this build (local is)`);
    return p;
  }

  async start(req: StartRequest): Promise<{ run: RunRow; created: boolean }> {
    // A job that keeps a session per key: its run is that session's next message.
    if (req.job?.session_key && !req.sessionId) {
      const sessionId = await this.sessions.forJob(req.job, req.profile, sessionKeyVars(req));
      if (sessionId) req = { ...req, sessionId };
    }
    const insertQueued = (run: NewRun) => this.statements.insertQueued(run, this.now());
    const out = await startRun({ pool: this.o.pool, starter: (keyHash, teamId) => this.statements.starter(keyHash, teamId), insertQueued, modelKnown: this.o.modelKnown, cancel: (r) => this.cancel(r), now: this.now }, req);
    if (out.created && out.run.status === 'queued') {
      void this.dispatcher.pump();
      void this.signals.queued();
    }
    if (out.created && out.run.status === 'skipped') await this.finalEvent(out.run, 'skipped', out.run.error_message);
    return out;
  }

  /** The status event of a run that ended without ever starting (skipped, expired, canceled while queued). */
  private async finalEvent(run: RunRow, status: 'skipped' | 'expired' | 'canceled', message: string | null): Promise<void> {
    this.events.open(run.id, await this.lastSeq(run.id));
    this.events.append(run.id, 'status', { status, error: { kind: null, message } });
    await this.events.close(run.id);
    this.ended(run);
  }

  async cancel(run: RunRow): Promise<void> {
    if (run.status === 'queued') {
      const moved = await moveRun(this.o.pool, run.id, ['queued'], 'canceled', { finished_at: this.now(), error_message: 'canceled before it started' });
      // Nothing else writes this run's events now: it never started.
      if (moved) return this.finalEvent(moved, 'canceled', 'canceled before it started');
    }
    await updateRun(this.o.pool, run.id, { cancel_requested: true });
    if (!this.dispatcher.cancelLocal(run.id)) this.signals.cancel(run.id);
  }

  private async lastSeq(runId: string): Promise<number> {
    const r = await this.o.pool.query<{ n: number | null }>(`SELECT max(seq) AS n FROM "Weir_AgentRunEvent" WHERE run_id = $1`, [runId]);
    return Number(r.rows[0]?.n ?? 0);
  }

  private async fireCron(job: JobDef, tick: Date): Promise<void> {
    const profile = await this.catalog.find('profile', job.profile);
    if (!profile) return log.warn(`cron: job "${job.name}" names unknown profile "${job.profile}"; tick skipped`);
    const r = renderPrompt(job.prompt, { input: {}, payload: {}, schedule: { tick: tick.toISOString() } });
    if (!r.ok) return log.warn(`cron: job "${job.name}": ${r.message}; tick skipped`);
    try {
      // The tick time is the idempotency key: however the tick is delivered, it queues one run.
      await this.start({ job, profile, prompt: r.text, input: { schedule: { tick: tick.toISOString() } }, trigger: 'cron', triggerRef: tick.toISOString(), idempotencyKey: `cron:${tick.toISOString()}`, keyHash: null });
    } catch (e) {
      log.warn(`cron: job "${job.name}" could not start a run: ${(e as Error).message}`);
    }
  }

  /** After a crash or a dead instance: what is left of the run is killed and the run ends. */
  private async recover(run: RunRow, why: string): Promise<void> {
    const def = await this.catalog.find('sandbox', run.profile.sandbox);
    if (def) await this.provider(def.provider).sweep([run.id], def).catch((e: unknown) => log.warn(`agents: sweeping run ${run.id}: ${(e as Error).message}`));
    let cost: number | null = null;
    if (run.key_token) {
      await revokeRunKey(this.keys, run.key_token).catch(() => {});
      await this.o.flushSpend().catch(() => {});
      cost = await keySpend(this.o.pool, run.key_token).catch(() => null);
    }
    this.events.open(run.id, await this.lastSeq(run.id));
    this.events.append(run.id, 'status', { status: 'failed', error: { kind: 'internal', message: why }, cost });
    await this.events.close(run.id);
    const moved = await moveRun(this.o.pool, run.id, ['provisioning', 'running'], 'failed', { error_kind: 'internal', error_message: why, finished_at: this.now(), cost, lease_until: null });
    if (moved) this.ended(moved);
  }

  private ended(run: RunRow): void {
    void this.dispatcher.pumpIfQueued();
    if (!FINAL_STATUSES.has(run.status) || !run.job_name) return;
    void this.catalog.find('job', run.job_name).then((job) => {
      if (!job?.notify) return;
      const url = resolveEnvRef(job.notify.url);
      if (!url) return;
      this.notifier.send(url, resolveEnvRef(job.notify.secret), { type: 'agent.run.finished', run: runView(run, this.catalog.config.public_url ?? this.o.localUrl()) });
    });
  }

  /**
   * Local sandboxes no live run owns: left by a Weir of this machine that died (its processes may
   * outlive it) after another instance ended its runs. Killed and removed.
   */
  private async sweepLeftovers(): Promise<void> {
    const local = this.providers.get('local') as LocalSandboxProvider;
    const ids = await local.leftovers();
    if (!ids.length) return;
    const live = await this.o.pool.query<{ id: string }>(
      `SELECT id FROM "Weir_AgentRun" WHERE id = ANY($1) AND status IN ('provisioning','running') AND instance_id <> $2 AND lease_until > $3`,
      [ids, this.o.instanceId, this.now()],
    );
    const held = new Set(live.rows.map((r) => r.id));
    const gone = ids.filter((id) => !held.has(id) && !this.dispatcher.execution(id) && !this.terminals.holds(id));
    if (!gone.length) return;
    await local.sweep(gone);
    log.warn(`agents: removed ${gone.length} local sandbox(es) no live run owns (left by a Weir that stopped)`);
  }

  /**
   * Cloud machines of this installation that no live run, live terminal or pool slot owns are
   * killed. A terminal lives in the memory of the instance that runs it: its machine is kept while
   * its session is active (another instance's terminal, or one a crash left: the session's reaping
   * ends it, the machine's lifetime bounds it).
   */
  private async sweepCloud(): Promise<void> {
    const killed = await this.fleet.sweep(await this.catalog.list('sandbox'), async (ids) => {
      const r = await this.o.pool.query<{ id: string }>(`SELECT id FROM "Weir_AgentRun" WHERE id = ANY($1) AND status IN ('provisioning','running')`, [ids]);
      const terminals = ids.filter((id) => terminalSession(id) !== null);
      const active = terminals.length
        ? new Set((await this.o.pool.query<{ id: string }>(`SELECT id FROM "Weir_AgentSession" WHERE id = ANY($1) AND status = 'active'`, [terminals.map(terminalSession)])).rows.map((x) => x.id))
        : new Set<string>();
      return new Set([
        ...r.rows.map((x) => x.id),
        ...ids.filter((id) => this.dispatcher.execution(id) || this.terminals.holds(id) || active.has(terminalSession(id) ?? '')),
      ]);
    });
    if (killed) log.warn(`agents: killed ${killed} cloud sandbox(es) no live run owns (left by a crash or a failed destroy)`);
  }

  private async sweep(): Promise<void> {
    const days = this.catalog.config.retention_days;
    const r = await sweepRetention(this.o.pool, days, this.now());
    const d = await pruneDeliveries(this.o.pool, new Date(this.now().getTime() - days * 86_400_000));
    if (r.events || r.artifacts || d) log.info(`agents: retention removed ${r.events} event(s), ${r.artifacts} artifact(s) of old runs and ${d} webhook delivery record(s)`);
  }

  // ---- the vault ----------------------------------------------------------------------------------

  /** The vault key from the environment (or the master key); a clear error when there is none. */
  private vaultKey(): VaultKey {
    const secret = vaultSecretFrom(process.env, this.o.masterKey());
    if (!secret) throw new SetupError('the vault has no key: set WEIR_VAULT_KEY or LITELLM_SALT_KEY (or a master key)');
    return vaultKey(secret);
  }

  private get vaultDeps(): VaultDeps {
    const key = () => this.vaultKey();
    const ca = () => (this.ca ??= lazyVaultCa().installationCa(this.o.pool, key(), this.install, (l) => log.warn(l)).catch((e: unknown) => {
      this.ca = null;
      throw e;
    }));
    // The proxy listens where Weir does for local sandboxes, on every interface when a public_url
    // says sandboxes come from elsewhere; WEIR_EGRESS_HOST / WEIR_EGRESS_PORT override both.
    this.egressProxy ??= new Egress({
      ca,
      host: process.env.WEIR_EGRESS_HOST || (this.catalog.config.public_url ? '0.0.0.0' : new URL(this.o.localUrl()).hostname.replace(/^\[|\]$/g, '')),
      port: Number(process.env.WEIR_EGRESS_PORT ?? 0) || 0,
      log: (l) => log.info(l),
    });
    return { pool: this.o.pool, key, ca, egress: this.egressProxy };
  }

  // ---- the API ------------------------------------------------------------------------------------

  private get api(): ApiServices {
    return {
      pool: this.o.pool,
      catalog: this.catalog,
      publicUrl: () => this.catalog.config.public_url ?? this.o.localUrl(),
      start: (req) => this.start(req),
      cancel: (run) => this.cancel(run),
      page: (id, after, limit) => this.events.page(id, after, limit),
      listArtifacts: (id) => listArtifacts(this.o.pool, id),
      getArtifact: (id, name) => getArtifact(this.o.pool, id, name),
      nextRuns: (job, n) => this.cron.nextRuns(job, n),
      hookToken: (name) => (this.hookSecret ? hookToken(name, this.hookSecret) : null),
      stats: (reset) => this.stats(reset),
      vaultKey: () => {
        try {
          return this.vaultKey();
        } catch (e) {
          throw new AgentApiError(503, (e as Error).message);
        }
      },
      now: this.now,
      sessions: (who, call, rest, q) =>
        sessionsApi({ pool: this.o.pool, catalog: this.catalog, sessions: this.sessions, publicUrl: () => this.catalog.config.public_url ?? this.o.localUrl() }, who, call, rest, q),
    };
  }

  handle(call: AgentCall): Promise<ApiAnswer> {
    if (call.path === MCP_PATH) return lazyMcpServer().handleMcpCall({ pool: this.o.pool, artifactMaxBytes: () => this.catalog.config.artifact_max_bytes }, call);
    return handleAgentCall(this.api, call);
  }

  /** GET /v1/agent/runs/{id}/events as server-sent events. */
  stream(call: AgentCall, sink: StreamSink): () => void {
    let stop: (() => void) | null = null;
    let closed = false;
    void runForStream(this.api, call).then((found) => {
      if (closed) return;
      if (!('run' in found)) {
        sink.head(found.status, ['content-type', 'application/json']);
        sink.data(JSON.stringify(found.body));
        return sink.end();
      }
      const q = new URLSearchParams(call.query);
      const after = q.get('after');
      stop = streamRunEvents({
        log: this.events,
        runId: found.run.id,
        lastEventId: call.headers['last-event-id'],
        after: after && /^\d+$/.test(after) ? Number(after) : undefined,
        // The row was read for the caller's check a moment ago: a second read per watcher (a whole
        // row, profile and prompt parsed) told nothing more.
        isFinished: async () => FINAL_STATUSES.has(found.run.status),
        sink,
      });
    });
    return () => {
      closed = true;
      stop?.();
    };
  }

  /** The WebSocket of /v1/agent/sessions/{id}/attach, relayed by a worker (see terminal-attach.ts). */
  attach(call: AgentCall, sink: StreamSink): StreamStop {
    return attachViewer({ handle: (c) => this.handle(c), sessions: this.sessions, terminals: this.terminals }, call, sink);
  }

  /** `reset`: the event-loop lag figures start over (a bench measures one fan-out at a time). */
  stats(reset = false): Record<string, unknown> {
    // The histogram holds the time between its timer's turns, which is the resolution when the loop
    // is free: the lag is what is past it.
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - LAG_RESOLUTION_MS) * 100) / 100);
    const lag = { p50: ms(this.lag.percentile(50)), p99: ms(this.lag.percentile(99)), max: ms(this.lag.max) };
    if (reset) this.lag.reset();
    return {
      instance_id: this.o.instanceId,
      active_runs: this.dispatcher.active,
      event_loop_lag_ms: lag,
      // Ready sandboxes of this instance's local warm pools, by sandbox name.
      local_pools: (this.providers.get('local') as LocalSandboxProvider | undefined)?.pools.readyCounts() ?? {},
      // The local sandboxes' network boundaries, forwarded on the egress proxy's thread (null: never
      // started), and this thread's id to tell them apart.
      net_boundary: this.egressProxy?.forwarding() ?? null,
      control_thread_id: threadId,
    };
  }

  async stop(): Promise<void> {
    this.fleet?.stop();
    for (const t of this.timers) clearInterval(t);
    this.cron.stop();
    this.notifier.stop();
    await this.terminals.stop();
    await this.dispatcher.stop();
    this.lag.disable();
    this.signals.stop();
    await this.events.stop();
    await this.egressProxy?.stop();
  }
}

function positiveOr(v: unknown, dflt: number): number {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : dflt;
}
