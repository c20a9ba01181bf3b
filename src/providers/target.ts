// What a provider contributes to a deployment's Target: where to send, how to authenticate, and
// which dialect it speaks. Built once per config load, never per request.
/** The API a deployment speaks natively; 'any' for the built-in mock, which speaks both. */
export type UpstreamDialect = 'openai' | 'anthropic' | 'any';

export interface ProviderTarget {
  provider: string;
  dialect: UpstreamDialect;
  upstreamModel: string;
  origin: string;
  path: string;
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

/** Splits an api_base into the pool origin and the path prefix requests go under. */
export function splitBase(apiBase: string): { origin: string; basePath: string } {
  const url = new URL(apiBase);
  return { origin: url.origin, basePath: url.pathname.replace(/\/+$/, '') };
}

export function unavailable(p: DeploymentParams, dialect: UpstreamDialect, reason: string): ProviderTarget {
  return {
    provider: p.provider,
    dialect,
    upstreamModel: p.upstreamModel,
    origin: '',
    path: '',
    apiBase: p.apiBase ?? '',
    headers: [],
    secrets: p.apiKey ? [p.apiKey] : [],
    unavailable: reason,
  };
}
