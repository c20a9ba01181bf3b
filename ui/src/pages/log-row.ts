// A LiteLLM_SpendLogs row as /spend/logs/ui lists it, and what the page reads out of its metadata.
export interface LogRow {
  request_id: string;
  call_type: string;
  api_key: string;
  key_alias?: string | null;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  startTime: string;
  endTime: string;
  completionStartTime?: string | null;
  request_duration_ms?: number | null;
  model: string;
  model_id?: string | null;
  model_group?: string | null;
  custom_llm_provider?: string | null;
  api_base?: string | null;
  user?: string | null;
  metadata?: Record<string, unknown> | string | null;
  request_tags?: unknown;
  team_id?: string | null;
  organization_id?: string | null;
  end_user?: string | null;
  session_id?: string | null;
  status?: string | null;
}

export interface ErrorInfo {
  error_code?: string;
  error_class?: string;
  error_message?: string;
}

/** The metadata column as an object (older writers stored it as a JSON string). */
export function metadataOf(r: LogRow): Record<string, unknown> {
  const m = r.metadata;
  if (typeof m === 'string') {
    try {
      const v = JSON.parse(m) as unknown;
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return m ?? {};
}

export function errorOf(r: LogRow): ErrorInfo | null {
  const e = metadataOf(r).error_information;
  return e && typeof e === 'object' ? (e as ErrorInfo) : null;
}

export const statusOf = (r: LogRow): 'success' | 'failure' => (r.status === 'failure' || errorOf(r) ? 'failure' : 'success');
