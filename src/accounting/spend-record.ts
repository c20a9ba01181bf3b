// One request's accounting, as the worker that served it records it. It is appended to the
// worker's spend journal before the client gets the end of its answer, and becomes exactly one
// `LiteLLM_SpendLogs` row plus increments of the entity `spend` columns and the Daily* tables.

export type CallType = 'acompletion' | 'anthropic_messages' | 'aresponses' | 'aembedding' | 'pass_through_endpoint';

export interface SpendRecord {
  /**
   * Provider response id (chatcmpl-…, msg_…) when known, else the call id. Upstreams may repeat
   * ids (self-hosted servers, mocks, replays): a row whose id is taken is written under call_id.
   */
  request_id: string;
  /** Weir's own id of the call (x-litellm-call-id), unique; absent in journals of older versions. */
  call_id?: string;
  /** Set by the spend writer on a row re-keyed to its call id: the id the upstream gave. */
  upstream_request_id?: string;
  call_type: CallType;
  /** sha256 hex of the virtual key; 'litellm_proxy_master_key' for the master key; '' when no auth. */
  api_key: string;
  /** Cost in nano-dollars (an integer: money is never a float two threads add to). */
  spend_nanos: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** Epoch milliseconds. */
  start_ms: number;
  end_ms: number;
  /** First byte of the answer (streams), else end. */
  completion_start_ms: number;
  /** Upstream model as called, e.g. `gpt-4o`. */
  model: string;
  model_id: string;
  model_group: string;
  custom_llm_provider: string;
  api_base: string;
  /** Owner user of the key ('' if none). */
  user_id: string;
  team_id: string | null;
  organization_id: string | null;
  end_user: string | null;
  key_alias: string | null;
  team_alias: string | null;
  request_tags: string[];
  session_id: string;
  status: 'success' | 'failure';
  /** For failures: status code and message (never a secret). */
  error?: { status: number; message: string; type: string };
  requester_ip_address: string | null;
  /** Caller-provided x-litellm-spend-logs-metadata / key metadata for spend logs. */
  spend_logs_metadata: Record<string, unknown> | null;
  /** Gateway's own added time. */
  overhead_ms: number;
  attempted_retries: number;
}

export const NANOS_PER_USD = 1_000_000_000;
