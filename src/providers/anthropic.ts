// Anthropic's Messages API. The client's anthropic-version/anthropic-beta travel per request.
import { resolveApiBase } from './api-base';
import { withQuery } from './base-url';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';

export const ANTHROPIC_DEFAULT_VERSION = '2023-06-01';

export function anthropicTarget(p: DeploymentParams): ProviderTarget {
  const resolved = resolveApiBase(p, ['ANTHROPIC_API_BASE', 'ANTHROPIC_BASE_URL'], 'https://api.anthropic.com')!;
  const apiKey = p.apiKey ?? p.env.ANTHROPIC_API_KEY;
  if (!resolved.ok) return unavailable(p, 'anthropic', resolved.reason);
  if (!apiKey) return unavailable(p, 'anthropic', 'no API key for anthropic: set ANTHROPIC_API_KEY or litellm_params.api_key');
  const base = resolved.base;
  const path = base.basePath.endsWith('/v1/messages') ? base.basePath : `${base.basePath}/v1/messages`;
  return {
    provider: 'anthropic',
    dialect: 'anthropic',
    upstreamModel: p.upstreamModel,
    origin: base.origin,
    path: withQuery(path, base.query),
    apiBase: base.shown,
    // Anthropic's key is x-api-key: credentials in the URL still go as the authorization they imply.
    headers: base.basicAuth ? ['x-api-key', apiKey, 'authorization', base.basicAuth] : ['x-api-key', apiKey],
    secrets: [apiKey, ...base.secrets],
    unavailable: null,
  };
}
