// The price table Weir carries for the models most teams call: OpenAI, Anthropic and Gemini chat models,
// keyed and shaped exactly as LiteLLM's `model_prices_and_context_window.json` keys them (bare
// model ids, dated ids, LiteLLM's aliases such as `claude-4-sonnet-20250514`, and `azure/…` keys),
// with LiteLLM's field names and units (US dollars per token).
//
// Source and date: public list prices of OpenAI and Anthropic, checked on 2026-11-25 against
// BerriAI/litellm `model_prices_and_context_window.json` (the stored copy at commit 00035b69);
// Google's Gemini API list prices (paid tier, text), added 2026-12-05, keyed as LiteLLM keys them:
// `gemini/…` for AI Studio and the bare id for Vertex AI. Thinking tokens bill as output.
// `azure/…` entries carry OpenAI's global (non-regional) list price. Prices change: a LiteLLM
// price file or URL loaded at start (see load.ts) extends and overrides this table, and
// `input_cost_per_token`-style overrides in a deployment win over both (see cost.ts).
//
// Only fields the cost calculation reads are carried. Long-context tiers use LiteLLM's
// `*_above_<N>k_tokens` suffix; one-hour cache writes use `*_above_1hr`.

/** One model's entry, in LiteLLM's field names (USD per token). */
export interface ModelPriceEntry {
  litellm_provider?: string;
  mode?: string;
  max_input_tokens?: number;
  max_output_tokens?: number;
  /** LiteLLM's legacy field: max output if the provider says, else max input. */
  max_tokens?: number;
  input_cost_per_token?: number;
  output_cost_per_token?: number;
  cache_read_input_token_cost?: number;
  cache_creation_input_token_cost?: number;
  /** One-hour cache writes (Anthropic `cache_control: {ttl: "1h"}`). */
  cache_creation_input_token_cost_above_1hr?: number;
  input_cost_per_token_above_200k_tokens?: number;
  output_cost_per_token_above_200k_tokens?: number;
  cache_read_input_token_cost_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_1hr_above_200k_tokens?: number;
  /** Other tiers (`*_above_272k_tokens`, …) as LiteLLM names them. */
  [field: string]: string | number | undefined;
}

/** Model key → entry. Immutable once built; a reload builds a new one. */
export type PriceTable = ReadonlyMap<string, Readonly<ModelPriceEntry>>;

/** When the built-in prices were last checked (see the comment at the top). */
export const BUILTIN_PRICES_DATE = '2026-11-25';

// ---------------------------------------------------------------- helpers

type Entry = Readonly<ModelPriceEntry>;

function openai(input: number, output: number, cacheRead: number | undefined, maxIn: number, maxOut: number, provider = 'openai'): Entry {
  const e: ModelPriceEntry = {
    litellm_provider: provider,
    mode: 'chat',
    max_input_tokens: maxIn,
    max_output_tokens: maxOut,
    max_tokens: maxOut,
    input_cost_per_token: input,
    output_cost_per_token: output,
  };
  if (cacheRead !== undefined) e.cache_read_input_token_cost = cacheRead;
  return Object.freeze(e);
}

/** Anthropic: cache writes (5 min) at 1.25× input, one-hour writes at 2× input, reads at 0.1×. */
function anthropic(
  input: number,
  output: number,
  cacheRead: number,
  cacheWrite: number,
  cacheWrite1h: number | undefined,
  maxIn: number,
  maxOut: number,
  above200k?: { input: number; output: number; cacheRead: number; cacheWrite: number; cacheWrite1h?: number },
): Entry {
  const e: ModelPriceEntry = {
    litellm_provider: 'anthropic',
    mode: 'chat',
    max_input_tokens: maxIn,
    max_output_tokens: maxOut,
    max_tokens: maxOut,
    input_cost_per_token: input,
    output_cost_per_token: output,
    cache_read_input_token_cost: cacheRead,
    cache_creation_input_token_cost: cacheWrite,
  };
  if (cacheWrite1h !== undefined) e.cache_creation_input_token_cost_above_1hr = cacheWrite1h;
  if (above200k) {
    e.input_cost_per_token_above_200k_tokens = above200k.input;
    e.output_cost_per_token_above_200k_tokens = above200k.output;
    e.cache_read_input_token_cost_above_200k_tokens = above200k.cacheRead;
    e.cache_creation_input_token_cost_above_200k_tokens = above200k.cacheWrite;
    if (above200k.cacheWrite1h !== undefined) e.cache_creation_input_token_cost_above_1hr_above_200k_tokens = above200k.cacheWrite1h;
  }
  return Object.freeze(e);
}

// ---------------------------------------------------------------- OpenAI

const GPT_4O = openai(2.5e-6, 1e-5, 1.25e-6, 128_000, 16_384);
const GPT_4O_2024_05_13 = openai(5e-6, 1.5e-5, undefined, 128_000, 4_096);
const GPT_4O_MINI = openai(1.5e-7, 6e-7, 7.5e-8, 128_000, 16_384);
const GPT_41 = openai(2e-6, 8e-6, 5e-7, 1_047_576, 32_768);
const GPT_41_MINI = openai(4e-7, 1.6e-6, 1e-7, 1_047_576, 32_768);
const GPT_41_NANO = openai(1e-7, 4e-7, 2.5e-8, 1_047_576, 32_768);
const O1 = openai(1.5e-5, 6e-5, 7.5e-6, 200_000, 100_000);
const O3 = openai(2e-6, 8e-6, 5e-7, 200_000, 100_000); // after the June 2025 price cut
const O3_MINI = openai(1.1e-6, 4.4e-6, 5.5e-7, 200_000, 100_000);
const O4_MINI = openai(1.1e-6, 4.4e-6, 2.75e-7, 200_000, 100_000);
const GPT_5 = openai(1.25e-6, 1e-5, 1.25e-7, 272_000, 128_000);
const GPT_5_MINI = openai(2.5e-7, 2e-6, 2.5e-8, 272_000, 128_000);
const GPT_5_NANO = openai(5e-8, 4e-7, 5e-9, 272_000, 128_000);
const GPT_5_CHAT = openai(1.25e-6, 1e-5, 1.25e-7, 128_000, 16_384);
const GPT_52 = openai(1.75e-6, 1.4e-5, 1.75e-7, 272_000, 128_000);
const GPT_55: Entry = Object.freeze({
  ...openai(5e-6, 3e-5, 5e-7, 1_050_000, 128_000),
  input_cost_per_token_above_272k_tokens: 1e-5,
  output_cost_per_token_above_272k_tokens: 4.5e-5,
  cache_read_input_token_cost_above_272k_tokens: 1e-6,
});

const azure = (e: Entry): Entry => Object.freeze({ ...e, litellm_provider: 'azure' });

// ---------------------------------------------------------------- Anthropic

const OPUS_4 = anthropic(1.5e-5, 7.5e-5, 1.5e-6, 1.875e-5, 3e-5, 200_000, 32_000);
const OPUS_45 = anthropic(5e-6, 2.5e-5, 5e-7, 6.25e-6, 1e-5, 200_000, 64_000);
const OPUS_46 = anthropic(5e-6, 2.5e-5, 5e-7, 6.25e-6, 1e-5, 1_000_000, 128_000);
const SONNET_LONG = { input: 6e-6, output: 2.25e-5, cacheRead: 6e-7, cacheWrite: 7.5e-6 };
const SONNET_4 = anthropic(3e-6, 1.5e-5, 3e-7, 3.75e-6, 6e-6, 1_000_000, 64_000, SONNET_LONG);
const SONNET_45 = anthropic(3e-6, 1.5e-5, 3e-7, 3.75e-6, 6e-6, 200_000, 64_000, { ...SONNET_LONG, cacheWrite1h: 1.2e-5 });
const SONNET_46 = anthropic(3e-6, 1.5e-5, 3e-7, 3.75e-6, 6e-6, 1_000_000, 64_000);
const SONNET_37 = anthropic(3e-6, 1.5e-5, 3e-7, 3.75e-6, 6e-6, 200_000, 64_000);
const HAIKU_35 = anthropic(8e-7, 4e-6, 8e-8, 1e-6, 1.6e-6, 200_000, 8_192);
const HAIKU_45 = anthropic(1e-6, 5e-6, 1e-7, 1.25e-6, 2e-6, 200_000, 64_000);

/** A Gemini model: input, output and cache-read rates, with the over-200k-token tier where Google has one. */
function gemini(provider: 'gemini' | 'vertex_ai-language-models', input: number, output: number, cacheRead: number, maxIn: number, maxOut: number, above200k?: { input: number; output: number; cacheRead: number }): Entry {
  const e: ModelPriceEntry = { ...openai(input, output, cacheRead, maxIn, maxOut, provider) };
  if (above200k) {
    e.input_cost_per_token_above_200k_tokens = above200k.input;
    e.output_cost_per_token_above_200k_tokens = above200k.output;
    e.cache_read_input_token_cost_above_200k_tokens = above200k.cacheRead;
  }
  return Object.freeze(e);
}

const GEMINI: ReadonlyArray<readonly [string, number, number, number, number, number, { input: number; output: number; cacheRead: number }?]> = [
  ['gemini-2.5-pro', 1.25e-6, 1e-5, 1.25e-7, 1_048_576, 65_535, { input: 2.5e-6, output: 1.5e-5, cacheRead: 2.5e-7 }],
  ['gemini-2.5-flash', 3e-7, 2.5e-6, 3e-8, 1_048_576, 65_535],
  ['gemini-2.5-flash-lite', 1e-7, 4e-7, 1e-8, 1_048_576, 65_535],
  ['gemini-2.0-flash', 1e-7, 4e-7, 2.5e-8, 1_048_576, 8_192],
  ['gemini-2.0-flash-001', 1e-7, 4e-7, 2.5e-8, 1_048_576, 8_192],
  ['gemini-2.0-flash-lite', 7.5e-8, 3e-7, 1.875e-8, 1_048_576, 8_192],
  ['gemini-3-pro-preview', 2e-6, 1.2e-5, 2e-7, 1_048_576, 65_535, { input: 4e-6, output: 1.8e-5, cacheRead: 4e-7 }],
  ['gemini-3-flash-preview', 5e-7, 3e-6, 5e-8, 1_048_576, 65_535],
];

const BUILTIN: ReadonlyArray<readonly [string, Entry]> = [
  // OpenAI
  ['gpt-4o', GPT_4O],
  ['gpt-4o-2024-08-06', GPT_4O],
  ['gpt-4o-2024-11-20', GPT_4O],
  ['gpt-4o-2024-05-13', GPT_4O_2024_05_13],
  ['gpt-4o-mini', GPT_4O_MINI],
  ['gpt-4o-mini-2024-07-18', GPT_4O_MINI],
  ['gpt-4.1', GPT_41],
  ['gpt-4.1-2025-04-14', GPT_41],
  ['gpt-4.1-mini', GPT_41_MINI],
  ['gpt-4.1-mini-2025-04-14', GPT_41_MINI],
  ['gpt-4.1-nano', GPT_41_NANO],
  ['gpt-4.1-nano-2025-04-14', GPT_41_NANO],
  ['o1', O1],
  ['o1-2024-12-17', O1],
  ['o3', O3],
  ['o3-2025-04-16', O3],
  ['o3-mini', O3_MINI],
  ['o3-mini-2025-01-31', O3_MINI],
  ['o4-mini', O4_MINI],
  ['o4-mini-2025-04-16', O4_MINI],
  ['gpt-5', GPT_5],
  ['gpt-5-2025-08-07', GPT_5],
  ['gpt-5-mini', GPT_5_MINI],
  ['gpt-5-mini-2025-08-07', GPT_5_MINI],
  ['gpt-5-nano', GPT_5_NANO],
  ['gpt-5-nano-2025-08-07', GPT_5_NANO],
  ['gpt-5-chat-latest', GPT_5_CHAT],
  ['gpt-5.1', GPT_5],
  ['gpt-5.1-2025-11-13', GPT_5],
  ['gpt-5.1-chat-latest', GPT_5_CHAT],
  ['gpt-5.2', GPT_52],
  ['gpt-5.2-2025-12-11', GPT_52],
  ['gpt-5.5', GPT_55],
  ['gpt-5.5-2026-04-23', GPT_55],
  // Azure OpenAI (deployment names rarely match; set model_info.base_model to one of these)
  ['azure/gpt-4o', azure(GPT_4O)],
  ['azure/gpt-4o-2024-08-06', azure(GPT_4O)],
  ['azure/gpt-4o-2024-11-20', azure(GPT_4O)],
  ['azure/gpt-4.1', azure(GPT_41)],
  ['azure/gpt-4.1-2025-04-14', azure(GPT_41)],
  ['azure/gpt-4.1-mini', azure(GPT_41_MINI)],
  ['azure/gpt-4.1-mini-2025-04-14', azure(GPT_41_MINI)],
  ['azure/gpt-4.1-nano', azure(GPT_41_NANO)],
  ['azure/gpt-4.1-nano-2025-04-14', azure(GPT_41_NANO)],
  ['azure/o3', azure(O3)],
  ['azure/o3-2025-04-16', azure(O3)],
  ['azure/o3-mini', azure(O3_MINI)],
  ['azure/o3-mini-2025-01-31', azure(O3_MINI)],
  ['azure/o4-mini', azure(O4_MINI)],
  ['azure/o4-mini-2025-04-16', azure(O4_MINI)],
  ['azure/gpt-5', azure(GPT_5)],
  ['azure/gpt-5-2025-08-07', azure(GPT_5)],
  ['azure/gpt-5-mini', azure(GPT_5_MINI)],
  ['azure/gpt-5-mini-2025-08-07', azure(GPT_5_MINI)],
  ['azure/gpt-5-nano', azure(GPT_5_NANO)],
  ['azure/gpt-5-nano-2025-08-07', azure(GPT_5_NANO)],
  // Anthropic
  ['claude-opus-4-20250514', OPUS_4],
  ['claude-4-opus-20250514', OPUS_4],
  ['claude-opus-4-0', OPUS_4],
  ['claude-opus-4-1', OPUS_4],
  ['claude-opus-4-1-20250805', OPUS_4],
  ['claude-opus-4-5', OPUS_45],
  ['claude-opus-4-5-20251101', OPUS_45],
  ['claude-opus-4-6', OPUS_46],
  ['claude-opus-4-6-20260205', OPUS_46],
  ['claude-sonnet-4-20250514', SONNET_4],
  ['claude-4-sonnet-20250514', SONNET_4],
  ['claude-sonnet-4-0', SONNET_4],
  ['claude-sonnet-4-5', SONNET_45],
  ['claude-sonnet-4-5-20250929', SONNET_45],
  ['claude-sonnet-4-6', SONNET_46],
  ['claude-3-7-sonnet-20250219', SONNET_37],
  ['claude-3-7-sonnet-latest', SONNET_37],
  ['claude-3-5-haiku-20241022', HAIKU_35],
  ['claude-3-5-haiku-latest', HAIKU_35],
  ['claude-haiku-4-5', HAIKU_45],
  ['claude-haiku-4-5-20251001', HAIKU_45],
  // Gemini: AI Studio (`gemini/…`) and Vertex AI (the bare id)
  ...GEMINI.flatMap(([id, input, output, cacheRead, maxIn, maxOut, above]) => [
    [`gemini/${id}`, gemini('gemini', input, output, cacheRead, maxIn, maxOut, above)] as const,
    [id, gemini('vertex_ai-language-models', input, output, cacheRead, maxIn, maxOut, above)] as const,
  ]),
];

/** A fresh copy of the built-in table (a Map the caller may extend before freezing it in use). */
export function builtinPriceTable(): Map<string, Readonly<ModelPriceEntry>> {
  return new Map(BUILTIN);
}
