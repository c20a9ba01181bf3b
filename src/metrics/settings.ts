// What the config says about metrics and traces, read as LiteLLM reads it: `callbacks` /
// `success_callback` of litellm_settings (a list, or one name), and general_settings'
// require_auth_for_metrics_endpoint.
import type { LiteLLMConfig } from '../config/types';

export interface MetricsSettings {
  /** /metrics asks for a key (any valid one), as LiteLLM's require_auth_for_metrics_endpoint. */
  requireAuth: boolean;
  /**
   * `prometheus` is among the callbacks: usage is read from every answer (tokens and spend are
   * counted even on the master-key path, where nothing else needs them).
   */
  usage: boolean;
  /** Spans are sent to an OTLP collector (`otel` among the callbacks, or OTEL_EXPORTER_OTLP_*ENDPOINT set). */
  tracing: boolean;
}

function names(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function callbackNames(cfg: LiteLLMConfig): Set<string> {
  const ls = cfg.litellm_settings as Record<string, unknown>;
  return new Set([...names(ls.callbacks), ...names(ls.success_callback), ...names(ls.failure_callback)].map((n) => n.toLowerCase()));
}

export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | null {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return null;
}

export function metricsSettings(cfg: LiteLLMConfig, env: NodeJS.ProcessEnv): MetricsSettings {
  const cb = callbackNames(cfg);
  const gs = cfg.general_settings as Record<string, unknown>;
  return {
    requireAuth: gs.require_auth_for_metrics_endpoint === true,
    usage: cb.has('prometheus'),
    tracing: cb.has('otel') || otlpTracesUrl(env) !== null,
  };
}
