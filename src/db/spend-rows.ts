// A journal line → the rows LiteLLM would write for that request: one `LiteLLM_SpendLogs` row
// (get_logging_payload() in litellm/proxy/spend_tracking/spend_tracking_utils.py), one
// `LiteLLM_ErrorLogs` row for a failure, and the Daily* keys. Every value is cleaned first so that
// no record can make Postgres refuse a whole batch: a refused batch would hold the journal back.
import crypto from 'node:crypto';
import { NANOS_PER_USD, type CallType, type SpendRecord } from '../accounting/spend-record';

/** Longest identifier kept, in UTF-8 bytes: btree index entries must stay under ~2.7 KB. */
const MAX_ID_BYTES = 256;
const MAX_TEXT_CHARS = 10_000;
const INT4_MAX = 2_147_483_647;

// Postgres refuses NUL in text and lone surrogates in JSON; replace them, keep everything else
// byte for byte (SQL-looking text is data: it only ever travels as a bind parameter).
const BAD_CHARS = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/** Whether BAD_CHARS could match: one character class, far cheaper than the replace it spares. */
const MAYBE_BAD = /[\u0000\uD800-\uDFFF]/;

export function cleanText(v: unknown, maxChars = MAX_TEXT_CHARS): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : String(v);
  if (s.length > maxChars) s = s.slice(0, maxChars);
  return MAYBE_BAD.test(s) ? s.replace(BAD_CHARS, (c) => (c === '\u0000' ? '' : '\uFFFD')) : s;
}

export function cleanId(v: unknown): string {
  const s = cleanText(v, MAX_ID_BYTES);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most ids are short enough not to be measured.
  if (s.length * 3 <= MAX_ID_BYTES || Buffer.byteLength(s) <= MAX_ID_BYTES) return s;
  // Cut at a character boundary, never inside a surrogate pair.
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > MAX_ID_BYTES) break;
    out += ch;
    bytes += b;
  }
  return out;
}

const cleanIdOrNull = (v: unknown): string | null => (v === null || v === undefined || v === '' ? null : cleanId(v));

function cleanJson(v: unknown, depth = 0): unknown {
  if (depth > 20) return null;
  if (typeof v === 'string') return cleanText(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v === null || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => cleanJson(x, depth + 1));
  if (typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[cleanText(k, 1000)] = cleanJson(x, depth + 1);
    return o;
  }
  return null;
}

function int(v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n) || n < 0) return 0;
  return Math.min(Math.round(n), max);
}

function ms(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : Number(v);
  // Dates between 2000 and 2200; anything else is a bug upstream, not a time.
  return Number.isFinite(n) && n > 946_684_800_000 && n < 7_258_118_400_000 ? Math.round(n) : fallback;
}

const CALL_TYPES: ReadonlySet<string> = new Set(['acompletion', 'anthropic_messages', 'aresponses', 'aembedding', 'pass_through_endpoint']);

/**
 * A journal record made safe to write. `where` (segment, and the record's end offset as `end` or
 * already in it: `segment:end`) names records that lack a request id, so that a re-read gives
 * them the same id again.
 */
export function normalizeRecord(raw: Partial<SpendRecord>, where: string, end?: number): SpendRecord {
  const now = Date.now();
  const endMs = ms(raw.end_ms, ms(raw.start_ms, now));
  const start = ms(raw.start_ms, endMs);
  const rid = cleanId(raw.request_id);
  const callId = cleanId(raw.call_id);
  const err = raw.error && typeof raw.error === 'object' ? raw.error : undefined;
  // One object literal, the optional fields set after it: no spread of a temporary per record.
  const out: SpendRecord = {
    request_id: rid || `weir-${crypto.createHash('sha256').update(end === undefined ? where : `${where}:${end}`).digest('hex').slice(0, 32)}`,
    call_type: (CALL_TYPES.has(String(raw.call_type)) ? raw.call_type : cleanId(raw.call_type) || 'acompletion') as CallType,
    api_key: cleanId(raw.api_key),
    spend_nanos: int(raw.spend_nanos),
    prompt_tokens: int(raw.prompt_tokens, INT4_MAX),
    completion_tokens: int(raw.completion_tokens, INT4_MAX),
    cache_read_input_tokens: int(raw.cache_read_input_tokens, INT4_MAX),
    cache_creation_input_tokens: int(raw.cache_creation_input_tokens, INT4_MAX),
    start_ms: start,
    end_ms: endMs,
    completion_start_ms: ms(raw.completion_start_ms, endMs),
    model: cleanId(raw.model),
    model_id: cleanId(raw.model_id),
    model_group: cleanId(raw.model_group),
    custom_llm_provider: cleanId(raw.custom_llm_provider),
    api_base: cleanId(raw.api_base),
    user_id: cleanId(raw.user_id),
    team_id: cleanIdOrNull(raw.team_id),
    organization_id: cleanIdOrNull(raw.organization_id),
    end_user: cleanIdOrNull(raw.end_user),
    key_alias: raw.key_alias == null ? null : cleanText(raw.key_alias, 1000),
    team_alias: raw.team_alias == null ? null : cleanText(raw.team_alias, 1000),
    request_tags: Array.isArray(raw.request_tags) ? (raw.request_tags.length === 0 ? [] : raw.request_tags.map(cleanId).filter((t) => t !== '')) : [],
    session_id: cleanId(raw.session_id),
    status: raw.status === 'failure' ? 'failure' : 'success',
    requester_ip_address: cleanIdOrNull(raw.requester_ip_address),
    spend_logs_metadata:
      raw.spend_logs_metadata && typeof raw.spend_logs_metadata === 'object' ? (cleanJson(raw.spend_logs_metadata) as Record<string, unknown>) : null,
    overhead_ms: typeof raw.overhead_ms === 'number' && Number.isFinite(raw.overhead_ms) && raw.overhead_ms >= 0 ? raw.overhead_ms : 0,
    attempted_retries: int(raw.attempted_retries, 1000),
  };
  if (callId) out.call_id = callId;
  if (err) out.error = { status: int(err.status, 999), message: cleanText(err.message), type: cleanText(err.type, 200) };
  return out;
}

const iso = (t: number): string => new Date(t).toISOString();

/** USD as LiteLLM stores it (a float); the exact amount travels as integer nanos until here. */
export const usd = (nanos: number): number => nanos / NANOS_PER_USD;

/** `YYYY-MM-DD` of the request's start, in UTC: the Daily* tables' `date`. */
export const utcDate = (t: number): string => iso(t).slice(0, 10);

/**
 * The `LiteLLM_SpendLogs` row, keyed by column name: the definition of the row LiteLLM writes.
 * The spend writer sends rows as column arrays (spend-log-columns.ts), tested equal to this.
 */
export function spendLogRow(r: SpendRecord): Record<string, unknown> {
  const failed = r.status === 'failure';
  const metadata = {
    user_api_key: r.api_key,
    user_api_key_alias: r.key_alias,
    user_api_key_team_id: r.team_id,
    user_api_key_team_alias: r.team_alias,
    user_api_key_org_id: r.organization_id,
    user_api_key_user_id: r.user_id || null,
    user_api_key_end_user_id: r.end_user,
    spend_logs_metadata: r.spend_logs_metadata,
    requester_ip_address: r.requester_ip_address,
    additional_usage_values: {
      cache_read_input_tokens: r.cache_read_input_tokens,
      cache_creation_input_tokens: r.cache_creation_input_tokens,
    },
    status: r.status,
    error_information: failed && r.error ? { error_code: String(r.error.status), error_class: r.error.type, error_message: r.error.message } : null,
    litellm_overhead_time_ms: r.overhead_ms,
    attempted_retries: r.attempted_retries,
    litellm_call_id: r.call_id ?? null,
    ...(r.upstream_request_id ? { upstream_request_id: r.upstream_request_id } : {}),
  };
  return {
    request_id: r.request_id,
    call_type: r.call_type,
    api_key: r.api_key,
    spend: usd(r.spend_nanos),
    total_tokens: Math.min(r.prompt_tokens + r.completion_tokens, INT4_MAX),
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    startTime: iso(r.start_ms),
    endTime: iso(r.end_ms),
    request_duration_ms: Math.min(Math.max(0, r.end_ms - r.start_ms), INT4_MAX),
    completionStartTime: iso(r.completion_start_ms),
    model: r.model,
    model_id: r.model_id,
    model_group: r.model_group,
    custom_llm_provider: r.custom_llm_provider,
    api_base: r.api_base,
    user: r.user_id,
    metadata: JSON.stringify(metadata),
    cache_hit: 'False',
    cache_key: 'Cache OFF',
    request_tags: JSON.stringify(r.request_tags),
    team_id: r.team_id,
    organization_id: r.organization_id,
    end_user: r.end_user ?? '',
    requester_ip_address: r.requester_ip_address,
    messages: '{}',
    response: '{}',
    session_id: r.session_id || null,
    status: r.status,
    proxy_server_request: '{}',
  };
}

/** The `LiteLLM_ErrorLogs` row of a failed request, keyed by column name. */
export function errorLogRow(r: SpendRecord): Record<string, unknown> {
  return {
    request_id: r.request_id,
    startTime: iso(r.start_ms),
    endTime: iso(r.end_ms),
    api_base: r.api_base,
    model_group: r.model_group,
    litellm_model_name: r.model,
    model_id: r.model_id,
    // Never the request body (it may hold secrets or prompts): who called and what for.
    request_kwargs: JSON.stringify({ call_type: r.call_type, user_api_key: r.api_key, team_id: r.team_id, end_user: r.end_user }),
    exception_type: r.error?.type ?? '',
    exception_string: r.error?.message ?? '',
    status_code: r.error ? String(r.error.status) : '',
  };
}
