// Token usage in both dialects. Anthropic splits the prompt into uncached input, cache reads and
// cache writes (`input_tokens` excludes both); OpenAI reports one `prompt_tokens` with the cached
// part inside it (`prompt_tokens_details.cached_tokens`).
import { isObj, num } from './shape';

/** Usage in Anthropic's terms — what the gateway bills, whichever dialect the upstream spoke. */
export interface Usage {
  /** Prompt tokens that were neither read from nor written to the cache. */
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** Anthropic usage (a response's, or message_start's) in the Usage shape. */
export function usageFromAnthropic(u: unknown): Usage {
  return mergeAnthropicUsage(u, emptyUsage());
}

export function emptyUsage(): Usage {
  return { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
}

/**
 * OpenAI usage → Anthropic usage. Cache reads from `prompt_tokens_details.cached_tokens` (or a
 * LiteLLM upstream's `cache_read_input_tokens`); cache writes from `cache_creation_input_tokens`,
 * `prompt_tokens_details.cache_creation_tokens` or `cache_write_tokens` (OpenRouter), else 0.
 * input_tokens = prompt_tokens − reads − writes, never below 0 (LiteLLM's rule).
 */
export function usageFromOpenAI(u: unknown, into: Usage = emptyUsage()): Usage {
  if (!isObj(u)) return into;
  const details = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : undefined;
  const read = num(u.cache_read_input_tokens) || (details ? num(details.cached_tokens) : 0);
  const write =
    num(u.cache_creation_input_tokens) ||
    (details ? num(details.cache_creation_tokens) || num(details.cache_write_tokens) : 0);
  into.input_tokens = Math.max(num(u.prompt_tokens) - read - write, 0);
  into.output_tokens = num(u.completion_tokens);
  into.cache_read_input_tokens = read;
  into.cache_creation_input_tokens = write;
  return into;
}

/**
 * Folds an Anthropic usage object (message_start's, message_delta's or a response's) into `into`:
 * fields present overwrite, fields absent stay (message_delta often carries output_tokens only).
 * With `delta`, a zero input or cache count does not erase the one message_start reported.
 */
export function mergeAnthropicUsage(u: unknown, into: Usage, delta = false): Usage {
  if (!isObj(u)) return into;
  if (typeof u.output_tokens === 'number') into.output_tokens = num(u.output_tokens);
  const input = num(u.input_tokens);
  const read = num(u.cache_read_input_tokens);
  const write = num(u.cache_creation_input_tokens);
  if (typeof u.input_tokens === 'number' && (input > 0 || !delta)) into.input_tokens = input;
  if (typeof u.cache_read_input_tokens === 'number' && (read > 0 || !delta)) into.cache_read_input_tokens = read;
  if (typeof u.cache_creation_input_tokens === 'number' && (write > 0 || !delta)) into.cache_creation_input_tokens = write;
  return into;
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; cache_creation_tokens: number };
  /** LiteLLM's extra fields, so LiteLLM-aware clients and cost trackers keep working. */
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** Anthropic usage → OpenAI usage: prompt_tokens counts uncached + cache reads + cache writes. */
export function usageToOpenAI(u: Usage): OpenAIUsage {
  const prompt = u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.output_tokens,
    total_tokens: prompt + u.output_tokens,
    prompt_tokens_details: { cached_tokens: u.cache_read_input_tokens, cache_creation_tokens: u.cache_creation_input_tokens },
    cache_read_input_tokens: u.cache_read_input_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens,
  };
}
