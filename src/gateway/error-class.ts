// The LiteLLM exception class of an upstream failure.

const CONTEXT_WINDOW = /context.{0,20}(length|window)|maximum context|prompt is too long|too many tokens/i;
const CONTENT_POLICY = /content.{0,10}(policy|filter|management)|safety system/i;

/**
 * LiteLLM's exception class for an upstream failure (status 0: no answer at all); retry_policy
 * and the special fallbacks are keyed by it.
 */
export function errorClass(status: number, message: string): string {
  if (status === 0) return 'InternalServerError';
  if (status === 408) return 'Timeout';
  if (status === 429) return 'RateLimitError';
  if (status === 401 || status === 403) return 'AuthenticationError';
  if (status === 400 || status === 422) {
    if (CONTEXT_WINDOW.test(message)) return 'ContextWindowExceededError';
    if (CONTENT_POLICY.test(message)) return 'ContentPolicyViolationError';
    return 'BadRequestError';
  }
  return status >= 500 ? 'InternalServerError' : 'BadRequestError';
}
