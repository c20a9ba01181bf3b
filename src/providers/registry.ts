// From `litellm_params.model` to a provider target: the prefix picks the provider, as in LiteLLM.
import { anthropicTarget } from './anthropic';
import { azureTarget } from './azure';
import { geminiTarget } from './gemini';
import { mockTarget } from './mock';
import { OPENAI_COMPATIBLE, openaiTarget } from './openai';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';
import { vertexTarget } from './vertex';

/** Providers LiteLLM has that Weir does not call yet: configs naming them still load. */
const NOT_YET = new Set(['bedrock', 'azure_ai', 'cohere', 'ollama', 'ollama_chat', 'sagemaker', 'huggingface', 'replicate', 'watsonx', 'databricks', 'text-completion-openai']);

/** Splits `provider/model`; a bare name gets the provider LiteLLM's cost map would give it. */
export function splitModel(model: string): { provider: string; upstreamModel: string } {
  const slash = model.indexOf('/');
  if (slash > 0) {
    const provider = model.slice(0, slash);
    if (provider in OPENAI_COMPATIBLE || provider === 'anthropic' || provider === 'azure' || provider === 'mock' || provider === 'vertex_ai' || provider === 'gemini' || NOT_YET.has(provider)) {
      return { provider, upstreamModel: model.slice(slash + 1) };
    }
  }
  if (/^claude-/.test(model)) return { provider: 'anthropic', upstreamModel: model };
  if (/^(gpt-|o\d|chatgpt-|text-embedding-|ft:gpt)/.test(model)) return { provider: 'openai', upstreamModel: model };
  return { provider: slash > 0 ? model.slice(0, slash) : '', upstreamModel: model };
}

export function providerTarget(p: DeploymentParams): ProviderTarget {
  if (p.provider in OPENAI_COMPATIBLE) return openaiTarget(p);
  switch (p.provider) {
    case 'anthropic':
      return anthropicTarget(p);
    case 'azure':
      return azureTarget(p);
    case 'mock':
      return mockTarget(p);
    case 'vertex_ai':
      return vertexTarget(p);
    case 'gemini':
      return geminiTarget(p);
  }
  if (!p.provider) return unavailable(p, 'openai', `cannot tell the provider of "${p.upstreamModel}": prefix it, e.g. openai/${p.upstreamModel}`);
  return unavailable(p, 'openai', `provider ${p.provider} is not supported by Weir yet`);
}
