// The shared health table's slots over a long life of model changes: a gateway whose table holds
// a few deployments (WEIR_HEALTH_SLOTS) goes through many more distinct deployments than that,
// each change works, a reused slot shows nothing of the deployment that had it, and a slot a
// request in flight still uses is not given away until the request ends.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { test } from 'node:test';
import { auth, call, chatBody, DEPLOY_KEY, MASTER_KEY, startMock, startWeir, waitFor } from './lifecycle-helpers';
import { parsePrometheusText, samplesOf } from '../support/prom-text';
import type { GatewayProcess } from '../support/gateway-process';

/** A config of groups of deployments on the mock, each with its own id: `{group: [id, …]}`. */
function config(base: string, groups: Record<string, string[]>): string {
  const list = Object.entries(groups)
    .flatMap(([name, ids]) => ids.map((id) => `  - model_name: ${name}\n    litellm_params:\n      model: openai/${id}-upstream\n      api_base: ${base}\n      api_key: ${DEPLOY_KEY}\n      cooldown_time: 600\n    model_info:\n      id: ${id}\n`))
    .join('');
  return `model_list:\n${list}general_settings:\n  master_key: ${MASTER_KEY}\nrouter_settings:\n  num_retries: 1\n`;
}

const reload = (gw: GatewayProcess) => call(gw.url, '/config/reload', { method: 'POST', headers: auth() });
const chat = (gw: GatewayProcess, model: string, extra: Record<string, unknown> = {}) =>
  call(gw.url, '/v1/chat/completions', { headers: auth(), body: chatBody(model, extra) });

/** The deployment gauges of /metrics for one deployment id. */
async function deploymentGauges(gw: GatewayProcess, id: string): Promise<{ state: number; failures: number; inFlight: number; cooledDown: number }> {
  const r = await call(gw.url, '/metrics');
  assert.equal(r.status, 200, r.text);
  const m = parsePrometheusText(r.text);
  const one = (family: string) => {
    const s = samplesOf(m, family, { model_id: id });
    assert.equal(s.length, 1, `${family} for ${id}`);
    return s[0]!.value;
  };
  const cooled = samplesOf(m, 'litellm_deployment_cooled_down_total', { model_id: id }).reduce((n, s) => n + s.value, 0);
  return { state: one('litellm_deployment_state'), failures: one('weir_deployment_failures_this_minute'), inFlight: one('weir_deployment_in_flight'), cooledDown: cooled };
}

test('more distinct deployments than the health table holds, added and removed through reloads: every change works', async (t) => {
  const mock = await startMock(t);
  const base = mock.url + '/v1';
  const gw = await startWeir(t, { config: config(base, { m: ['d0'] }), workers: 2, env: { WEIR_HEALTH_SLOTS: '3' } });
  for (let i = 1; i <= 10; i++) {
    fs.writeFileSync(gw.configPath, config(base, { m: [`d${i}`] }));
    // The previous change's slots come back once both workers said they serve the snapshot after
    // it; the answer of a reload reaches the client before the other worker may have said so.
    const ok = await waitFor(`reload to d${i}`, async () => ((await reload(gw)).status === 200 ? true : null), 5_000);
    assert.ok(ok);
    const r = await chat(gw, 'm');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['x-litellm-model-id'], `d${i}`);
  }
  assert.match(gw.output(), /config reloaded \(POST \/config\/reload\): version \d+, models: m → openai\/d10-upstream/);
});

test('a reused slot starts clean: the new deployment has none of the old one\'s cooldown, failures or counters', async (t) => {
  const mock = await startMock(t);
  const base = mock.url + '/v1';
  // One worker: a reload's control call comes through the worker that acknowledged the snapshot
  // before it, so no change has to be retried.
  const gw = await startWeir(t, { config: config(base, { pair: ['old-a', 'old-b'] }), workers: 1, env: { WEIR_HEALTH_SLOTS: '3' } });
  // Both deployments answer 429 once: each is cooled down for 600 s.
  mock.enqueue({ status: 429 }, { status: 429 });
  const refused = await chat(gw, 'pair');
  assert.notEqual(refused.status, 200, refused.text);
  for (const id of ['old-a', 'old-b']) {
    const g = await deploymentGauges(gw, id);
    assert.equal(g.state, 2, `${id} is cooling down`);
    assert.equal(g.cooledDown, 1, `${id} was cooled down once`);
  }
  // The old pair leaves (one new deployment takes the last unused slot), then a second new one
  // comes: it can only take a slot of the old pair.
  fs.writeFileSync(gw.configPath, config(base, { pair: ['new-a'] }));
  assert.equal((await reload(gw)).status, 200);
  fs.writeFileSync(gw.configPath, config(base, { pair: ['new-a', 'new-b'] }));
  const r = await reload(gw);
  assert.equal(r.status, 200, r.text);
  for (const id of ['new-a', 'new-b']) {
    assert.deepEqual(await deploymentGauges(gw, id), { state: 0, failures: 0, inFlight: 0, cooledDown: 0 }, id);
  }
  // Both serve: neither is skipped for a cooldown it did not earn.
  const seen = new Set<string>();
  for (let i = 0; i < 20 && seen.size < 2; i++) {
    const ok = await chat(gw, 'pair');
    assert.equal(ok.status, 200, ok.text);
    seen.add(String(ok.headers['x-litellm-model-id']));
  }
  assert.deepEqual([...seen].sort(), ['new-a', 'new-b']);
});

test('a slot a request in flight on the old snapshot holds is not reused while it is held', async (t) => {
  const mock = await startMock(t);
  const base = mock.url + '/v1';
  const gw = await startWeir(t, { config: config(base, { m: ['held'] }), workers: 1, env: { WEIR_HEALTH_SLOTS: '2' } });
  // A request that the upstream never answers: its attempt stays open at `held`.
  const body = JSON.stringify(chatBody('m', { mock_behavior: { hang: true } }));
  const pending = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
  pending.on('error', () => {});
  pending.end(body);
  await waitFor('the request at the upstream', () => mock.activeRequests() >= 1, 5_000);

  fs.writeFileSync(gw.configPath, config(base, { m: ['next'] }));
  assert.equal((await reload(gw)).status, 200);
  assert.equal((await deploymentGauges(gw, 'next')).inFlight, 0);
  // `held` left the model list, but its request is still in flight: its slot is not free, and the
  // table (2 slots) has no other.
  fs.writeFileSync(gw.configPath, config(base, { m: ['next', 'third'] }));
  const refused = await reload(gw);
  assert.equal(refused.status, 400, refused.text);
  assert.match(refused.json.error.message, /more than 2 deployments at once/);

  // The client gives up: the attempt closes, and the slot goes to the next deployment that needs one.
  pending.destroy();
  await waitFor('the upstream request to end', () => mock.activeRequests() === 0, 5_000);
  await waitFor('the reload to take the freed slot', async () => ((await reload(gw)).status === 200 ? true : null), 5_000);
  assert.deepEqual(await deploymentGauges(gw, 'third'), { state: 0, failures: 0, inFlight: 0, cooledDown: 0 });
  const r = await chat(gw, 'm');
  assert.equal(r.status, 200, r.text);
});
