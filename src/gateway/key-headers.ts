// The x-litellm-key-* and x-ratelimit-api_key-* headers LiteLLM puts on a virtual key's answers:
// its spend and budget, and its rpm / tpm limits with what is left of them this minute.
import { NANOS_PER_USD } from '../accounting/spend-record';
import type { HeaderList } from '../server/exchange';
import type { EntityTable } from '../state/entity-table';
import type { KeyProfile } from './governance';

export function keyHeaders(h: HeaderList, profile: KeyProfile, table: EntityTable): void {
  const rec = profile.record;
  const max = table.maxBudgetNanos(rec);
  h.push('x-litellm-key-spend', String(Number(table.spendNanos(rec)) / NANOS_PER_USD));
  if (max >= 0n) h.push('x-litellm-key-max-budget', String(Number(max) / NANOS_PER_USD));
  const rpm = table.limit(rec, 'requests');
  const tpm = table.limit(rec, 'tokens');
  const now = Date.now();
  if (rpm >= 0) h.push('x-litellm-key-rpm-limit', String(rpm), 'x-ratelimit-api_key-limit-requests', String(rpm), 'x-ratelimit-api_key-remaining-requests', String(Math.max(0, rpm - table.used(rec, 'requests', now))));
  if (tpm >= 0) h.push('x-litellm-key-tpm-limit', String(tpm), 'x-ratelimit-api_key-limit-tokens', String(tpm), 'x-ratelimit-api_key-remaining-tokens', String(Math.max(0, tpm - table.used(rec, 'tokens', now))));
}
