// The built-in price table: the models the brief names are all there, under LiteLLM's keys
// (dated ids and aliases priced alike), in LiteLLM's field names, with plausible numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinPriceTable, BUILTIN_PRICES_DATE } from '../../src/pricing/price-table';
import { sanitizeEntry } from '../../src/pricing/load';
import { resolvePrice } from '../../src/pricing/cost';

const TABLE = builtinPriceTable();

const REQUIRED = [
  'gpt-4o', 'gpt-4o-2024-08-06', 'gpt-4o-2024-11-20', 'gpt-4o-mini', 'gpt-4o-mini-2024-07-18',
  'gpt-4.1', 'gpt-4.1-2025-04-14', 'gpt-4.1-mini', 'gpt-4.1-nano',
  'o1', 'o3', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5-mini', 'gpt-5-nano',
  'claude-opus-4-20250514', 'claude-opus-4-1', 'claude-opus-4-1-20250805', 'claude-opus-4-5', 'claude-opus-4-5-20251101',
  'claude-sonnet-4-20250514', 'claude-4-sonnet-20250514', 'claude-sonnet-4-5', 'claude-sonnet-4-5-20250929',
  'claude-3-7-sonnet-20250219', 'claude-3-5-haiku-20241022', 'claude-haiku-4-5', 'claude-haiku-4-5-20251001',
  'azure/gpt-4o', 'azure/gpt-4.1',
  'gemini/gemini-2.5-pro', 'gemini/gemini-2.5-flash', 'gemini/gemini-2.5-flash-lite', 'gemini/gemini-2.0-flash',
  'gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash',
];

test('every model the gateway promises is priced', () => {
  assert.match(BUILTIN_PRICES_DATE, /^\d{4}-\d{2}-\d{2}$/);
  for (const k of REQUIRED) assert.ok(TABLE.has(k), k);
});

test('entries use LiteLLM field names and plausible values', () => {
  for (const [key, e] of TABLE) {
    assert.equal(e.mode, 'chat', key);
    assert.ok(['openai', 'azure', 'anthropic', 'gemini', 'vertex_ai-language-models'].includes(e.litellm_provider!), key);
    assert.ok(e.input_cost_per_token! > 0 && e.input_cost_per_token! < 1e-4, key);
    assert.ok(e.output_cost_per_token! > e.input_cost_per_token!, key);
    assert.ok(e.max_input_tokens! >= 128_000 && e.max_output_tokens! >= 4096, key);
    if (e.cache_read_input_token_cost !== undefined) assert.ok(e.cache_read_input_token_cost < e.input_cost_per_token!, key);
    if (e.litellm_provider === 'anthropic') {
      // Anthropic: reads 0.1×, 5-minute writes 1.25×, one-hour writes 2× the input price
      assert.ok(Math.abs(e.cache_read_input_token_cost! / e.input_cost_per_token! - 0.1) < 1e-9, key);
      assert.ok(Math.abs(e.cache_creation_input_token_cost! / e.input_cost_per_token! - 1.25) < 1e-9, key);
      assert.ok(Math.abs(e.cache_creation_input_token_cost_above_1hr! / e.input_cost_per_token! - 2) < 1e-9, key);
    }
    // what a price file would contribute for this key is exactly the built-in entry
    assert.deepEqual(sanitizeEntry(e), e, key);
  }
});

test('dated ids and their aliases are priced alike', () => {
  const same = [
    ['gpt-4o', 'gpt-4o-2024-08-06'],
    ['gpt-4.1', 'gpt-4.1-2025-04-14'],
    ['o3-mini', 'o3-mini-2025-01-31'],
    ['gpt-5', 'gpt-5-2025-08-07'],
    ['claude-opus-4-1', 'claude-opus-4-1-20250805'],
    ['claude-opus-4-5', 'claude-opus-4-5-20251101'],
    ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
    ['claude-4-sonnet-20250514', 'claude-sonnet-4-20250514'],
    ['claude-haiku-4-5', 'claude-haiku-4-5-20251001'],
    ['claude-3-5-haiku-latest', 'claude-3-5-haiku-20241022'],
  ];
  for (const [a, b] of same) assert.deepEqual(TABLE.get(a), TABLE.get(b), `${a} vs ${b}`);
  // and list prices that differ are not mixed up
  assert.notDeepEqual(TABLE.get('gpt-4o'), TABLE.get('gpt-4o-2024-05-13'));
  assert.notDeepEqual(TABLE.get('claude-opus-4-1'), TABLE.get('claude-opus-4-5'));
});

test('the table is a fresh copy each time, entries frozen', () => {
  const a = builtinPriceTable();
  a.delete('gpt-4o');
  assert.ok(builtinPriceTable().has('gpt-4o'));
  assert.throws(() => {
    (a.get('gpt-4o-mini') as { input_cost_per_token: number }).input_cost_per_token = 0;
  }, TypeError);
});

test('Gemini is priced for AI Studio and Vertex AI, and Vertex’s Claude ids as the Anthropic model', () => {
  assert.equal(resolvePrice(TABLE, { model: 'gemini/gemini-2.5-flash', upstreamModel: 'gemini-2.5-flash' }).known, true);
  const vertex = resolvePrice(TABLE, { model: 'vertex_ai/gemini-2.5-pro', upstreamModel: 'gemini-2.5-pro' });
  assert.equal(vertex.known, true);
  assert.equal(vertex, resolvePrice(TABLE, { model: 'gemini-2.5-pro' }), 'the bare id, as LiteLLM keys Vertex');
  const claude = resolvePrice(TABLE, { model: 'vertex_ai/claude-sonnet-4-5@20250929', upstreamModel: 'claude-sonnet-4-5@20250929', alias: 'claude-sonnet-4-5' });
  assert.equal(claude.input, resolvePrice(TABLE, { model: 'claude-sonnet-4-5' }).input);
});
