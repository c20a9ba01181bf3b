// One error type for everything a translator refuses, and the error-body mappings between the two
// dialects (an upstream's error must reach the client in the client's own envelope).

/**
 * A request the translator cannot turn into a valid upstream request. `status` is 400 unless said
 * otherwise; `param` is the JSON path of the offending value (`tools[3].input_schema`) or null.
 * `toOpenAI()` / `toAnthropic()` give the body to answer with, in the client's dialect.
 */
export class TranslationError extends Error {
  readonly status: number;
  readonly param: string | null;
  readonly type: string;

  constructor(message: string, param: string | null = null, status = 400, type = 'invalid_request_error') {
    super(message);
    this.name = 'TranslationError';
    this.status = status;
    this.param = param;
    this.type = type;
  }

  /** `{error: {message, type, param, code}}`, `code` as a string like LiteLLM. */
  toOpenAI(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: String(this.status) } };
  }

  /** `{type: 'error', error: {type, message}}`. */
  toAnthropic(): { type: 'error'; error: { type: string; message: string } } {
    return { type: 'error', error: { type: anthropicErrorType(this.status), message: this.message } };
  }
}

/** Anthropic's error `type` for an HTTP status (LiteLLM's anthropic exception mapping). */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 408:
      return 'timeout_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** OpenAI's error `type` for an HTTP status, used when the upstream gave none. */
export function openAIErrorType(status: number): string {
  switch (status) {
    case 400:
    case 404:
    case 413:
    case 422:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 408:
      return 'timeout_error';
    case 429:
      return 'rate_limit_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

interface ErrorFacts {
  message: string;
  type?: string;
  param?: string | null;
}

/** Message (and type/param when present) out of any upstream error body: JSON, text or bytes. */
function readErrorBody(status: number, body: unknown): ErrorFacts {
  let v: unknown = body;
  if (v instanceof Uint8Array) v = new TextDecoder().decode(v);
  if (typeof v === 'string') {
    const text = v.trim();
    try {
      v = JSON.parse(text);
    } catch {
      return { message: text || `upstream returned status ${status}` };
    }
  }
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const e = o.error;
    if (typeof e === 'string') return { message: e };
    if (typeof e === 'object' && e !== null) {
      const eo = e as Record<string, unknown>;
      const facts: ErrorFacts = { message: typeof eo.message === 'string' ? eo.message : JSON.stringify(e) };
      if (typeof eo.type === 'string') facts.type = eo.type;
      if (typeof eo.param === 'string') facts.param = eo.param;
      return facts;
    }
    if (typeof o.message === 'string') return { message: o.message };
    if (typeof o.detail === 'string') return { message: o.detail };
    return { message: JSON.stringify(v) };
  }
  return { message: `upstream returned status ${status}` };
}

/**
 * An OpenAI-style error body from the upstream → the Anthropic envelope for an Anthropic client.
 * The `type` follows the status (Anthropic's vocabulary); the status itself is unchanged.
 */
export function openAIErrorToAnthropic(status: number, body: unknown): { type: 'error'; error: { type: string; message: string } } {
  const f = readErrorBody(status, body);
  return { type: 'error', error: { type: anthropicErrorType(status), message: f.message } };
}

/**
 * An Anthropic error body from the upstream → the OpenAI envelope for an OpenAI client. Anthropic's
 * own `type` is kept (its vocabulary overlaps OpenAI's); `code` is the status as a string.
 */
export function anthropicErrorToOpenAI(
  status: number,
  body: unknown,
): { error: { message: string; type: string; param: string | null; code: string } } {
  const f = readErrorBody(status, body);
  return { error: { message: f.message, type: f.type ?? openAIErrorType(status), param: f.param ?? null, code: String(status) } };
}
