// Gemini's usageMetadata → the usage the gateway bills. Gemini answers are always translated, and
// the translator parses every event anyway (translate/gemini-stream.ts keeps the last
// usageMetadata), so nothing here scans bytes: it reads the object the translator kept.
//
// promptTokenCount includes the cached part (cachedContentTokenCount), as OpenAI's prompt_tokens
// does, so the usage has OpenAI semantics; thoughtsTokenCount is billed as output, as LiteLLM does.
import { count, openaiUsage, type TokenUsage } from './usage-types';

export function usageFromGemini(meta: Record<string, unknown> | undefined): TokenUsage | undefined {
  if (meta === undefined || meta === null || typeof meta !== 'object') return undefined;
  if (typeof meta.promptTokenCount !== 'number' && typeof meta.candidatesTokenCount !== 'number') return undefined;
  const prompt = count(meta.promptTokenCount) + count(meta.toolUsePromptTokenCount);
  return openaiUsage(prompt, count(meta.candidatesTokenCount) + count(meta.thoughtsTokenCount), count(meta.cachedContentTokenCount));
}
