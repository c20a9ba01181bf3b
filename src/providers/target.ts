// What a provider contributes to a deployment's Target: where to send, how to authenticate, and
// which dialect it speaks. Built once per config load, never per request.
import { shownUrl } from './base-url';
/** The API a deployment speaks natively; 'any' for the built-in mock, which speaks both. */
export type UpstreamDialect = 'openai' | 'anthropic' | 'any';

export interface ProviderTarget {
  provider: string;
  dialect: UpstreamDialect;
  upstreamModel: string;
  origin: string;
  /** Request path of the chat / messages endpoint, with the api_base's query string. */
  path: string;
  /** The api_base as it may be shown (credentials masked). */
  apiBase: string;
  headers: string[];
  secrets: string[];
  unavailable: string | null;
  /** Set when no value of the deployment's own can make it callable (its provider is not served). */
  notServed?: true;
  /** What LiteLLM does with some OpenAI parameters at this provider (compat-table.ts); absent: nothing. */
  params?: ParamSupport;
  /** The upstream's own wire format under an OpenAI-dialect target (Ollama's native API); absent: none. */
  wire?: Wire;
}

/** OpenAI parameters a provider refuses (dropped under drop_params) and ones it takes under another name. */
export interface ParamSupport {
  unsupported: readonly string[];
  renames: readonly (readonly [string, string])[];
}

/** A native API the gateway speaks for an OpenAI-dialect target: Ollama's /api/chat or /api/generate. */
export type Wire = 'ollama-chat' | 'ollama-generate';

export interface DeploymentParams {
  provider: string;
  upstreamModel: string;
  apiKey?: string;
  apiBase?: string;
  /** The variable litellm_params.api_base was read from (`os.environ/VAR`), for messages about it. */
  apiBaseVar?: string;
  apiVersion?: string;
  env: NodeJS.ProcessEnv;
}

export function unavailable(p: DeploymentParams, dialect: UpstreamDialect, reason: string): ProviderTarget {
  return {
    provider: p.provider,
    dialect,
    upstreamModel: p.upstreamModel,
    origin: '',
    path: '',
    apiBase: p.apiBase ? shownUrl(p.apiBase) : '',
    headers: [],
    secrets: p.apiKey ? [p.apiKey] : [],
    unavailable: reason,
  };
}
