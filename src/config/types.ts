// The shape of a LiteLLM config.yaml after loading and validation. Only the keys Weir acts on are
// typed; every section keeps unknown keys (LiteLLM accepts and ignores them), so a config written
// for the Python proxy loads here unchanged.

import type { AgentSettings } from '../agents/types';

export interface LiteLLMParams {
  /** `<provider>/<upstream-model>`, e.g. `openai/gpt-4o`, `anthropic/claude-sonnet-4-5`, `mock/echo`. */
  model: string;
  api_key?: string;
  api_base?: string;
  api_version?: string;
  /** Seconds for the whole call. */
  timeout?: number;
  /** Seconds to the first byte of a stream. */
  stream_timeout?: number;
  max_retries?: number;
  rpm?: number;
  tpm?: number;
  weight?: number;
  order?: number;
  /** Seconds this deployment is skipped after failing; overrides router_settings.cooldown_time. */
  cooldown_time?: number;
  extra_headers?: Record<string, string>;
  /** Headers sent on every call of the deployment, as extra_headers (which win over them). */
  headers?: Record<string, string>;
  [key: string]: unknown;
}

export interface ModelInfo {
  id?: string;
  [key: string]: unknown;
}

export interface Deployment {
  model_name: string;
  litellm_params: LiteLLMParams;
  model_info?: ModelInfo;
  [key: string]: unknown;
}

export interface GeneralSettings {
  master_key?: string;
  database_url?: string;
  max_request_size_mb?: number;
  max_response_size_mb?: number;
  litellm_key_header_name?: string;
  allow_requests_on_db_unavailable?: boolean;
  /** Seconds between spend flushes to the database (LiteLLM default 10). */
  proxy_batch_write_at?: number;
  /** Seconds between runs of the budget reset job. */
  proxy_budget_rescheduler_min_time?: number;
  disable_spend_logs?: boolean;
  [key: string]: unknown;
}

export interface LiteLLMSettings {
  request_timeout?: number;
  num_retries?: number;
  drop_params?: boolean;
  /** Global proxy budget in USD. */
  max_budget?: number;
  /** Budget (USD) of end users whose row has none. */
  max_end_user_budget?: number;
  /** LiteLLM_BudgetTable row applied to end users whose row has none (wins over max_end_user_budget). */
  max_end_user_budget_id?: string;
  budget_duration?: string;
  [key: string]: unknown;
}

export interface RouterSettings {
  routing_strategy?: string;
  num_retries?: number;
  timeout?: number;
  stream_timeout?: number;
  /** Failures per minute a deployment may have before it cools down (LiteLLM default 3). */
  allowed_fails?: number;
  /** Seconds a failing deployment is skipped (LiteLLM default 5). */
  cooldown_time?: number;
  disable_cooldowns?: boolean;
  [key: string]: unknown;
}

export interface LiteLLMConfig {
  model_list: Deployment[];
  general_settings: GeneralSettings;
  litellm_settings: LiteLLMSettings;
  router_settings: RouterSettings;
  environment_variables: Record<string, string>;
  /** Weir's own: sandboxes, profiles and jobs of agent runs (defaults filled in). */
  agent_settings: AgentSettings;
  /**
   * Set by the loader, per model_list index: the `os.environ/` variables of the deployment that
   * are not set (the deployment starts unavailable, as LiteLLM starts and fails its calls), and
   * the variable its api_base was read from (messages about the value name it).
   */
  deployment_env?: Record<number, DeploymentEnv>;
  /**
   * Set by the loader: `os.environ/` variables that are not set where Weir goes on without the
   * value, as LiteLLM does (its get_secret gives None): guardrails, callbacks, caches,
   * environment_variables… The start line names them.
   */
  unset_env?: UnsetVariable[];
  [key: string]: unknown;
}

export interface UnsetVariable {
  path: string;
  name: string;
}

export interface DeploymentEnv {
  unset?: UnsetVariable[];
  apiBaseVar?: string;
}
