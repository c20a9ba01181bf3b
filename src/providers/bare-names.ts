// The provider LiteLLM infers for a model named without a `provider/` prefix. LiteLLM looks the
// name up in its cost map (`litellm.utils.get_llm_provider`: open_ai_chat_completion_models,
// anthropic_models, the vertex_* lists, bedrock_models, cohere_chat_models, …); the families of
// names those lists hold are matched here by their prefixes, so a name the map gains later
// (gpt-6, claude-opus-5, gemini-4) is inferred as LiteLLM will once its map has it.

/** [pattern, provider], first match wins: the legacy-completion names before their families. */
const FAMILIES: readonly (readonly [RegExp, string])[] = [
  // OpenAI's legacy completions API (LiteLLM: text-completion-openai).
  [/^(gpt-3\.5-turbo-instruct|babbage-002|davinci-002|text-davinci-|text-curie-|text-babbage-|text-ada-)/, 'text-completion-openai'],
  [/^(gpt-|chatgpt-|o\d|ft:gpt-|text-embedding-|whisper-|tts-|dall-e-|gpt-image-|omni-moderation|text-moderation-|codex-mini|computer-use-preview|sora-)/, 'openai'],
  // Claude 1/2 speak Anthropic's retired text completions API (LiteLLM: anthropic_text).
  [/^(claude-instant-|claude-2)/, 'anthropic_text'],
  [/^claude-/, 'anthropic'],
  // Gemini and the PaLM-era names are in LiteLLM's vertex lists: a bare name goes to Vertex AI.
  [/^(gemini-|gemma-|chat-bison|text-bison|codechat-bison|code-bison|code-gecko|textembedding-gecko|text-embedding-00|text-multilingual-embedding-|multimodalembedding|imagen-|veo-)/, 'vertex_ai'],
  // Bedrock model ids (and cross-region inference profiles) in LiteLLM's bedrock lists.
  [/^((us|eu|apac|global|us-gov|jp|au)\.)?(anthropic|amazon|meta|mistral|cohere|ai21|deepseek|qwen|openai|writer|twelvelabs|stability)\.[\w.-]/, 'bedrock'],
  [/^command-(r|a)/, 'cohere_chat'],
  [/^command(-light|-nightly)?$/, 'cohere'],
];

/** The provider LiteLLM infers for a bare model name, or '' when it infers none. */
export function inferProvider(model: string): string {
  for (const [pattern, provider] of FAMILIES) if (pattern.test(model)) return provider;
  return '';
}
