// What a provider contributes to a deployment's Target: where to send, how to authenticate, and
// which dialect it speaks. Built once per config load, never per request.
import { shownUrl } from './base-url';
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
}

export interface DeploymentParams {
  provider: string;
  upstreamModel: string;
  apiKey?: string;
  apiBase?: string;
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
