// Failure injection on a two-deployment group and on fallback chains: timeouts and dropped
// connections are retried on the other deployment, allowed_fails per minute and cooldown_time
// cool a deployment down and bring it back, max_fallbacks bounds the chain, and a stream that has
// already sent bytes to the client is never retried behind its back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort as deadPort } from '../../src/net/free-port';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { call, parseSse } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resilience under injected failures', () => {
  let a: MockUpstream;
  let b: MockUpstream;
  let gw: GatewayProcess;

  before(async () => {
    a = await startMockUpstream();
    b = await startMockUpstream();
    const dead = await deadPort();
    const deadGroup = (name: string) => `
  - model_name: ${name}
    litellm_params: { model: openai/${name}, api_base: http://127.0.0.1:${dead}/v1, api_key: k }`;
    gw = await startGateway({
      workers: 1,
      config: `
model_list:
  - model_name: pair
    litellm_params: { model: openai/p, api_base: ${a.url}/v1, api_key: k, timeout: 0.5 }
    model_info: { id: pair-a }
  - model_name: pair
    litellm_params: { model: openai/p, api_base: ${b.url}/v1, api_key: k, timeout: 0.5 }
    model_info: { id: pair-b }
  - model_name: flaky
    litellm_params: { model: openai/f, api_base: ${a.url}/v1, api_key: k }
    model_info: { id: flaky-a }
  - model_name: flaky
    litellm_params: { model: openai/f, api_base: ${b.url}/v1, api_key: k }
    model_info: { id: flaky-b }
  - model_name: counted
    litellm_params: { model: openai/c, api_base: ${a.url}/v1, api_key: k }
    model_info: { id: counted-a }
  - model_name: counted
    litellm_params: { model: openai/c, api_base: ${b.url}/v1, api_key: k }
    model_info: { id: counted-b }
${deadGroup('chain-start')}${deadGroup('hop-1')}${deadGroup('hop-2')}
  - model_name: live-end
    litellm_params: { model: openai/end, api_base: ${b.url}/v1, api_key: k }
router_settings:
  num_retries: 1
  allowed_fails: 2
  cooldown_time: 1
  max_fallbacks: 2
  fallbacks: [{ chain-start: [hop-1, hop-2, live-end] }, { hop-1: [live-end] }]
`,
    });
  });
  after(async () => {
    await gw?.stop();
    await a?.close();
    await b?.close();
  });

  const chat = (model: string, extra: object = {}) => call(gw.url, '/v1/chat/completions', { body: { model, messages: [{ role: 'user', content: 'hi' }], ...extra } });

  /** Sends until deployment `a` has served `n` requests (the first pick is random). */
  async function untilA(model: string, n: number): Promise<void> {
    for (let i = 0; i < 60 && a.requests.length < n; i++) await chat(model);
    assert.equal(a.requests.length, n);
  }

  /**
   * With deployment `a` of the group failing as `fault` says, every call is served by `b` (six,
   * or more until one met `a` first: the first pick is random); returns how many were retried.
   */
  async function allServedByB(group: string, fault: Parameters<MockUpstream['setDefault']>[0]): Promise<number> {
    a.reset();
    b.reset();
    a.setDefault(fault);
    try {
      let retried = 0;
      for (let i = 0; i < 40 && (i < 6 || a.requests.length === 0); i++) {
        const r = await chat(group);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers['x-litellm-model-id'], `${group}-b`);
        if (r.headers['x-litellm-attempted-retries'] === '1') retried++;
      }
      assert.equal(retried, a.requests.length, 'every call that met the failing deployment was retried');
      return retried;
    } finally {
      a.setDefault({});
      await gwQuiet();
    }
  }

  it('a timed-out attempt is retried on the other deployment at once', async () => {
    const t0 = Date.now();
    const retried = await allServedByB('pair', { hang: true });
    assert.ok(retried >= 1);
    assert.ok(Date.now() - t0 < retried * 500 + 1100 + 3000, 'each retry came right after the 0.5 s timeout, not after a backoff');
  });

  it('a dropped connection (TCP reset, no answer) is retried on the other deployment', async () => {
    assert.ok((await allServedByB('flaky', { reset: true })) >= 1);
  });

  it('more than allowed_fails failures in a minute cool the deployment down for cooldown_time, then it serves again', async () => {
    a.reset();
    b.reset();
    a.setDefault({ status: 500, errorMessage: 'boom' });
    // allowed_fails: 2 → the third failure within the minute cools `a` down. A group of its own,
    // so failures counted by other tests in this minute do not count here.
    await untilA('counted', 3);
    a.setDefault({});
    const before = a.requests.length;
    for (let i = 0; i < 20; i++) assert.equal((await chat('counted')).headers['x-litellm-model-id'], 'counted-b');
    assert.equal(a.requests.length, before, 'no traffic during the cooldown');
    await sleep(1200); // cooldown_time: 1
    for (let i = 0; i < 40 && a.requests.length === before; i++) assert.equal((await chat('counted')).status, 200);
    assert.ok(a.requests.length > before, 'the deployment serves again once its cooldown is over');
  });

  it('max_fallbacks bounds the chain: the third group is never tried', async () => {
    b.reset();
    const r = await chat('chain-start');
    assert.equal(r.status, 502, r.text);
    assert.equal(r.headers['x-litellm-attempted-fallbacks'], '2');
    assert.equal(b.requests.length, 0, 'live-end is third in the chain, past max_fallbacks: 2');
    // A chain within the bound reaches its live group.
    const ok = await chat('hop-1');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers['x-litellm-attempted-fallbacks'], '1');
  });

  it('a stream that already sent bytes to the client is not retried when the upstream dies', async () => {
    await gwQuiet();
    a.reset();
    b.reset();
    a.setDefault({ deltas: 10, dropAfterDeltas: 3 });
    b.setDefault({ deltas: 10, dropAfterDeltas: 3 });
    try {
      const r = await chat('pair', { stream: true });
      assert.equal(r.status, 200);
      const events = parseSse(r.text);
      assert.equal(events.filter((e) => e.data.includes('"content":"tok')).length, 3, 'the three deltas the client already had, once each');
      assert.ok(JSON.parse(events.at(-1)!.data).error, 'the stream ends with an error event');
      assert.equal(a.requests.length + b.requests.length, 1, 'no second attempt behind the client');
    } finally {
      a.setDefault({});
      b.setDefault({});
    }
  });

  /** Lets cooldowns left by a test expire before the next one. */
  async function gwQuiet(): Promise<void> {
    await sleep(1100);
  }
});
