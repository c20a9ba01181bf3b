// The fields of a key, for creating and editing one (/key/generate, /key/update). The owner is set
// by an admin only: the server makes an internal user's keys its own.
import type { FieldDef } from '../components/form';

export function keyFields(admin: boolean): FieldDef[] {
  const f: FieldDef[] = [
    { name: 'key_alias', label: 'Alias' },
    { name: 'models', label: 'Models (comma-separated; empty = all)', kind: 'list' },
    { name: 'max_budget', label: 'Max budget ($)', kind: 'number' },
    { name: 'budget_duration', label: 'Budget resets every', placeholder: '30d, 1h, 1mo' },
    { name: 'duration', label: 'Expires after (from now)', placeholder: '30d (editing: -1 = never expires)' },
    { name: 'rpm_limit', label: 'Requests / minute', kind: 'integer' },
    { name: 'tpm_limit', label: 'Tokens / minute', kind: 'integer' },
    { name: 'max_parallel_requests', label: 'Parallel requests', kind: 'integer' },
    { name: 'team_id', label: 'Team id' },
  ];
  if (admin) f.push({ name: 'user_id', label: 'User id' });
  f.push({ name: 'metadata', label: 'Metadata (JSON object)', kind: 'json' });
  return f;
}
