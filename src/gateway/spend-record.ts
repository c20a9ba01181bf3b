// Builds the journal line of one call: everything LiteLLM writes into a LiteLLM_SpendLogs row.
import type { CallType, SpendRecord } from '../accounting/spend-record';
import { spendLogPromptTokens, type TokenUsage } from '../accounting/usage-types';
import type { Identity } from './identity';
import type { Target } from './snapshot';

export interface SpendInput {
  callId: string;
  responseId: string | undefined;
  endpoint: 'chat' | 'messages' | 'responses' | 'embeddings';
  /** Overrides the call type the endpoint implies (pass-through routes). */
  callType?: CallType;
  identity: Identity;
  endUser: string | null;
  headers: Record<string, string>;
  group: string;
  target: Target | undefined;
  usage: TokenUsage | null;
  costNanos: number;
  startMs: number;
  endMs: number;
  firstByteMs: number;
  overheadMs: number;
  retries: number;
  error: { status: number; message: string; type: string } | undefined;
}

const CALL_TYPE: Record<SpendInput['endpoint'], CallType> = { chat: 'acompletion', messages: 'anthropic_messages', responses: 'aresponses', embeddings: 'aembedding' };

function headerMetadata(h: Record<string, string>): Record<string, unknown> | null {
  const raw = h['x-litellm-spend-logs-metadata'];
  if (!raw) return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function spendRecord(i: SpendInput): SpendRecord {
  const p = i.identity.kind === 'key' ? i.identity.profile : null;
  const t = i.target;
  const u = i.usage;
  const headerTags = i.headers['x-litellm-tags']?.split(',').map((s) => s.trim()).filter(Boolean) ?? [];
  const keyMeta = p?.spendLogsMetadata ?? null;
  const reqMeta = headerMetadata(i.headers);
  return {
    request_id: i.error ? i.callId : (i.responseId ?? i.callId),
    call_id: i.callId,
    call_type: i.callType ?? CALL_TYPE[i.endpoint],
    api_key: p ? p.tokenHash : i.identity.kind === 'master' ? 'litellm_proxy_master_key' : '',
    spend_nanos: i.costNanos,
    prompt_tokens: u ? spendLogPromptTokens(u) : 0,
    completion_tokens: u ? u.completion_tokens : 0,
    cache_read_input_tokens: u ? u.cache_read_input_tokens : 0,
    cache_creation_input_tokens: u ? u.cache_creation_input_tokens : 0,
    start_ms: i.startMs,
    end_ms: i.endMs,
    completion_start_ms: i.firstByteMs,
    model: t?.upstreamModel ?? '',
    model_id: t?.id ?? '',
    model_group: i.group,
    custom_llm_provider: t?.provider ?? '',
    api_base: t?.apiBase ?? '',
    user_id: p?.userId ?? '',
    team_id: p?.teamId ?? null,
    organization_id: p?.orgId ?? null,
    end_user: i.endUser,
    key_alias: p?.keyAlias ?? null,
    team_alias: p?.teamAlias ?? null,
    request_tags: [...(p?.tags ?? []), ...headerTags],
    session_id: i.headers['x-litellm-session-id'] ?? i.headers['x-claude-code-session-id'] ?? i.callId,
    status: i.error ? 'failure' : 'success',
    error: i.error,
    requester_ip_address: null,
    spend_logs_metadata: keyMeta || reqMeta ? { ...keyMeta, ...reqMeta } : null,
    overhead_ms: Math.round(i.overheadMs * 1000) / 1000,
    attempted_retries: i.retries,
  };
}
