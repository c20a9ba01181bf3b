// The control thread's side of the metrics: owns every worker's shard, learns the labels of new
// rows from the workers' messages, and renders /metrics: the request metrics summed over the
// shards, then the gauges only the control thread knows (deployments, budgets, journal, agent
// runs, worker event-loop lag) and whatever was registered in the registry. Every worker thread
// gets a shard of its own, a replacement too (a retiring worker may still be counting in its old
// one, and a shard has one writer); when a worker's thread has ended, its shard is folded into
// the totals of the exited, so counters never go back.
import fs from 'node:fs';
import { listSegments } from '../accounting/journal-segments';
import type { Snapshot } from '../gateway/snapshot';
import type { DeploymentHealth } from '../state/deployment-health';
import { DEPLOYMENT_CELLS, HEAD_CELLS, LAG_AT, LAG_BUCKETS, LAG_MAX_AT, ROW_CELLS } from './layout';
import { capsFromEnv, type MetricsCaps } from './labels';
import type { MetricsInit } from './recorder';
import { metricsRegistry, type MetricsRegistry, type Sample } from './registry';
import { renderRows, type Row } from './render-rows';
import { Admissions, MetricsShard } from './shard';
import { TextWriter } from './text-format';

/** Budgets the governance store knows: one entry per key or team with a max_budget. */
export interface BudgetGauge {
  labels: string[];
  maxUsd: number;
  spendUsd: number;
}

export interface ControlGauges {
  snapshot: () => Snapshot;
  health: DeploymentHealth;
  budgets?: (limit: number) => { keys: BudgetGauge[]; teams: BudgetGauge[] };
  journalDir?: () => string | null;
  agentRuns?: () => Promise<Record<string, number>>;
}

/** How long a scrape waits for the agent-run counts from the database. */
const AGENT_RUNS_WAIT_MS = 2000;

function withinMs<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class MetricsHub {
  readonly caps: MetricsCaps;
  private readonly admissions: SharedArrayBuffer;
  /** Shards of worker threads that may still write, by their cells' buffer. */
  private readonly live = new Map<SharedArrayBuffer, { index: number; shard: MetricsShard; series: string[][] }>();
  /** Rows of worker threads that ended, summed by label set. */
  private readonly retiredRows = new Map<string, Row>();
  /** Head and deployment cells of worker threads that ended, summed by worker index. */
  private readonly retiredMisc = new Map<number, Float64Array>();
  /** A reused health slot's deployment cells as they were when it changed hands (at most one per slot). */
  private readonly slotBase = new Map<number, Float64Array>();

  constructor(
    private readonly deployments: number,
    env: NodeJS.ProcessEnv = process.env,
    private readonly registry: MetricsRegistry = metricsRegistry,
  ) {
    this.caps = capsFromEnv(env);
    this.admissions = Admissions.allocate([this.caps.keys, this.caps.endUsers, this.caps.models]);
  }

  /** What a new thread of worker `index` counts into: a shard of its own. */
  workerInit(index: number): MetricsInit {
    const shard = MetricsShard.allocate(this.caps.rows, this.deployments);
    this.live.set(shard.buffers.cells, { index, shard, series: [] });
    return { shard: shard.buffers, admissions: this.admissions, caps: this.caps };
  }

  /** The worker counting into `init` announced a new row (once per row; anything malformed is ignored). */
  series(init: MetricsInit, row: number, labels: string[]): void {
    const s = this.live.get(init.shard.cells);
    if (!s || !Number.isInteger(row) || row < 0 || row >= s.shard.rows || !Array.isArray(labels)) return;
    s.series[row] = labels.map(String);
  }

  /** The thread that counted into `init` has ended: its counts join the totals of the exited. */
  exited(init: MetricsInit): void {
    const s = this.live.get(init.shard.cells);
    if (!s) return;
    this.live.delete(init.shard.cells);
    this.addRows(this.retiredRows, s);
    const misc = this.readMisc(s.shard);
    const old = this.retiredMisc.get(s.index);
    if (old) for (let i = 0; i < old.length; i++) old[i]! += misc[i]!;
    else this.retiredMisc.set(s.index, misc);
  }

  /**
   * The health slot goes to another deployment (src/control/slots.ts): its counters start from
   * zero for it. A slot is released only once no request uses it, so the sums taken now are the
   * old deployment's.
   */
  reuseSlot(slot: number): void {
    const at = HEAD_CELLS + slot * DEPLOYMENT_CELLS;
    const base = new Float64Array(DEPLOYMENT_CELLS);
    for (const m of this.misc()) for (let i = 0; i < DEPLOYMENT_CELLS && at + i < m.out.length; i++) base[i]! += m.out[at + i]!;
    this.slotBase.set(slot, base);
  }

  private addRows(into: Map<string, Row>, s: { shard: MetricsShard; series: string[][] }): void {
    const tmp = new Float64Array(ROW_CELLS);
    for (let row = 0; row < s.series.length; row++) {
      const labels = s.series[row];
      if (!labels) continue;
      s.shard.readRow(row, tmp);
      const k = labels.join('\u0000');
      const r = into.get(k);
      if (r) for (let i = 0; i < ROW_CELLS; i++) r.cells[i]! += tmp[i]!;
      else into.set(k, { labels, cells: tmp.slice() });
    }
  }

  private readMisc(shard: MetricsShard): Float64Array {
    const out = new Float64Array(HEAD_CELLS + shard.deployments * DEPLOYMENT_CELLS);
    shard.readMisc(out);
    return out;
  }

  /** Rows of all shards and of the exited, those with the same labels summed (the live view reads them too). */
  rows(): Row[] {
    const byKey = new Map<string, Row>();
    for (const [k, r] of this.retiredRows) byKey.set(k, { labels: r.labels, cells: r.cells.slice() });
    for (const s of this.live.values()) this.addRows(byKey, s);
    return [...byKey.values()];
  }

  /** Head and deployment cells by worker index: the exited threads' sums plus the live ones (lag max: the live thread's). */
  private misc(): { index: number; out: Float64Array }[] {
    const byIndex = new Map<number, Float64Array>();
    for (const [index, m] of this.retiredMisc) byIndex.set(index, m.slice());
    for (const s of this.live.values()) {
      const m = this.readMisc(s.shard);
      const into = byIndex.get(s.index);
      if (!into) byIndex.set(s.index, m);
      else {
        for (let i = 0; i < into.length; i++) if (i !== LAG_MAX_AT) into[i]! += m[i]!;
        into[LAG_MAX_AT] = m[LAG_MAX_AT]!;
      }
    }
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([index, out]) => ({ index, out }));
  }

  async render(g: ControlGauges): Promise<string> {
    const w = new TextWriter();
    renderRows(w, this.rows());
    const misc = this.misc();
    this.deploymentGauges(w, g, misc);
    this.lagGauges(w, misc);
    if (g.budgets) this.budgetGauges(w, g.budgets(this.caps.keys));
    this.journalGauges(w, g.journalDir?.() ?? null);
    if (g.agentRuns) {
      // A database that does not answer leaves the gauge out of this scrape rather than holding it.
      const runs = await withinMs(g.agentRuns(), AGENT_RUNS_WAIT_MS).catch(() => null);
      if (runs) {
        w.family('weir_agent_runs', 'gauge', 'Agent runs by state (all kept runs, from the database)');
        for (const [state, n] of Object.entries(runs)) w.sample('weir_agent_runs', ['state'], [state], n);
      }
    }
    for (const f of this.registry.collect()) {
      let samples: Sample[];
      try {
        samples = f.samples();
      } catch {
        continue;
      }
      w.family(f.name, f.type, f.help);
      for (const s of samples) {
        const names = Object.keys(s.labels);
        w.sample(f.name, names, names.map((n) => s.labels[n]!), s.value);
      }
    }
    return w.text();
  }

  private deploymentGauges(w: TextWriter, g: ControlGauges, misc: { out: Float64Array }[]): void {
    const snap = g.snapshot();
    const now = Date.now();
    const seen = new Set<string>();
    const targets = [...snap.groups.values()].flatMap((gr) => gr.targets).filter((t) => (seen.has(t.id) ? false : (seen.add(t.id), true)));
    const names = ['litellm_model_name', 'model_id', 'api_base', 'api_provider'];
    w.family('litellm_deployment_state', 'gauge', 'LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage');
    for (const t of targets) {
      const state = t.unavailable !== null || g.health.isCoolingDown(t.slot, now) ? 2 : g.health.failuresThisMinute(t.slot, now) > 0 ? 1 : 0;
      w.sample('litellm_deployment_state', names, [t.upstreamModel, t.id, t.apiBase, t.provider], state);
    }
    // Weir's own: the numbers routing and allowed_fails decide on, every instance's included (with Redis).
    w.family('weir_deployment_in_flight', 'gauge', 'Requests at the deployment now, across the instances sharing one Redis (this instance alone without)');
    for (const t of targets) w.sample('weir_deployment_in_flight', names, [t.upstreamModel, t.id, t.apiBase, t.provider], g.health.load(t.slot));
    w.family('weir_deployment_failures_this_minute', 'gauge', 'Failures at the deployment this minute (what allowed_fails counts), across the instances sharing one Redis');
    for (const t of targets) w.sample('weir_deployment_failures_this_minute', names, [t.upstreamModel, t.id, t.apiBase, t.provider], g.health.failuresThisMinute(t.slot, now));
    w.family('litellm_deployment_cooled_down_total', 'counter', 'LLM Deployment Analytics - Number of times a deployment has been cooled down by LiteLLM load balancing logic. exception_status is the status of the exception that caused the deployment to be cooled down');
    for (const t of targets) {
      const base = this.slotBase.get(t.slot);
      let by429 = base ? -base[0]! : 0;
      let other = base ? -base[1]! : 0;
      for (const m of misc) {
        const at = HEAD_CELLS + t.slot * DEPLOYMENT_CELLS;
        if (at + 1 >= m.out.length) continue;
        by429 += m.out[at]!;
        other += m.out[at + 1]!;
      }
      const labels = [t.upstreamModel, t.id, t.apiBase, t.provider];
      if (by429) w.sample('litellm_deployment_cooled_down_total', [...names, 'exception_status'], [...labels, '429'], by429);
      if (other) w.sample('litellm_deployment_cooled_down_total', [...names, 'exception_status'], [...labels, 'other'], other);
    }
  }

  private lagGauges(w: TextWriter, misc: { index: number; out: Float64Array }[]): void {
    const name = 'weir_worker_event_loop_lag_seconds';
    w.family(name, 'histogram', "Worker threads' event-loop lag: the longest delay of each one-second window");
    for (const { index, out } of misc) {
      let cum = 0;
      for (let i = 0; i <= LAG_BUCKETS.length; i++) {
        cum += out[LAG_AT + i]!;
        w.sample(`${name}_bucket`, ['worker'], [String(index)], cum, `le="${i < LAG_BUCKETS.length ? LAG_BUCKETS[i] : '+Inf'}"`);
      }
      w.sample(`${name}_sum`, ['worker'], [String(index)], out[LAG_AT + LAG_BUCKETS.length + 1]!);
      w.sample(`${name}_count`, ['worker'], [String(index)], cum);
    }
    w.family('weir_worker_event_loop_lag_max_seconds', 'gauge', "A worker thread's event-loop lag in its last one-second window");
    for (const { index, out } of misc) w.sample('weir_worker_event_loop_lag_max_seconds', ['worker'], [String(index)], out[LAG_MAX_AT]!);
  }

  private budgetGauges(w: TextWriter, b: { keys: BudgetGauge[]; teams: BudgetGauge[] }): void {
    const team = ['team', 'team_alias'];
    const key = ['hashed_api_key', 'api_key_alias'];
    w.family('litellm_remaining_team_budget_metric', 'gauge', 'Remaining budget for team');
    for (const t of b.teams) w.sample('litellm_remaining_team_budget_metric', team, t.labels, t.maxUsd - t.spendUsd);
    w.family('litellm_team_max_budget_metric', 'gauge', 'Maximum budget set for team');
    for (const t of b.teams) w.sample('litellm_team_max_budget_metric', team, t.labels, t.maxUsd);
    w.family('litellm_remaining_api_key_budget_metric', 'gauge', 'Remaining budget for api key');
    for (const k of b.keys) w.sample('litellm_remaining_api_key_budget_metric', key, k.labels, k.maxUsd - k.spendUsd);
    w.family('litellm_api_key_max_budget_metric', 'gauge', 'Maximum budget set for api key');
    for (const k of b.keys) w.sample('litellm_api_key_max_budget_metric', key, k.labels, k.maxUsd);
  }

  private journalGauges(w: TextWriter, dir: string | null): void {
    if (!dir) return;
    let segments = 0;
    let bytes = 0;
    for (const s of listSegments(dir)) {
      try {
        bytes += fs.statSync(s.path).size;
        segments++;
      } catch {
        // Written to the database and removed while we listed: not a backlog any more.
      }
    }
    w.family('weir_journal_backlog_segments', 'gauge', 'Spend journal segments not yet written to the database');
    w.sample('weir_journal_backlog_segments', [], [], segments);
    w.family('weir_journal_backlog_bytes', 'gauge', 'Bytes of spend journal not yet written to the database');
    w.sample('weir_journal_backlog_bytes', [], [], bytes);
  }
}
