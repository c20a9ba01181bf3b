// Deployment picking and retries across deployments of one model group: simple-shuffle weights,
// `order` tiers, retries that move to another deployment, cooldowns shared by all workers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort as deadPort } from '../../src/net/free-port';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

const AUTH = { authorization: 'Bearer sk-master-routing' };

describe('routing and retries', () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let gw: GatewayProcess;

  before(async () => {
    a = await startMockUpstream();
    b = await startMockUpstream();
    const dead = await deadPort();
    gw = await startGateway({
      config: `
model_list:
  - model_name: weighted
    litellm_params: { model: openai/w, api_base: ${a.url}/v1, api_key: k, weight: 9 }
    model_info: { id: heavy }
  - model_name: weighted
    litellm_params: { model: openai/w, api_base: ${b.url}/v1, api_key: k, weight: 1 }
    model_info: { id: light }
  - model_name: tiered
    litellm_params: { model: openai/t, api_base: ${a.url}/v1, api_key: k, order: 1 }
    model_info: { id: first-tier }
  - model_name: tiered
    litellm_params: { model: openai/t, api_base: ${b.url}/v1, api_key: k, order: 2 }
    model_info: { id: second-tier }
  - model_name: half-dead
    litellm_params: { model: openai/h, api_base: http://127.0.0.1:${dead}/v1, api_key: k }
    model_info: { id: dead-one }
  - model_name: half-dead
    litellm_params: { model: openai/h, api_base: ${b.url}/v1, api_key: k }
    model_info: { id: live-one }
  - model_name: dead-first
    litellm_params: { model: openai/d, api_base: http://127.0.0.1:${dead}/v1, api_key: k, order: 1 }
    model_info: { id: dead-tier }
  - model_name: dead-first
    litellm_params: { model: openai/d, api_base: ${b.url}/v1, api_key: k, order: 2 }
    model_info: { id: backup-tier }
  - model_name: pair
    litellm_params: { model: openai/p, api_base: ${a.url}/v1, api_key: k }
    model_info: { id: pair-a }
  - model_name: pair
    litellm_params: { model: openai/p, api_base: ${b.url}/v1, api_key: k }
    model_info: { id: pair-b }
  - model_name: single
    litellm_params: { model: openai/s, api_base: ${a.url}/v1, api_key: k }
general_settings: { master_key: sk-master-routing }
router_settings: { num_retries: 2, cooldown_time: 30, allowed_fails: 100 }
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await a?.close();
    await b?.close();
  });

  const chat = (model: string, extra: object = {}) => call(gw.url, '/v1/chat/completions', { headers: AUTH, body: { model, messages: [], ...extra } });

  it('simple-shuffle follows the weights', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const r = await chat('weighted');
      assert.equal(r.status, 200);
      counts[r.headers['x-litellm-model-id']!] = (counts[r.headers['x-litellm-model-id']!] ?? 0) + 1;
    }
    // 9:1 → about 270:30; a wide band keeps this deterministic enough.
    assert.ok(counts.heavy! > 220 && counts.light! > 5, JSON.stringify(counts));
  });

  it('uses the lowest order tier while it works', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await chat('tiered')).headers['x-litellm-model-id'], 'first-tier');
  });

  it('falls to the next tier when the first fails', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await chat('dead-first');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-litellm-model-id'], 'backup-tier');
    }
  });

  it('a retry moves to another deployment when one is down, with no wait', async () => {
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      const r = await chat('half-dead');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-litellm-model-id'], 'live-one');
      assert.ok(Date.now() - t0 < 400, 'no backoff when another deployment can take the retry');
    }
  });

  it('a 500 from one deployment is retried on the other', async () => {
    a.reset();
    b.reset();
    a.setDefault({ status: 500, errorMessage: 'boom' });
    try {
      for (let i = 0; i < 10; i++) {
        const r = await chat('pair');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers['x-litellm-model-id'], 'pair-b');
      }
      assert.equal(b.requests.length, 10);
      assert.ok(a.requests.length <= 10, 'at most one failed try per request');
    } finally {
      a.setDefault({});
    }
  });

  it('an upstream 429 cools the deployment down for every worker', async () => {
    a.reset();
    b.reset();
    a.enqueue({ status: 429, errorMessage: 'slow down' });
    // Send until the 429 was served (the first pick is random), then nothing reaches `a` again.
    for (let i = 0; i < 50 && a.requests.length === 0; i++) assert.equal((await chat('pair')).status, 200);
    assert.equal(a.requests.length, 1);
    const before = a.requests.length;
    // Fresh connections land on both workers (SO_REUSEPORT spreads them).
    for (let i = 0; i < 40; i++) {
      const r = await call(gw.url, '/v1/chat/completions', { headers: { ...AUTH, connection: 'close' }, body: { model: 'pair', messages: [] } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-litellm-model-id'], 'pair-b');
    }
    assert.equal(a.requests.length, before, 'cooled-down deployment got no traffic');
  });

  it('a single deployment retries after backoff, honouring retry-after', async () => {
    a.reset();
    a.enqueue({ status: 429, headers: { 'retry-after': '1' } });
    const t0 = Date.now();
    const r = await chat('single');
    assert.equal(r.status, 200, r.text);
    assert.ok(Date.now() - t0 >= 950, `waited ${Date.now() - t0} ms`);
    assert.equal(r.headers['x-litellm-attempted-retries'], '1');
    assert.equal(a.requests.length, 2);
  });
});
