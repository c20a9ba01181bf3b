// What a call does after an upstream failure (src/gateway/retry-rules.ts), decision by decision:
// LiteLLM's retryable classes, retry_policy overriding num_retries, the special fallbacks, which
// 4xx go back to the client, the backoff, and the error of a group with nothing left to try.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../../src/gateway/errors';
import { backoffMs, MAX_BACKOFF_MS, noDeploymentError, retryPlan, worthAFallback } from '../../src/gateway/retry-rules';
import type { ModelGroup, RoutingSettings, Target } from '../../src/gateway/snapshot';

function routing(o: Partial<RoutingSettings> = {}): RoutingSettings {
  return {
    strategy: 'simple-shuffle',
    fallbacks: new Map(),
    defaultFallbacks: [],
    maxFallbacks: 5,
    contextWindowFallbacks: new Map(),
    contentPolicyFallbacks: new Map(),
    retryPolicy: {},
    numRetries: 2,
    allowedFails: 3,
    cooldownMs: 5_000,
    disableCooldowns: false,
    ...o,
  };
}

const target = (unavailable: string | null = null) => ({ unavailable }) as Target;
const group = { name: 'gpt' } as ModelGroup;

test('without a retry_policy: timeouts, 429, 5xx and failures without an answer are retried num_retries times; other 4xx are not', () => {
  for (const status of [0, 408, 429, 500, 503]) assert.deepEqual(retryPlan(routing(), status, 'x', 'gpt'), { special: null, retryable: true, maxRetries: 2 }, `status ${status}`);
  for (const status of [400, 401, 404, 422]) assert.equal(retryPlan(routing(), status, 'x', 'gpt').retryable, false, `status ${status}`);
});

test("retry_policy's count for the error's class overrides num_retries, and 0 turns retries off", () => {
  const r = routing({ retryPolicy: { RateLimitError: 5, InternalServerError: 0, BadRequestError: 1 } });
  assert.deepEqual(retryPlan(r, 429, 'slow down', 'gpt'), { special: null, retryable: true, maxRetries: 5 });
  assert.equal(retryPlan(r, 502, 'bad gateway', 'gpt').retryable, false);
  assert.deepEqual(retryPlan(r, 400, 'bad field', 'gpt'), { special: null, retryable: true, maxRetries: 1 });
});

test('context-window and content-policy errors name their own fallbacks for the group the client asked for, and only for it', () => {
  const r = routing({ contextWindowFallbacks: new Map([['gpt', ['gpt-long']]]), contentPolicyFallbacks: new Map([['gpt', ['gpt-lenient']]]) });
  assert.deepEqual(retryPlan(r, 400, "This model's maximum context length is 8192 tokens", 'gpt').special, ['gpt-long']);
  assert.deepEqual(retryPlan(r, 400, 'blocked by the content filter', 'gpt').special, ['gpt-lenient']);
  assert.equal(retryPlan(r, 400, "This model's maximum context length is 8192 tokens", 'other').special, null);
  assert.equal(retryPlan(r, 400, 'unknown field', 'gpt').special, null);
});

test("once retries are spent, a client's own 4xx goes back to it; rate limits, timeouts, the deployment's 401/403/404 and 5xx try the fallbacks", () => {
  for (const status of [400, 409, 413, 422]) assert.equal(worthAFallback(status), false, `status ${status}`);
  for (const status of [0, 401, 403, 404, 408, 429, 500, 529]) assert.equal(worthAFallback(status), true, `status ${status}`);
});

test('a retry waits nothing while another usable deployment is untried, else honours retry-after up to a minute, else backs off exponentially to a cap', () => {
  const a = target();
  const b = target();
  const cooling = target('cooling down');
  const plain = new GatewayError(500, 'boom');
  assert.equal(backoffMs([a, b], [a], plain, 1), 0);
  assert.equal(backoffMs([a, cooling], [a], plain, 1), 500, 'an unavailable deployment does not count');
  assert.equal(backoffMs([a], [a], plain, 2), 1_000);
  assert.equal(backoffMs([a], [a], plain, 3), 2_000);
  assert.equal(backoffMs([a], [a], plain, 30), MAX_BACKOFF_MS);
  const withRetryAfter = (v: string) => new GatewayError(429, 'slow down', 'rate_limit_error', null, ['retry-after', v]);
  assert.equal(backoffMs([a], [a], withRetryAfter('3'), 1), 3_000);
  assert.equal(backoffMs([a], [a], withRetryAfter('600'), 1), 500, 'more than a minute: the backoff instead');
  assert.equal(backoffMs([a], [a], withRetryAfter('soon'), 2), 1_000);
});

test("a group with nothing left to try: 503 naming why when no deployment is usable, else LiteLLM's 429 with retry-after", () => {
  const none = noDeploymentError(group, [target('no api_key'), target('no api_key')], 5_000);
  assert.equal(none.status, 503);
  assert.match(none.message, /No usable deployment for model=gpt: no api_key/);
  const cooled = noDeploymentError(group, [target(), target('no api_key')], 4_500);
  assert.equal(cooled.status, 429);
  assert.equal(cooled.message, 'No deployments available for selected model, Try again in 5 seconds. Passed model=gpt');
  assert.deepEqual(cooled.headers, ['retry-after', '5']);
});
