// The providers LiteLLM serves through the OpenAI chat completions API under their own base URL:
// data, not code per provider. Each entry is what LiteLLM reads for that prefix (its
// `_get_openai_compatible_provider_info`, `litellm/llms/openai_like/providers.json` and the
// providers' `chat/transformation.py`): the default api_base, the variables it takes the key and
// the base from (in its order), and, where LiteLLM lists the OpenAI parameters a provider takes,
// that list (a parameter outside it is refused, or dropped under drop_params, as LiteLLM does).
// Parameters whose support LiteLLM decides per model (`reasoning_effort`, `thinking`) are never
// refused here: the upstream decides.

export interface CompatProvider {
  /** LiteLLM's default api_base; absent: the deployment must name one (litellm_params.api_base or baseEnv). */
  base?: string;
  /** Variables the key is read from, first set wins. */
  keyEnv: readonly string[];
  /** Variables an api_base is read from when litellm_params has none, first set wins. */
  baseEnv: readonly string[];
  /** A local server: no key needed even at the default base (LiteLLM sends a stub or none). */
  keyOptional?: true;
  /** Path of the chat endpoint under the base (default `/chat/completions`). */
  chatPath?: string;
  /** The OpenAI parameters LiteLLM lists as supported for every model of the provider; absent: all of them. */
  supports?: readonly string[];
  /** Parameters LiteLLM sends under another name: [client name, upstream name]. */
  renames?: readonly (readonly [string, string])[];
}

const MAX_TOKENS_RENAME = [['max_completion_tokens', 'max_tokens']] as const;

export const OPENAI_COMPATIBLE: Readonly<Record<string, CompatProvider>> = {
  openai: { base: 'https://api.openai.com/v1', keyEnv: ['OPENAI_API_KEY'], baseEnv: ['OPENAI_API_BASE'] },
  custom_openai: { keyEnv: [], baseEnv: [] },
  openai_like: { keyEnv: ['OPENAI_LIKE_API_KEY'], baseEnv: ['OPENAI_LIKE_API_BASE'] },
  hosted_vllm: { keyEnv: ['HOSTED_VLLM_API_KEY'], baseEnv: ['HOSTED_VLLM_API_BASE'] },
  litellm_proxy: { keyEnv: ['LITELLM_PROXY_API_KEY'], baseEnv: ['LITELLM_PROXY_API_BASE'] },
  // Local servers.
  lm_studio: { base: 'http://localhost:1234/v1', keyEnv: ['LM_STUDIO_API_KEY'], baseEnv: ['LM_STUDIO_API_BASE'], keyOptional: true },
  llamafile: { base: 'http://127.0.0.1:8080/v1', keyEnv: ['LLAMAFILE_API_KEY'], baseEnv: ['LLAMAFILE_API_BASE'], keyOptional: true },
  xinference: { base: 'http://127.0.0.1:9997/v1', keyEnv: ['XINFERENCE_API_KEY'], baseEnv: ['XINFERENCE_API_BASE'], keyOptional: true },
  docker_model_runner: {
    base: 'http://localhost:22088/engines/llama.cpp',
    keyEnv: ['DOCKER_MODEL_RUNNER_API_KEY'],
    baseEnv: ['DOCKER_MODEL_RUNNER_API_BASE'],
    keyOptional: true,
    chatPath: '/v1/chat/completions',
    renames: MAX_TOKENS_RENAME,
  },
  lemonade: { base: 'http://localhost:8000/api/v1', keyEnv: ['LEMONADE_API_KEY'], baseEnv: ['LEMONADE_API_BASE'], keyOptional: true },
  // Hosted.
  openrouter: { base: 'https://openrouter.ai/api/v1', keyEnv: ['OPENROUTER_API_KEY', 'OR_API_KEY'], baseEnv: ['OPENROUTER_API_BASE', 'OR_API_BASE'] },
  groq: { base: 'https://api.groq.com/openai/v1', keyEnv: ['GROQ_API_KEY'], baseEnv: ['GROQ_API_BASE'] },
  // LiteLLM's default is DeepSeek's beta base (it serves the same chat API, plus prefix completion).
  deepseek: { base: 'https://api.deepseek.com/beta', keyEnv: ['DEEPSEEK_API_KEY'], baseEnv: ['DEEPSEEK_API_BASE'] },
  xai: { base: 'https://api.x.ai/v1', keyEnv: ['XAI_API_KEY'], baseEnv: ['XAI_API_BASE'] },
  mistral: {
    base: 'https://api.mistral.ai/v1',
    keyEnv: ['MISTRAL_AZURE_API_KEY', 'MISTRAL_API_KEY'],
    baseEnv: ['MISTRAL_AZURE_API_BASE'],
    supports: ['stream', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'tools', 'tool_choice', 'seed', 'stop', 'response_format', 'parallel_tool_calls'],
    renames: MAX_TOKENS_RENAME,
  },
  codestral: { base: 'https://codestral.mistral.ai/v1', keyEnv: ['CODESTRAL_API_KEY'], baseEnv: ['CODESTRAL_API_BASE'] },
  together_ai: {
    base: 'https://api.together.xyz/v1',
    keyEnv: ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_TOKEN'],
    baseEnv: ['TOGETHER_AI_API_BASE'],
  },
  fireworks_ai: {
    base: 'https://api.fireworks.ai/inference/v1',
    keyEnv: ['FIREWORKS_API_KEY', 'FIREWORKS_AI_API_KEY', 'FIREWORKSAI_API_KEY', 'FIREWORKS_AI_TOKEN'],
    baseEnv: ['FIREWORKS_API_BASE'],
  },
  perplexity: {
    base: 'https://api.perplexity.ai',
    keyEnv: ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'],
    baseEnv: ['PERPLEXITY_API_BASE'],
    supports: ['frequency_penalty', 'max_tokens', 'max_completion_tokens', 'presence_penalty', 'response_format', 'stream', 'temperature', 'top_p'],
  },
  deepinfra: { base: 'https://api.deepinfra.com/v1/openai', keyEnv: ['DEEPINFRA_API_KEY'], baseEnv: ['DEEPINFRA_API_BASE'] },
  cerebras: {
    base: 'https://api.cerebras.ai/v1',
    keyEnv: ['CEREBRAS_API_KEY'],
    baseEnv: ['CEREBRAS_API_BASE'],
    supports: ['max_tokens', 'max_completion_tokens', 'response_format', 'seed', 'stop', 'stream', 'temperature', 'top_p', 'tool_choice', 'tools', 'user'],
    renames: MAX_TOKENS_RENAME,
  },
  nvidia_nim: { base: 'https://integrate.api.nvidia.com/v1', keyEnv: ['NVIDIA_NIM_API_KEY'], baseEnv: ['NVIDIA_NIM_API_BASE'] },
  sambanova: { base: 'https://api.sambanova.ai/v1', keyEnv: ['SAMBANOVA_API_KEY'], baseEnv: ['SAMBANOVA_API_BASE'] },
  nebius: { base: 'https://api.studio.nebius.ai/v1', keyEnv: ['NEBIUS_API_KEY'], baseEnv: ['NEBIUS_API_BASE'] },
  novita: { base: 'https://api.novita.ai/v3/openai', keyEnv: ['NOVITA_API_KEY'], baseEnv: ['NOVITA_API_BASE'] },
  moonshot: { base: 'https://api.moonshot.ai/v1', keyEnv: ['MOONSHOT_API_KEY'], baseEnv: ['MOONSHOT_API_BASE'] },
  zai: { base: 'https://api.z.ai/api/paas/v4', keyEnv: ['ZAI_API_KEY'], baseEnv: ['ZAI_API_BASE'] },
  volcengine: { base: 'https://ark.cn-beijing.volces.com/api/v3', keyEnv: ['VOLCENGINE_API_KEY', 'ARK_API_KEY'], baseEnv: ['VOLCENGINE_API_BASE'] },
  dashscope: { base: 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1', keyEnv: ['DASHSCOPE_API_KEY'], baseEnv: ['DASHSCOPE_API_BASE'] },
  baseten: { base: 'https://inference.baseten.co/v1', keyEnv: ['BASETEN_API_KEY'], baseEnv: [] },
  github: { base: 'https://models.inference.ai.azure.com', keyEnv: ['GITHUB_API_KEY'], baseEnv: ['GITHUB_API_BASE'] },
  meta_llama: { base: 'https://api.llama.com/compat/v1', keyEnv: ['LLAMA_API_KEY'], baseEnv: ['LLAMA_API_BASE'] },
  ai21_chat: { base: 'https://api.ai21.com/studio/v1', keyEnv: ['AI21_API_KEY'], baseEnv: ['AI21_API_BASE'] },
  friendliai: { base: 'https://api.friendli.ai/serverless/v1', keyEnv: ['FRIENDLIAI_API_KEY', 'FRIENDLI_TOKEN'], baseEnv: ['FRIENDLI_API_BASE'] },
  galadriel: { base: 'https://api.galadriel.com/v1', keyEnv: ['GALADRIEL_API_KEY'], baseEnv: ['GALADRIEL_API_BASE'] },
  featherless_ai: { base: 'https://api.featherless.ai/v1', keyEnv: ['FEATHERLESS_AI_API_KEY', 'FEATHERLESS_API_KEY'], baseEnv: ['FEATHERLESS_AI_API_BASE', 'FEATHERLESS_API_BASE'] },
  nscale: { base: 'https://inference.api.nscale.com/v1', keyEnv: ['NSCALE_API_KEY'], baseEnv: ['NSCALE_API_BASE'] },
  empower: { base: 'https://app.empower.dev/api/v1', keyEnv: ['EMPOWER_API_KEY'], baseEnv: ['EMPOWER_API_BASE'] },
  anyscale: { base: 'https://api.endpoints.anyscale.com/v1', keyEnv: ['ANYSCALE_API_KEY'], baseEnv: ['ANYSCALE_API_BASE'] },
  lambda_ai: { base: 'https://api.lambda.ai/v1', keyEnv: ['LAMBDA_API_KEY'], baseEnv: ['LAMBDA_API_BASE'] },
  hyperbolic: { base: 'https://api.hyperbolic.xyz/v1', keyEnv: ['HYPERBOLIC_API_KEY'], baseEnv: ['HYPERBOLIC_API_BASE'] },
  v0: { base: 'https://api.v0.dev/v1', keyEnv: ['V0_API_KEY'], baseEnv: ['V0_API_BASE'] },
  morph: { base: 'https://api.morphllm.com/v1', keyEnv: ['MORPH_API_KEY'], baseEnv: ['MORPH_API_BASE'] },
  vercel_ai_gateway: { base: 'https://ai-gateway.vercel.sh/v1', keyEnv: ['VERCEL_AI_GATEWAY_API_KEY', 'VERCEL_OIDC_TOKEN'], baseEnv: ['VERCEL_AI_GATEWAY_API_BASE'] },
  wandb: { base: 'https://api.inference.wandb.ai/v1', keyEnv: ['WANDB_API_KEY'], baseEnv: ['WANDB_API_BASE'] },
  clarifai: { base: 'https://api.clarifai.com/v2/ext/openai/v1', keyEnv: ['CLARIFAI_API_KEY'], baseEnv: [] },
  // Self-hosted endpoints that need a base (LiteLLM has no default for them).
  databricks: { keyEnv: ['DATABRICKS_API_KEY'], baseEnv: ['DATABRICKS_API_BASE'] },
  // Azure AI Foundry: api-key on Azure hosts, the models route on services.ai.azure.com (providers/azure-ai.ts).
  azure_ai: { keyEnv: ['AZURE_AI_API_KEY'], baseEnv: ['AZURE_AI_API_BASE'] },
  // Hugging Face's router (providers/huggingface.ts builds the route).
  huggingface: { base: 'https://router.huggingface.co/v1', keyEnv: ['HF_TOKEN', 'HUGGINGFACE_API_KEY'], baseEnv: ['HF_API_BASE', 'HUGGINGFACE_API_BASE'] },
  // LiteLLM's JSON-configured providers (openai_like/providers.json).
  publicai: { base: 'https://api.publicai.co/v1', keyEnv: ['PUBLICAI_API_KEY'], baseEnv: ['PUBLICAI_API_BASE'], renames: MAX_TOKENS_RENAME },
  helicone: { base: 'https://ai-gateway.helicone.ai', keyEnv: ['HELICONE_API_KEY'], baseEnv: [] },
  veniceai: { base: 'https://api.venice.ai/api/v1', keyEnv: ['VENICE_AI_API_KEY'], baseEnv: [] },
  xiaomi_mimo: { base: 'https://api.xiaomimimo.com/v1', keyEnv: ['XIAOMI_MIMO_API_KEY'], baseEnv: [], renames: MAX_TOKENS_RENAME },
  scaleway: { base: 'https://api.scaleway.ai/v1', keyEnv: ['SCW_SECRET_KEY'], baseEnv: [] },
  synthetic: { base: 'https://api.synthetic.new/openai/v1', keyEnv: ['SYNTHETIC_API_KEY'], baseEnv: [], renames: MAX_TOKENS_RENAME },
  apertis: { base: 'https://api.stima.tech/v1', keyEnv: ['STIMA_API_KEY'], baseEnv: [], renames: MAX_TOKENS_RENAME },
  'nano-gpt': { base: 'https://nano-gpt.com/api/v1', keyEnv: ['NANOGPT_API_KEY'], baseEnv: [], renames: MAX_TOKENS_RENAME },
  poe: { base: 'https://api.poe.com/v1', keyEnv: ['POE_API_KEY'], baseEnv: [], renames: MAX_TOKENS_RENAME },
  chutes: { base: 'https://llm.chutes.ai/v1', keyEnv: ['CHUTES_API_KEY'], baseEnv: [], renames: MAX_TOKENS_RENAME },
  abliteration: { base: 'https://api.abliteration.ai/v1', keyEnv: ['ABLITERATION_API_KEY'], baseEnv: [] },
  llamagate: { base: 'https://api.llamagate.dev/v1', keyEnv: ['LLAMAGATE_API_KEY'], baseEnv: [], renames: MAX_TOKENS_RENAME },
  gmi: { base: 'https://api.gmi-serving.com/v1', keyEnv: ['GMI_API_KEY'], baseEnv: [] },
  assemblyai: { base: 'https://llm-gateway.assemblyai.com/v1', keyEnv: ['ASSEMBLYAI_API_KEY'], baseEnv: [] },
  aihubmix: { base: 'https://aihubmix.com/v1', keyEnv: ['AIHUBMIX_API_KEY'], baseEnv: ['AIHUBMIX_API_BASE'] },
};

/**
 * The OpenAI chat parameters LiteLLM checks against a provider's list (its
 * OPENAI_CHAT_COMPLETION_PARAMS, less the client-side ones). `stream` and `stream_options` are
 * never refused: every provider streams, and the gateway's own usage accounting asks for the
 * usage chunk.
 */
export const OPENAI_CHAT_PARAMS: readonly string[] = [
  'functions', 'function_call', 'temperature', 'top_p', 'n', 'stop', 'max_completion_tokens', 'modalities', 'prediction',
  'audio', 'max_tokens', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'user', 'response_format', 'seed', 'tools',
  'tool_choice', 'parallel_tool_calls', 'logprobs', 'top_logprobs', 'web_search_options', 'service_tier',
  'prompt_cache_key', 'prompt_cache_retention', 'safety_identifier', 'verbosity', 'store',
];

/** What a provider's `supports` list leaves out: the parameters refused (or dropped under drop_params). */
export function unsupportedParams(supports: readonly string[] | undefined): string[] {
  if (!supports) return [];
  return OPENAI_CHAT_PARAMS.filter((p) => !supports.includes(p));
}
