// What a worker needs to serve requests, built by the control thread from the config and posted
// to every worker as one immutable value. A request keeps the snapshot it started with, so a
// reload never changes the rules under a request in flight.
import type { Price, PriceOverrides } from '../pricing/cost';
import type { PriceTable } from '../pricing/price-table';
import type { ParamSupport, UpstreamDialect } from '../providers/target';
import type { WireSpec } from '../providers/wire';
import type { ParamRules } from './param-rules';
import type { RoutingStrategy } from './pick';
import type { AuthSettings } from './auth';
import type { MetricsSettings } from '../metrics/settings';

export interface Target {
  /** Deployment id: model_info.id, else a stable hash of its params (as LiteLLM derives it). */
  id: string;
  /** Index of its record in the shared deployment-health table. */
  slot: number;
  group: string;
  provider: string;
  dialect: UpstreamDialect;
  /** Model name sent upstream, and the same JSON-encoded, ready to splice into a body. */
  upstreamModel: string;
  upstreamModelJson: string;
  /** Scheme://host[:port] for the connection pool, '' for in-process providers. */
  origin: string;
  /** Request path (with query) of the chat or messages endpoint at this deployment. */
  path: string;
  /** Path of the Responses API, for deployments that serve it natively (OpenAI), else null. */
  responsesPath: string | null;
  /** Path of the embeddings endpoint (OpenAI-dialect deployments), else null. */
  embeddingsPath: string | null;
  /** For x-litellm-model-api-base. */
  apiBase: string;
  /** Headers sent on every call (auth, extra_headers), flattened name/value pairs. */
  headers: string[];
  /** Values that must never appear in anything sent to a client or a log (the api_key). */
  secrets: string[];
  /** Set when the deployment cannot be called (no credentials, unsupported provider): the reason. */
  unavailable: string | null;
  /** Set when the provider's wire differs from its dialect (path, body, signature, framing): see providers/wire.ts. */
  wire?: WireSpec;
  timeoutMs: number;
  streamTimeoutMs: number;
  weight: number;
  rpm: number;
  tpm: number;
  order: number;
  cooldownMs: number | null;
  /** Prices per token (the price table, with this deployment's overrides). */
  price: Price;
  /** The provider's parameter quirks (compat-table.ts), as the provider reported them. */
  params?: ParamSupport;
  /** What happens to those parameters here (drop_params decided): null or absent for none. */
  paramRules?: ParamRules | null;
}

export interface ModelGroup {
  name: string;
  targets: Target[];
  /** The targets that speak each endpoint's dialect natively (built once, not per request). */
  chatTargets: Target[];
  messagesTargets: Target[];
  responsesTargets: Target[];
  embeddingsTargets: Target[];
  /** For a group made from a wildcard route: the route's model_name (`anthropic/*`). */
  pattern?: string;
}

/** One deployment of a wildcard route, ready to be made concrete for a requested name. */
export interface WildcardDeployment {
  /** litellm_params.model, whose `*`s take the parts of the requested name (`anthropic/*`). */
  template: string;
  /**
   * The deployment's target per provider it may resolve to: one for `anthropic/*`, one per
   * supported provider for a catch-all `*` (provider inferred from the name, env credentials).
   */
  variants: Record<string, Target>;
  baseModel: string | undefined;
  overrides: PriceOverrides | null;
}

/** model_list entries whose model_name holds a `*`: matched when no group has the exact name. */
export interface WildcardRoute {
  /** The pattern; each thread prepares its matcher (model-groups `wildcard`). */
  name: string;
  deployments: WildcardDeployment[];
}

export interface RoutingSettings {
  strategy: RoutingStrategy;
  /** fallbacks: model group → groups to try in order once its own deployments failed. */
  fallbacks: Map<string, string[]>;
  /** default_fallbacks: for groups without an entry of their own. */
  defaultFallbacks: string[];
  maxFallbacks: number;
  /** context_window_fallbacks / content_policy_fallbacks: taken at once on those errors. */
  contextWindowFallbacks: Map<string, string[]>;
  contentPolicyFallbacks: Map<string, string[]>;
  /** retry_policy: retries per LiteLLM error class (RateLimitError, Timeout, …), overriding num_retries. */
  retryPolicy: Record<string, number>;
  numRetries: number;
  allowedFails: number;
  cooldownMs: number;
  disableCooldowns: boolean;
}

/** One entry of /v1/models or /model/info: the model name it is about, and its JSON. */
export interface ModelEntry {
  name: string;
  json: string;
}

export interface Snapshot {
  version: number;
  auth: AuthSettings;
  maxBodyBytes: number;
  /** general_settings.max_response_size_mb: the largest non-streamed upstream answer buffered. */
  maxResponseBytes: number;
  routing: RoutingSettings;
  groups: Map<string, ModelGroup>;
  /** Wildcard routes, most specific (longest literal part) first. */
  wildcards: WildcardRoute[];
  /** The price table: names not known in advance (wildcard routes, pass-through calls) are priced from it. */
  priceTable: PriceTable;
  /** litellm_settings.request_timeout (LiteLLM's default 600 s): bounds calls no deployment times (pass-through). */
  requestTimeoutMs: number;
  /** model_info.access_groups: group name → the model names it grants. */
  accessGroups: Map<string, Set<string>>;
  /** general_settings.allow_requests_on_db_unavailable: readiness stays 200 while the DB is away. */
  allowRequestsOnDbUnavailable: boolean;
  /** Pre-rendered bodies of the read-only model endpoints, as the master key sees them. */
  modelsBody: string;
  modelInfoBody: string;
  /** The entries of those bodies one by one, each serialized, for the lists a key may see. */
  modelEntries: ModelEntry[];
  modelInfoEntries: ModelEntry[];
  detailedDebug: boolean;
  /** /metrics auth, usage counting and tracing (src/metrics/settings.ts). */
  metrics: MetricsSettings;
}
