// Builds the price table at start (and on reload): the built-in table, extended and overridden by
// LiteLLM's price map fetched from `LITELLM_MODEL_COST_MAP_URL` (LiteLLM's GitHub raw file when
// unset), then by a local price file if one is given. As in LiteLLM,
// `LITELLM_LOCAL_MODEL_COST_MAP=True` means: do not fetch, use what ships with the gateway.
//
// Loading never throws and never leaves the gateway without prices: an unreachable URL, a
// timeout, an HTTP error, a body that is not JSON or not an object, or an unreadable file keeps
// what was loaded so far (at worst the built-in table) and adds a warning for the start log.
// Entries are taken whole (an entry from the map replaces the built-in entry of the same key);
// entries without a usable `input_cost_per_token` or `output_cost_per_token` (image, audio,
// search models, `sample_spec`) are ignored, and of the rest only the fields pricing reads are
// kept.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { usdRate } from './cost';
import { builtinPriceTable, type ModelPriceEntry, type PriceTable } from './price-table';

export const DEFAULT_COST_MAP_URL = 'https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json';
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export interface LoadPricesOptions {
  /** Environment to read LITELLM_MODEL_COST_MAP_URL / LITELLM_LOCAL_MODEL_COST_MAP from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Price map URL (http, https, file) or path; overrides the environment's. */
  url?: string | null;
  /** A local LiteLLM-format price file, applied last. */
  file?: string | null;
  /** Fetch timeout (default 5 s, LiteLLM's). */
  timeoutMs?: number;
  /** Largest price map accepted (default 64 MiB). */
  maxBytes?: number;
  /** Table to start from (default: the built-in one). */
  base?: PriceTable;
}

export interface LoadedPrices {
  table: PriceTable;
  /** One line per problem; empty when all went well. */
  warnings: string[];
  /** The warnings as one string for the start log, or null. */
  warning: string | null;
  /** What the table was built from, in order: 'builtin', then URLs / files that loaded. */
  sources: string[];
  /** Entries taken from the map / file, and entries ignored (no token prices). */
  added: number;
  ignored: number;
}

/** True for LiteLLM's truthy spellings of a boolean environment variable. */
function envTrue(v: string | undefined): boolean {
  return v !== undefined && /^(true|1|yes|on)$/i.test(v.trim());
}

const RATE_FIELD = /^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)(_above_1hr)?(_above_\d+k_tokens)?$/;

/** The pricing-relevant part of one map entry, or null when it has no token price. */
export function sanitizeEntry(raw: unknown): ModelPriceEntry | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  if (usdRate(r.input_cost_per_token) === undefined && usdRate(r.output_cost_per_token) === undefined) return null;
  const e: ModelPriceEntry = {};
  for (const [k, v] of Object.entries(r)) {
    if (RATE_FIELD.test(k)) {
      const usd = usdRate(v);
      if (usd !== undefined) e[k] = usd;
    } else if (k === 'litellm_provider' || k === 'mode') {
      if (typeof v === 'string') e[k] = v;
    } else if (k === 'max_input_tokens' || k === 'max_output_tokens' || k === 'max_tokens') {
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) e[k] = v;
    }
  }
  return Object.freeze(e);
}

/** Merges a parsed LiteLLM price map into `into`. Returns counts, or an error string. */
export function mergePriceMap(into: Map<string, Readonly<ModelPriceEntry>>, json: unknown): { added: number; ignored: number } | string {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return 'not a JSON object keyed by model name';
  let added = 0;
  let ignored = 0;
  for (const [key, raw] of Object.entries(json as Record<string, unknown>)) {
    if (key === 'sample_spec') continue;
    const e = sanitizeEntry(raw);
    if (e === null) {
      ignored++;
      continue;
    }
    into.set(key, e);
    added++;
  }
  return { added, ignored };
}

async function fetchText(url: string, timeoutMs: number, maxBytes: number): Promise<string> {
  if (/^file:/i.test(url)) return readFile(fileURLToPath(url), 'utf8');
  if (!/^https?:/i.test(url)) return readFile(url, 'utf8');
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`${declared} bytes is more than the ${maxBytes} accepted`);
  }
  const buf = Buffer.from(await res.arrayBuffer());
  if (buf.length > maxBytes) throw new Error(`${buf.length} bytes is more than the ${maxBytes} accepted`);
  return buf.toString('utf8');
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
    const cause = (e as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? cause.message : '';
    return detail && !e.message.includes(detail) ? `${e.message} (${detail})` : e.message;
  }
  return String(e);
}

/** Loads one source into `into`; returns a warning or null. */
async function loadSource(
  into: Map<string, Readonly<ModelPriceEntry>>,
  what: string,
  where: string,
  timeoutMs: number,
  maxBytes: number,
  counts: { added: number; ignored: number },
): Promise<string | null> {
  let text: string;
  try {
    text = await fetchText(where, timeoutMs, maxBytes);
  } catch (e) {
    return `${what} ${where} could not be read (${describe(e)}); keeping the prices loaded so far`;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return `${what} ${where} is not valid JSON (${describe(e)}); keeping the prices loaded so far`;
  }
  // mergePriceMap refuses a non-object before touching the table, and cannot fail half-way.
  const r = mergePriceMap(into, json);
  if (typeof r === 'string') return `${what} ${where} is ${r}; keeping the prices loaded so far`;
  if (r.added === 0) return `${what} ${where} has no entries with token prices; keeping the prices loaded so far`;
  counts.added += r.added;
  counts.ignored += r.ignored;
  return null;
}

/** The price table for this start: built-in ← URL (unless local-only) ← file. Never throws. */
export async function loadPriceTable(opts: LoadPricesOptions = {}): Promise<LoadedPrices> {
  const env = opts.env ?? process.env;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const table = opts.base ? new Map(opts.base) : builtinPriceTable();
  const warnings: string[] = [];
  const sources = ['builtin'];
  const counts = { added: 0, ignored: 0 };

  const localOnly = envTrue(env.LITELLM_LOCAL_MODEL_COST_MAP);
  const url = opts.url ?? env.LITELLM_MODEL_COST_MAP_URL ?? DEFAULT_COST_MAP_URL;
  if (!localOnly && url) {
    const w = await loadSource(table, 'price map', url, timeoutMs, maxBytes, counts);
    if (w) warnings.push(w);
    else sources.push(url);
  }
  if (opts.file) {
    const w = await loadSource(table, 'price file', opts.file, timeoutMs, maxBytes, counts);
    if (w) warnings.push(w);
    else sources.push(opts.file);
  }
  return { table, warnings, warning: warnings.length ? warnings.join('; ') : null, sources, ...counts };
}
