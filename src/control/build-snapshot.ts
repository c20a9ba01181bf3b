// Turns a validated config into the snapshot workers serve from: every deployment resolved to a
// provider target (URL, headers, timeouts) once, so a request only looks things up.
import { createHash } from 'node:crypto';
import { ConfigError } from '../config/errors';
import type { Deployment, LiteLLMConfig } from '../config/types';
import { sha256 } from '../gateway/auth';
import { priceOverrides, resolvePrice } from '../pricing/cost';
import { builtinPriceTable, type PriceTable } from '../pricing/price-table';
import type { RoutingStrategy } from '../gateway/pick';
import { addTarget, newGroup } from '../gateway/model-groups';
import type { ModelGroup, Snapshot, Target, WildcardDeployment, WildcardRoute } from '../gateway/snapshot';
import { OPENAI_COMPATIBLE } from '../providers/openai';
import { shownUrl } from '../providers/base-url';
import { providerTarget, splitModel } from '../providers/registry';
import { paramRules } from '../gateway/param-rules';
import type { SlotTable } from './slots';
import { metricsSettings } from '../metrics/settings';

export const DEFAULT_MAX_BODY_MB = 64;
/** Non-streamed upstream answers are buffered (to read usage, to translate): never past this. */
export const DEFAULT_MAX_RESPONSE_MB = 128;
const BUILTIN_PRICES: PriceTable = builtinPriceTable();
/** LiteLLM's default request timeout when none is configured (seconds): the Router's 10 minutes. */
const DEFAULT_TIMEOUT_S = 600;
/** LiteLLM Router's default when neither router_settings nor litellm_settings sets num_retries. */
const DEFAULT_NUM_RETRIES = 2;
const DEFAULT_ALLOWED_FAILS = 3;
const DEFAULT_COOLDOWN_S = 5;
/** LiteLLM's fixed `created` for proxy models in /v1/models. */
const MODELS_CREATED = 1677610602;

export interface SnapshotOptions {
  version: number;
  /** The price table (built-in, extended from LITELLM_MODEL_COST_MAP_URL / a file). */
  prices?: PriceTable;
  detailedDebug: boolean;
  env: NodeJS.ProcessEnv;
  slots: SlotTable;
}

/** The ids of the deployments a snapshot serves (each holds a slot of the health table). */
export function snapshotIds(s: Snapshot): Set<string> {
  const ids = new Set<string>();
  for (const g of s.groups.values()) for (const t of g.targets) ids.add(t.id);
  for (const w of s.wildcards) for (const d of w.deployments) for (const t of Object.values(d.variants)) ids.add(t.id);
  return ids;
}

/** LiteLLM derives an id from the deployment's params when model_info.id is absent. */
export function deploymentId(d: Deployment): string {
  if (d.model_info?.id) return d.model_info.id;
  return createHash('sha256').update(JSON.stringify({ model_name: d.model_name, litellm_params: d.litellm_params })).digest('hex');
}

/** The deployment's target; `model` replaces litellm_params.model (a wildcard's provider variants). */
function buildTarget(d: Deployment, index: number, cfg: LiteLLMConfig, opts: SnapshotOptions, model = d.litellm_params.model): Target {
  const lp = d.litellm_params;
  // custom_llm_provider applies to the model as written (a wildcard's variants name their provider).
  const { provider, upstreamModel } = splitModel(model, model === lp.model ? lp.custom_llm_provider : undefined);
  const apiBaseVar = cfg.deployment_env?.[index]?.apiBaseVar;
  const { notServed, ...pt } = providerTarget({ provider, upstreamModel, apiKey: lp.api_key, apiBase: lp.api_base, apiBaseVar, apiVersion: lp.api_version, litellm: lp, env: opts.env });
  // A variable of litellm_params that is not set: the deployment cannot be called (LiteLLM starts with it and fails its calls).
  // A provider Weir does not serve is named first: setting the variable would not help.
  const unset = cfg.deployment_env?.[index]?.unset;
  if (unset?.length) {
    const vars = unset.map((u) => `${u.path}: environment variable ${u.name} is not set`).join('; ');
    pt.unavailable = notServed ? `${pt.unavailable}; also ${vars}` : vars;
  }
  const headers = pt.headers.slice();
  const secrets = pt.secrets.slice();
  // headers, then extra_headers, override the provider's own (e.g. a gateway token in Authorization).
  for (const [name, v] of [...Object.entries(lp.headers ?? {}), ...Object.entries(lp.extra_headers ?? {})]) {
    const k = name.toLowerCase();
    const at = headers.findIndex((h, i) => i % 2 === 0 && h === k);
    if (at >= 0) headers.splice(at, 2);
    headers.push(k, v);
    if (AUTH_HEADERS.has(k) || SECRET_HEADER.test(k)) secrets.push(v.replace(/^(bearer|basic)\s+/i, ''), v);
  }
  const pathPart = pt.path.split('?', 1)[0]!;
  const timeoutS = lp.timeout ?? cfg.router_settings.timeout ?? cfg.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S;
  const streamTimeoutS = lp.stream_timeout ?? cfg.router_settings.stream_timeout ?? timeoutS;
  const id = deploymentId(d);
  return {
    ...pt,
    id,
    slot: opts.slots.slotFor(id),
    group: d.model_name,
    upstreamModelJson: JSON.stringify(pt.upstreamModel),
    embeddingsPath: pt.dialect === 'openai' && pt.path.includes('/chat/completions') ? pt.path.replace('/chat/completions', '/embeddings') : null,
    responsesPath: pt.provider === 'openai' && pathPart.endsWith('/chat/completions') ? `${pathPart.slice(0, -'/chat/completions'.length)}/responses${pt.path.slice(pathPart.length)}` : null,
    headers,
    secrets,
    timeoutMs: timeoutS * 1000,
    streamTimeoutMs: streamTimeoutS * 1000,
    weight: lp.weight ?? 0,
    rpm: lp.rpm ?? 0,
    tpm: lp.tpm ?? 0,
    order: lp.order ?? Infinity,
    cooldownMs: lp.cooldown_time === undefined ? null : lp.cooldown_time * 1000,
    paramRules: paramRules(pt.params, dropParams(lp, cfg), additionalDropParams(lp)),
    price: resolvePrice(opts.prices ?? BUILTIN_PRICES, {
      baseModel: typeof d.model_info?.base_model === 'string' ? d.model_info.base_model : undefined,
      model,
      upstreamModel: pt.upstreamModel,
      overrides: priceOverrides(lp, d.model_info),
      alias: pt.priceAlias,
    }),
  };
}

/** drop_params: the deployment's own, else litellm_settings' (LiteLLM's precedence). */
function dropParams(lp: Deployment['litellm_params'], cfg: LiteLLMConfig): boolean {
  const own = lp.drop_params;
  if (own === true || own === 'true' || own === 'True') return true;
  if (own === false || own === 'false' || own === 'False') return false;
  return cfg.litellm_settings.drop_params === true;
}

/** litellm_params.additional_drop_params: parameters always left out of this deployment's calls. */
function additionalDropParams(lp: Deployment['litellm_params']): string[] {
  const v = lp.additional_drop_params;
  return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string') : [];
}

/** Providers a catch-all (`model: "*"`) may infer; azure is not one (its URL names the deployment). */
const INFERABLE_PROVIDERS = [...Object.keys(OPENAI_COMPATIBLE), 'anthropic', 'mock'];

/**
 * A model_list entry whose model_name holds a `*`. With a provider in litellm_params.model
 * (`anthropic/*`) it has one target; a template without one (`*`) gets a target per provider it
 * may infer from the requested name, each with that provider's env credentials, as LiteLLM does.
 */
function wildcardDeployment(d: Deployment, index: number, cfg: LiteLLMConfig, opts: SnapshotOptions): WildcardDeployment {
  const template = d.litellm_params.model;
  const { provider } = splitModel(template.replace(/\*/g, 'x'));
  const fixed = provider !== '' && !template.slice(0, template.indexOf('/') + 1).includes('*');
  const variants: Record<string, Target> = {};
  for (const p of fixed ? [provider] : INFERABLE_PROVIDERS) {
    const t = buildTarget(d, index, cfg, opts, fixed ? template : `${p}/*`);
    if (p === 'azure') t.unavailable = 'azure deployments cannot be wildcards: the URL names the deployment';
    variants[p] = t;
  }
  return {
    template,
    variants,
    baseModel: typeof d.model_info?.base_model === 'string' ? d.model_info.base_model : undefined,
    overrides: priceOverrides(d.litellm_params, d.model_info),
  };
}

/** Characters of a pattern that are not `*`: the more, the more specific. */
const literalLength = (pattern: string) => pattern.replace(/\*/g, '').length;

const AUTH_HEADERS = new Set(['authorization', 'api-key', 'x-api-key', 'x-goog-api-key', 'ocp-apim-subscription-key']);
/** Other header names whose values are credentials: scrubbed from what clients and logs see. */
const SECRET_HEADER = /key|token|secret|auth|password|credential|signature|cookie/i;

const SECRET_PARAM = /api_key|secret|password|credential|access_key|(^|_)token$/i;
const PRICE_PARAM = /cost/i;

/** litellm_params as /model/info may show them: no keys, no header values, no credentials of api_base. */
export function publicParams(d: Pick<Deployment, 'litellm_params'>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d.litellm_params)) {
    if (SECRET_PARAM.test(k) && !PRICE_PARAM.test(k)) continue;
    if (k === 'api_base' && typeof v === 'string') {
      out[k] = shownUrl(v);
      continue;
    }
    if ((k === 'extra_headers' || k === 'headers') && v && typeof v === 'object') {
      out[k] = Object.fromEntries(Object.keys(v).map((h) => [h, '[redacted]']));
      continue;
    }
    out[k] = v;
  }
  return out;
}

/**
 * `fallbacks: [{"group": ["fb1", "fb2"]}]` and `default_fallbacks: [...]`, from router_settings or
 * litellm_settings (router_settings wins, as in LiteLLM); `max_fallbacks` defaults to 5.
 */
function fallbackList(cfg: LiteLLMConfig, key: string): Map<string, string[]> {
  const rs = cfg.router_settings as Record<string, unknown>;
  const ls = cfg.litellm_settings as Record<string, unknown>;
  const where = rs[key] !== undefined ? 'router_settings' : 'litellm_settings';
  const raw = rs[key] ?? ls[key] ?? [];
  const out = new Map<string, string[]>();
  if (!Array.isArray(raw)) throw new ConfigError(`${where}.${key}`, 'expected a list like [{"model-group": ["fallback-group"]}]');
  raw.forEach((entry, i) => {
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) throw new ConfigError(`${where}.${key}[${i}]`, 'expected a mapping of a model group to a list of groups');
    for (const [group, list] of Object.entries(entry as Record<string, unknown>)) {
      const names = Array.isArray(list) ? list : [list];
      if (!names.every((n) => typeof n === 'string')) throw new ConfigError(`${where}.${key}[${i}].${group}`, 'expected a list of model group names');
      out.set(group, names as string[]);
    }
  });
  return out;
}

/** router_settings.retry_policy: {"RateLimitErrorRetries": 3, …} → {"RateLimitError": 3, …}. */
function retryPolicy(cfg: LiteLLMConfig): Record<string, number> {
  const raw = (cfg.router_settings as Record<string, unknown>).retry_policy ?? {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('router_settings.retry_policy', 'expected a mapping like {"RateLimitErrorRetries": 3}');
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const n = Number(v);
    if (!k.endsWith('Retries') || !Number.isInteger(n) || n < 0) throw new ConfigError(`router_settings.retry_policy.${k}`, 'expected <ErrorClass>Retries: an integer >= 0');
    out[k.slice(0, -'Retries'.length).replace(/^TimeoutError$/, 'Timeout')] = n;
  }
  return out;
}

function fallbackSettings(cfg: LiteLLMConfig) {
  const rs = cfg.router_settings as Record<string, unknown>;
  const ls = cfg.litellm_settings as Record<string, unknown>;
  const fallbacks = fallbackList(cfg, 'fallbacks');
  const dRaw = rs.default_fallbacks ?? ls.default_fallbacks ?? [];
  if (!Array.isArray(dRaw) || !dRaw.every((n) => typeof n === 'string')) throw new ConfigError('router_settings.default_fallbacks', 'expected a list of model group names');
  const max = Number(rs.max_fallbacks ?? ls.max_fallbacks ?? 5);
  return {
    fallbacks,
    defaultFallbacks: dRaw as string[],
    maxFallbacks: Number.isInteger(max) && max >= 0 ? max : 5,
    contextWindowFallbacks: fallbackList(cfg, 'context_window_fallbacks'),
    contentPolicyFallbacks: fallbackList(cfg, 'content_policy_fallbacks'),
    retryPolicy: retryPolicy(cfg),
  };
}

export function buildSnapshot(cfg: LiteLLMConfig, opts: SnapshotOptions): Snapshot {
  const groups = new Map<string, ModelGroup>();
  const wildcards = new Map<string, WildcardRoute>();
  const accessGroups = new Map<string, Set<string>>();
  const info: { model_name: string; [k: string]: unknown }[] = [];
  const models: { id: string; object: string; created: number; owned_by: string }[] = [];
  for (const [index, d] of cfg.model_list.entries()) {
    let t: Target;
    if (d.model_name.includes('*')) {
      const w = wildcardDeployment(d, index, cfg, opts);
      t = Object.values(w.variants)[0]!;
      let route = wildcards.get(d.model_name);
      if (!route) {
        wildcards.set(d.model_name, (route = { name: d.model_name, deployments: [] }));
        models.push({ id: d.model_name, object: 'model', created: MODELS_CREATED, owned_by: w.template.includes('/') ? t.provider : 'openai' });
      }
      route.deployments.push(w);
    } else {
      t = buildTarget(d, index, cfg, opts);
      let g = groups.get(d.model_name);
      if (!g) {
        groups.set(d.model_name, (g = newGroup(d.model_name)));
        models.push({ id: d.model_name, object: 'model', created: MODELS_CREATED, owned_by: t.provider });
      }
      addTarget(g, t);
    }
    const ag = d.model_info?.access_groups;
    if (Array.isArray(ag)) {
      for (const name of ag) {
        if (typeof name !== 'string') continue;
        if (!accessGroups.has(name)) accessGroups.set(name, new Set());
        accessGroups.get(name)!.add(d.model_name);
      }
    }
    info.push({
      model_name: d.model_name,
      litellm_params: publicParams(d),
      // db_model: LiteLLM's mark of a model stored in the database (db-models.ts sets it), false for the config's.
      model_info: { db_model: false, ...d.model_info, id: t.id, litellm_provider: t.provider, mode: d.model_info?.mode ?? 'chat' },
    });
  }
  // router_settings.model_group_alias: {"alias": "group"} or {"alias": {"model": "group", "hidden": true}}.
  for (const [alias, v] of Object.entries((cfg.router_settings.model_group_alias ?? {}) as Record<string, unknown>)) {
    const spec = typeof v === 'string' ? { model: v, hidden: false } : (v as { model?: unknown; hidden?: unknown } | null);
    const target = spec && typeof spec.model === 'string' ? groups.get(spec.model) : undefined;
    if (!target) throw new ConfigError(`router_settings.model_group_alias.${alias}`, `names no model group of model_list (${JSON.stringify(spec?.model ?? v)})`);
    if (groups.has(alias)) continue; // a real group of that name wins, as in LiteLLM
    groups.set(alias, target);
    if (spec!.hidden !== true) models.push({ id: alias, object: 'model', created: MODELS_CREATED, owned_by: target.targets[0]!.provider });
  }
  const masterKey = cfg.general_settings.master_key ?? opts.env.LITELLM_MASTER_KEY;
  const rs = cfg.router_settings;
  return {
    version: opts.version,
    auth: {
      masterKeyHash: masterKey ? sha256(masterKey) : null,
      customKeyHeader: cfg.general_settings.litellm_key_header_name?.toLowerCase() ?? null,
    },
    maxBodyBytes: Math.floor((cfg.general_settings.max_request_size_mb ?? DEFAULT_MAX_BODY_MB) * 1024 * 1024),
    maxResponseBytes: Math.floor((cfg.general_settings.max_response_size_mb ?? DEFAULT_MAX_RESPONSE_MB) * 1024 * 1024),
    routing: {
      strategy: (rs.routing_strategy ?? 'simple-shuffle') as RoutingStrategy,
      ...fallbackSettings(cfg),
      numRetries: rs.num_retries ?? cfg.litellm_settings.num_retries ?? DEFAULT_NUM_RETRIES,
      allowedFails: rs.allowed_fails ?? DEFAULT_ALLOWED_FAILS,
      cooldownMs: (rs.cooldown_time ?? DEFAULT_COOLDOWN_S) * 1000,
      disableCooldowns: rs.disable_cooldowns ?? false,
    },
    groups,
    wildcards: [...wildcards.values()].sort((a, b) => literalLength(b.name) - literalLength(a.name)),
    priceTable: opts.prices ?? BUILTIN_PRICES,
    requestTimeoutMs: (cfg.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S) * 1000,
    accessGroups,
    allowRequestsOnDbUnavailable: cfg.general_settings.allow_requests_on_db_unavailable === true,
    modelsBody: JSON.stringify({ object: 'list', data: models }),
    modelInfoBody: JSON.stringify({ data: info }),
    modelEntries: models.map((m) => ({ name: m.id, json: JSON.stringify(m) })),
    modelInfoEntries: info.map((e) => ({ name: e.model_name, json: JSON.stringify(e) })),
    detailedDebug: opts.detailedDebug,
    metrics: metricsSettings(cfg, opts.env),
  };
}
