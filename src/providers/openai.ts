// OpenAI and every provider that serves the OpenAI chat completions API under its own base URL.
import { parseBaseUrl, withQuery } from './base-url';
import { unavailable, type DeploymentParams, type ProviderTarget } from './target';

interface Compat {
  base?: string;
  keyEnv?: string;
  baseEnv?: string;
}

// Default base URLs and credential variables, as LiteLLM reads them.
export const OPENAI_COMPATIBLE: Record<string, Compat> = {
  openai: { base: 'https://api.openai.com/v1', keyEnv: 'OPENAI_API_KEY', baseEnv: 'OPENAI_API_BASE' },
  custom_openai: {},
  hosted_vllm: { keyEnv: 'HOSTED_VLLM_API_KEY', baseEnv: 'HOSTED_VLLM_API_BASE' },
  litellm_proxy: { keyEnv: 'LITELLM_PROXY_API_KEY', baseEnv: 'LITELLM_PROXY_API_BASE' },
  lm_studio: { base: 'http://localhost:1234/v1', keyEnv: 'LM_STUDIO_API_KEY', baseEnv: 'LM_STUDIO_API_BASE' },
  openrouter: { base: 'https://openrouter.ai/api/v1', keyEnv: 'OPENROUTER_API_KEY', baseEnv: 'OPENROUTER_API_BASE' },
  groq: { base: 'https://api.groq.com/openai/v1', keyEnv: 'GROQ_API_KEY' },
  deepseek: { base: 'https://api.deepseek.com/v1', keyEnv: 'DEEPSEEK_API_KEY' },
  xai: { base: 'https://api.x.ai/v1', keyEnv: 'XAI_API_KEY' },
  mistral: { base: 'https://api.mistral.ai/v1', keyEnv: 'MISTRAL_API_KEY' },
  together_ai: { base: 'https://api.together.xyz/v1', keyEnv: 'TOGETHERAI_API_KEY' },
  fireworks_ai: { base: 'https://api.fireworks.ai/inference/v1', keyEnv: 'FIREWORKS_AI_API_KEY' },
  perplexity: { base: 'https://api.perplexity.ai', keyEnv: 'PERPLEXITYAI_API_KEY' },
  deepinfra: { base: 'https://api.deepinfra.com/v1/openai', keyEnv: 'DEEPINFRA_API_KEY' },
  cerebras: { base: 'https://api.cerebras.ai/v1', keyEnv: 'CEREBRAS_API_KEY' },
};

export function openaiTarget(p: DeploymentParams): ProviderTarget {
  const compat = OPENAI_COMPATIBLE[p.provider]!;
  const explicitBase = p.apiBase ?? (compat.baseEnv ? p.env[compat.baseEnv] : undefined);
  const apiBase = explicitBase ?? compat.base;
  const apiKey = p.apiKey ?? (compat.keyEnv ? p.env[compat.keyEnv] : undefined);
  if (!apiBase) return unavailable(p, 'openai', `provider ${p.provider} needs litellm_params.api_base`);
  // A hosted default needs a key; a server the user points at (vLLM, a local proxy) may not.
  if (!apiKey && !explicitBase) {
    return unavailable(p, 'openai', `no API key for ${p.provider}: set ${compat.keyEnv} or litellm_params.api_key`);
  }
  const base = parseBaseUrl(apiBase);
  const path = base.basePath.endsWith('/chat/completions') ? base.basePath : `${base.basePath}/chat/completions`;
  // Credentials in the URL authenticate the call when no API key does.
  const auth = apiKey ? `Bearer ${apiKey}` : base.basicAuth;
  return {
    provider: p.provider,
    dialect: 'openai',
    upstreamModel: p.upstreamModel,
    origin: base.origin,
    path: withQuery(path, base.query),
    apiBase: base.shown,
    headers: auth ? ['authorization', auth] : [],
    secrets: [...(apiKey ? [apiKey] : []), ...base.secrets],
    unavailable: null,
  };
}
