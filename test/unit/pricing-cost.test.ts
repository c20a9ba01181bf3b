// resolvePrice / costNanos / worstCaseNanos: integer nano-dollar costs with OpenAI and Anthropic
// usage semantics, cache reads and writes, long-context tiers, LiteLLM's lookup order
// (base_model → litellm_params.model with and without prefix → upstream model), per-deployment
// overrides, unknown models, and half-up rounding computed exactly (no float drift).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicUsage, openaiUsage, type TokenUsage } from '../../src/accounting/usage-types';
import { candidateKeys, compilePrice, costNanos, nanosToUsd, priceOverrides, resolvePrice, UNKNOWN_PRICE, worstCaseNanos } from '../../src/pricing/cost';
import { builtinPriceTable } from '../../src/pricing/price-table';

const TABLE = builtinPriceTable();
const price = (model: string) => resolvePrice(TABLE, { model });

test('compiled rates are nano-dollars per token, exact', () => {
  const p = price('gpt-4o');
  assert.equal(p.known, true);
  assert.equal(p.key, 'gpt-4o');
  assert.equal(p.provider, 'openai');
  assert.equal(p.input, 2500);
  assert.equal(p.output, 10_000);
  assert.equal(p.cacheRead, 1250);
  assert.equal(p.maxInputTokens, 128_000);
  assert.equal(p.maxOutputTokens, 16_384);
  assert.equal(price('gpt-5-nano').cacheRead, 5); // 5e-9 USD
  assert.equal(price('gpt-4.1-nano').cacheRead, 25);
  const s = price('claude-sonnet-4-5-20250929');
  assert.deepEqual([s.input, s.output, s.cacheRead, s.cacheCreation, s.cacheCreation1h], [3000, 15_000, 300, 3750, 6000]);
  assert.deepEqual(s.tiers.map((t) => [t.aboveTokens, t.input, t.output, t.cacheRead, t.cacheCreation, t.cacheCreation1h]), [[200_000, 6000, 22_500, 600, 7500, 12_000]]);
});

test('OpenAI semantics: prompt_tokens includes the cached part, billed at the cache-read rate', () => {
  // gpt-4o: 425 uncached × 2500 + 1920 cached × 1250 + 187 out × 10000
  const u = openaiUsage(2345, 187, 1920);
  assert.equal(costNanos(price('gpt-4o'), u), 425 * 2500 + 1920 * 1250 + 187 * 10_000);
  assert.equal(costNanos(price('gpt-4o'), u), 5_332_500);
  assert.equal(nanosToUsd(5_332_500), 0.0053325);
  // gpt-4o-mini, no cache
  assert.equal(costNanos(price('gpt-4o-mini'), openaiUsage(1000, 500)), 1000 * 150 + 500 * 600);
  // a model with no cache price bills cached tokens at the input rate
  assert.equal(costNanos(price('gpt-4o-2024-05-13'), openaiUsage(1000, 0, 400)), 1000 * 5000);
});

test('Anthropic semantics: input, cache reads and cache writes are separate counts', () => {
  // claude-sonnet-4-5: 12 × 3000 + 18000 × 300 + 2048 × 3750 + 245 × 15000
  const u = anthropicUsage(12, 245, 18_000, 2048);
  assert.equal(costNanos(price('claude-sonnet-4-5-20250929'), u), 36_000 + 5_400_000 + 7_680_000 + 3_675_000);
  // the same numbers read with the other semantics give a different (wrong) bill: the flag matters
  const misread: TokenUsage = { ...u, promptIncludesCache: true };
  assert.notEqual(costNanos(price('claude-sonnet-4-5-20250929'), misread), costNanos(price('claude-sonnet-4-5-20250929'), u));
  // OpenAI-format usage from a server that also reports cache writes: both inside prompt_tokens
  const compat = openaiUsage(12 + 18_000 + 2048, 245, 18_000, 2048);
  assert.equal(costNanos(price('claude-sonnet-4-5-20250929'), compat), costNanos(price('claude-sonnet-4-5-20250929'), u));
});

test('one-hour cache writes at their own rate', () => {
  // claude-opus-4-5: 5-min writes 6250, 1-hour writes 10000
  const u = anthropicUsage(10, 0, 0, 1000, 400);
  assert.equal(costNanos(price('claude-opus-4-5'), u), 10 * 5000 + 600 * 6250 + 400 * 10_000);
  // more 1h tokens than writes in total cannot be billed twice
  const odd: TokenUsage = { ...anthropicUsage(0, 0, 0, 100), cache_creation_1h_input_tokens: 999 };
  assert.equal(costNanos(price('claude-opus-4-5'), odd), 100 * 10_000);
});

test('long-context tier: above 200k total input tokens every rate switches', () => {
  const p = price('claude-sonnet-4-5');
  // exactly 200k (input + cache reads): base rates
  assert.equal(costNanos(p, anthropicUsage(150_000, 1000, 50_000)), 150_000 * 3000 + 50_000 * 300 + 1000 * 15_000);
  // 210k: all tokens at the tier rates
  assert.equal(costNanos(p, anthropicUsage(150_000, 1000, 60_000)), 150_000 * 6000 + 60_000 * 600 + 1000 * 22_500);
  // cache writes count towards the threshold too
  assert.equal(costNanos(p, anthropicUsage(100_000, 0, 0, 100_001)), 100_000 * 6000 + 100_001 * 7500);
  // OpenAI semantics: prompt_tokens (with its cached part) is the total
  assert.equal(costNanos(p, openaiUsage(200_001, 0, 1)), 200_000 * 6000 + 600);
  // a model without tiers ignores size
  assert.equal(costNanos(price('claude-sonnet-4-6'), anthropicUsage(900_000, 0)), 900_000 * 3000);
});

test('gpt-5.5 ships with its 272k tier', () => {
  const p = price('gpt-5.5');
  assert.deepEqual(p.tiers.map((t) => [t.aboveTokens, t.input, t.output, t.cacheRead]), [[272_000, 10_000, 45_000, 1000]]);
  assert.equal(costNanos(p, openaiUsage(272_000, 100, 72_000)), 200_000 * 5000 + 72_000 * 500 + 100 * 30_000);
  assert.equal(costNanos(p, openaiUsage(272_001, 100, 72_000)), 200_001 * 10_000 + 72_000 * 1000 + 100 * 45_000);
});

test('tiers with other thresholds from a loaded map (above_272k), highest passed wins', () => {
  const p = compilePrice(
    {
      input_cost_per_token: 2e-6,
      output_cost_per_token: 1e-5,
      input_cost_per_token_above_128k_tokens: 3e-6,
      input_cost_per_token_above_272k_tokens: 4e-6,
      output_cost_per_token_above_272k_tokens: 2e-5,
    },
    'x',
  );
  assert.deepEqual(p.tiers.map((t) => t.aboveTokens), [272_000, 128_000]);
  assert.equal(costNanos(p, openaiUsage(100_000, 10)), 100_000 * 2000 + 10 * 10_000);
  assert.equal(costNanos(p, openaiUsage(200_000, 10)), 200_000 * 3000 + 10 * 10_000); // 128k tier has no output rate: base
  assert.equal(costNanos(p, openaiUsage(300_000, 10)), 300_000 * 4000 + 10 * 20_000);
});

test('lookup: litellm_params.model with and without provider prefix', () => {
  assert.equal(resolvePrice(TABLE, { model: 'anthropic/claude-sonnet-4-5-20250929' }).key, 'claude-sonnet-4-5-20250929');
  assert.equal(resolvePrice(TABLE, { model: 'openai/gpt-4o-mini' }).key, 'gpt-4o-mini');
  // a prefixed key that exists is taken as is
  assert.equal(resolvePrice(TABLE, { model: 'azure/gpt-4.1' }).key, 'azure/gpt-4.1');
  assert.equal(resolvePrice(TABLE, { model: 'azure/gpt-4.1' }).provider, 'azure');
  // case-insensitive as a last resort
  assert.equal(resolvePrice(TABLE, { model: 'openai/GPT-4o' }).key, 'gpt-4o');
});

test('lookup: base_model first, then the model, then the upstream-reported model', () => {
  // Azure deployment named after the team, priced by base_model
  const azure = resolvePrice(TABLE, { baseModel: 'azure/gpt-4o', model: 'azure/prod-east-4o', upstreamModel: 'gpt-4o-2024-11-20' });
  assert.equal(azure.key, 'azure/gpt-4o');
  // base_model wins even when the model itself is known
  assert.equal(resolvePrice(TABLE, { baseModel: 'gpt-4o-mini', model: 'openai/gpt-4o' }).key, 'gpt-4o-mini');
  // unknown deployment name: the upstream's model (with the deployment's provider first)
  assert.equal(resolvePrice(TABLE, { model: 'azure/prod-east-4o', upstreamModel: 'gpt-4o-2024-08-06' }).key, 'azure/gpt-4o-2024-08-06');
  assert.equal(resolvePrice(TABLE, { model: 'openai/my-proxy-alias', upstreamModel: 'gpt-4.1-mini-2025-04-14' }).key, 'gpt-4.1-mini-2025-04-14');
  assert.deepEqual(candidateKeys({ baseModel: 'azure/gpt-4o', model: 'azure/dep', upstreamModel: 'gpt-4o-2024-08-06' }), [
    'azure/gpt-4o',
    'gpt-4o',
    'azure/dep',
    'dep',
    'azure/gpt-4o-2024-08-06',
    'gpt-4o-2024-08-06',
  ]);
});

test('unknown model: price 0, known false, and every cost 0', () => {
  const p = resolvePrice(TABLE, { model: 'openai/my-local-llama', upstreamModel: 'llama-3.3-70b' });
  assert.equal(p.known, false);
  assert.equal(p, UNKNOWN_PRICE);
  assert.equal(costNanos(p, openaiUsage(1e6, 1e6)), 0);
  assert.equal(worstCaseNanos(p, 1e6, 1e6), 0);
  assert.equal(resolvePrice(TABLE, {}).known, false);
});

test('overrides from litellm_params / model_info win field by field', () => {
  // custom model priced only by the deployment
  const custom = resolvePrice(TABLE, { model: 'openai/my-llama', overrides: priceOverrides({ input_cost_per_token: 1e-6 }, { output_cost_per_token: '2e-6' }) });
  assert.equal(custom.known, true);
  assert.equal(custom.key, null);
  assert.equal(costNanos(custom, openaiUsage(1000, 100)), 1000 * 1000 + 100 * 2000);
  // cached tokens without a cache price: input rate
  assert.equal(costNanos(custom, openaiUsage(1000, 0, 500)), 1000 * 1000);
  // a known model with a negotiated input price: cache prices stay from the table, no long-context tier
  const p = resolvePrice(TABLE, { model: 'anthropic/claude-sonnet-4-5', overrides: { input_cost_per_token: 2.5e-6 } });
  assert.equal(p.key, 'claude-sonnet-4-5');
  assert.deepEqual([p.input, p.output, p.cacheRead, p.cacheCreation], [2500, 15_000, 300, 3750]);
  assert.equal(p.tiers.length, 0);
  assert.equal(costNanos(p, anthropicUsage(300_000, 0)), 300_000 * 2500);
  // cache-only overrides keep the tiers
  const c = resolvePrice(TABLE, { model: 'claude-sonnet-4-5', overrides: { cache_read_input_token_cost: 1e-7 } });
  assert.equal(c.cacheRead, 100);
  assert.equal(c.tiers.length, 1);
  // litellm_params wins over model_info; junk ignored
  assert.deepEqual(priceOverrides({ input_cost_per_token: 1e-6 }, { input_cost_per_token: 9e-6, output_cost_per_token: 'abc' }), { input_cost_per_token: 1e-6 });
  assert.equal(priceOverrides({}, { input_cost_per_token: -1 }), null);
  assert.equal(priceOverrides(undefined, null), null);
  // zero is a price (self-hosted): known, free
  const free = resolvePrice(TABLE, { model: 'ollama/llama3', overrides: { input_cost_per_token: 0, output_cost_per_token: 0 } });
  assert.equal(free.known, true);
  assert.equal(costNanos(free, openaiUsage(100, 100)), 0);
});

test('rounding: the call total is rounded once, half up, exactly', () => {
  const at = (usd: number) => compilePrice({ input_cost_per_token: usd, output_cost_per_token: 0 }, 'r');
  assert.equal(at(2.1875e-6).input, 2187.5);
  assert.equal(costNanos(at(2.1875e-6), openaiUsage(1, 0)), 2188); // .5 → up
  assert.equal(costNanos(at(2.1875e-6), openaiUsage(2, 0)), 4375);
  assert.equal(costNanos(at(2.1875e-6), openaiUsage(3, 0)), 6563); // 6562.5 → up
  assert.equal(costNanos(at(1.4999e-9), openaiUsage(1, 0)), 1); // 1.4999 → down
  assert.equal(costNanos(at(1.5e-9), openaiUsage(1, 0)), 2);
  assert.equal(costNanos(at(4.99999e-10), openaiUsage(1, 0)), 0);
  assert.equal(costNanos(at(4.99999e-10), openaiUsage(3, 0)), 1); // not 0+0+0: rounded once per call
  // floats that are not exact in binary (0.1 + 0.2 style) still land on the right nano
  assert.equal(costNanos(at(3e-7), openaiUsage(7, 0)), 2100);
  assert.equal(costNanos(compilePrice({ input_cost_per_token: 1e-7, output_cost_per_token: 2e-7 }, 'x'), openaiUsage(3, 3)), 900);
  assert.equal(costNanos(compilePrice({ input_cost_per_token: 2.9999900000000002e-6, output_cost_per_token: 0 }, 'x'), openaiUsage(10, 0)), 29_999.9 + 0.1);
});

test('huge counts take the exact BigInt path and stay integers', () => {
  const p = price('claude-opus-4-1');
  assert.equal(costNanos(p, anthropicUsage(0, 10_000_000)), 750_000_000_000);
  const frac = compilePrice({ input_cost_per_token: 2.1875e-6, output_cost_per_token: 0 }, 'f');
  // 9 999 999 × 2187.5 = 21 874 997 812.5 → 21 874 997 813
  assert.equal(costNanos(frac, openaiUsage(9_999_999, 0)), 21_874_997_813);
  assert.equal(costNanos(frac, openaiUsage(Number.MAX_SAFE_INTEGER, 0)) > 0, true);
});

test('costs are always non-negative integers, whatever the usage', () => {
  let seed = 99;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const models = [...TABLE.keys()];
  for (let i = 0; i < 3000; i++) {
    const p = price(models[i % models.length]!);
    const prompt = rnd() * 3e5;
    const u = rnd() < 0.5 ? openaiUsage(prompt, rnd() * 5e4, rnd() * prompt) : anthropicUsage(rnd() * 3e5, rnd() * 5e4, rnd() * 3e5, rnd() * 5e4, rnd() * 5e4);
    const c = costNanos(p, u);
    assert.ok(Number.isSafeInteger(c) && c >= 0, `${c}`);
    // costs never exceed the worst case for the same prompt size
    const total = u.promptIncludesCache ? u.prompt_tokens : u.prompt_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
    assert.ok(c <= worstCaseNanos(p, total, u.completion_tokens || 1), `${models[i % models.length]} ${JSON.stringify(u)}`);
  }
  // OpenAI usage claiming more cached than prompt tokens: the cached part is clamped to the prompt
  assert.equal(costNanos(price('gpt-4o'), openaiUsage(100, 0, 500)), 100 * 1250);
  // garbage in a hand-built usage does not throw
  assert.equal(costNanos(price('gpt-4o'), { promptIncludesCache: true, prompt_tokens: NaN, completion_tokens: -3, cache_read_input_tokens: Infinity, cache_creation_input_tokens: 0.5 }), 0);
});

test('worstCaseNanos: dearest input-side rate, max output, rounded up', () => {
  const p = price('claude-sonnet-4-5');
  // 1000 prompt at the 1h cache-write rate (6000) + 4096 × 15000
  assert.equal(worstCaseNanos(p, 1000, 4096), 6_000_000 + 61_440_000);
  // default output: the model's max (64000)
  assert.equal(worstCaseNanos(p, 1000), 6_000_000 + 64_000 * 15_000);
  // a prompt estimate past 200k reserves at the tier rates
  assert.equal(worstCaseNanos(p, 250_000, 1), 250_000 * 12_000 + 22_500);
  // OpenAI: input is the dearest input-side rate
  assert.equal(worstCaseNanos(price('gpt-4o'), 1000, 100), 1000 * 2500 + 100 * 10_000);
  // rounds up
  const frac = compilePrice({ input_cost_per_token: 1.000001e-9, output_cost_per_token: 0 }, 'f');
  assert.equal(worstCaseNanos(frac, 1, 0), 2);
  assert.equal(costNanos(frac, openaiUsage(1, 0)), 1);
});
