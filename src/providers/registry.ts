// From `litellm_params.model` to a provider target: the prefix picks the provider, as in LiteLLM;
// a bare name gets the provider LiteLLM infers for it (bare-names.ts). A provider this build does
// not call still loads: its deployments are unavailable, with the reason on the start line.
import { anthropicTarget } from './anthropic';
import { azureTarget } from './azure';
import { inferProvider } from './bare-names';
import { bedrockTarget } from './bedrock/target';
import { geminiTarget } from './gemini';
import { mockTarget } from './mock';
import { ollamaTarget } from './ollama';
import { OPENAI_COMPATIBLE, openaiTarget } from './openai';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';
import { vertexTarget } from './vertex';

/**
 * Providers LiteLLM has that Weir does not call (yet), each with why: configs naming them still
 * load. The served ones are caught by providerTarget before this table is read, so an entry left
 * here for a provider another module serves never shows.
 */
const NOT_SERVED: Readonly<Record<string, string>> = {
  cohere_chat: "provider cohere_chat is not served: Cohere's v2 chat API is not OpenAI-shaped and Weir does not translate it; use openai/<model> with api_base https://api.cohere.ai/compatibility/v1 (Cohere's OpenAI-compatible endpoint)",
  cohere: "provider cohere is not served: Cohere's chat API is not OpenAI-shaped and Weir does not translate it; use openai/<model> with api_base https://api.cohere.ai/compatibility/v1",
  'text-completion-openai': 'provider text-completion-openai (the legacy /v1/completions API) is not served: Weir serves chat models',
  anthropic_text: "provider anthropic_text (Anthropic's retired text completions API) is not served",
  azure_text: 'provider azure_text (the legacy completions API) is not served: Weir serves chat models',
  sagemaker: 'provider sagemaker is not served by this build',
  sagemaker_chat: 'provider sagemaker_chat is not served by this build',
  replicate: 'provider replicate is not served by this build',
  watsonx: 'provider watsonx is not served by this build',
  watsonx_text: 'provider watsonx_text is not served by this build',
  predibase: 'provider predibase is not served by this build',
  cloudflare: 'provider cloudflare is not served by this build',
  ai21: 'provider ai21 (the legacy API) is not served: use ai21_chat/',
  nlp_cloud: 'provider nlp_cloud is not served by this build',
  aleph_alpha: 'provider aleph_alpha is not served by this build',
  maritalk: 'provider maritalk is not served by this build',
  petals: 'provider petals is not served by this build',
  oobabooga: 'provider oobabooga is not served by this build',
  triton: 'provider triton is not served by this build',
  snowflake: 'provider snowflake is not served by this build',
  github_copilot: 'provider github_copilot needs its OAuth device login, which Weir does not run',
  chatgpt: 'provider chatgpt needs a ChatGPT subscription login, which Weir does not run',
  'text-completion-codestral': 'provider text-completion-codestral (fill-in-the-middle completions) is not served: use codestral/',
};

/** Providers other modules of Weir serve (or will): named here so their prefix is read as one. */
const CLOUD_PROVIDERS = new Set(['bedrock', 'vertex_ai', 'vertex_ai_beta', 'gemini']);

/** Prefixes that name a provider (served or not): anything else before a `/` is part of the model name. */
export function isProvider(prefix: string): boolean {
  return prefix in OPENAI_COMPATIBLE || prefix === 'anthropic' || prefix === 'azure' || prefix === 'mock' || prefix === 'ollama' || prefix === 'ollama_chat' || prefix in NOT_SERVED || CLOUD_PROVIDERS.has(prefix);
}

/**
 * Splits `provider/model`; a bare name gets the provider LiteLLM infers for it. A known
 * `custom_llm_provider` (litellm_params; LiteLLM's UI sends it with the models it adds) names the
 * provider outright, its own prefix taken off the model as LiteLLM's get_llm_provider does.
 */
export function splitModel(model: string, customProvider?: unknown): { provider: string; upstreamModel: string } {
  if (typeof customProvider === 'string' && isProvider(customProvider)) {
    return { provider: customProvider, upstreamModel: model.startsWith(`${customProvider}/`) ? model.slice(customProvider.length + 1) : model };
  }
  const slash = model.indexOf('/');
  if (slash > 0) {
    const provider = model.slice(0, slash);
    if (isProvider(provider)) return { provider, upstreamModel: model.slice(slash + 1) };
  }
  const inferred = inferProvider(model);
  if (inferred) return { provider: inferred, upstreamModel: model };
  return { provider: slash > 0 ? model.slice(0, slash) : '', upstreamModel: model };
}

export function providerTarget(p: DeploymentParams): ProviderTarget {
  if (p.provider in OPENAI_COMPATIBLE) return openaiTarget(p);
  switch (p.provider) {
    case 'anthropic':
      return anthropicTarget(p);
    case 'azure':
      return azureTarget(p);
    case 'bedrock':
      return bedrockTarget(p);
    case 'mock':
      return mockTarget(p);
    case 'ollama':
    case 'ollama_chat':
      return ollamaTarget(p);
    case 'vertex_ai':
      return vertexTarget(p);
    case 'gemini':
      return geminiTarget(p);
  }
  const reason = p.provider ? (NOT_SERVED[p.provider] ?? `provider ${p.provider} is not supported by Weir yet`) : `cannot tell the provider of "${p.upstreamModel}": prefix it, e.g. openai/${p.upstreamModel}`;
  // Setting the deployment's variables would not make it callable: its reason must say so first.
  return { ...unavailable(p, 'openai', reason), notServed: true };
}
