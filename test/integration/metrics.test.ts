// /metrics and traces end to end: the real gateway (2 workers, PostgreSQL, the mock upstream)
// serves calls from several virtual keys, the master key and callers it refuses; the scrape,
// read with a strict Prometheus text parser, must count exactly those calls — by key, end user,
// model and status, with their spend, tokens and latency histograms — fold keys past the cap
// into `other`, show the budgets left and the deployment cooled down by a 429. A local OTLP/HTTP
// receiver gets one span per call with its phases. Then require_auth_for_metrics_endpoint is
// switched on by a config reload.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MockUpstream } from '../support/mock-upstream';
import { parseSse } from '../support/http';
import { parsePrometheusText, samplesOf, sumOf, type PromFamily } from '../support/prom-text';
import {
  type Answer, type Weir, CALL_COST, MASTER_KEY, OUT_PRICE, UPSTREAM_KEY, adminOk, bearer, call, chat, closeAndCheckLedgers, ledgerDatabase, messages, startMock, startWeirOn, waitFor, writeConfigFile,
} from './governance-helpers';

/** Virtual keys past this many are counted under hashed_api_key="other". */
const MAX_KEYS = 3;

function config(mockUrl: string, db: string, general = ''): string {
  const dep = (name: string, model: string, inPrice: number, outPrice: number, base = `${mockUrl}/v1`) => `  - model_name: ${name}
    litellm_params: { model: ${model}, api_base: "${base}", api_key: ${UPSTREAM_KEY}, input_cost_per_token: ${inPrice}, output_cost_per_token: ${outPrice} }`;
  return `model_list:
${dep('gpt', 'openai/weir-metrics-model', 0, OUT_PRICE)}
${dep('claude', 'anthropic/weir-metrics-claude', 0.000001, 0.000005, mockUrl)}
${dep('pair', 'openai/pair-a', 0, OUT_PRICE)}
${dep('pair', 'openai/pair-b', 0, OUT_PRICE)}
router_settings:
  num_retries: 0
  cooldown_time: 600
general_settings:
  master_key: ${MASTER_KEY}
  database_url: ${db}
  proxy_batch_write_at: 1
${general}
litellm_settings:
  callbacks: ["prometheus", "otel"]
`;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}

/** A local OTLP/HTTP (JSON) trace receiver: every span it was sent. */
async function startReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.startsWith('application/json')) {
        const body = JSON.parse(Buffer.concat(parts).toString()) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, close: () => new Promise((r) => server.close(() => r())) };
}

let mock: MockUpstream;
let weir: Weir;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let db: string;

before(async () => {
  db = await ledgerDatabase('metrics');
  mock = await startMock();
  receiver = await startReceiver();
  weir = await startWeirOn(writeConfigFile(config(mock.url, db)), {
    env: { WEIR_METRICS_MAX_KEYS: String(MAX_KEYS), OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50', OPENAI_API_BASE: mock.url, OPENAI_API_KEY: UPSTREAM_KEY, WEIR_FAULT_INJECTION: '1' },
  });
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close(), () => receiver?.close());
});

async function scrape(headers: Record<string, string> = {}): Promise<Map<string, PromFamily>> {
  const r = await call(weir.url, '/metrics', { headers });
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(r.text);
}

const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;
const cost = (r: Answer) => Number(r.headers['x-litellm-response-cost']);

describe('/metrics counts what was served', () => {
  const keys: { key: string; token: string }[] = [];
  /** Per key (index), what the answers said: calls by status, spend, tokens, streams. */
  const sent = new Map<number, { status: Record<string, number>; spend: number; input: number; output: number; streams: number; latency: number }>();
  const note = (i: number, r: Answer, usage?: { input: number; output: number }, spend = cost(r), stream = false) => {
    const s = sent.get(i) ?? { status: {}, spend: 0, input: 0, output: 0, streams: 0, latency: 0 };
    s.status[r.status] = (s.status[r.status] ?? 0) + 1;
    s.spend += spend;
    s.input += usage?.input ?? 0;
    s.output += usage?.output ?? 0;
    if (stream) s.streams++;
    sent.set(i, s);
  };
  const callIds: string[] = [];
  let streamCallId = '';

  before(async () => {
    const team = await adminOk(weir.url, '/team/new', { team_alias: 'metrics-team', max_budget: 10 });
    for (let i = 0; i < 5; i++) {
      const body: Record<string, unknown> = { key_alias: `metrics-key-${i}` };
      if (i === 0) body.team_id = team.team_id;
      if (i === 1) body.max_budget = 2 * CALL_COST;
      keys.push(await adminOk(weir.url, '/key/generate', body));
    }
    // Key 0: three calls, one stream, one unknown model (400), one upstream failure (500).
    for (let n = 0; n < 3; n++) {
      const r = await chat(weir.url, keys[0]!.key);
      assert.equal(r.status, 200, r.text);
      callIds.push(String(r.headers['x-litellm-call-id']));
      note(0, r, { input: r.json.usage.prompt_tokens, output: r.json.usage.completion_tokens });
    }
    const s = await chat(weir.url, keys[0]!.key, 'gpt', { stream: true, stream_options: { include_usage: true } });
    assert.equal(s.status, 200, s.text);
    streamCallId = String(s.headers['x-litellm-call-id']);
    const usage = parseSse(s.text).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data) as { usage?: { prompt_tokens: number; completion_tokens: number } }).find((c) => c.usage)!.usage!;
    note(0, s, { input: usage.prompt_tokens, output: usage.completion_tokens }, usage.completion_tokens * OUT_PRICE, true);
    const bad = await chat(weir.url, keys[0]!.key, 'no-such-model');
    assert.equal(bad.status, 400, bad.text);
    note(0, bad, undefined, 0);
    mock.enqueue({ status: 500, errorMessage: 'upstream broke' });
    const broke = await chat(weir.url, keys[0]!.key);
    assert.equal(broke.status, 500, broke.text);
    note(0, broke, undefined, 0);
    // Key 1 (budget for two calls), as end user u-1: two calls, then a 429.
    for (let n = 0; n < 3; n++) {
      const r = await chat(weir.url, keys[1]!.key, 'gpt', { user: 'u-1' });
      assert.equal(r.status, n < 2 ? 200 : 429, r.text);
      note(1, r, r.status === 200 ? { input: r.json.usage.prompt_tokens, output: r.json.usage.completion_tokens } : undefined, r.status === 200 ? cost(r) : 0);
    }
    // Key 2: Anthropic messages.
    const m = await messages(weir.url, keys[2]!.key, 'claude');
    assert.equal(m.status, 200, m.text);
    note(2, m, { input: m.json.usage.input_tokens, output: m.json.usage.output_tokens });
    // …and LiteLLM's OpenAI pass-through route (priced from the built-in table: its spend is checked apart).
    const pt = await call(weir.url, '/openai/v1/chat/completions', { headers: bearer(keys[2]!.key), body: { model: 'gpt-4o-mini', max_tokens: 4, messages: [{ role: 'user', content: 'hello' }] } });
    assert.equal(pt.status, 200, pt.text);
    note(2, pt, { input: pt.json.usage.prompt_tokens, output: pt.json.usage.completion_tokens }, 0);
    // Keys 3 and 4: past the cap.
    for (const i of [3, 4]) {
      const r = await chat(weir.url, keys[i]!.key);
      assert.equal(r.status, 200, r.text);
      note(i, r, { input: r.json.usage.prompt_tokens, output: r.json.usage.completion_tokens });
    }
    // The master key on `pair`: a 429 from the upstream cools that deployment down.
    mock.enqueue({ status: 429, errorMessage: 'slow down' });
    const limited = await chat(weir.url, MASTER_KEY, 'pair');
    assert.equal(limited.status, 429, limited.text);
    // A caller with no valid key.
    const nokey = await chat(weir.url, 'sk-not-a-key');
    assert.equal(nokey.status, 401, nokey.text);
  });

  it('counts requests by key, model and status, and failures by class', async () => {
    const m = await scrape();
    const total = 'litellm_proxy_total_requests_metric_total';
    const failed = 'litellm_proxy_failed_requests_metric_total';
    for (const i of [0, 1, 2]) {
      for (const [status, n] of Object.entries(sent.get(i)!.status)) {
        assert.equal(sumOf(m, total, { hashed_api_key: keys[i]!.token, status_code: status }), n, `key ${i} status ${status}`);
      }
    }
    assert.equal(sumOf(m, total, { hashed_api_key: keys[0]!.token, requested_model: 'no-such-model', status_code: '400' }), 1);
    assert.equal(sumOf(m, total, { hashed_api_key: keys[0]!.token, api_key_alias: 'metrics-key-0', team_alias: 'metrics-team', requested_model: 'gpt' }), 5);
    assert.equal(sumOf(m, total, { hashed_api_key: keys[1]!.token, end_user: 'u-1' }), 3);
    assert.equal(sumOf(m, failed, { hashed_api_key: keys[1]!.token, exception_status: '429', exception_class: 'RateLimitError' }), 1);
    assert.equal(sumOf(m, failed, { hashed_api_key: keys[0]!.token, exception_status: '500', exception_class: 'InternalServerError' }), 1);
    assert.equal(sumOf(m, failed, { hashed_api_key: keys[0]!.token, exception_status: '400', exception_class: 'BadRequestError' }), 1);
    // Keys 3 and 4 came after the cap: counted, under `other`, and under no hash of theirs.
    assert.equal(sumOf(m, total, { hashed_api_key: 'other', status_code: '200' }), 2);
    for (const i of [3, 4]) assert.equal(samplesOf(m, total, { hashed_api_key: keys[i]!.token }).length, 0);
    assert.equal(new Set(samplesOf(m, total).map((s) => s.labels.hashed_api_key).filter((h) => h !== '' && h !== 'other' && h !== 'litellm_proxy_master_key')).size, MAX_KEYS);
    assert.equal(sumOf(m, total, { hashed_api_key: 'litellm_proxy_master_key', requested_model: 'pair', status_code: '429' }), 1);
    assert.equal(sumOf(m, total, { hashed_api_key: '', status_code: '401' }), 1);
    assert.equal(sumOf(m, failed, { exception_status: '401', exception_class: 'AuthenticationError' }), 1);
    // Every request the gateway answered on an LLM route, once.
    assert.equal(sumOf(m, total), 6 + 3 + 2 + 2 + 1 + 1);
  });

  it('adds up spend and tokens as the answers reported them', async () => {
    const m = await scrape();
    for (const i of [0, 1, 2]) {
      const s = sent.get(i)!;
      const who = { hashed_api_key: keys[i]!.token };
      if (i === 2) assert.ok(near(sumOf(m, 'litellm_spend_metric_total', { ...who, model: 'weir-metrics-claude' }), s.spend));
      else assert.ok(near(sumOf(m, 'litellm_spend_metric_total', who), s.spend), `key ${i} spend ${sumOf(m, 'litellm_spend_metric_total', who)} ≠ ${s.spend}`);
      assert.equal(sumOf(m, 'litellm_input_tokens_metric_total', who), s.input, `key ${i} input tokens`);
      assert.equal(sumOf(m, 'litellm_output_tokens_metric_total', who), s.output, `key ${i} output tokens`);
      assert.equal(sumOf(m, 'litellm_total_tokens_metric_total', who), s.input + s.output, `key ${i} total tokens`);
    }
    const others = sent.get(3)!.spend + sent.get(4)!.spend;
    assert.ok(near(sumOf(m, 'litellm_spend_metric_total', { hashed_api_key: 'other' }), others));
    assert.ok(sumOf(m, 'litellm_spend_metric_total', { hashed_api_key: keys[2]!.token, model: 'gpt-4o-mini' }) > 0, 'the pass-through call is priced');
  });

  it('keeps one latency observation per call that reached a deployment, and a first-token time per stream', async () => {
    const m = await scrape();
    const k0 = { hashed_api_key: keys[0]!.token };
    // The parser checked every histogram's buckets are cumulative and end at its count.
    const count = (f: string, match: Record<string, string>) => sumOf(m, f, match, `${f}_count`);
    assert.equal(count('litellm_request_total_latency_metric', k0), 5);
    assert.equal(count('litellm_llm_api_latency_metric', k0), 5);
    assert.equal(count('litellm_llm_api_time_to_first_token_metric', k0), 1);
    assert.equal(count('litellm_overhead_latency_metric', k0), 5);
    assert.equal(count('weir_overhead_seconds', k0), 5);
    assert.ok(sumOf(m, 'litellm_request_total_latency_metric', k0, 'litellm_request_total_latency_metric_sum') >= sumOf(m, 'weir_overhead_seconds', k0, 'weir_overhead_seconds_sum'));
    // Refused before a deployment: counted as requests, not as latencies.
    assert.equal(count('litellm_request_total_latency_metric', { hashed_api_key: keys[1]!.token }), 2);
    assert.equal(sumOf(m, 'litellm_deployment_total_requests_total', { requested_model: 'gpt', hashed_api_key: keys[0]!.token }), 5);
    assert.equal(sumOf(m, 'litellm_deployment_success_responses_total', { requested_model: 'gpt', hashed_api_key: keys[0]!.token }), 4);
  });

  it('shows budgets left, deployment states and the cooldown a 429 caused', async () => {
    const m = await scrape();
    const left = samplesOf(m, 'litellm_remaining_api_key_budget_metric', { hashed_api_key: keys[1]!.token });
    assert.equal(left.length, 1);
    assert.ok(near(left[0]!.value, 2 * CALL_COST - sent.get(1)!.spend), `left ${left[0]!.value}`);
    assert.ok(near(sumOf(m, 'litellm_api_key_max_budget_metric', { hashed_api_key: keys[1]!.token }), 2 * CALL_COST));
    const team = samplesOf(m, 'litellm_remaining_team_budget_metric', { team_alias: 'metrics-team' });
    assert.equal(team.length, 1);
    assert.ok(near(team[0]!.value, 10 - sent.get(0)!.spend), `team left ${team[0]!.value}`);
    const cooled = samplesOf(m, 'litellm_deployment_cooled_down_total', { exception_status: '429' });
    assert.equal(cooled.length, 1);
    assert.equal(cooled[0]!.value, 1);
    assert.match(cooled[0]!.labels.litellm_model_name!, /^pair-[ab]$/);
    const states = samplesOf(m, 'litellm_deployment_state');
    assert.equal(states.length, 4);
    for (const s of states) assert.equal(s.value, s.labels.model_id === cooled[0]!.labels.model_id ? 2 : 0, s.labels.litellm_model_name);
    for (const name of ['weir_worker_event_loop_lag_seconds', 'weir_worker_event_loop_lag_max_seconds', 'weir_journal_backlog_segments', 'weir_journal_backlog_bytes', 'weir_agent_runs']) {
      assert.ok(m.has(name), `${name} is rendered`);
    }
    assert.deepEqual(new Set(samplesOf(m, 'weir_worker_event_loop_lag_max_seconds').map((s) => s.labels.worker)), new Set(['0', '1']));
  });

  it('sends one span per call to the OTLP receiver, with its phases as children', async () => {
    const idOf = (s: OtlpSpan) => s.attributes.find((a) => a.key === 'weir.call_id')?.value.stringValue;
    const wanted = [...callIds, streamCallId];
    await waitFor('a root span for every call', () => wanted.every((id) => receiver.spans.some((s) => idOf(s) === id)), 15_000, 50);
    for (const id of wanted) {
      const root = receiver.spans.find((s) => idOf(s) === id)!;
      assert.equal(root.name, 'POST /v1/chat/completions');
      const phases = ['auth', 'route', 'upstream', id === streamCallId ? 'stream' : 'response'];
      await waitFor(`phases of ${id}`, () => phases.every((p) => receiver.spans.some((s) => s.parentSpanId === root.spanId && s.name === p)), 15_000, 50);
      let last = BigInt(root.startTimeUnixNano);
      for (const p of phases) {
        const span = receiver.spans.find((s) => s.parentSpanId === root.spanId && s.name === p)!;
        assert.equal(span.traceId, root.traceId);
        assert.ok(BigInt(span.startTimeUnixNano) >= last, `${p} starts after the phase before it`);
        assert.ok(BigInt(span.endTimeUnixNano) <= BigInt(root.endTimeUnixNano), `${p} ends within the request`);
        last = BigInt(span.endTimeUnixNano);
      }
    }
  });

  it('asks for a key once require_auth_for_metrics_endpoint is set', async () => {
    const open = await call(weir.url, '/metrics');
    assert.equal(open.status, 200);
    writeConfigFile(config(mock.url, db, '  require_auth_for_metrics_endpoint: true'), weir.configPath.replace(/\/config\.yaml$/, ''));
    const reload = await call(weir.url, '/config/reload', { headers: bearer(MASTER_KEY), method: 'POST' });
    assert.equal(reload.status, 200, reload.text);
    const refused = await call(weir.url, '/metrics');
    assert.equal(refused.status, 401, refused.text);
    assert.equal(refused.json.error.type, 'auth_error');
    assert.equal((await call(weir.url, '/metrics', { headers: bearer('sk-not-a-key') })).status, 401);
    await scrape(bearer(keys[0]!.key));
    await scrape(bearer(MASTER_KEY));
  });

  it('keeps every count when a worker thread crashes and is replaced', async () => {
    const total = 'litellm_proxy_total_requests_metric_total';
    const before = sumOf(await scrape(bearer(MASTER_KEY)), total);
    const crash = await call(weir.url, '/__weir/crash', { method: 'POST' });
    assert.equal(crash.status, 200, crash.text);
    await waitFor('the replacement worker', () => /weir info worker \d+ restarted/.test(weir.output()), 10_000);
    assert.equal(sumOf(await scrape(bearer(MASTER_KEY)), total), before);
    // Each call on a fresh connection: both workers (the replacement among them) serve some.
    for (let n = 0; n < 6; n++) assert.equal((await chat(weir.url, keys[0]!.key)).status, 200);
    const m = await scrape(bearer(MASTER_KEY));
    assert.equal(sumOf(m, total), before + 6);
    assert.equal(sumOf(m, total, { hashed_api_key: keys[0]!.token, status_code: '200' }), sent.get(0)!.status['200']! + 6);
  });
});
