// Turns what an upstream said (a status and an error body, or a socket error) into the client's
// error: the upstream's status, a message naming the deployment, and never the deployment's key.
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from './errors';
import { scrubSecrets } from './provider-headers';
import type { Target } from './snapshot';

const CLASS_BY_STATUS: Record<number, string> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  408: 'Timeout',
  422: 'UnprocessableEntityError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  502: 'APIConnectionError',
  503: 'ServiceUnavailableError',
};

const PROVIDER_LABEL: Record<string, string> = { openai: 'OpenAI', anthropic: 'Anthropic', azure: 'Azure', bedrock: 'Bedrock', mock: 'Mock', vertex_ai: 'VertexAI', gemini: 'Gemini' };

const scrub = (text: string, t: Target): string => scrubSecrets(text, t.secrets);

export function describeTarget(t: Target): string {
  return `deployment ${t.id} (model group ${t.group}, ${t.provider}/${t.upstreamModel})`;
}

function prefix(status: number, t: Target): string {
  const cls = CLASS_BY_STATUS[status] ?? (status >= 500 ? 'APIError' : 'BadRequestError');
  return `litellm.${cls}: ${PROVIDER_LABEL[t.provider] ?? t.provider}Exception`;
}

/** An upstream answered with an error status. */
export function fromUpstreamStatus(status: number, headers: IncomingHttpHeaders, body: Buffer, t: Target): GatewayError {
  // Scrubbed whole before it is cut, so a key straddling the cut cannot leak in part.
  let message = scrub(body.toString('utf8'), t).slice(0, 2000).trim();
  let type: string | undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown; type?: unknown } | string; message?: unknown };
    const e = parsed.error;
    if (typeof e === 'string') message = e;
    else if (e && typeof e.message === 'string') {
      message = e.message;
      if (typeof e.type === 'string') type = e.type;
    } else if (typeof parsed.message === 'string') message = parsed.message;
  } catch {
    // Not JSON: the text itself is the message.
  }
  const out: string[] = [];
  const retryAfter = headers['retry-after'];
  if (typeof retryAfter === 'string') out.push('retry-after', retryAfter);
  return new GatewayError(
    status,
    scrub(`${prefix(status, t)} - ${message || `status ${status}`}. Received from ${describeTarget(t)}`, t),
    type,
    null,
    out,
  );
}

/** The upstream could not be reached, reset the connection, or did not answer in time. */
export function fromUpstreamFailure(err: Error, t: Target, timedOut: boolean, timeoutMs: number): GatewayError {
  if (timedOut) {
    return new GatewayError(408, `${prefix(408, t)} - no answer within ${timeoutMs / 1000} s from ${describeTarget(t)}`, 'timeout_error');
  }
  const code = (err as { code?: string }).code;
  const reason = scrub(code ? `${code}: ${err.message}` : err.message, t);
  return new GatewayError(502, `${prefix(502, t)} - could not complete the call to ${describeTarget(t)} at ${t.apiBase}: ${reason}`, 'api_connection_error');
}
