// Errors as clients of each API expect them. Chat endpoints answer in OpenAI's envelope (LiteLLM's
// ProxyException shape, `code` as a string); /v1/messages answers in Anthropic's.
import type { HeaderList } from '../server/exchange';
import { anthropicErrorType } from '../translate/errors';

export type Dialect = 'openai' | 'anthropic';

export class GatewayError extends Error {
  /**
   * What a log line may say of this error, when the client's message shows part of a client
   * secret (LiteLLM's 401 shows a key's first and last 4 characters; logs show none of it).
   */
  logText: string | undefined;

  constructor(
    readonly status: number,
    message: string,
    readonly type: string = defaultOpenAIType(status),
    readonly param: string | null = null,
    readonly headers: HeaderList = [],
  ) {
    super(message);
  }
}

function defaultOpenAIType(status: number): string {
  if (status === 401) return 'auth_error';
  if (status === 404) return 'not_found_error';
  if (status === 408) return 'timeout_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'internal_server_error';
  return 'bad_request_error';
}

/** Anthropic's error types by status: one map, shared with the translator. */
export const anthropicType = anthropicErrorType;

export function errorBody(dialect: Dialect, err: GatewayError): string {
  if (dialect === 'anthropic') {
    return JSON.stringify({ type: 'error', error: { type: anthropicType(err.status), message: err.message } });
  }
  return JSON.stringify({ error: { message: err.message, type: err.type, param: err.param, code: String(err.status) } });
}

/**
 * The last event of a stream that failed after it started, in the stream's own framing: an
 * Anthropic `error` event, an OpenAI chat chunk holding `error`, or the Responses API's `error`
 * event (Codex and the OpenAI SDKs read it as the stream's failure). The Responses event carries
 * no sequence_number: in a passed-through stream the numbering is the upstream's.
 */
export function streamErrorEvent(dialect: Dialect | 'responses', err: GatewayError): string {
  if (dialect === 'anthropic') return `event: error\ndata: ${errorBody('anthropic', err)}\n\n`;
  if (dialect === 'responses') return `event: error\ndata: ${JSON.stringify({ type: 'error', code: err.type, message: err.message, param: err.param })}\n\n`;
  return `data: ${errorBody('openai', err)}\n\n`;
}
