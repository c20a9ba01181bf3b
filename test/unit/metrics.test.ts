// The metrics' mechanism without a gateway: workers' recorders counting into their shards, the
// hub rendering them as one exposition (checked with the strict parser), the global label caps,
// a replacement worker continuing its predecessor's rows, the registry, and the seqlock read
// against a writer on another thread.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { Identity } from '../../src/gateway/identity';
import type { KeyProfile } from '../../src/gateway/governance';
import type { Snapshot, Target } from '../../src/gateway/snapshot';
import { MetricsHub } from '../../src/metrics/hub';
import { LATENCY_BUCKETS, ROW_CELLS, TOTAL_LATENCY_AT } from '../../src/metrics/layout';
import { CallMetrics, type CallSample, type MetricsInit } from '../../src/metrics/recorder';
import { MetricsRegistry } from '../../src/metrics/registry';
import { MetricsShard } from '../../src/metrics/shard';
import { DeploymentHealth } from '../../src/state/deployment-health';
import { parsePrometheusText, samplesOf, sumOf } from '../support/prom-text';

const keyId = (hash: string, alias: string | null = null, team: string | null = null): Identity => ({
  kind: 'key',
  profile: { tokenHash: hash, keyAlias: alias, teamId: team, teamAlias: team ? `${team}-alias` : null, userId: null } as KeyProfile,
  hash: Buffer.alloc(0),
});
const target = (id: string, model = 'up-model'): Target => ({ id, upstreamModel: model, apiBase: 'https://api.example', provider: 'openai', slot: 0, unavailable: null }) as unknown as Target;
const sample = (status: number, over: Partial<CallSample> = {}): CallSample => ({
  status,
  totalS: 0.02,
  apiS: 0.015,
  ttftS: -1,
  overheadS: 0.0003,
  spendUsd: 0.5,
  inputTokens: 10,
  outputTokens: 4,
  cachedTokens: 2,
  fallbacks: 0,
  ...over,
});

function rig(env: Record<string, string> = {}, registry = new MetricsRegistry()) {
  const hub = new MetricsHub(16, env, registry);
  const workers: CallMetrics[] = [];
  const inits: MetricsInit[] = [];
  const start = (index: number) => {
    const init = hub.workerInit(index);
    const w = new CallMetrics(init, (row, labels) => hub.series(init, row, labels));
    workers.push(w);
    inits.push(init);
    return w;
  };
  const snap = { groups: new Map([['g', { targets: [target('dep-1')] }]]) } as unknown as Snapshot;
  const scrape = async () => parsePrometheusText(await hub.render({ snapshot: () => snap, health: DeploymentHealth.allocate(16) }));
  return { hub, start, scrape, workers, inits };
}

describe('metrics shards and rendering', () => {
  it('sums two workers into one series per label set, with LiteLLM names and consistent histograms', async () => {
    const { start, scrape } = rig();
    const w0 = start(0);
    const w1 = start(1);
    const a = keyId('hash-a', 'alias-a', 'team-1');
    const t = target('dep-1');
    w0.call(w0.rowFor(a, null, 'g', 'g', t), sample(200));
    w1.call(w1.rowFor(a, null, 'g', 'g', t), sample(200, { ttftS: 0.004 }));
    w1.call(w1.rowFor(a, null, 'g', 'g', t), sample(500, { spendUsd: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0 }));
    w0.refused(w0.rowFor(a, null, 'g', '', undefined), 429);
    const m = await scrape();
    const who = { hashed_api_key: 'hash-a', api_key_alias: 'alias-a', team: 'team-1', team_alias: 'team-1-alias' };
    assert.equal(sumOf(m, 'litellm_proxy_total_requests_metric_total', { ...who, status_code: '200', requested_model: 'g' }), 2);
    assert.equal(sumOf(m, 'litellm_proxy_total_requests_metric_total', { ...who, status_code: '500' }), 1);
    assert.equal(sumOf(m, 'litellm_proxy_total_requests_metric_total', { ...who, status_code: '429' }), 1);
    assert.equal(sumOf(m, 'litellm_proxy_failed_requests_metric_total', { ...who, exception_status: '429', exception_class: 'RateLimitError' }), 1);
    assert.equal(sumOf(m, 'litellm_proxy_failed_requests_metric_total', { ...who }), 2);
    // The refused call reached no deployment: it is in no deployment or latency metric.
    assert.equal(sumOf(m, 'litellm_deployment_total_requests_total', { model_id: 'dep-1' }), 3);
    assert.equal(sumOf(m, 'litellm_deployment_success_responses_total', { model_id: 'dep-1' }), 2);
    assert.equal(sumOf(m, 'litellm_deployment_failure_responses_total', { model_id: 'dep-1', exception_status: '500' }), 1);
    assert.equal(sumOf(m, 'litellm_request_total_latency_metric', who, 'litellm_request_total_latency_metric_count'), 3);
    assert.ok(Math.abs(sumOf(m, 'litellm_request_total_latency_metric', who, 'litellm_request_total_latency_metric_sum') - 0.06) < 1e-9);
    assert.equal(sumOf(m, 'litellm_llm_api_time_to_first_token_metric', who, 'litellm_llm_api_time_to_first_token_metric_count'), 1);
    assert.equal(sumOf(m, 'litellm_llm_api_time_to_first_token_metric', { ...who, le: '0.005' }, 'litellm_llm_api_time_to_first_token_metric_bucket'), 1);
    assert.equal(sumOf(m, 'weir_overhead_seconds', { le: '0.0005' }, 'weir_overhead_seconds_bucket'), 3);
    assert.equal(sumOf(m, 'litellm_spend_metric_total', who), 1);
    assert.equal(sumOf(m, 'litellm_total_tokens_metric_total', who), 28);
    assert.equal(sumOf(m, 'litellm_input_tokens_metric_total', who), 20);
    assert.equal(sumOf(m, 'litellm_output_tokens_metric_total', who), 8);
    assert.equal(sumOf(m, 'litellm_cached_tokens_metric_total', who), 4);
    assert.equal(samplesOf(m, 'litellm_deployment_state', { model_id: 'dep-1' })[0]!.value, 0);
    assert.equal(samplesOf(m, 'litellm_request_total_latency_metric', { le: String(LATENCY_BUCKETS[0]) }, 'litellm_request_total_latency_metric_bucket').length, 1);
  });

  it('gives the first N keys, end users and models their own series across workers, and counts the rest as other', async () => {
    const { start, scrape } = rig({ WEIR_METRICS_MAX_KEYS: '2', WEIR_METRICS_MAX_END_USERS: '1', WEIR_METRICS_MAX_MODELS: '2' });
    const w0 = start(0);
    const w1 = start(1);
    const t = target('dep-1');
    w0.call(w0.rowFor(keyId('k1'), null, 'm1', 'g', t), sample(200));
    w1.call(w1.rowFor(keyId('k2'), null, 'm1', 'g', t), sample(200));
    // A third key, on either worker: the cap is global.
    w0.call(w0.rowFor(keyId('k3'), null, 'm1', 'g', t), sample(200));
    w1.call(w1.rowFor(keyId('k4'), null, 'm1', 'g', t), sample(200));
    // k1 was admitted on worker 0; on worker 1 it is known to the admission count, not to this worker.
    w0.call(w0.rowFor(keyId('k1'), 'eu-1', 'm1', 'g', t), sample(200));
    w0.call(w0.rowFor(keyId('k1'), 'eu-2', 'm1', 'g', t), sample(200));
    w0.call(w0.rowFor(keyId('k1'), null, 'm2', 'g', t), sample(200));
    w0.call(w0.rowFor(keyId('k1'), null, 'm3', 'g', t), sample(200));
    const m = await scrape();
    const total = 'litellm_proxy_total_requests_metric_total';
    assert.equal(sumOf(m, total, { hashed_api_key: 'k1' }), 5);
    assert.equal(sumOf(m, total, { hashed_api_key: 'k2' }), 1);
    assert.equal(sumOf(m, total, { hashed_api_key: 'other' }), 2);
    assert.deepEqual(new Set(samplesOf(m, total).map((s) => s.labels.hashed_api_key)), new Set(['k1', 'k2', 'other']));
    assert.equal(sumOf(m, total, { end_user: 'eu-1' }), 1);
    assert.equal(sumOf(m, total, { end_user: 'other' }), 1);
    assert.equal(sumOf(m, total, { requested_model: 'm2' }), 1);
    assert.equal(sumOf(m, total, { requested_model: 'other' }), 1);
    assert.equal(sumOf(m, total), 8);
    // A folded model's call still reached a deployment: its spend and tokens are counted.
    assert.equal(sumOf(m, 'litellm_spend_metric_total', { model: 'other' }), 0.5);
  });

  it('keeps one row for any number of folded model names (wildcard groups named by the client)', async () => {
    const { start, scrape, workers } = rig({ WEIR_METRICS_MAX_MODELS: '1', WEIR_METRICS_MAX_SERIES: '64' });
    const w = start(0);
    const k = keyId('k1');
    const rows = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const name = `anthropic/claude-${i}`;
      rows.add(w.rowFor(k, null, name, name, target(`dep-${i}`, name)));
      w.call(w.rowFor(k, null, name, name, target(`dep-${i}`, name)), sample(200));
    }
    assert.equal(rows.size, 2, 'the admitted name, and every other one in one row');
    assert.equal(workers.length, 1);
    const m = await scrape();
    assert.equal(sumOf(m, 'litellm_proxy_total_requests_metric_total', { requested_model: 'other' }), 499);
    assert.equal(samplesOf(m, 'litellm_deployment_total_requests_total', { model_id: 'other' }).length, 1);
  });

  it('folds every new label set into the overflow row once a shard has no free row', async () => {
    const { start, scrape } = rig({ WEIR_METRICS_MAX_SERIES: '3' });
    const w = start(0);
    const t = target('dep-1');
    for (const k of ['a', 'b', 'c', 'd']) w.call(w.rowFor(keyId(k), null, 'g', 'g', t), sample(200));
    const m = await scrape();
    const total = 'litellm_proxy_total_requests_metric_total';
    assert.equal(sumOf(m, total, { hashed_api_key: 'a' }), 1);
    assert.equal(sumOf(m, total, { hashed_api_key: 'b' }), 1);
    assert.equal(sumOf(m, total, { hashed_api_key: 'other', requested_model: 'other' }), 2);
    assert.equal(sumOf(m, total), 4);
  });

  it('keeps what a replaced worker counted, also while it still finishes its calls beside its replacement', async () => {
    const { hub, start, scrape, inits } = rig();
    const t = target('dep-1');
    const first = start(0);
    first.call(first.rowFor(keyId('k1'), null, 'g', 'g', t), sample(200));
    first.lag(0.003);
    const second = start(0);
    // The retiring thread and its replacement write shards of their own.
    first.call(first.rowFor(keyId('k1'), null, 'g', 'g', t), sample(200));
    second.call(second.rowFor(keyId('k1'), null, 'g', 'g', t), sample(200));
    const total = 'litellm_proxy_total_requests_metric_total';
    assert.equal(sumOf(await scrape(), total, { hashed_api_key: 'k1' }), 3);
    hub.exited(inits[0]!);
    second.lag(0.001);
    const m = await scrape();
    assert.equal(sumOf(m, total, { hashed_api_key: 'k1' }), 3);
    assert.equal(sumOf(m, 'weir_worker_event_loop_lag_seconds', { worker: '0' }, 'weir_worker_event_loop_lag_seconds_count'), 2);
    assert.equal(sumOf(m, 'weir_worker_event_loop_lag_max_seconds', { worker: '0' }), 0.001);
    // A second exit report, or one for a shard never handed out, changes nothing.
    hub.exited(inits[0]!);
    assert.equal(sumOf(await scrape(), total, { hashed_api_key: 'k1' }), 3);
  });

  it('renders what was registered, bounded, and refuses bad names', async () => {
    const registry = new MetricsRegistry();
    const refills = registry.counter('weir_lease_refills_total', 'Lease refills', ['kind']);
    refills.inc({ kind: 'rpm' });
    refills.inc({ kind: 'rpm' }, 2);
    registry.gauge('weir_redis_up', 'Redis reachable', () => [{ labels: {}, value: 1 }]);
    assert.throws(() => registry.counter('bad name', 'x'));
    assert.throws(() => registry.gauge('weir_redis_up', 'again', () => []));
    assert.throws(() => refills.inc({ kind: 'rpm' }, -1));
    for (let i = 0; i < 1100; i++) refills.inc({ kind: `k${i}` });
    const { scrape } = rig({}, registry);
    const m = await scrape();
    assert.equal(sumOf(m, 'weir_lease_refills_total', { kind: 'rpm' }), 3);
    assert.equal(samplesOf(m, 'weir_lease_refills_total').length, 1001);
    assert.equal(sumOf(m, 'weir_lease_refills_total', { kind: 'other' }), 101);
    assert.equal(sumOf(m, 'weir_redis_up'), 1);
  });

  it('renders every metric the Grafana dashboard queries', async () => {
    const { hub, start } = rig();
    const w = start(0);
    w.call(w.rowFor(keyId('k1'), null, 'g', 'g', target('dep-1')), sample(200, { ttftS: 0.1, fallbacks: 1 }));
    w.call(w.rowFor(keyId('k1'), null, 'g', 'g', target('dep-1')), sample(503));
    w.cooledDown(0, 429);
    w.lag(0.002);
    const journal = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-metrics-'));
    const snap = { groups: new Map([['g', { targets: [target('dep-1')] }]]) } as unknown as Snapshot;
    const text = await hub.render({
      snapshot: () => snap,
      health: DeploymentHealth.allocate(16),
      budgets: () => ({ keys: [{ labels: ['k1', 'a1'], maxUsd: 5, spendUsd: 1 }], teams: [{ labels: ['t1', 'team-1'], maxUsd: 9, spendUsd: 3 }] }),
      journalDir: () => journal,
      agentRuns: async () => ({ running: 1, succeeded: 4 }),
    });
    fs.rmSync(journal, { recursive: true });
    const m = parsePrometheusText(text);
    assert.equal(sumOf(m, 'litellm_remaining_team_budget_metric', { team_alias: 'team-1' }), 6);
    assert.equal(sumOf(m, 'weir_agent_runs', { state: 'succeeded' }), 4);
    const dashboard = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../grafana/weir-dashboard.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    // The metric names of every query (label lists of `by (…)` left out).
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr.replace(/by \([^)]*\)/g, ''));
    const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\b((?:litellm|weir)_[a-z_]+?)(?:_bucket|_sum|_count)?\b/g)].map((x) => x[1]!)));
    assert.ok(used.size >= 15, [...used].join(' '));
    for (const name of used) {
      const family = m.get(name) ?? m.get(name.replace(/_(bucket|sum|count)$/, ''));
      assert.ok(family && family.samples.length > 0, `${name}: queried by the dashboard, not rendered`);
    }
  });

  it('reads a row consistently while another thread keeps writing it', async () => {
    const shard = MetricsShard.allocate(2, 0);
    const calls = 20_000;
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       const { CallMetrics } = require(workerData.recorder);
       const m = new CallMetrics({ shard: workerData.shard, admissions: new SharedArrayBuffer(4096), caps: { keys: 9, endUsers: 9, models: 9, rows: 2 } }, () => {});
       // Between two calls, some work, as a request would do (the reader gets its chances).
       let x = 0;
       for (let i = 0; i < workerData.calls; i++) { for (let j = 0; j < 500; j++) x += Math.sqrt(j); m.call(1, { status: 200, totalS: (i % 7) * 0.5, apiS: -1, ttftS: -1, overheadS: 0, spendUsd: 0, inputTokens: 0, outputTokens: 0, cachedTokens: 0, fallbacks: 0 }); }
       if (x < 0) throw new Error('unreachable');`,
      { eval: true, workerData: { shard: shard.buffers, calls, recorder: require.resolve('../../src/metrics/recorder') } },
    );
    const exited = new Promise((r) => worker.once('exit', r));
    let done = false;
    void exited.then(() => (done = true));
    const row = new Float64Array(ROW_CELLS);
    // The written values (0, 0.5 … 3 s) by the LiteLLM bucket each falls in.
    const VALUE_OF_BUCKET: Record<number, number> = { 0: 0, 6: 0.5, 7: 1, 8: 1.5, 9: 2, 10: 2.5, 11: 3 };
    let reads = 0;
    const check = () => {
      if (!shard.readRow(1, row)) return;
      let count = 0;
      let sum = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        count += row[TOTAL_LATENCY_AT + i]!;
        sum += row[TOTAL_LATENCY_AT + i]! * (VALUE_OF_BUCKET[i] ?? 0);
      }
      assert.equal(row[0], count, 'status count and histogram count from the same moment');
      assert.ok(Math.abs(row[TOTAL_LATENCY_AT + LATENCY_BUCKETS.length + 1]! - sum) < 1e-6, 'sum agrees with the buckets');
      reads++;
    };
    while (!done) {
      check();
      await new Promise((r) => setImmediate(r));
    }
    check();
    assert.equal(row[0], calls);
    assert.ok(reads > 1);
  });
});
