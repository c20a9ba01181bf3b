// Routing strategies other than simple-shuffle, and fallbacks between model groups.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort as deadPort } from '../../src/net/free-port';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

const pair = (name: string, a: string, b: string, extraA = '', extraB = '') => `
  - model_name: ${name}
    litellm_params: { model: openai/x, api_base: ${a}/v1, api_key: k${extraA} }
    model_info: { id: ${name}-a }
  - model_name: ${name}
    litellm_params: { model: openai/x, api_base: ${b}/v1, api_key: k${extraB} }
    model_info: { id: ${name}-b }`;

async function gateway(strategy: string, models: string, extra = ''): Promise<GatewayProcess> {
  return startGateway({ config: `model_list:${models}\nrouter_settings: { routing_strategy: ${strategy}, num_retries: 1${extra} }\n` });
}

const chat = (gw: GatewayProcess, model: string, extra: object = {}) => call(gw.url, '/v1/chat/completions', { body: { model, messages: [], ...extra } });

describe('routing strategies', () => {
  let a: MockUpstream;
  let b: MockUpstream;
  before(async () => {
    a = await startMockUpstream();
    b = await startMockUpstream();
  });
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it('least-busy sends new requests to the deployment with fewer in flight', async () => {
    const gw = await gateway('least-busy', pair('m', a.url, b.url));
    try {
      a.reset();
      b.reset();
      const all = await Promise.all(Array.from({ length: 6 }, () => chat(gw, 'm', { mock_behavior: { delayMs: 400 } })));
      for (const r of all) assert.equal(r.status, 200);
      assert.ok(a.requests.length >= 2 && b.requests.length >= 2, `a=${a.requests.length} b=${b.requests.length}`);
    } finally {
      await gw.stop();
    }
  });

  it('latency-based-routing prefers the deployment that answers first', async () => {
    a.reset();
    b.reset();
    a.setDefault({ delayMs: 80 });
    const gw = await gateway('latency-based-routing', pair('m', a.url, b.url));
    try {
      // Unmeasured deployments are tried first, so each is measured once.
      for (let i = 0; i < 4; i++) assert.equal((await chat(gw, 'm')).status, 200);
      b.reset();
      for (let i = 0; i < 10; i++) await chat(gw, 'm');
      assert.ok(b.requests.length >= 9, `fast deployment got ${b.requests.length} of 10`);
    } finally {
      a.setDefault({});
      await gw.stop();
    }
  });

  it('cost-based-routing picks the cheaper deployment', async () => {
    const gw = await gateway('cost-based-routing', pair('m', a.url, b.url, ', input_cost_per_token: 0.00001, output_cost_per_token: 0.00003', ', input_cost_per_token: 0.000001, output_cost_per_token: 0.000002'));
    try {
      for (let i = 0; i < 8; i++) assert.equal((await chat(gw, 'm')).headers['x-litellm-model-id'], 'm-b');
    } finally {
      await gw.stop();
    }
  });

  it('usage-based-routing spreads by rpm headroom', async () => {
    const gw = await gateway('usage-based-routing-v2', pair('m', a.url, b.url, ', rpm: 4', ', rpm: 400'));
    try {
      const ids: Record<string, number> = {};
      for (let i = 0; i < 40; i++) {
        const id = (await chat(gw, 'm')).headers['x-litellm-model-id']!;
        ids[id] = (ids[id] ?? 0) + 1;
      }
      assert.ok((ids['m-a'] ?? 0) <= 4, JSON.stringify(ids));
    } finally {
      await gw.stop();
    }
  });
});

describe('fallbacks', () => {
  let up: MockUpstream;
  let gw: GatewayProcess;
  before(async () => {
    up = await startMockUpstream();
    const dead = await deadPort();
    gw = await startGateway({
      config: `
model_list:
  - model_name: primary
    litellm_params: { model: openai/p, api_base: http://127.0.0.1:${dead}/v1, api_key: k }
  - model_name: lonely
    litellm_params: { model: openai/l, api_base: http://127.0.0.1:${dead}/v1, api_key: k }
  - model_name: picky
    litellm_params: { model: openai/q, api_base: ${up.url}/v1, api_key: k }
  - model_name: backup
    litellm_params: { model: openai/b, api_base: ${up.url}/v1, api_key: k }
    model_info: { id: backup-dep }
router_settings:
  num_retries: 0
  fallbacks: [{ primary: [missing-group, backup] }, { picky: [backup] }]
  default_fallbacks: [backup]
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await up?.close();
  });

  it('a group whose deployments fail falls back to the next group', async () => {
    const r = await chat(gw, 'primary');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-id'], 'backup-dep');
    assert.equal(r.headers['x-litellm-attempted-fallbacks'], '2', 'the unknown group counts as tried');
    assert.equal(up.requests.at(-1)!.json.model, 'b');
  });

  it('default_fallbacks serve groups without their own entry', async () => {
    const r = await chat(gw, 'lonely');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-id'], 'backup-dep');
  });

  it('a client error (400) from the upstream does not fall back', async () => {
    up.reset();
    const r = await chat(gw, 'picky', { mock_behavior: { status: 400, errorMessage: 'bad request' } });
    assert.equal(r.status, 400);
    assert.equal(up.requests.length, 1);
    assert.equal(r.headers['x-litellm-attempted-fallbacks'], '0');
  });

  it('a 5xx falls back', async () => {
    up.reset();
    up.enqueue({ status: 500 });
    const r = await chat(gw, 'picky');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-id'], 'backup-dep');
  });
});

describe('model_group_alias', () => {
  it('routes an alias to its group; hidden aliases stay out of /v1/models', async () => {
    const up = await startMockUpstream();
    const gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: real
    litellm_params: { model: openai/r, api_base: ${up.url}/v1, api_key: k }
router_settings:
  model_group_alias: { nick: real, secret-nick: { model: real, hidden: true } }
`,
    });
    try {
      for (const m of ['nick', 'secret-nick']) {
        const r = await chat(gw, m);
        assert.equal(r.status, 200, r.text);
        assert.equal(up.requests.at(-1)!.json.model, 'r');
      }
      const list = await call(gw.url, '/v1/models');
      assert.deepEqual(list.json.data.map((d: { id: string }) => d.id).sort(), ['nick', 'real']);
    } finally {
      await gw.stop();
      await up.close();
    }
  });
});

describe('retry_policy and context-window fallbacks', () => {
  it('retries per error class and sends context-window errors to their fallback at once', async () => {
    const up = await startMockUpstream();
    const gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: small
    litellm_params: { model: openai/small, api_base: ${up.url}/v1, api_key: k }
  - model_name: big
    litellm_params: { model: openai/big, api_base: ${up.url}/v1, api_key: k }
    model_info: { id: big-dep }
router_settings:
  num_retries: 3
  retry_policy: { RateLimitErrorRetries: 0, BadRequestErrorRetries: 1 }
  context_window_fallbacks: [{ small: [big] }]
`,
    });
    try {
      up.reset();
      up.enqueue({ status: 429 });
      const limited = await chat(gw, 'small');
      assert.equal(limited.status, 429, 'RateLimitErrorRetries: 0 → no retry');
      assert.equal(up.requests.length, 1);

      up.reset();
      up.enqueue({ status: 400, errorMessage: 'bad thing' }, { status: 400, errorMessage: 'bad thing' });
      const bad = await chat(gw, 'small');
      assert.equal(bad.status, 400);
      assert.equal(up.requests.length, 2, 'BadRequestErrorRetries: 1 → one retry');

      up.reset();
      up.enqueue({ status: 400, errorMessage: "This model's maximum context length is 8192 tokens" });
      const long = await chat(gw, 'small');
      assert.equal(long.status, 200, long.text);
      assert.equal(long.headers['x-litellm-model-id'], 'big-dep');
      assert.equal(up.requests.length, 2, 'no retry on the same group, straight to the fallback');
    } finally {
      await gw.stop();
      await up.close();
    }
  });
});
