// An error the agent API answers with: a status, a message naming what is wrong, and the field, in
// the OpenAI-style envelope every other Weir route uses ({"error": {message, type, param, code}}).

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'bad_request_error',
  401: 'auth_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'method_not_allowed',
  409: 'conflict_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'service_unavailable',
};

export class AgentApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  get body(): { error: { message: string; type: string; param: string | null; code: string } } {
    return { error: { message: this.message, type: TYPE_BY_STATUS[this.status] ?? 'internal_server_error', param: this.param, code: String(this.status) } };
  }
}
