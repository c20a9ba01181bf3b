// The small vocabularies that differ between the dialects: why a message stopped, and how much to
// think.

/**
 * OpenAI `finish_reason` → Anthropic `stop_reason`.
 *   stop → end_turn (stop_sequence when the matched sequence is known, see below)
 *   length → max_tokens · tool_calls, function_call → tool_use · content_filter → refusal
 *   anything else (null, provider-specific) → end_turn
 * `sawToolCalls` forces tool_use whatever the upstream said (LiteLLM #34692: upstreams that answer
 * `stop` after calling tools make Claude Code end the turn without running them); `length` keeps
 * max_tokens so the client knows the tool input may be cut.
 */
export function stopReasonFromFinish(finish: unknown, sawToolCalls: boolean): string {
  if (finish === 'length') return 'max_tokens';
  if (sawToolCalls) return 'tool_use';
  switch (finish) {
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/**
 * The stop sequence an OpenAI-compatible upstream says it matched, when it says so: vLLM puts it
 * in `choice.stop_reason`, SGLang in `choice.matched_stop`. OpenAI itself never tells.
 */
export function matchedStopSequence(choice: Record<string, unknown>, stopSequences: readonly string[] | undefined): string | null {
  if (stopSequences === undefined || stopSequences.length === 0) return null;
  const m = typeof choice.stop_reason === 'string' ? choice.stop_reason : choice.matched_stop;
  return typeof m === 'string' && stopSequences.includes(m) ? m : null;
}

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`.
 *   end_turn, stop_sequence, pause_turn → stop · max_tokens, model_context_window_exceeded → length
 *   tool_use → tool_calls · refusal → content_filter
 */
export function finishReasonFromStop(stop: unknown): string {
  switch (stop) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

/** LiteLLM's DEFAULT_REASONING_EFFORT_*_THINKING_BUDGET. */
export const THINKING_BUDGET = { low: 1024, medium: 2048, high: 4096, xhigh: 8192 } as const;
/** Anthropic refuses smaller budgets. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * Anthropic `thinking.budget_tokens` → OpenAI `reasoning_effort`, on LiteLLM's thresholds:
 * budget ≥ 4096 → high, ≥ 2048 → medium, below → low. (LiteLLM answers `minimal` under 1024, a
 * budget Anthropic itself refuses; `low` is the value every reasoning model accepts.)
 */
export function effortFromBudget(budget: number): 'low' | 'medium' | 'high' {
  if (budget >= THINKING_BUDGET.high) return 'high';
  if (budget >= THINKING_BUDGET.medium) return 'medium';
  return 'low';
}

/**
 * Anthropic `output_config.effort` (sent with `thinking: {type: 'adaptive'}`) → `reasoning_effort`.
 * low/medium/high as they are; `max` and `xhigh` → high (not every OpenAI model knows more).
 */
export function effortFromAnthropicEffort(effort: unknown): 'low' | 'medium' | 'high' | undefined {
  switch (effort) {
    case 'low':
    case 'medium':
    case 'high':
      return effort;
    case 'max':
    case 'xhigh':
      return 'high';
    default:
      return undefined;
  }
}

/**
 * OpenAI `reasoning_effort` → Anthropic thinking budget: none → no thinking; minimal, low → 1024;
 * medium → 2048; high → 4096; xhigh, max, ultra → 8192. Unknown values → undefined (the caller refuses).
 */
export function budgetFromEffort(effort: string): number | null | undefined {
  switch (effort) {
    case 'none':
      return null;
    case 'minimal':
    case 'low':
      return THINKING_BUDGET.low;
    case 'medium':
      return THINKING_BUDGET.medium;
    case 'high':
      return THINKING_BUDGET.high;
    case 'xhigh':
    case 'max':
    case 'ultra': // Codex 0.171's top effort for GPT-6 models
      return THINKING_BUDGET.xhigh;
    default:
      return undefined;
  }
}
