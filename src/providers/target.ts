// What a provider contributes to a deployment's Target: where to send, how to authenticate, and
// which dialect it speaks. Built once per config load, never per request.
//
// Most providers are the dialect as it is (the path and headers here are all there is). A provider
// whose wire differs from its dialect (Claude on Bedrock or Vertex AI: model in the URL, per-request
// signatures, another stream framing) adds a `wire`: a plain-data spec from which each thread makes
// the live Wire (wire.ts) that maps the path, the body, the signature and the answer. The gateway
// asks `if (t.wire)` once per call; targets without one pay nothing more.
import { shownUrl } from './base-url';
import type { WireSpec } from './wire';
/** The API a deployment speaks natively; 'any' for the built-in mock, which speaks both. */
export type UpstreamDialect = 'openai' | 'anthropic' | 'gemini' | 'any';

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
  /** How the provider's wire differs from its dialect (see wire.ts); absent for most providers. */
  wire?: WireSpec;
  /** Another name the price table may know the model by (Bedrock's Claude ids: Anthropic's name). */
  priceAlias?: string;
}

/** OpenAI parameters a provider refuses (dropped under drop_params) and ones it takes under another name. */
export interface ParamSupport {
  unsupported: readonly string[];
  renames: readonly (readonly [string, string])[];
}

export interface DeploymentParams {
  provider: string;
  upstreamModel: string;
  apiKey?: string;
  apiBase?: string;
  /** The variable litellm_params.api_base was read from (`os.environ/VAR`), for messages about it. */
  apiBaseVar?: string;
  apiVersion?: string;
  /** All of litellm_params, for providers with parameters of their own (aws_region_name, vertex_project, …). */
  litellm?: Readonly<Record<string, unknown>>;
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
