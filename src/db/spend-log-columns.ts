// A batch of records → its `LiteLLM_SpendLogs` rows in ONE statement, one array parameter per
// column (binary, pg-array.ts): `INSERT … SELECT … FROM unnest($1::text[], $2::float8[], …)`.
// The rows are exactly spendLogRow()'s (spend-rows.ts, the row LiteLLM writes; the
// db-spend-log-columns test holds the two equal on the stored rows), but the control thread
// builds no object per row: each record adds one element to each column's array, and what is the
// same for every row, or derived from other columns, is computed by PostgreSQL in the SELECT:
//   - the three timestamps travel as epoch milliseconds; `'epoch'::timestamp + ms × 1 ms` is the
//     UTC wall time the ISO text gave (exact: ms × 1000 µs stays below 2^53 until the year 2255);
//   - `metadata` is jsonb_build_object() over the columns; its integers travel as int8 and its one
//     float as `numeric` text, the type a JSON text's numbers are read as, so the stored jsonb is
//     the one the JSON text made;
//   - cache_hit, cache_key, messages, response and proxy_server_request are constants.
// The statement answers the request ids it did NOT write (taken by a row already there): the
// caller re-keys those, and the usual batch answers nothing instead of every id.
import { q } from './schema';
import { KeptBuffer } from '../kept-buffer';
import { ArrayParam, COLUMN_START_BYTES, numericLiteral, type ElementType } from './pg-array';
import type { SpendRecord } from '../accounting/spend-record';
import { NANOS_PER_USD } from '../accounting/spend-record';

const INT4_MAX = 2_147_483_647;

/** One input column of the unnest: its name, its type and what a record adds to it (a numeric column's numbers become one text literal a statement). */
type Input =
  | { name: string; type: ElementType; add(col: ArrayParam, r: SpendRecord): void }
  | { name: string; type: 'numeric'; get(r: SpendRecord): number };

const text = (name: string, get: (r: SpendRecord) => string | null | undefined): Input => ({ name, type: 'text', add: (c, r) => c.text(get(r)) });
const json = (name: string, get: (r: SpendRecord) => string | null): Input => ({ name, type: 'jsonb', add: (c, r) => c.text(get(r)) });
const num = (name: string, type: 'float8' | 'int8', get: (r: SpendRecord) => number): Input => ({ name, type, add: (c, r) => c.number(get(r)) });

/** What each record contributes; the order is the unnest's and so the parameters'. */
const INPUTS: readonly Input[] = [
  text('request_id', (r) => r.request_id),
  text('call_type', (r) => r.call_type),
  text('api_key', (r) => r.api_key),
  num('spend', 'float8', (r) => r.spend_nanos / NANOS_PER_USD),
  num('total_tokens', 'int8', (r) => Math.min(r.prompt_tokens + r.completion_tokens, INT4_MAX)),
  num('prompt_tokens', 'int8', (r) => r.prompt_tokens),
  num('completion_tokens', 'int8', (r) => r.completion_tokens),
  num('start_ms', 'int8', (r) => r.start_ms),
  num('end_ms', 'int8', (r) => r.end_ms),
  num('request_duration_ms', 'int8', (r) => Math.min(Math.max(0, r.end_ms - r.start_ms), INT4_MAX)),
  num('completion_start_ms', 'int8', (r) => r.completion_start_ms),
  text('model', (r) => r.model),
  text('model_id', (r) => r.model_id),
  text('model_group', (r) => r.model_group),
  text('custom_llm_provider', (r) => r.custom_llm_provider),
  text('api_base', (r) => r.api_base),
  text('user', (r) => r.user_id),
  json('request_tags', (r) => (r.request_tags.length === 0 ? '[]' : JSON.stringify(r.request_tags))),
  text('team_id', (r) => r.team_id),
  text('organization_id', (r) => r.organization_id),
  text('end_user', (r) => r.end_user),
  text('requester_ip_address', (r) => r.requester_ip_address),
  text('session_id', (r) => r.session_id || null),
  text('status', (r) => r.status),
  // Only for the metadata:
  text('key_alias', (r) => r.key_alias),
  text('team_alias', (r) => r.team_alias),
  json('spend_logs_metadata', (r) => (r.spend_logs_metadata ? JSON.stringify(r.spend_logs_metadata) : null)),
  num('cache_read_input_tokens', 'int8', (r) => r.cache_read_input_tokens),
  num('cache_creation_input_tokens', 'int8', (r) => r.cache_creation_input_tokens),
  text('error_code', (r) => (r.status === 'failure' && r.error ? String(r.error.status) : null)),
  text('error_class', (r) => (r.status === 'failure' && r.error ? r.error.type : null)),
  text('error_message', (r) => (r.status === 'failure' && r.error ? r.error.message : null)),
  // A float in the JSON: numeric, as the JSON text's number was read (see numericLiteral).
  { name: 'overhead_ms', type: 'numeric', get: (r) => r.overhead_ms },
  num('attempted_retries', 'int8', (r) => r.attempted_retries),
  text('call_id', (r) => r.call_id),
  text('upstream_request_id', (r) => r.upstream_request_id),
];

const ts = (col: string): string => `'epoch'::timestamp + d.${q(col)} * interval '1 millisecond'`;

/** Each LiteLLM_SpendLogs column Weir writes, as an expression over the unnest's row `d`. */
const OUTPUTS: readonly [string, string][] = [
  ['request_id', 'd."request_id"'],
  ['call_type', 'd."call_type"'],
  ['api_key', 'd."api_key"'],
  ['spend', 'd."spend"'],
  ['total_tokens', 'd."total_tokens"'],
  ['prompt_tokens', 'd."prompt_tokens"'],
  ['completion_tokens', 'd."completion_tokens"'],
  ['startTime', ts('start_ms')],
  ['endTime', ts('end_ms')],
  ['request_duration_ms', 'd."request_duration_ms"'],
  ['completionStartTime', ts('completion_start_ms')],
  ['model', 'd."model"'],
  ['model_id', 'd."model_id"'],
  ['model_group', 'd."model_group"'],
  ['custom_llm_provider', 'd."custom_llm_provider"'],
  ['api_base', 'd."api_base"'],
  ['user', 'd."user"'],
  [
    'metadata',
    `jsonb_build_object(
      'user_api_key', d."api_key", 'user_api_key_alias', d."key_alias", 'user_api_key_team_id', d."team_id",
      'user_api_key_team_alias', d."team_alias", 'user_api_key_org_id', d."organization_id",
      'user_api_key_user_id', NULLIF(d."user", ''), 'user_api_key_end_user_id', d."end_user",
      'spend_logs_metadata', d."spend_logs_metadata", 'requester_ip_address', d."requester_ip_address",
      'additional_usage_values', jsonb_build_object('cache_read_input_tokens', d."cache_read_input_tokens", 'cache_creation_input_tokens', d."cache_creation_input_tokens"),
      'status', d."status",
      'error_information', CASE WHEN d."error_code" IS NULL THEN NULL ELSE jsonb_build_object('error_code', d."error_code", 'error_class', d."error_class", 'error_message', d."error_message") END,
      'litellm_overhead_time_ms', d."overhead_ms", 'attempted_retries', d."attempted_retries", 'litellm_call_id', d."call_id"
    ) || CASE WHEN d."upstream_request_id" <> '' THEN jsonb_build_object('upstream_request_id', d."upstream_request_id") ELSE '{}'::jsonb END`,
  ],
  ['cache_hit', `'False'`],
  ['cache_key', `'Cache OFF'`],
  ['request_tags', 'd."request_tags"'],
  ['team_id', 'd."team_id"'],
  ['organization_id', 'd."organization_id"'],
  ['end_user', `COALESCE(d."end_user", '')`],
  ['requester_ip_address', 'd."requester_ip_address"'],
  ['messages', `'{}'::jsonb`],
  ['response', `'{}'::jsonb`],
  ['session_id', 'd."session_id"'],
  ['status', 'd."status"'],
  ['proxy_server_request', `'{}'::jsonb`],
];

/** The statement for the columns the table has (cached per column set by the caller). */
export function spendLogsStatement(have: ReadonlySet<string>): string {
  const outs = OUTPUTS.filter(([c]) => have.has(c));
  const params = INPUTS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
  const names = INPUTS.map((c) => q(c.name)).join(', ');
  return `WITH ins AS (
    INSERT INTO "LiteLLM_SpendLogs" (${outs.map(([c]) => q(c)).join(', ')})
    SELECT ${outs.map(([, e]) => e).join(', ')} FROM unnest(${params}) AS d(${names})
    ON CONFLICT ("request_id") DO NOTHING RETURNING "request_id")
  SELECT u.id AS request_id FROM unnest($1::text[]) AS u(id) EXCEPT SELECT "request_id" FROM ins`;
}

/** Rows per statement: bounds one statement's parameters (~0.5 MB; 500–2,000 cost the same per row). */
export const MAX_ROWS_PER_STATEMENT = 1_000;

/** The record under its own call id, the upstream's id kept; null for journals without call ids. */
export function rekeyed(r: SpendRecord): SpendRecord | null {
  return r.call_id && r.call_id !== r.request_id ? { ...r, request_id: r.call_id, upstream_request_id: r.request_id } : null;
}

/**
 * The request id each record of a batch is written under: the upstream's response id (lookups by
 * it work as in LiteLLM) unless an earlier record of the batch took it; then the record's own
 * call id. Given the same records in the same order, it gives the same ids again.
 */
export class FirstIds {
  private readonly seen = new Set<string>();

  row(r: SpendRecord): SpendRecord {
    if (this.seen.has(r.request_id)) return rekeyed(r) ?? r;
    this.seen.add(r.request_id);
    return r;
  }
}

/**
 * Each column's buffer from the last statement sent, for the next one (kept-buffer.ts): a
 * statement's arrays are ~0.5 MB for 1,000 rows, and fresh ones grown from 4 KB by doubling were a
 * megabyte of dead buffers a statement (issue 15). A column larger than 2 MB (long error messages)
 * is not kept.
 */
const keptColumns = INPUTS.map(() => new KeptBuffer(2 * 1024 * 1024, 1024));

/** One statement's parameters, and the column buffers they lie in. */
interface Sealed {
  params: (Buffer | string)[];
  memory: (Buffer | undefined)[];
}

/**
 * A batch's SpendLogs rows, built as its records are added: each record becomes one element of
 * each column's array at once, so the batch holds no record (the spend writer's records die young
 * instead of filling the control thread's young generation). Every MAX_ROWS_PER_STATEMENT rows
 * are one statement's parameters.
 */
export class SpendLogRows {
  private readonly ids = new FirstIds();
  private readonly sealed: Sealed[] = [];
  private cols: (ArrayParam | number[])[] = [];
  private open = 0;
  private count = 0;

  constructor(private readonly perStatement = MAX_ROWS_PER_STATEMENT) {}

  static of(records: readonly SpendRecord[]): SpendLogRows {
    const rows = new SpendLogRows();
    for (const r of records) rows.add(r);
    return rows;
  }

  get size(): number {
    return this.count;
  }

  add(r: SpendRecord): void {
    const row = this.ids.row(r);
    if (this.open === 0) this.cols = INPUTS.map((c, i) => (c.type === 'numeric' ? [] : new ArrayParam(c.type, keptColumns[i]!.take(COLUMN_START_BYTES))));
    for (let i = 0; i < INPUTS.length; i++) {
      const input = INPUTS[i]!;
      const col = this.cols[i]!;
      if (input.type === 'numeric') (col as number[]).push(input.get(row));
      else input.add(col as ArrayParam, row);
    }
    this.count++;
    if (++this.open === this.perStatement) this.seal();
  }

  /** Each statement's parameters: one array per input column (binary, numeric as text). */
  statements(): (Buffer | string)[][] {
    if (this.open) this.seal();
    return this.sealed.map((s) => s.params);
  }

  /**
   * Once every statement is sent (its parameters copied into the request: bound-statement.ts),
   * their column buffers go to the next batch. The rows are spent: nothing reads them after this.
   */
  recycle(): void {
    for (const s of this.sealed) s.memory.forEach((b, i) => b && keptColumns[i]!.giveBack(b));
    this.sealed.length = 0;
  }

  private seal(): void {
    this.sealed.push({
      params: this.cols.map((c) => (Array.isArray(c) ? numericLiteral(c) : c.finish())),
      memory: this.cols.map((c) => (Array.isArray(c) ? undefined : c.memory)),
    });
    this.cols = [];
    this.open = 0;
  }
}
