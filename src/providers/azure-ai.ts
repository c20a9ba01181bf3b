// Azure AI Foundry (`azure_ai/`), as LiteLLM's AzureAIStudioConfig builds it: the key goes in
// `api-key` on Azure's own hosts (*.services.ai.azure.com, *.openai.azure.com) and as a bearer token
// elsewhere (serverless endpoints); services.ai.azure.com serves chat under /models, with the
// deployment's api_version as `api-version` unless the api_base's query already has one.
import type { BaseUrl } from './base-url';
import type { Route } from './route';
import type { DeploymentParams } from './target';

export function azureAiRoute(base: BaseUrl, p: DeploymentParams): Route {
  const host = new URL(base.origin).hostname;
  const azureHost = host.endsWith('.services.ai.azure.com') || host.endsWith('.openai.azure.com');
  const suffix = base.origin.includes('services.ai.azure.com') ? '/models/chat/completions' : '/chat/completions';
  let path = base.basePath.endsWith('/chat/completions') ? base.basePath : `${base.basePath}${suffix}`;
  if (p.apiVersion && !/(^|&)api-version=/.test(base.query)) path += `?api-version=${encodeURIComponent(p.apiVersion)}`;
  return { path, ...(azureHost ? { keyHeader: 'api-key' } : {}) };
}
