// What a call reserves on its budgets before it is forwarded, end to end: an estimate small
// budgets can live with (the body's size at 2 bytes per token, max_tokens for the output), the
// dearest price the call may reach through fallbacks, never 0 for an unknown price, answers
// without usage estimated rather than free, and the one overshoot possible — a prompt denser than
// the estimate — bounded by that call's estimation error.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Weir, UPSTREAM_KEY, adminOk, chat, governanceConfig, startMock, startWeirOn, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;

/** USD per token of `priced`: input and output both cost, so both halves of the estimate matter. */
const IN = 0.000001;
const OUT = 0.000002;

function config(mockUrl: string, db: string): string {
  const entry = (name: string, model: string, prices: string, extra = '') => `  - model_name: ${name}
    litellm_params:
      model: openai/${model}
      api_base: ${mockUrl}/v1
      api_key: ${UPSTREAM_KEY}
${prices}${extra}
`;
  const priced = (i: number, o: number) => `      input_cost_per_token: ${i}\n      output_cost_per_token: ${o}\n`;
  const extra = [
    entry('priced', 'weir-priced-model', priced(IN, OUT)),
    entry('cheap', 'weir-cheap-model', priced(0, 0.000001)),
    entry('dear', 'weir-dear-model', priced(0, 0.001)),
    entry('unpriced', 'weir-model-nobody-prices', ''),
  ].join('');
  return governanceConfig(mockUrl, db)
    .replace('model_list:\n', `model_list:\n${extra}`)
    .replace('router_settings:\n', 'router_settings:\n  fallbacks: [{"cheap": ["dear"]}]\n');
}

before(async () => {
  const db = await ledgerDatabase('gov_reservations');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(config(mock.url, db)));
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close());
});

const cost = (r: { headers: Record<string, unknown> }): number => Number(r.headers['x-litellm-response-cost']);

test('a small budget is usable: a 10 KB prompt reserves its bytes at 2 per token, not 1, and max_tokens for the output', async () => {
  // Old estimate: 10,240 tokens × 1e-6 + 100 × 2e-6 = 0.01044 > 0.01: refused on the first call.
  // Now: 5,120 × 1e-6 + 100 × 2e-6 = 0.00532.
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 0.01 });
  const prompt = 'x'.repeat(10 * 1024 - 80);
  const body = { messages: [{ role: 'user', content: prompt }], max_tokens: 100 };
  const first = await chat(weir.url, k.key, 'priced', body);
  assert.equal(first.status, 200, first.text);
  // The mock bills ~4 bytes per token: the call cost about half of what it reserved.
  let spent = cost(first);
  assert.ok(spent > 0 && spent < 0.004, `spent ${spent}`);
  // Calls go on being admitted while spend + the reservation fits, then are refused naming both.
  let refused;
  for (let i = 0; i < 10 && !refused; i++) {
    const r = await chat(weir.url, k.key, 'priced', body);
    if (r.status === 429) refused = r;
    else {
      assert.equal(r.status, 200, r.text);
      spent += cost(r);
    }
  }
  assert.ok(refused, 'the budget ran out within 10 calls');
  assert.match(refused.json.error.message, /Max budget: 0\.01\. This call reserves 0\.0053\d* USD until it settles: 51\d\d input tokens estimated from 102\d\d bytes at 2 bytes per token, and 100 output tokens from max_tokens\.$/);
  assert.ok(spent <= 0.01, `the budget was never passed (spent ${spent})`);
});

test('a call reserves for the dearest group its fallbacks may reach, configured or its own', async () => {
  // cheap alone reserves ~0.000004 USD here; dear (its configured fallback) 4 × 0.001 = 0.004.
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 0.003 });
  const r = await chat(weir.url, k.key, 'cheap');
  assert.equal(r.status, 429, r.text);
  assert.match(r.json.error.message, /This call reserves 0\.004\d* USD/);
  // Without the chain (disable_fallbacks) the call reserves for cheap only and is served.
  assert.equal((await chat(weir.url, k.key, 'cheap', { disable_fallbacks: true })).status, 200);
  // A client's own fallbacks count the same way.
  const own = await chat(weir.url, k.key, 'gpt', { fallbacks: ['dear'] });
  assert.equal(own.status, 429, own.text);
  assert.match(own.json.error.message, /This call reserves 0\.004\d* USD/);
});

test('a deployment nobody prices reserves at the dearest price of the config, not 0', async () => {
  // The dearest priced deployment is `dear` (0.001 per output token): 4 output tokens → 0.004.
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 0.001 });
  const r = await chat(weir.url, k.key, 'unpriced');
  assert.equal(r.status, 429, r.text);
  assert.match(r.json.error.message, /This call reserves 0\.004\d* USD/);
});

test('an answer without usage is charged an estimate from the sizes, not 0', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const answer = { id: 'chatcmpl-no-usage', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'y'.repeat(4000) }, finish_reason: 'stop' }] };
  const r = await chat(weir.url, k.key, 'priced', { mock_behavior: { json: answer } });
  assert.equal(r.status, 200, r.text);
  // ≥ 1,000 output tokens (4,000 bytes of answer at 4 per token) × 2e-6.
  assert.ok(cost(r) >= 0.002, `cost ${cost(r)}`);
});

test('the one overshoot possible is a prompt denser than the estimate, bounded by that call', async () => {
  // Reserves 4 output tokens × 0.001 = 0.004 (inputs are free on gpt); the budget has 0.005.
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 0.005 });
  const dense = { id: 'chatcmpl-dense', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'length' }], usage: { prompt_tokens: 10, completion_tokens: 6, total_tokens: 16 } };
  // An upstream that reports more output than max_tokens allowed (the estimate's error here):
  // the call costs 6 × 0.001 = 0.006, 0.002 more than it reserved.
  const r = await chat(weir.url, k.key, 'gpt', { mock_behavior: { json: dense } });
  assert.equal(r.status, 200, r.text);
  assert.ok(Math.abs(cost(r) - 0.006) < 1e-9, `cost ${cost(r)}`);
  // Spend passed the budget by 0.001: no more than the call's cost − its reservation (0.002).
  const next = await chat(weir.url, k.key, 'gpt');
  assert.equal(next.status, 429, 'nothing more is admitted');
  assert.match(next.json.error.message, /Current cost: 0\.006, Max budget: 0\.005\./);
});

test('n and best_of multiply the output a call reserves: a $1 key cannot spend $10 in one call', async () => {
  // gpt: 0.001 USD per output token. n: 50 × max_tokens: 100 = 5,000 tokens = 5 USD reserved.
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 1 });
  const seen = mock.requests.length;
  const many = await chat(weir.url, k.key, 'gpt', { n: 50, max_tokens: 100 });
  assert.equal(many.status, 429, many.text);
  assert.match(many.json.error.message, /This call reserves 5 USD until it settles: \d+ input tokens .* and 5000 output tokens \(100 × 50 completions\) from max_tokens\.$/);
  const best = await chat(weir.url, k.key, 'gpt', { best_of: 20, max_tokens: 100 });
  assert.equal(best.status, 429, best.text);
  assert.equal(mock.requests.length, seen, 'nothing was sent');
  // One completion of the same size fits.
  assert.equal((await chat(weir.url, k.key, 'gpt', { n: 1, max_tokens: 100 })).status, 200);
});
