// Token usage of one upstream call, normalized enough to price it and to write it to
// `LiteLLM_SpendLogs`, while keeping the one difference between the two dialects explicit:
//
//   OpenAI     `prompt_tokens` INCLUDES cached tokens (`prompt_tokens_details.cached_tokens` is a
//              part of it, billed at the cache-read rate; the rest at the input rate).
//   Anthropic  `input_tokens` EXCLUDES cache reads and cache writes; each of the three counts is
//              billed at its own rate.
//
// `promptIncludesCache` is required (no default), so every producer has to say which one it built
// and the cost code never guesses. Build values with `openaiUsage` / `anthropicUsage`.

export interface TokenUsage {
  /** true: OpenAI semantics (prompt includes cache reads/writes); false: Anthropic semantics. */
  readonly promptIncludesCache: boolean;
  /** OpenAI `prompt_tokens` / Anthropic `input_tokens` (see promptIncludesCache). */
  prompt_tokens: number;
  /** OpenAI `completion_tokens` (reasoning included) / Anthropic `output_tokens`. */
  completion_tokens: number;
  /** Tokens read from the prompt cache. */
  cache_read_input_tokens: number;
  /** Tokens written to the prompt cache (Anthropic; 0 for OpenAI). */
  cache_creation_input_tokens: number;
  /** Part of cache_creation_input_tokens written with the one-hour TTL (Anthropic). */
  cache_creation_1h_input_tokens?: number;
  /** Set when the counts are the gateway's estimate (a stream cut before the provider's usage). */
  estimated?: boolean;
}

/** OpenAI semantics: `promptTokens` includes `cachedTokens` (and `cacheCreationTokens`, if any). */
export function openaiUsage(promptTokens: number, completionTokens: number, cachedTokens = 0, cacheCreationTokens = 0): TokenUsage {
  return {
    promptIncludesCache: true,
    prompt_tokens: count(promptTokens),
    completion_tokens: count(completionTokens),
    cache_read_input_tokens: count(cachedTokens),
    cache_creation_input_tokens: count(cacheCreationTokens),
  };
}

/** Anthropic semantics: `inputTokens` excludes cache reads and writes. */
export function anthropicUsage(inputTokens: number, outputTokens: number, cacheReadTokens = 0, cacheCreationTokens = 0, cacheCreation1hTokens = 0): TokenUsage {
  const u: TokenUsage = {
    promptIncludesCache: false,
    prompt_tokens: count(inputTokens),
    completion_tokens: count(outputTokens),
    cache_read_input_tokens: count(cacheReadTokens),
    cache_creation_input_tokens: count(cacheCreationTokens),
  };
  const h = count(cacheCreation1hTokens);
  if (h > 0) u.cache_creation_1h_input_tokens = Math.min(h, u.cache_creation_input_tokens);
  return u;
}

/** All input tokens of the call: uncached + cache reads + cache writes. */
export function totalInputTokens(u: TokenUsage): number {
  return u.promptIncludesCache ? u.prompt_tokens : u.prompt_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
}

/** Input tokens billed at the plain input rate. */
export function uncachedInputTokens(u: TokenUsage): number {
  if (!u.promptIncludesCache) return u.prompt_tokens;
  return Math.max(0, u.prompt_tokens - u.cache_read_input_tokens - u.cache_creation_input_tokens);
}

/**
 * The `prompt_tokens` LiteLLM writes to `LiteLLM_SpendLogs` and the Daily* tables: LiteLLM's
 * Usage object counts Anthropic cache reads and writes into prompt_tokens, so this is
 * totalInputTokens for both dialects.
 */
export function spendLogPromptTokens(u: TokenUsage): number {
  return totalInputTokens(u);
}

/** A token count from untrusted input: a non-negative safe integer, else 0. */
export function count(v: unknown): number {
  if (typeof v !== 'number' || !(v > 0)) return 0;
  return v >= Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : Math.floor(v);
}
