// Cost of a call in integer nano-dollars (1e-9 USD), as LiteLLM computes it (cost_calculator.py),
// without a float ever being added to shared money.
//
// resolvePrice() turns a price-table entry (plus a deployment's overrides) into a compiled Price;
// it is meant to run when a deployment is set up (snapshot build), not per request — only the
// upstream-model fallback needs a lookup after the answer. costNanos() then is a few
// multiplications.
//
// Units and rounding. A Price shows its rates as nano-dollars per token (`input`, `output`, …;
// fractional where the list price is, e.g. 0.075 USD/M tokens = 75 nanos, 2.1875e-6 USD = 2187.5
// nanos). The arithmetic uses the same rates as exact integers of femto-dollars (1e-15 USD; a
// table price is rounded to that grid once, when compiled), sums tokens × rate exactly (Number
// while the sum stays below 2^52, BigInt beyond), and rounds the sum ONCE per call to an integer
// of nano-dollars, half up (…499 999 fd → down, …500 000 fd → up). worstCaseNanos rounds up.
//
// Lookup order (LiteLLM's): deployment `model_info.base_model` → `litellm_params.model` as given,
// then without its provider prefix → the model the upstream reported (with the deployment's
// provider prefix, as given, without prefix). Each name is tried as is, then lower-cased.
// Overrides (`input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
// `cache_creation_input_token_cost` from litellm_params or model_info) win field by field; a
// deployment that sets its own input or output price is billed flat at it (no long-context tier).
// An unknown model with no overrides prices at 0 with `known: false`.
//
// Semantics (see accounting/usage-types.ts): with OpenAI usage the cached part of prompt_tokens is
// billed at the cache-read rate and the rest at the input rate (a report claiming more cached than
// prompt tokens is clamped to prompt_tokens); with Anthropic usage input, cache
// reads and cache writes are three separate counts at three rates. One-hour cache writes use
// `cache_creation_input_token_cost_above_1hr` when the table has it. A missing cache-read or
// cache-write rate falls back to the input rate (no discount that was not priced).
//
// Long-context tiers (`*_above_<N>k_tokens`): when the call's total input (uncached + cache reads
// + cache writes) is above N thousand tokens, every rate the tier defines replaces the base rate
// (for all tokens of the call, as Anthropic and OpenAI bill them); the highest tier passed wins.
import { count, totalInputTokens, uncachedInputTokens, type TokenUsage } from '../accounting/usage-types';
import type { ModelPriceEntry, PriceTable } from './price-table';

export const NANOS_PER_USD = 1_000_000_000;
/** Femto-dollars per nano-dollar: the grid rates are held on. */
const FEMTO_PER_NANO = 1_000_000;
const HALF = FEMTO_PER_NANO / 2;
const FEMTO_PER_USD = 1e15;
const EXACT_LIMIT = 2 ** 52;

/** Exact rates, integers of femto-dollars per token. */
interface Rates {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheCreation: number;
  readonly cacheCreation1h: number;
}

export interface PriceTier {
  /** Applies when the call's total input tokens are above this. */
  readonly aboveTokens: number;
  /** Nano-dollars per token. */
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheCreation: number;
  readonly cacheCreation1h: number;
  readonly exact: Rates;
}

export interface Price {
  /** A table entry or overrides priced this model; false: everything is 0. */
  readonly known: boolean;
  /** The table key that matched, if any. */
  readonly key: string | null;
  readonly provider: string | null;
  readonly mode: string | null;
  /** Nano-dollars per token (may be fractional). */
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheCreation: number;
  readonly cacheCreation1h: number;
  readonly maxInputTokens: number | null;
  readonly maxOutputTokens: number | null;
  /** Long-context tiers, highest threshold first. */
  readonly tiers: readonly PriceTier[];
  readonly exact: Rates;
}

export const OVERRIDE_FIELDS = ['input_cost_per_token', 'output_cost_per_token', 'cache_read_input_token_cost', 'cache_creation_input_token_cost'] as const;
export type OverrideField = (typeof OVERRIDE_FIELDS)[number];
/** USD per token, as numbers or numeric strings (YAML / os.environ values). */
export type PriceOverrides = Partial<Record<OverrideField, number | string | null | undefined>>;

export interface PriceQuery {
  /** Deployment `model_info.base_model`. */
  baseModel?: string | null | undefined;
  /** Deployment `litellm_params.model`, provider prefix included (`azure/my-gpt4o`). */
  model?: string | null | undefined;
  /** The model the upstream says answered (`gpt-4o-2024-08-06`). */
  upstreamModel?: string | null | undefined;
  /** Per-deployment prices; see priceOverrides(). */
  overrides?: PriceOverrides | null | undefined;
  /** A last name to try, that the provider knows the model by (Bedrock's Claude: Anthropic's name). */
  alias?: string | null | undefined;
}

const ZERO_RATES: Rates = Object.freeze({ input: 0, output: 0, cacheRead: 0, cacheCreation: 0, cacheCreation1h: 0 });

export const UNKNOWN_PRICE: Price = Object.freeze({
  known: false,
  key: null,
  provider: null,
  mode: null,
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheCreation: 0,
  cacheCreation1h: 0,
  maxInputTokens: null,
  maxOutputTokens: null,
  tiers: Object.freeze([]) as readonly PriceTier[],
  exact: ZERO_RATES,
});

// ---------------------------------------------------------------- compiling

/** A USD-per-token value from config or a price file: finite and ≥ 0, else undefined. */
export function usdRate(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined;
}

function femto(usd: number): number {
  return Math.round(usd * FEMTO_PER_USD);
}

function positiveInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : null;
}

interface RawRates {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheCreation?: number;
  cacheCreation1h?: number;
}

/** Fills a rate set's gaps: cache rates fall back to input (and 1h writes to writes), then to `base`. */
function completeRates(r: RawRates, base: Rates | null): Rates {
  const input = r.input !== undefined ? femto(r.input) : base ? base.input : 0;
  const output = r.output !== undefined ? femto(r.output) : base ? base.output : 0;
  const cacheRead = r.cacheRead !== undefined ? femto(r.cacheRead) : base ? base.cacheRead : input;
  const cacheCreation = r.cacheCreation !== undefined ? femto(r.cacheCreation) : base ? base.cacheCreation : input;
  const cacheCreation1h = r.cacheCreation1h !== undefined ? femto(r.cacheCreation1h) : base ? base.cacheCreation1h : cacheCreation;
  return Object.freeze({ input, output, cacheRead, cacheCreation, cacheCreation1h });
}

const TIER_FIELD = /^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost|cache_creation_input_token_cost_above_1hr)_above_(\d+)k_tokens$/;

function assign(r: RawRates, field: string, usd: number): void {
  switch (field) {
    case 'input_cost_per_token':
      r.input = usd;
      break;
    case 'output_cost_per_token':
      r.output = usd;
      break;
    case 'cache_read_input_token_cost':
      r.cacheRead = usd;
      break;
    case 'cache_creation_input_token_cost':
      r.cacheCreation = usd;
      break;
    case 'cache_creation_input_token_cost_above_1hr':
      r.cacheCreation1h = usd;
      break;
  }
}

function nanos(r: Rates): Omit<PriceTier, 'aboveTokens' | 'exact'> {
  return {
    input: r.input / FEMTO_PER_NANO,
    output: r.output / FEMTO_PER_NANO,
    cacheRead: r.cacheRead / FEMTO_PER_NANO,
    cacheCreation: r.cacheCreation / FEMTO_PER_NANO,
    cacheCreation1h: r.cacheCreation1h / FEMTO_PER_NANO,
  };
}

/** Compiles one table entry, with optional overrides, into a Price. */
export function compilePrice(entry: Readonly<ModelPriceEntry> | undefined, key: string | null, overrides?: PriceOverrides | null): Price {
  const raw: RawRates = {};
  const tiers = new Map<number, RawRates>();
  let priced = false;
  if (entry) {
    for (const field of Object.keys(entry)) {
      const usd = usdRate(entry[field]);
      if (usd === undefined) continue;
      const m = TIER_FIELD.exec(field);
      if (m) {
        const above = Number(m[2]) * 1000;
        let t = tiers.get(above);
        if (!t) tiers.set(above, (t = {}));
        assign(t, m[1]!, usd);
      } else {
        assign(raw, field, usd);
        if (field === 'input_cost_per_token' || field === 'output_cost_per_token') priced = true;
      }
    }
  }
  let flat = false;
  if (overrides) {
    for (const field of OVERRIDE_FIELDS) {
      const usd = usdRate(overrides[field]);
      if (usd === undefined) continue;
      assign(raw, field, usd);
      if (field === 'input_cost_per_token' || field === 'output_cost_per_token') {
        priced = true;
        flat = true;
      }
    }
  }
  if (!priced) return entry || overrides ? { ...UNKNOWN_PRICE, key, maxInputTokens: entry ? positiveInt(entry.max_input_tokens) : null, maxOutputTokens: entry ? maxOut(entry) : null } : UNKNOWN_PRICE;
  const exact = completeRates(raw, null);
  const compiledTiers: PriceTier[] = [];
  if (!flat) {
    for (const [aboveTokens, t] of tiers) {
      const r = completeRates(t, exact);
      compiledTiers.push(Object.freeze({ aboveTokens, ...nanos(r), exact: r }));
    }
    compiledTiers.sort((a, b) => b.aboveTokens - a.aboveTokens);
  }
  return Object.freeze({
    known: true,
    key,
    provider: entry && typeof entry.litellm_provider === 'string' ? entry.litellm_provider : null,
    mode: entry && typeof entry.mode === 'string' ? entry.mode : null,
    ...nanos(exact),
    maxInputTokens: entry ? positiveInt(entry.max_input_tokens) : null,
    maxOutputTokens: entry ? maxOut(entry) : null,
    tiers: Object.freeze(compiledTiers),
    exact,
  });
}

function maxOut(entry: Readonly<ModelPriceEntry>): number | null {
  return positiveInt(entry.max_output_tokens) ?? positiveInt(entry.max_tokens);
}

// ---------------------------------------------------------------- lookup

/** Compiled prices of table entries without overrides (one entry object may sit under several keys). */
const compiled = new WeakMap<object, Map<string, Price>>();

function lookup(table: PriceTable, name: string): [string, Readonly<ModelPriceEntry>] | null {
  let e = table.get(name);
  if (e) return [name, e];
  const lower = name.toLowerCase();
  if (lower !== name && (e = table.get(lower))) return [lower, e];
  return null;
}

function stripPrefix(name: string): string | null {
  const slash = name.indexOf('/');
  return slash > 0 && slash < name.length - 1 ? name.slice(slash + 1) : null;
}

/** Names to try, in LiteLLM's order. */
export function candidateKeys(q: PriceQuery): string[] {
  const out: string[] = [];
  const add = (n: string | null | undefined) => {
    if (n && !out.includes(n)) out.push(n);
  };
  const both = (n: string | null | undefined) => {
    if (!n) return;
    add(n);
    add(stripPrefix(n));
  };
  both(q.baseModel);
  both(q.model);
  if (q.upstreamModel) {
    const slash = q.model ? q.model.indexOf('/') : -1;
    if (slash > 0 && !q.upstreamModel.includes('/')) add(`${q.model!.slice(0, slash)}/${q.upstreamModel}`);
    both(q.upstreamModel);
  }
  add(q.alias);
  return out;
}

/** The compiled price for a deployment / answer; see the lookup order at the top of the file. */
export function resolvePrice(table: PriceTable, q: PriceQuery): Price {
  let hit: [string, Readonly<ModelPriceEntry>] | null = null;
  for (const name of candidateKeys(q)) {
    hit = lookup(table, name);
    if (hit) break;
  }
  const hasOverrides = q.overrides != null && OVERRIDE_FIELDS.some((f) => usdRate(q.overrides![f]) !== undefined);
  if (!hit) return hasOverrides ? compilePrice(undefined, null, q.overrides) : UNKNOWN_PRICE;
  const [key, entry] = hit;
  if (hasOverrides) return compilePrice(entry, key, q.overrides);
  let byKey = compiled.get(entry);
  if (!byKey) compiled.set(entry, (byKey = new Map()));
  let p = byKey.get(key);
  if (!p) byKey.set(key, (p = compilePrice(entry, key)));
  return p;
}

/**
 * A deployment's price overrides from its `litellm_params` and `model_info` (either place works,
 * as in LiteLLM's custom pricing; litellm_params wins when both set a field). Null when none.
 */
export function priceOverrides(litellmParams?: Record<string, unknown> | null, modelInfo?: Record<string, unknown> | null): PriceOverrides | null {
  let out: PriceOverrides | null = null;
  for (const f of OVERRIDE_FIELDS) {
    const v = usdRate(litellmParams?.[f]) ?? usdRate(modelInfo?.[f]);
    if (v !== undefined) (out ??= {})[f] = v;
  }
  return out;
}

// ---------------------------------------------------------------- cost

function ratesFor(price: Price, totalInput: number): Rates {
  for (const t of price.tiers) if (totalInput > t.aboveTokens) return t.exact;
  return price.exact;
}

/** Σ tokens × rate (femto-dollars), rounded to nano-dollars: half up, or up when `ceil`. */
function toNanos(terms: ReadonlyArray<readonly [number, number]>, ceil: boolean): number {
  let approx = 0;
  for (const [t, r] of terms) approx += t * r;
  if (approx < EXACT_LIMIT) {
    // Every product and partial sum is an integer below 2^52: exact in a double.
    const rem = approx % FEMTO_PER_NANO;
    const whole = (approx - rem) / FEMTO_PER_NANO;
    return whole + (ceil ? (rem > 0 ? 1 : 0) : rem >= HALF ? 1 : 0);
  }
  let sum = 0n;
  for (const [t, r] of terms) sum += BigInt(t) * BigInt(r);
  const per = BigInt(FEMTO_PER_NANO);
  const rem = sum % per;
  const whole = sum / per;
  return Number(whole + (ceil ? (rem > 0n ? 1n : 0n) : rem >= BigInt(HALF) ? 1n : 0n));
}

/** Cost of a call in integer nano-dollars. */
export function costNanos(price: Price, usage: TokenUsage): number {
  if (!price.known) return 0;
  let read = count(usage.cache_read_input_tokens);
  let created = count(usage.cache_creation_input_tokens);
  if (usage.promptIncludesCache) {
    // The cached parts are parts of prompt_tokens: a report claiming more is clamped to it.
    const prompt = count(usage.prompt_tokens);
    read = Math.min(read, prompt);
    created = Math.min(created, prompt - read);
  }
  const created1h = Math.min(created, count(usage.cache_creation_1h_input_tokens));
  const r = ratesFor(price, count(totalInputTokens(usage)));
  return toNanos(
    [
      [count(uncachedInputTokens(usage)), r.input],
      [read, r.cacheRead],
      [created - created1h, r.cacheCreation],
      [created1h, r.cacheCreation1h],
      [count(usage.completion_tokens), r.output],
    ],
    false,
  );
}

/**
 * Upper bound of a call's cost for a budget reservation, in nano-dollars (rounded up): every
 * prompt token at the dearest input-side rate (input, cache read, cache write, one-hour cache
 * write), `maxOutputTokens` (default: the model's max output) at the output rate, in the tier
 * the prompt estimate falls in. Pass an upper-bound estimate (e.g. the body's byte length) for a
 * real bound; the settle step charges the actual cost.
 */
export function worstCaseNanos(price: Price, promptTokensEstimate: number, maxOutputTokens?: number | null): number {
  if (!price.known) return 0;
  const prompt = count(promptTokensEstimate);
  const out = count(maxOutputTokens) || (price.maxOutputTokens ?? 0);
  const r = ratesFor(price, prompt);
  const inRate = Math.max(r.input, r.cacheRead, r.cacheCreation, r.cacheCreation1h);
  return toNanos(
    [
      [prompt, inRate],
      [out, r.output],
    ],
    true,
  );
}

/** Nano-dollars as the USD float LiteLLM writes to `spend` columns (at the DB edge only). */
export function nanosToUsd(n: number): number {
  return n / NANOS_PER_USD;
}
