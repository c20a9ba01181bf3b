// A spend record as the journal tests write it: record i, with fields overridden where a test needs.
import type { SpendRecord } from '../../src/accounting/spend-record';

export function rec(i: number, over: Partial<SpendRecord> = {}): SpendRecord {
  return {
    request_id: `req-${i}`,
    call_type: 'acompletion',
    api_key: 'k'.repeat(64),
    spend_nanos: 1000 + i,
    prompt_tokens: 10,
    completion_tokens: 5,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    start_ms: 1_750_000_000_000,
    end_ms: 1_750_000_000_100,
    completion_start_ms: 1_750_000_000_050,
    model: 'gpt-4o',
    model_id: 'dep-1',
    model_group: 'gpt-4o',
    custom_llm_provider: 'openai',
    api_base: 'https://api.openai.com',
    user_id: '',
    team_id: null,
    organization_id: null,
    end_user: null,
    key_alias: null,
    team_alias: null,
    request_tags: [],
    session_id: 's',
    status: 'success',
    requester_ip_address: null,
    spend_logs_metadata: null,
    overhead_ms: 0.2,
    attempted_retries: 0,
    ...over,
  };
}
