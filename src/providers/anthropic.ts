// Anthropic's Messages API. The client's anthropic-version/anthropic-beta travel per request.
import { splitBase, unavailable, type DeploymentParams, type ProviderTarget } from './target';

export const ANTHROPIC_DEFAULT_VERSION = '2023-06-01';

export function anthropicTarget(p: DeploymentParams): ProviderTarget {
  const apiBase = p.apiBase ?? p.env.ANTHROPIC_API_BASE ?? p.env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com';
  const apiKey = p.apiKey ?? p.env.ANTHROPIC_API_KEY;
  if (!apiKey) return unavailable(p, 'anthropic', 'no API key for anthropic: set ANTHROPIC_API_KEY or litellm_params.api_key');
  const { origin, basePath } = splitBase(apiBase);
  const path = basePath.endsWith('/v1/messages') ? basePath : `${basePath}/v1/messages`;
  return {
    provider: 'anthropic',
    dialect: 'anthropic',
    upstreamModel: p.upstreamModel,
    origin,
    path,
    apiBase,
    headers: ['x-api-key', apiKey],
    secrets: [apiKey],
    unavailable: null,
  };
}
