// Azure OpenAI: the deployment is in the URL, the version in the query, the key in `api-key`.
import { resolveApiBase } from './api-base';
import { withQuery } from './base-url';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';

export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

export function azureTarget(p: DeploymentParams): ProviderTarget {
  const resolved = resolveApiBase(p, ['AZURE_API_BASE']);
  const apiKey = p.apiKey ?? p.env.AZURE_API_KEY;
  const version = p.apiVersion ?? p.env.AZURE_API_VERSION ?? AZURE_DEFAULT_API_VERSION;
  if (!resolved) return unavailable(p, 'openai', 'azure deployments need litellm_params.api_base (or AZURE_API_BASE)');
  if (!resolved.ok) return unavailable(p, 'openai', resolved.reason);
  if (!apiKey) return unavailable(p, 'openai', 'no API key for azure: set AZURE_API_KEY or litellm_params.api_key');
  const base = resolved.base;
  const deployment = encodeURIComponent(p.upstreamModel);
  return {
    provider: 'azure',
    dialect: 'openai',
    upstreamModel: p.upstreamModel,
    origin: base.origin,
    path: withQuery(`${base.basePath}/openai/deployments/${deployment}/chat/completions?api-version=${encodeURIComponent(version)}`, base.query),
    apiBase: base.shown,
    // Azure's key is api-key: credentials in the URL still go as the authorization they imply.
    headers: base.basicAuth ? ['api-key', apiKey, 'authorization', base.basicAuth] : ['api-key', apiKey],
    secrets: [apiKey, ...base.secrets],
    unavailable: null,
  };
}
