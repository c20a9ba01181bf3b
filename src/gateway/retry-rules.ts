// What a call does after an upstream failure, as LiteLLM's router decides it: retry, move to a
// fallback group, or give the client the error; how long to wait before a retry; and the error
// when no deployment of a group can be tried. Decisions only: the call (proxy-call.ts) acts on them.
import { errorClass } from './error-class';
import { GatewayError } from './errors';
import type { ModelGroup, RoutingSettings, Target } from './snapshot';

/** 4xx answers that say the deployment is at fault (bad upstream key, model not found there): worth a fallback. */
const DEPLOYMENT_SIDE = new Set([401, 403, 404]);
export const MAX_BACKOFF_MS = 8_000;

/** How a failure of class `errorClass(status, message)` is treated. */
export interface RetryPlan {
  /** context_window_fallbacks / content_policy_fallbacks for the group the client asked for: taken at once. */
  special: string[] | null;
  retryable: boolean;
  maxRetries: number;
}

/**
 * `status` 0 is a failure without an answer (socket error), 408 a timeout. retry_policy's count
 * for the error's class decides, else num_retries for what LiteLLM retries: timeouts, 429, 5xx.
 */
export function retryPlan(r: RoutingSettings, status: number, message: string, firstGroup: string): RetryPlan {
  const kind = errorClass(status, message);
  const fallbacks = kind === 'ContextWindowExceededError' ? r.contextWindowFallbacks : kind === 'ContentPolicyViolationError' ? r.contentPolicyFallbacks : null;
  const policy = r.retryPolicy[kind];
  return {
    special: fallbacks?.get(firstGroup) ?? null,
    retryable: policy !== undefined ? policy > 0 : status === 0 || status === 408 || status === 429 || status >= 500,
    maxRetries: policy ?? r.numRetries,
  };
}

/** Once retries are spent: a client-side 4xx goes back to the client, anything else tries the fallbacks. */
export function worthAFallback(status: number): boolean {
  return !(status >= 400 && status < 500 && status !== 429 && status !== 408 && !DEPLOYMENT_SIDE.has(status));
}

/**
 * LiteLLM's rule: no wait when another deployment can take the retry, else exponential backoff
 * (`retries` made so far, this one included) honouring a retry-after of up to a minute.
 */
export function backoffMs(targets: readonly Target[], tried: readonly Target[], error: GatewayError, retries: number): number {
  if (targets.some((t) => !tried.includes(t) && t.unavailable === null)) return 0;
  const idx = error.headers.indexOf('retry-after');
  const retryAfter = idx >= 0 ? Number(error.headers[idx + 1]) : NaN;
  if (retryAfter > 0 && retryAfter <= 60) return retryAfter * 1000;
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** (retries - 1));
}

/** No deployment of the group can be tried: 503 when none is usable at all, else LiteLLM's 429 of a group in cooldown. */
export function noDeploymentError(group: ModelGroup, targets: readonly Target[], cooldownMs: number): GatewayError {
  const reasons = targets.map((t) => t.unavailable).filter((r): r is string => r !== null);
  if (reasons.length === targets.length) {
    return new GatewayError(503, `No usable deployment for model=${group.name}: ${reasons[0]}`, 'service_unavailable_error');
  }
  const cooldownS = Math.ceil(cooldownMs / 1000);
  return new GatewayError(
    429,
    `No deployments available for selected model, Try again in ${cooldownS} seconds. Passed model=${group.name}`,
    'rate_limit_error',
    null,
    ['retry-after', String(cooldownS)],
  );
}
