// zod schemas for the parts of a LiteLLM config.yaml that Weir acts on (see ./types.ts).
// Every object is loose: LiteLLM ignores keys it does not know, so we keep them untouched.
// Values arrive after `os.environ/` substitution, so numbers and booleans may be strings
// (`timeout: os.environ/TIMEOUT` → "30"); typed numeric/boolean fields coerce such strings.

import { z } from 'zod';
import { MAX_BUDGET_USD } from '../state/entity-range';
import { ConfigError, describeFound, formatPath, type ConfigIssue } from './errors';
import type { LiteLLMConfig } from './types';
import { agentSettingsSchema, toAgentSettings } from './agent-settings';

export const ROUTING_STRATEGIES = [
  'simple-shuffle',
  'least-busy',
  'usage-based-routing',
  'usage-based-routing-v2',
  'latency-based-routing',
  'cost-based-routing',
] as const;

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function numericStringToNumber(v: unknown): unknown {
  return typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : v;
}

function boolStringToBool(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return s === 'true' ? true : s === 'false' ? false : v;
}

/** A YAML `key:` with no value parses as null; for optional fields LiteLLM treats that as unset. */
function opt<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null ? undefined : v), schema.optional());
}

/** Drops keys whose value became undefined (from `opt`), so `'api_base' in params` stays honest. */
function dropUndefined<T extends object>(obj: T): T {
  for (const key of Object.keys(obj)) {
    if ((obj as Record<string, unknown>)[key] === undefined) delete (obj as Record<string, unknown>)[key];
  }
  return obj;
}

function loose<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.looseObject(shape, { error: 'expected a mapping' }).transform(dropUndefined);
}

/** A section that may be absent or null (→ {}). */
function section<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess((v) => v ?? {}, loose(shape));
}

function numeric(expected: string, ok: (n: number) => boolean) {
  const error = `expected ${expected}`;
  return z.preprocess(numericStringToNumber, z.number({ error }).refine(ok, { error }));
}

const positive = () => opt(numeric('a number greater than 0', (n) => n > 0));
const nonNegative = () => opt(numeric('a number >= 0', (n) => n >= 0));
/** USD the shared int64 nano-dollar counters can hold (see src/state/entity-range.ts). */
const budget = () => opt(numeric('a number >= 0 and at most 1e9 (USD)', (n) => n >= 0 && n <= MAX_BUDGET_USD));
const count = () => opt(numeric('an integer >= 0', (n) => Number.isInteger(n) && n >= 0));
const bool = () => opt(z.preprocess(boolStringToBool, z.boolean({ error: 'expected true or false' })));
const str = () => opt(z.string({ error: 'expected a string' }));
const requiredStr = () =>
  z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });

/** Numbers and booleans are turned into strings: `X-Version: 2` is a fine header in YAML. */
const scalarAsString = z.preprocess(
  (v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v),
  z.string({ error: 'expected a string' }),
);

export const litellmParamsSchema = loose({
  model: requiredStr(),
  api_key: str(),
  api_base: str(),
  api_version: str(),
  timeout: positive(),
  stream_timeout: positive(),
  max_retries: count(),
  rpm: nonNegative(),
  tpm: nonNegative(),
  weight: nonNegative(),
  order: count(),
  cooldown_time: nonNegative(),
  extra_headers: opt(z.record(z.string(), scalarAsString, { error: 'expected a mapping of header names to strings' })),
  headers: opt(z.record(z.string(), scalarAsString, { error: 'expected a mapping of header names to strings' })),
});

export const modelInfoSchema = loose({
  // Deployment ids are often written as bare numbers (`id: 1`); LiteLLM uses them as strings.
  id: opt(z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string({ error: 'expected a string' }))),
});

export const deploymentSchema = loose({
  model_name: requiredStr(),
  litellm_params: litellmParamsSchema,
  model_info: opt(modelInfoSchema),
});

export const generalSettingsSchema = section({
  master_key: str(),
  database_url: str(),
  max_request_size_mb: positive(),
  /** Weir's own: the largest non-streamed upstream answer it buffers (LiteLLM has no limit). */
  max_response_size_mb: positive(),
  litellm_key_header_name: str(),
  allow_requests_on_db_unavailable: bool(),
  proxy_batch_write_at: positive(),
  /** Seconds between runs of the budget reset job (LiteLLM runs it every 597–605 s; Weir every 60 s unless set). */
  proxy_budget_rescheduler_min_time: positive(),
  disable_spend_logs: bool(),
});

export const litellmSettingsSchema = section({
  request_timeout: positive(),
  num_retries: count(),
  drop_params: bool(),
  max_budget: budget(),
  max_end_user_budget: budget(),
  max_end_user_budget_id: str(),
  budget_duration: str(),
});

export const routerSettingsSchema = section({
  routing_strategy: opt(z.enum(ROUTING_STRATEGIES, { error: `expected one of ${ROUTING_STRATEGIES.join(', ')}` })),
  num_retries: count(),
  timeout: positive(),
  stream_timeout: positive(),
  allowed_fails: count(),
  cooldown_time: nonNegative(),
  disable_cooldowns: bool(),
});

export const configSchema = loose({
  model_list: z.preprocess((v) => v ?? [], z.array(deploymentSchema, { error: 'expected a list of deployments' })),
  general_settings: generalSettingsSchema,
  litellm_settings: litellmSettingsSchema,
  router_settings: routerSettingsSchema,
  environment_variables: z.preprocess(
    (v) => v ?? {},
    z.record(z.string(), scalarAsString, { error: 'expected a mapping of variable names to strings' }),
  ),
  agent_settings: agentSettingsSchema.transform(toAgentSettings),
});

export interface ValidateHints {
  /** YAML path → env var name, for values that came from `os.environ/VAR` (their text is not echoed). */
  envRefs?: ReadonlyMap<string, string>;
  /** Suffix naming where a value was defined (e.g. ` (in models.yaml)`), for included files. */
  originOf?: (segments: readonly PropertyKey[]) => string;
}

/** Values under these paths may be credentials: an error names their type, never their content. */
const SECRET_PATH = /key|token|secret|password|credential|master|headers|database_url|authorization/i;

/** Validates an env-resolved config tree; throws ConfigError listing the problems found. */
export function validateConfig(data: unknown, hints: ValidateHints = {}): LiteLLMConfig {
  const result = configSchema.safeParse(data);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const envVar = hints.envRefs?.get(path);
    // Don't print the value of an env var: a misplaced reference could point at a secret.
    const value = valueAt(data, issue.path);
    const found = envVar
      ? `got string from os.environ/${envVar} (value not shown)`
      : SECRET_PATH.test(path) && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        ? `got ${typeof value} (value not shown)`
        : describeFound(value);
    const detail = issue.message.startsWith('expected') ? `${issue.message}, ${found}` : issue.message;
    return { path, detail: detail + (hints.originOf?.(issue.path) ?? '') };
  });
  throw new ConfigError(issues);
}

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  let cur = root;
  for (const seg of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}
