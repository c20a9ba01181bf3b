// The x-litellm-key-* and x-ratelimit-api_key-* headers LiteLLM puts on a virtual key's answers:
// its spend and budget, and its rpm / tpm limits with what is left of them this minute.
import { countText, usdText } from '../number-text';
import type { HeaderList } from '../server/exchange';
import type { EntityTable } from '../state/entity-table';
import type { KeyProfile } from './governance';

export function keyHeaders(h: HeaderList, profile: KeyProfile, table: EntityTable): void {
  const rec = profile.record;
  const max = table.maxBudgetNanos(rec);
  h.push('x-litellm-key-spend', usdText(Number(table.spendNanos(rec))));
  if (max >= 0n) h.push('x-litellm-key-max-budget', usdText(Number(max)));
  const rpm = table.limit(rec, 'requests');
  const tpm = table.limit(rec, 'tokens');
  const now = Date.now();
  if (rpm >= 0) h.push('x-litellm-key-rpm-limit', String(rpm), 'x-ratelimit-api_key-limit-requests', String(rpm), 'x-ratelimit-api_key-remaining-requests', countText(Math.max(0, rpm - table.used(rec, 'requests', now))));
  if (tpm >= 0) h.push('x-litellm-key-tpm-limit', String(tpm), 'x-ratelimit-api_key-limit-tokens', String(tpm), 'x-ratelimit-api_key-remaining-tokens', countText(Math.max(0, tpm - table.used(rec, 'tokens', now))));
}
