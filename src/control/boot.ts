// The control thread: load the config, start the workers, print what a user needs to know, and
// own reloads (file change, SIGHUP, POST /config/reload) and graceful shutdown.
import os from 'node:os';
import path from 'node:path';
import { EmptyConfigError, describeConfigError, loadConfigFile } from '../config/load';
import type { LiteLLMConfig } from '../config/types';
import type { Snapshot } from '../gateway/snapshot';
import { log } from '../log';
import { chooseEngine } from '../server/load-engine';
import { ControlStatus } from '../state/control-status';
import { DEFAULT_HEALTH_SLOTS, DeploymentHealth } from '../state/deployment-health';
import type { AdminRequest } from '../admin/types';
import type { GovernanceDelta } from '../gateway/governance';
import { loadPriceTable } from '../pricing/load';
import { buildSnapshot, snapshotIds } from './build-snapshot';
import { StoredModels, masterKeyOf } from './stored-models';
import { ConfigWatcher } from './config-watch';
import type { Governance } from './governance';
import { databaseUrl } from '../config/database-url';
import { SlotTable } from './slots';
import { semiSpaceFlag, Supervisor, workerYoungGenerationMb } from './supervisor';
import type { AgentRuntime } from '../agents/runtime';
import type { AgentCall } from '../gateway/agent-relay';
import { resolveGroup } from '../gateway/model-groups';
import { ScaleOut, scaleOutIdentity } from '../redis/scale-out';
import { MetricsHub } from '../metrics/hub';
import { budgetGauges } from '../metrics/budgets';
import type { TraceExporter } from '../metrics/tracing';
import { otlpTracesUrl } from '../metrics/settings';
import { defaultUiDir, loadStaticBundle, type StaticBundle } from '../ui/static-files';
import { UiControl, type UiAuthParams, type UiLoginParams } from '../ui/ui-control';
import { LiveHub } from '../ui/live-hub';
import { startMemoryLog } from './memory-log';

// The database's and the agents' modules (the admin API, pg, the spend writer, the sandboxes: 360
// modules, some 10 MB of the control thread's heap) are loaded only when a database is configured:
// without one there are no keys to govern and no agent runs.
/* eslint-disable @typescript-eslint/no-require-imports */
const governanceModule = (): typeof import('./governance') => require('./governance');
const agentsModule = (): typeof import('../agents/runtime') => require('../agents/runtime');
/* eslint-enable @typescript-eslint/no-require-imports */

export interface BootOptions {
  configPath: string;
  host: string;
  port: number;
  numWorkers: number;
  detailedDebug: boolean;
  version: string;
}

/** WEIR_HEALTH_SLOTS: deployments the shared health table holds at once (tests set a few). */
function healthSlots(env: NodeJS.ProcessEnv): number {
  const n = Number(env.WEIR_HEALTH_SLOTS);
  return Number.isInteger(n) && n > 0 && n <= 1 << 20 ? n : DEFAULT_HEALTH_SLOTS;
}

/** How long shutdown waits for requests in flight before it cuts them. */
const SHUTDOWN_GRACE_MS = Number(process.env.WEIR_SHUTDOWN_GRACE_MS ?? 30_000);

/** The environment a config sees: the process's, with its environment_variables over it. */
function environmentOf(cfg: LiteLLMConfig): NodeJS.ProcessEnv {
  return { ...process.env, ...cfg.environment_variables };
}

function applyEnvironment(cfg: LiteLLMConfig): void {
  // LiteLLM exports environment_variables into the process environment; provider defaults read it.
  for (const [k, v] of Object.entries(cfg.environment_variables)) process.env[k] = v;
}

function describeModels(s: Snapshot): string {
  const parts: string[] = [];
  for (const g of s.groups.values()) {
    const t = g.targets[0]!;
    const n = g.targets.length > 1 ? ` ×${g.targets.length}` : '';
    const down = g.targets.filter((x) => x.unavailable);
    const off = down.length === g.targets.length ? ` [unavailable: ${t.unavailable}]` : down.length ? ` [${down.length} of ${g.targets.length} unavailable: ${down[0]!.unavailable}]` : '';
    parts.push(`${g.name} → ${t.provider}/${t.upstreamModel}${n}${off}`);
  }
  for (const w of s.wildcards) {
    const n = w.deployments.length > 1 ? ` ×${w.deployments.length}` : '';
    parts.push(`${w.name} → ${w.deployments[0]!.template}${n} (wildcard)`);
  }
  return parts.length ? parts.join(', ') : '(none: add model_list entries to the config)';
}

/** The start (and reload) line for os.environ/ variables Weir goes on without, as LiteLLM does. */
function describeUnsetEnv(cfg: LiteLLMConfig): string | null {
  const list = cfg.unset_env;
  if (!list?.length) return null;
  return `config: not set, so left empty as LiteLLM leaves them: ${list.map((u) => `${u.path} (os.environ/${u.name})`).join(', ')}`;
}

/**
 * Idle keep-alive sockets can still hold uWS threads, and exiting a process under them aborts it:
 * die by the signal we were sent instead, as a process that does not handle it would.
 */
function dieBy(signal: NodeJS.Signals): void {
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

/**
 * Where local sandboxes live: WEIR_SANDBOX_DIR, else one folder of the system's temporary directory
 * for every Weir of this machine (run ids are unique), so any of them can clean up after another.
 * Not beside the config: the sandbox's unprivileged user must be able to reach its workspace, and a
 * config's folder (a private home, a 0700 temp dir) often cannot be crossed.
 */
function sandboxRoot(): string {
  if (process.env.WEIR_SANDBOX_DIR) return path.resolve(process.env.WEIR_SANDBOX_DIR);
  return path.join(os.tmpdir(), 'weir-sandboxes');
}

export async function boot(opts: BootOptions): Promise<void> {
  const configPath = path.resolve(opts.configPath);
  // Created before the read, so a change made while the workers start is still seen as a change.
  const emptyNotice = () => log.warn(`config file is empty: not reloaded from the file change, still serving version ${version} (SIGHUP or POST /config/reload applies it)`);
  // The watcher saw the file settled and non-empty, but a save may truncate it again before the
  // reload reads it: that read refuses an empty file too.
  const watcher = new ConfigWatcher(configPath, () => reload('file changed', true), { onEmpty: emptyNotice });
  const cfg = loadConfigFile(configPath);
  applyEnvironment(cfg);
  if (process.env.WEIR_DEBUG_MEMORY) startMemoryLog(process.env.WEIR_DEBUG_MEMORY);
  let currentCfg = cfg;
  const health = DeploymentHealth.allocate(healthSlots(process.env));
  const status = ControlStatus.allocate();
  // A slot of a deployment that left is freed once every worker serves a snapshot without it and
  // no attempt is open at it; the workers' acknowledgements are known once they exist.
  let snapshotApplied = (): number => 0;
  let metricsHub: MetricsHub | null = null;
  const slots = new SlotTable(health.slots, {
    applied: () => snapshotApplied(),
    held: (s) => health.inflight(s) > 0,
    reset: (s) => {
      health.reset(s);
      metricsHub?.reuseSlot(s);
    },
  });
  let version = 1;
  // The price table: built in, extended from LITELLM_MODEL_COST_MAP_URL (a URL or a local path)
  // when set. Unlike LiteLLM, no URL is fetched by default: start-up never waits on the network.
  const env = process.env;
  const loaded = await loadPriceTable({ env: env.LITELLM_MODEL_COST_MAP_URL ? env : { ...env, LITELLM_LOCAL_MODEL_COST_MAP: 'True' } });
  if (loaded.warning) log.warn(`prices: ${loaded.warning}; using the built-in table`);
  const prices = loaded.table;
  // Models stored in the database (store_model_in_db) join the config's in every snapshot built.
  // Until the workers exist, a new snapshot is what they will start from.
  let publishSnapshot: (s: Snapshot) => Promise<void> = async () => {};
  const stored = new StoredModels({
    config: () => currentCfg,
    slots,
    rebuild: async () => {
      let next: Snapshot;
      try {
        next = build(currentCfg, version + 1, process.env);
      } catch (e) {
        log.error(`database models not applied, still serving version ${version}: ${describeConfigError(e)}`);
        return false;
      }
      version++;
      snapshot = next;
      slots.published(next.version, snapshotIds(next));
      await publishSnapshot(next);
      return true;
    },
  });
  const build = (c: LiteLLMConfig, v: number, env: NodeJS.ProcessEnv) => buildSnapshot(stored.merged(c, env), { version: v, detailedDebug: opts.detailedDebug, env, slots, prices });
  let snapshot = build(cfg, version, process.env);
  slots.published(snapshot.version, snapshotIds(snapshot));

  // Governance starts before the workers, so they start from the keys the database holds.
  // Until the workers exist there is nobody to tell, and nobody whose acknowledgement to wait for.
  let publishGovernance: (d: GovernanceDelta, seq: number) => void = () => {};
  let governanceApplied = (): number => Number.MAX_SAFE_INTEGER;
  const gov: Governance | null = databaseUrl(cfg) === null ? null : await governanceModule().Governance.start({
    cfg,
    baseDir: path.dirname(configPath),
    status,
    publish: (d, seq) => publishGovernance(d, seq),
    appliedSeq: () => governanceApplied(),
    masterKeyHash: () => snapshot.auth.masterKeyHash,
    changed: () => scaleOut?.changed() ?? Promise.resolve(),
    models: { settings: () => stored.settings(), apply: (rows, truncated) => stored.apply(rows, truncated) },
  });
  // Redis, when the config names one: before the workers, so leases and cooldowns are shared from the first request.
  const scaleOutWith = (c: LiteLLMConfig) =>
    ScaleOut.start({
      cfg: c,
      env: process.env,
      status,
      health,
      slots,
      governance: gov
        ? { entities: gov.store.entities, rateLimited: (kind) => gov.store.rateLimited(kind), budgeted: () => gov.store.budgeted(), resync: () => void gov.syncNow(), shareLimits: (on) => (gov.store.shareLimits = on) }
        : null,
    });
  let scaleOut = await scaleOutWith(cfg);
  // A reload that changes where Redis is (or how to log in to it) reconnects: see reconnectRedis.
  let redisNamed = scaleOutIdentity(cfg, process.env);
  let redisSwap: Promise<void> = Promise.resolve();
  const reconnectRedis = (next: LiteLLMConfig): void => {
    const none = redisNamed === '';
    redisSwap = redisSwap.then(async () => {
      // The old link stops first (its timers, its connections); the new one's rpm and tpm leases
      // start from nothing held and claim what was admitted this minute, so no grant of the old
      // Redis is spent against the new one, and its budget grants are rebuilt in the new Redis as
      // after a Redis restart. Requests that wait for a lease meanwhile wait for this. No Redis
      // named any more: the records go back to their local limits.
      const old = scaleOut;
      scaleOut = null;
      await old?.stop({ release: none });
      scaleOut = await scaleOutWith(next).catch((e: unknown) => {
        log.error(`scale-out: the reloaded Redis settings could not be used (${(e as Error).message}); this instance now runs alone`);
        return null;
      });
      if (!scaleOut) log.info('scale-out: the reloaded config names no Redis; limits are this instance\'s own again');
    });
  };

  // Workers count into shards this hub owns; it renders /metrics. Traces are exported from here.
  const metrics = (metricsHub = new MetricsHub(health.slots));
  let tracer: TraceExporter | null = null;
  const tracerNow = (): TraceExporter | null => {
    if (!snapshot.metrics.tracing) return null;
    // Loaded only when traces are wanted: the OpenTelemetry SDK takes long to load, and a start should not wait on it.
    if (!tracer) {
      const { TraceExporter: Exporter } = require('../metrics/tracing') as typeof import('../metrics/tracing');
      tracer = new Exporter(otlpTracesUrl(process.env), opts.version);
    }
    return tracer;
  };
  const renderMetrics = () =>
    metrics.render({
      snapshot: () => snapshot,
      health,
      budgets: gov ? (limit) => budgetGauges(gov.store.keyProfiles(), gov.store.entities, limit) : undefined,
      journalDir: () => gov?.journalDir ?? null,
      agentRuns: gov
        ? async () => {
            const r = await gov.database.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM "Weir_AgentRun" GROUP BY status');
            return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
          }
        : undefined,
    });

  // The admin page: its files read once, its sessions here (src/ui/).
  const uiDir = defaultUiDir();
  let uiBundle: StaticBundle;
  try {
    uiBundle = loadStaticBundle(uiDir);
  } catch (e) {
    uiBundle = { files: new Map(), missing: `The admin page could not be read: ${(e as Error).message}` };
  }
  const ui = new UiControl({
    settings: () => currentCfg.general_settings,
    env: process.env,
    login: () => ({
      masterKey: currentCfg.general_settings.master_key ?? process.env.LITELLM_MASTER_KEY ?? null,
      env: process.env,
      db: gov?.database ?? null,
      loadKey: (hash) => gov?.lookupKey(hash) ?? Promise.resolve(false),
      mintKey: gov ? async (body) => (await gov.mintRunKeys([body], 'weir-ui-login'))[0]! : null,
    }),
    blockKeys: gov ? (hashes) => gov.blockRunKeys(hashes, 'weir-ui-logout') : null,
  });

  const live = new LiveHub({ rows: () => metrics.rows(), snapshot: () => snapshot, health });

  const engine = chooseEngine(process.env.WEIR_HTTP_ENGINE);
  const workers = engine.multiThread ? opts.numWorkers : 1;

  const reload = (reason: string, fromWatcher = false): { ok: true; version: number } | { ok: false; error: string } => {
    try {
      const next = loadConfigFile(configPath, process.env, { refuseEmpty: fromWatcher });
      // Built against a copy: a config refused here must leave the process environment as it was.
      const built = build(next, version + 1, environmentOf(next));
      // Bad Redis settings refuse the reload as they refuse a start (throws with where they came from).
      const nextRedis = scaleOutIdentity(next, environmentOf(next));
      applyEnvironment(next);
      snapshot = built;
      currentCfg = next;
      void agents?.reload(next.agent_settings).catch((e: unknown) => log.error(`agents: reload: ${(e as Error).message}`));
      version++;
      slots.published(snapshot.version, snapshotIds(snapshot));
      supervisor.publish(snapshot);
      log.info(`config reloaded (${reason}): version ${version}, models: ${describeModels(snapshot)}`);
      if (nextRedis !== redisNamed) {
        redisNamed = nextRedis;
        log.info('config reload: the Redis settings changed; reconnecting (leases are taken again from the new Redis)');
        reconnectRedis(next);
      }
      const unsetNow = describeUnsetEnv(next);
      if (unsetNow) log.warn(unsetNow);
      return { ok: true, version };
    } catch (e) {
      if (e instanceof EmptyConfigError) {
        emptyNotice();
        return { ok: false, error: e.message };
      }
      const error = describeConfigError(e);
      log.error(`config reload (${reason}) refused, still serving version ${version}: ${error}`);
      return { ok: false, error };
    }
  };

  let agents: AgentRuntime | null = null;
  const noAgents = { status: 503, body: { error: { message: gov ? 'agent runs are starting' : 'agent runs need a database: set general_settings.database_url (or DATABASE_URL)', type: 'service_unavailable', param: null, code: '503' } } };
  const youngGeneration = workerYoungGenerationMb(process.env.WEIR_WORKER_YOUNG_GEN_MB);
  const semiFlag = semiSpaceFlag(process.execArgv, process.env.NODE_OPTIONS);
  if (youngGeneration > 0 && semiFlag) log.warn(`WEIR_WORKER_YOUNG_GEN_MB=${youngGeneration} has no effect: V8 gives every thread the young generation of ${semiFlag}`);
  const supervisor = new Supervisor(
    {
      count: workers,
      host: opts.host,
      port: opts.port,
      engine,
      healthBuffer: health.buffer,
      statusBuffer: status.buffer,
      faultInjection: process.env.WEIR_FAULT_INJECTION === '1',
      ui: uiBundle,
      youngGenerationMb: youngGeneration,
      governance: () => gov?.workerInit(gov.journalDir) ?? null,
      metrics: {
        init: (index) => metrics.workerInit(index),
        series: (init, row, labels) => metrics.series(init, row, labels),
        exited: (init) => metrics.exited(init),
        spans: (m) => tracerNow()?.take(m.spans),
      },
    },
    snapshot,
    async (method, params) => {
      if (method === 'lease.wait') {
        await redisSwap;
        const p = params as { rec: number; nanos?: string; kind?: string };
        const r = (await scaleOut?.leaseWait(p.rec, p.nanos === undefined ? null : BigInt(p.nanos), p.kind === 'tokens' ? 'tokens' : 'requests')) ?? 'exhausted';
        return r === 'strict_unavailable' ? { status: 503, body: { reason: r } } : { status: 200, body: { granted: r === 'granted' } };
      }
      if (method === 'key.lookup') return { status: 200, body: { found: gov ? await gov.lookupKey((params as { hash: string }).hash) : false } };
      if (method === 'admin') {
        if (!gov) return { status: 400, body: { error: { message: 'No connected db.', type: 'no_db_connection', param: null, code: '400' } } };
        return gov.admin(params as AdminRequest);
      }
      if (method === 'agent') return agents ? agents.handle(params as AgentCall) : noAgents;
      if (method === 'ui.auth') {
        const r = ui.auth(params as UiAuthParams);
        return { status: r.status, body: r.status === 200 ? { actor: r.actor } : {} };
      }
      if (method === 'ui.login') return ui.login(params as UiLoginParams);
      if (method === 'ui.session') return ui.session((params as { token: string | null }).token);
      if (method === 'ui.logout') return ui.logout((params as { token: string | null }).token, (params as { secure: boolean }).secure);
      if (method === 'metrics') return { status: 200, body: await renderMetrics() };
      if (method === 'config.reload') {
        const r = reload('POST /config/reload');
        if (r.ok) return { status: 200, body: { status: 'reloaded', version: r.version } };
        return { status: 400, body: { error: { message: `config reload refused: ${r.error}`, type: 'bad_request_error', param: null, code: '400' } } };
      }
      return { status: 404, body: { error: { message: `unknown control call ${method}`, type: 'not_found_error', param: null, code: '404' } } };
    },
    (method, params, sink) => {
      if (method === 'ui.live') return live.open(sink);
      if (method === 'agent.events' && agents) return agents.stream(params as AgentCall, sink);
      if (method === 'agent.attach' && agents) return agents.attach(params as AgentCall, sink);
      sink.head(noAgents.status, ['content-type', 'application/json']);
      sink.data(JSON.stringify(noAgents.body));
      sink.end();
      return () => {};
    },
  );
  publishGovernance = (d, seq) => supervisor.publishGovernance(d, seq);
  publishSnapshot = async (s) => supervisor.publish(s);
  governanceApplied = () => supervisor.governanceApplied();
  snapshotApplied = () => supervisor.snapshotApplied();
  const port = await supervisor.start();
  // From the moment it serves: a SIGTERM that follows the "listening" line at once must find
  // its handler (without one, Node dies by the signal and nothing is drained or written).
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn(`${signal} again: exiting now`);
      return dieBy(signal);
    }
    stopping = true;
    watcher.stop();
    log.info(`shutdown (${signal}): not accepting new connections, finishing requests in flight (up to ${SHUTDOWN_GRACE_MS / 1000} s)`);
    live.stop();
    const drained = await supervisor.drain(SHUTDOWN_GRACE_MS);
    // Workers have appended every answered request to their journals: write them to the database.
    await agents?.stop().catch(() => {});
    await gov?.stop();
    await scaleOut?.stop();
    await tracer?.shutdown().catch(() => {});
    // Threads end once their idle keep-alive connections close; give them a moment.
    const exited = await supervisor.waitExit(1_000);
    log.info(drained ? 'shutdown complete' : 'shutdown: grace period over, requests still in flight were cut');
    if (exited) process.exit(0);
    dieBy(signal);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  const shownHost = opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host;
  if (gov) {
    const loopback = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host;
    const { AgentRuntime, stableInstanceId } = agentsModule();
    agents = await AgentRuntime.start({
      pool: gov.database,
      settings: cfg.agent_settings,
      keys: { mint: (bodies, by) => gov.mintRunKeys(bodies, by), block: (tokens, by) => gov.blockRunKeys(tokens, by) },
      flushSpend: () => gov.flushNow().then(() => {}),
      modelKnown: (m) => resolveGroup(snapshot, m) !== undefined,
      localUrl: () => `http://${loopback}:${port}`,
      masterKey: () => masterKeyOf(currentCfg),
      sandboxRoot: sandboxRoot(),
      instanceId: stableInstanceId(port, configPath),
    });
  } else if (cfg.agent_settings.jobs.length || cfg.agent_settings.profiles.length) {
    log.warn('agents: agent_settings is set but there is no database (general_settings.database_url): agent runs are off');
  }
  log.info(`weir ${opts.version} listening on http://${shownHost}:${port} (bound to ${opts.host})`);
  log.info(
    engine.kind === 'uws'
      ? `http engine: ${supervisor.engineName}, ${workers} worker thread${workers === 1 ? '' : 's'} sharing the port (SO_REUSEPORT)`
      : `http engine: ${supervisor.engineName}${engine.multiThread ? `, ${workers} worker threads sharing the port (reusePort)` : ', one worker thread (this Node has no reusePort)'}`,
  );
  log.info(`workers: ${workers}`);
  log.info(`config: ${configPath}`);
  log.info(uiBundle.missing ? `admin page: not served: ${uiBundle.missing}` : `admin page: /ui (${uiBundle.files.size} files from ${uiDir})`);
  log.info(`models: ${describeModels(snapshot)}`);
  const unsetLine = describeUnsetEnv(cfg);
  if (unsetLine) log.warn(unsetLine);
  if (agents) for (const line of await agents.describe()) log.info(line);
  log.info(snapshot.auth.masterKeyHash ? 'auth: master key required' : 'auth: none (no master_key set: every request is allowed, as in LiteLLM)');

  // A stop that came while the lines above were written (the agents' describe waits) leaves the watcher off.
  if (!stopping) watcher.start();
  process.on('SIGHUP', () => reload('SIGHUP'));
}
