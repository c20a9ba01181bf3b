// The labels of a metrics row, in a fixed order, and what a capped label folds into.

/** LiteLLM's label names (litellm/types/integrations/prometheus.py), in the order rows carry them. */
export const LABEL_NAMES = [
  'hashed_api_key',
  'api_key_alias',
  'team',
  'team_alias',
  'user',
  'end_user',
  'requested_model',
  'model_group',
  'model',
  'model_id',
  'api_base',
  'api_provider',
] as const;

export type LabelName = (typeof LABEL_NAMES)[number];

export const L = Object.fromEntries(LABEL_NAMES.map((n, i) => [n, i])) as Record<LabelName, number>;

/** What a key, end user or model past its cap is counted as: whatever a client can grow is bounded. */
export const OTHER = 'other';

/** The identity LiteLLM (≥ 1.84) gives the master key in metrics and spend logs. */
export const MASTER_KEY_LABEL = 'litellm_proxy_master_key';

/** How many label sets of each kind get their own series, across all worker threads. */
export interface MetricsCaps {
  keys: number;
  endUsers: number;
  models: number;
  /** Rows of one worker's shard; past it every new label set folds into row 0 (all `other`). */
  rows: number;
}

function envInt(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number): number {
  const v = Number(env[name]);
  return Number.isInteger(v) && v >= min ? v : dflt;
}

export function capsFromEnv(env: NodeJS.ProcessEnv): MetricsCaps {
  return {
    keys: envInt(env, 'WEIR_METRICS_MAX_KEYS', 1000, 0),
    endUsers: envInt(env, 'WEIR_METRICS_MAX_END_USERS', 100, 0),
    models: envInt(env, 'WEIR_METRICS_MAX_MODELS', 256, 0),
    rows: envInt(env, 'WEIR_METRICS_MAX_SERIES', 2048, 2),
  };
}
