// Request validation shared by the entity files. A body that does not fit its schema is refused
// before anything is written: wrong types and missing required fields answer 422 (what FastAPI's
// pydantic validation answers in LiteLLM), bad values (negative budgets, budgets past what the
// shared counters hold, malformed durations, oversized JSON, keys without `sk-`) answer 400.
// `param` names the field at fault.
import { z } from 'zod';
import { MAX_BUDGET_USD, MAX_RATE_LIMIT } from '../state/entity-range';
import { AdminError } from './errors';
import { isValidDuration } from './durations';

/** Largest JSON object accepted in one field (metadata, config, permissions, …). */
export const MAX_JSON_FIELD_BYTES = 64 * 1024;

const TYPE_CODES = new Set(['invalid_type', 'invalid_value', 'invalid_union', 'invalid_key', 'invalid_element', 'unrecognized_keys']);

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const input = body === undefined || body === null ? {} : body;
  if (typeof input !== 'object' || Array.isArray(input)) throw new AdminError(422, 'Request body must be a JSON object', null);
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = issue.path.map(String).join('.') || null;
  const status = TYPE_CODES.has(issue.code) ? 422 : 400;
  throw new AdminError(status, param ? `${param}: ${issue.message}` : issue.message, param);
}

// ---- field schemas ---------------------------------------------------------------------------------

/**
 * JSON's 1e400 parses to Infinity, which zod's number type refuses as a wrong type (422); it is a
 * number, only out of range, so it meets the range check (400) like 1e308 does.
 */
const infinityAsHuge = (v: unknown): unknown => (v === Infinity ? Number.MAX_VALUE : v === -Infinity ? -Number.MAX_VALUE : v);

const MONEY_RANGE = `must be at most 1e9 USD (${MAX_BUDGET_USD}), the most a budget or spend can hold`;
const LIMIT_RANGE = `must be at most ${MAX_RATE_LIMIT}`;

/** USD in [0, MAX_BUDGET_USD]: the shared counters keep it in int64 nano-dollars. */
export const money = z.preprocess(infinityAsHuge, z.number().nonnegative({ message: 'must be a non-negative number' }).max(MAX_BUDGET_USD, { message: MONEY_RANGE }));
/** rpm / tpm / max_parallel_requests: an integer in [0, MAX_RATE_LIMIT] (Int32 counters). */
export const limit = z.preprocess(
  infinityAsHuge,
  z.number().int({ message: 'must be an integer' }).nonnegative({ message: 'must be a non-negative integer' }).max(MAX_RATE_LIMIT, { message: LIMIT_RANGE }),
);
export const text = z.string();
export const texts = z.array(z.string());
export const duration = z.string().refine(isValidDuration, {
  message: 'invalid duration: expected a number followed by s, m, h, d, w or mo (e.g. 30s, 30m, 24h, 30d, 1w, 1mo)',
});

function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');
}

/** A JSON object of at most MAX_JSON_FIELD_BYTES once serialised. */
export const jsonObject = z
  .record(z.string(), z.unknown())
  .refine((v) => jsonBytes(v) <= MAX_JSON_FIELD_BYTES, { message: `too large: at most ${MAX_JSON_FIELD_BYTES} bytes of JSON` });

/** Per-model rpm / tpm limits (`model_rpm_limit`, `model_tpm_limit`). */
export const numberMap = z.record(z.string(), z.preprocess(infinityAsHuge, z.number().nonnegative({ message: 'must be a non-negative number' }).max(MAX_RATE_LIMIT, { message: LIMIT_RANGE })));

const MONEY_FIELDS = new Set(['budget_limit', 'max_budget', 'soft_budget']);
const LIMIT_FIELDS = new Set(['rpm_limit', 'tpm_limit', 'max_parallel_requests']);

function outOfRange(v: unknown, max: number): boolean {
  return typeof v === 'number' && !(v <= max);
}

/**
 * `model_max_budget`: {"model": {"budget_limit": 5, "time_period": "1d"}} (LiteLLM's per-model
 * budgets; BudgetConfig spells them max_budget / rpm_limit / tpm_limit too, older keys a bare
 * number). The amounts meet the same ranges as the top-level fields; the rest is kept as sent.
 */
export const modelMaxBudget = jsonObject.superRefine((v, ctx) => {
  for (const [model, entry] of Object.entries(v)) {
    const e = infinityAsHuge(entry);
    if (outOfRange(e, MAX_BUDGET_USD)) ctx.addIssue({ code: 'custom', message: MONEY_RANGE, path: [model] });
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) continue;
    for (const [field, amount] of Object.entries(entry as Record<string, unknown>)) {
      const max = MONEY_FIELDS.has(field) ? MAX_BUDGET_USD : LIMIT_FIELDS.has(field) ? MAX_RATE_LIMIT : null;
      if (max !== null && outOfRange(infinityAsHuge(amount), max)) {
        ctx.addIssue({ code: 'custom', message: max === MAX_BUDGET_USD ? MONEY_RANGE : LIMIT_RANGE, path: [model, field] });
      }
    }
  }
});

/** `field?: T | null` */
export const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** The budget fields shared by BudgetTable-backed entities (customers, organizations, budgets). */
export const budgetFields = {
  max_budget: opt(money),
  soft_budget: opt(money),
  max_parallel_requests: opt(limit),
  tpm_limit: opt(limit),
  rpm_limit: opt(limit),
  budget_duration: opt(duration),
  model_max_budget: opt(modelMaxBudget),
};

// ---- query parameters ------------------------------------------------------------------------------

export function qInt(query: Record<string, string>, name: string, def: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === '') return def;
  if (!/^-?\d+$/.test(raw)) throw new AdminError(422, `${name}: must be an integer`, name);
  const n = Number(raw);
  if (n < min || n > max) throw new AdminError(422, `${name}: must be between ${min} and ${max}`, name);
  return n;
}

export function qBool(query: Record<string, string>, name: string, def: boolean): boolean {
  const raw = query[name];
  if (raw === undefined || raw === '') return def;
  const v = raw.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw new AdminError(422, `${name}: must be true or false`, name);
}

export function qStr(query: Record<string, string>, name: string): string | null {
  const raw = query[name];
  return raw === undefined || raw === '' ? null : raw;
}

/** `YYYY-MM-DD` (or a full ISO date-time); 400 otherwise. */
export function qDate(query: Record<string, string>, name: string): string | null {
  const raw = qStr(query, name);
  if (raw === null) return null;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(raw) || Number.isNaN(new Date(raw.slice(0, 10)).getTime())) {
    throw new AdminError(400, `${name}: invalid date '${raw}', expected YYYY-MM-DD`, name);
  }
  return raw;
}
