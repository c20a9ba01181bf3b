// Three Weir instances on one real Redis and one PostgreSQL, over real HTTP: rpm shared by leases
// (500 concurrent calls against rpm 100), tpm too (waves of 100-token calls against tpm 1,000), a 429 on one instance cooling the deployment down on the
// others, failures spread over the instances reaching allowed_fails together, one instance's
// in-flight requests seen by the others, a key blocked through one instance refused by the others
// through pub/sub (the table poll is set to 10 minutes, so nothing else can carry it), and Redis
// killed and restarted under load.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MockUpstream } from '../support/mock-upstream';
import { parsePrometheusText, type PromFamily } from '../support/prom-text';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import {
  adminOk, bearer, burst, CALL_COST, call, chatBody, chat, messages, closeAndCheckLedgers, governanceConfig, ledgerDatabase, sleep, startMock, startWeirOn, tally, UPSTREAM_KEY, waitFor, writeConfigFile, type Weir,
} from './governance-helpers';

let redis: RedisServer;
let mock: MockUpstream;
const weirs: Weir[] = [];

/** Windows are calendar minutes: start a phase well inside one, so it cannot straddle two. */
async function awayFromMinuteEdge(needMs = 20_000): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 60_000 - needMs) await sleep(60_000 - into + 200);
}

/** Two deployments in one group: a group of one is never cooled down (LiteLLM's rule too). */
const coolConfig = (mockUrl: string) =>
  ['a', 'b']
    .map(
      (x) => `  - model_name: cool
    litellm_params:
      model: openai/weir-cool-${x}
      api_base: ${mockUrl}/v1
      api_key: sk-upstream-cool
      input_cost_per_token: 0
      output_cost_per_token: 0.001
      cooldown_time: 600
`,
    )
    .join('');

/** Two deployments in order tiers: every call goes to x until x is cooled down, then to y. */
const flakyConfig = (mockUrl: string) =>
  ['x', 'y']
    .map(
      (x, i) => `  - model_name: flaky
    litellm_params:
      model: openai/weir-flaky-${x}
      api_base: ${mockUrl}/v1
      api_key: sk-upstream-flaky
      input_cost_per_token: 0
      output_cost_per_token: 0.001
      cooldown_time: 600
      order: ${i + 1}
`,
    )
    .join('');

before(async () => {
  redis = await startRedisServer();
  mock = await startMock();
  const db = await ledgerDatabase('scale_out');
  const base = governanceConfig(mock.url, db);
  const config = base
    .replace('router_settings:\n', `router_settings:\n  redis_host: 127.0.0.1\n  redis_port: ${redis.port}\n  allowed_fails: 2\n`)
    .replace('router_settings:', `${coolConfig(mock.url)}${flakyConfig(mock.url)}router_settings:`);
  for (let i = 0; i < 3; i++) {
    weirs.push(await startWeirOn(writeConfigFile(config), { workers: 1, env: { WEIR_SYNC_INTERVAL_MS: '600000', OPENAI_API_BASE: mock.url, OPENAI_API_KEY: UPSTREAM_KEY } }));
  }
});

after(async () => {
  await closeAndCheckLedgers(...weirs.map((w) => () => w.stop()), () => mock?.close(), () => redis?.stop());
});

const spread = <T>(i: number, list: T[]): T => list[i % list.length]!;

const scrape = async (url: string) => parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
const value = (m: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}) =>
  m.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
/** A deployment's gauge as one instance reports it on /metrics. */
const gauge = async (w: Weir, name: string, model: string) => value(await scrape(w.url), name, { litellm_model_name: model });

describe('three instances on one Redis', () => {
  it('say that they share Redis at start and on /health/readiness', async () => {
    for (const w of weirs) {
      assert.match(w.output(), /scale-out: redis redis:\/\/127\.0\.0\.1:\d+, instance /);
      const r = await call(w.url, '/health/readiness', { method: 'GET' });
      assert.equal(r.status, 200);
      assert.equal(r.json.redis, 'connected');
    }
  });

  it('rpm 100: 500 concurrent calls spread over the instances → exactly 100 pass', async () => {
    await awayFromMinuteEdge();
    const k = await adminOk(weirs[0]!.url, '/key/generate', { rpm_limit: 100 });
    const before = mock.requests.length;
    const rs = await burst(500, (i) => chat(spread(i, weirs).url, k.key));
    // Leases never grant past the limit, and a spent lease waits for Redis before it refuses, so
    // the three instances admit the limit exactly (the documented bound allows fewer, never more).
    assert.deepEqual(tally(rs), { 200: 100, 429: 400 });
    assert.equal(mock.requests.length - before, 100, 'only the admitted calls reached the upstream');
    const refused = rs.find((r) => r.status === 429)!;
    assert.equal(refused.json.error.type, 'rate_limit_error');
    assert.match(refused.json.error.message, /Rate limit exceeded for api_key: .* Limit type: requests\. Current limit: 100, Remaining: 0/);
  });

  it('strict (weir_strict_limits in the key metadata): 500 concurrent calls against rpm 100 → exactly 100, each admission one Redis script', async () => {
    await awayFromMinuteEdge();
    const k = await adminOk(weirs[0]!.url, '/key/generate', { rpm_limit: 100, metadata: { weir_strict_limits: true } });
    const before = mock.requests.length;
    const rs = await burst(500, (i) => chat(spread(i, weirs).url, k.key));
    assert.deepEqual(tally(rs), { 200: 100, 429: 400 });
    assert.equal(mock.requests.length - before, 100);
  });

  it('a budget for 100 calls: 500 concurrent calls spread over the instances → at most 100 pass, within the documented bound', async (t) => {
    const k = await adminOk(weirs[0]!.url, '/key/generate', { max_budget: 100 * CALL_COST });
    const rs = await burst(500, (i) => chat(spread(i, weirs).url, k.key));
    const passed = rs.filter((r) => r.status === 200).length;
    t.diagnostic(`${passed} of 500 passed`);
    // Each call reserves exactly what it costs, so grants are never overspent; at most a quarter of
    // the budget (N × budget / 4N) may sit on instances that did not need it.
    assert.ok(passed <= 100 && passed >= 75, `passed: ${passed}`);
    assert.deepEqual(tally(rs), { 200: passed, 429: 500 - passed });
    assert.match(rs.find((r) => r.status === 429)!.json.error.message, /Budget has been exceeded! Key=/);
  });

  it('a strict budget for 100 calls: exactly 100 pass', async () => {
    const k = await adminOk(weirs[1]!.url, '/key/generate', { max_budget: 100 * CALL_COST, metadata: { weir_strict_limits: true } });
    const rs = await burst(500, (i) => chat(spread(i, weirs).url, k.key));
    assert.deepEqual(tally(rs), { 200: 100, 429: 400 });
  });

  /** A call whose answer's usage the mock fixes: 100 tokens (60 prompt, 40 completion). */
  const hundredTokens = (url: string, key: string) =>
    chat(url, key, 'gpt', {
      mock_behavior: {
        json: {
          id: 'chatcmpl-tpm',
          object: 'chat.completion',
          created: 1,
          model: 'gpt',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 60, completion_tokens: 40, total_tokens: 100 },
        },
      },
    });

  /**
   * Waves of 6 concurrent 100-token calls (2 per instance) against tpm 1,000 until a wave is refused
   * whole. Between waves the tokens counted reach Redis (the instances claim them within a tick):
   * the bound is then the tpm + the calls in flight when it was reached, at most one wave.
   */
  async function tpmWaves(key: { key: string; token: string }): Promise<number> {
    let passed = 0;
    for (let wave = 0; wave < 20; wave++) {
      const rs = await burst(6, (i) => hundredTokens(spread(i, weirs).url, key.key));
      const ok = rs.filter((r) => r.status === 200).length;
      for (const r of rs.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 429, r.text);
        assert.match(r.json.error.message, /Limit type: tokens\. Current limit: 1000, Remaining: 0/);
      }
      passed += ok;
      if (ok === 0) break;
      const minute = Math.floor(Date.now() / 60_000);
      await waitFor('the tokens counted to reach Redis', async () => {
        const fields = (await redis.command(['HVALS', `weir:{tpm:key:${key.token}}:${minute}`])) as string[];
        return fields.reduce((a, v) => a + Number(v), 0) >= passed * 100;
      });
    }
    return passed;
  }

  it('tpm 1,000: 100-token calls spread over the instances → the tokens admitted stay within the tpm + the calls in flight (one wave)', async (t) => {
    await awayFromMinuteEdge(30_000);
    const k = await adminOk(weirs[0]!.url, '/key/generate', { tpm_limit: 1000 });
    const passed = await tpmWaves(k);
    t.diagnostic(`${passed} calls of 100 tokens passed`);
    // Without leases each instance would admit its own 1,000 (30 calls). With them: at most the tpm
    // plus one wave in flight, and at most a quarter of it refused early (leases held unused).
    assert.ok(passed * 100 <= 1000 + 600, `${passed} calls passed`);
    assert.ok(passed * 100 >= 1000 - 1000 / 4, `${passed} calls passed`);
  });

  it('tpm 1,000, strict: nothing held ahead, so nothing refused early; the same bound above', async (t) => {
    await awayFromMinuteEdge(30_000);
    const k = await adminOk(weirs[1]!.url, '/key/generate', { tpm_limit: 1000, metadata: { weir_strict_limits: true } });
    const passed = await tpmWaves(k);
    t.diagnostic(`${passed} calls of 100 tokens passed`);
    assert.ok(passed * 100 >= 1000 && passed * 100 <= 1000 + 600, `${passed} calls passed`);
  });

  it('the provider pass-through waits for a lease too: a fresh key, rpm 60, 6 calls at once across the instances → 6 pass', async () => {
    await awayFromMinuteEdge();
    const k = await adminOk(weirs[2]!.url, '/key/generate', { rpm_limit: 60 });
    const rs = await burst(6, (i) =>
      call(spread(i, weirs).url, '/openai/v1/chat/completions', { headers: bearer(k.key), body: { model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] } }),
    );
    assert.deepEqual(tally(rs), { 200: 6 }, rs.map((r) => r.text).join('\n'));
  });

  it('rpm 5: one instance at a time, each call on another instance → exactly 5 pass', async () => {
    await awayFromMinuteEdge();
    const k = await adminOk(weirs[1]!.url, '/key/generate', { rpm_limit: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await chat(spread(i, weirs).url, k.key)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 429]);
  });

  it('a key blocked through one instance is refused by the others (pub/sub; the table poll is off)', async () => {
    const k = await adminOk(weirs[0]!.url, '/key/generate', {});
    for (const w of weirs) assert.equal((await chat(w.url, k.key)).status, 200);
    await adminOk(weirs[0]!.url, '/key/block', { key: k.key });
    assert.equal((await chat(weirs[0]!.url, k.key)).status, 401, 'the instance that blocked it refuses at once');
    for (const w of weirs.slice(1)) {
      const r = await waitFor('the block to reach another instance', async () => {
        const a = await chat(w.url, k.key);
        return a.status === 401 ? a : null;
      });
      assert.match(r.json.error.message, /Key is blocked/);
    }
  });

  it('/metrics says Redis is up and counts the leases and the changes passed between instances', async () => {
    const blocker = await scrape(weirs[0]!.url);
    assert.equal(value(blocker, 'weir_redis_up'), 1);
    assert.ok(value(blocker, 'weir_invalidations_total', { direction: 'published' })! >= 1, 'the block above was published');
    const others = await Promise.all(weirs.slice(1).map((w) => scrape(w.url)));
    for (const m of others) assert.ok(value(m, 'weir_invalidations_total', { direction: 'received' })! >= 1, 'and received');
    const refills = [blocker, ...others].map((m) => value(m, 'weir_lease_refills_total') ?? 0);
    assert.ok(refills.reduce((a, b) => a + b, 0) > 0, `lease scripts ran (the rpm tests above): ${refills}`);
  });

  it('a 429 on one instance cools the deployment down on the others', async () => {
    const k = await adminOk(weirs[0]!.url, '/key/generate', {});
    for (const w of weirs) assert.equal((await chat(w.url, k.key, 'cool')).status, 200, 'the group serves everywhere');
    // Two 429s through the first instance: the first cools one deployment, so the second goes to
    // the other and cools it too. The group is then cooled down there.
    mock.enqueue({ status: 429, errorMessage: 'slow down' }, { status: 429, errorMessage: 'slow down' });
    const before = mock.requests.length;
    assert.equal((await chat(weirs[0]!.url, k.key, 'cool')).status, 429);
    assert.equal((await chat(weirs[0]!.url, k.key, 'cool')).status, 429);
    const hit = mock.requests.slice(before).map((q) => q.json?.model).sort();
    assert.deepEqual(hit, ['weir-cool-a', 'weir-cool-b'], 'each deployment answered one 429');
    for (const w of weirs.slice(1)) {
      const r = await waitFor('the cooldowns to reach another instance', async () => {
        const a = await chat(w.url, k.key, 'cool');
        return a.status === 429 ? a : null;
      });
      assert.match(r.json.error.message, /No deployments available for selected model/);
    }
  });

  it('failures spread over the instances reach allowed_fails together (allowed_fails 2: the third cools the deployment everywhere)', async () => {
    await awayFromMinuteEdge();
    const k = await adminOk(weirs[0]!.url, '/key/generate', {});
    for (let i = 0; i < 3; i++) {
      mock.enqueue({ status: 500, errorMessage: 'upstream broke' });
      const before = mock.requests.length;
      assert.equal((await chat(weirs[i]!.url, k.key, 'flaky')).status, 500);
      assert.deepEqual(mock.requests.slice(before).map((q) => q.json?.model), ['weir-flaky-x']);
      if (i === 2) break;
      // Every instance counts this failure before the next one happens elsewhere.
      for (const w of weirs) await waitFor(`failure ${i + 1} to be counted everywhere`, async () => (await gauge(w, 'weir_deployment_failures_this_minute', 'weir-flaky-x')) === i + 1);
      // Two failures are within allowed_fails: x still serves, on every instance.
      for (const w of weirs) assert.equal(await gauge(w, 'litellm_deployment_state', 'weir-flaky-x'), 1);
    }
    // One failure on each instance: alone, none would pass allowed_fails; together, the third does.
    for (const w of weirs) {
      await waitFor('x cooled down everywhere', async () => (await gauge(w, 'litellm_deployment_state', 'weir-flaky-x')) === 2);
      const before = mock.requests.length;
      assert.equal((await chat(w.url, k.key, 'flaky')).status, 200);
      assert.deepEqual(mock.requests.slice(before).map((q) => q.json?.model), ['weir-flaky-y']);
    }
  });

  it("one instance's in-flight requests are seen by the others (least-busy routing's load), and their end too", async () => {
    const k = await adminOk(weirs[0]!.url, '/key/generate', {});
    const inflight = async (w: Weir) => (await scrape(w.url)).get('weir_deployment_in_flight')!.samples.reduce((a, s) => a + s.value, 0);
    // The earlier tests' requests end first (their last in-flight counts travel between instances
    // on the health tick): waited for, so a count that never returns to 0 still fails here.
    for (const w of weirs) await waitFor('no request of an earlier test in flight', async () => (await inflight(w)) === 0);
    mock.enqueue({ hang: true });
    const client = new AbortController();
    const held = fetch(`${weirs[0]!.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...bearer(k.key), 'content-type': 'application/json' },
      body: JSON.stringify(chatBody('gpt')),
      signal: client.signal,
    }).catch(() => null);
    for (const w of weirs) await waitFor('the held request to count on every instance', async () => (await inflight(w)) === 1);
    assert.equal(await gauge(weirs[1]!, 'weir_deployment_in_flight', 'weir-budget-model'), 1, 'at the deployment it went to');
    client.abort();
    await held;
    for (const w of weirs) await waitFor('its end to reach every instance', async () => (await inflight(w)) === 0);
  });

  it('Redis killed under load: every instance keeps serving and says so; restarted, they reconcile', async () => {
    await awayFromMinuteEdge(40_000);
    const k = await adminOk(weirs[2]!.url, '/key/generate', { rpm_limit: 60 });
    const strict = await adminOk(weirs[2]!.url, '/key/generate', { rpm_limit: 60, metadata: { weir_strict_limits: true } });
    for (const w of weirs) assert.equal((await chat(w.url, strict.key)).status, 200);
    const tpmKey = await adminOk(weirs[2]!.url, '/key/generate', { tpm_limit: 3000 });
    // Leased traffic before the outage: a request that waited for a lease is admitted while the
    // rpm has room, even when a request that did not wait took its grant first (lease-retry.ts).
    const pre = tally(await burst(6, (i) => chat(spread(i, weirs).url, k.key)));
    assert.deepEqual(pre, { 200: 6 });
    const before = 6;
    await redis.kill();
    for (const w of weirs) {
      await waitFor('readiness to say Redis is away', async () => (await call(w.url, '/health/readiness', { method: 'GET' })).json?.redis === 'Not connected');
      await waitFor('the log line', () => /redis: .* unreachable: serving on this instance's leases/.test(w.output()));
    }
    // Strict keys fail closed, with a 503 in the endpoint's dialect.
    for (const w of weirs) {
      const o = await chat(w.url, strict.key);
      assert.equal(o.status, 503, o.text);
      assert.match(o.json.error.message, /strict \(weir_strict_limits\) and the shared Redis that decides them is unreachable/);
      assert.equal(o.json.error.code, '503');
      const a = await messages(w.url, strict.key);
      assert.equal(a.status, 503, a.text);
      assert.equal(a.json.type, 'error');
      assert.match(a.json.error.message, /weir_strict_limits/);
    }
    // Alone, each instance admits up to its share of the limit (ceil(60 / 3) = 20, leases included).
    const during = await burst(30, (i) => chat(spread(i, weirs).url, k.key));
    assert.deepEqual(tally(during), { 200: 30 });
    // And up to its share of a tpm (1,000 tokens each): 200 tokens on each instance.
    assert.deepEqual(tally(await burst(6, (i) => hundredTokens(spread(i, weirs).url, tpmKey.key))), { 200: 6 });
    await redis.restart();
    for (const w of weirs) {
      await waitFor('readiness to say Redis is back', async () => (await call(w.url, '/health/readiness', { method: 'GET' })).json?.redis === 'connected', 15_000);
      await waitFor('the reconcile line', () => /redis: reconciled \d+ request\(s\) admitted while it was away/.test(w.output()), 15_000);
    }
    // The restarted Redis knows this minute's requests (and what each instance still
    // holds of its leases): nothing lost, nothing counted twice.
    const minute = Math.floor(Date.now() / 60_000);
    const fields = (await redis.command(['HVALS', `weir:{rpm:key:${k.token}}:${minute}`])) as string[];
    const counted = fields.reduce((a, v) => a + Number(v), 0);
    assert.equal(fields.length, 3, 'each instance put back its own count');
    assert.ok(counted >= before + 30 && counted <= 60, `Redis holds ${counted}`);
    // The tokens each instance counted alone are claimed too, each once.
    await waitFor('the tokens counted alone to be claimed', async () => ((await redis.command(['HVALS', `weir:{tpm:key:${tpmKey.token}}:${minute}`])) as string[]).length === 3, 15_000);
    const tokens = ((await redis.command(['HVALS', `weir:{tpm:key:${tpmKey.token}}:${minute}`])) as string[]).map(Number);
    assert.ok(tokens.every((v) => v >= 200) && tokens.reduce((a, b) => a + b, 0) <= 3000, `Redis holds ${tokens}`);
    // And the limit holds again across instances: at most the 24 left pass, then refusals. Grants
    // an instance holds and does not use are not the others' (the documented cost of leasing: at
    // most a quarter of the limit across instances), so a burst spread over them may be refused
    // up to that much early.
    const rest = tally(await burst(40, (i) => chat(spread(i, weirs).url, k.key)));
    const passed = rest[200] ?? 0;
    const left = 60 - before - 30;
    assert.ok(passed <= left && passed >= left - 60 / 4, `${passed} of the ${left} left passed`);
    assert.equal(passed + (rest[429] ?? 0), 40, JSON.stringify(rest));
  });
});
