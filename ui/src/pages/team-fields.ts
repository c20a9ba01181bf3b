// The fields of a team for /team/new and /team/update.
import type { FieldDef } from '../components/form';

export const TEAM_FIELDS: FieldDef[] = [
  { name: 'team_alias', label: 'Name' },
  { name: 'team_id', label: 'Team id (empty = generated)', createOnly: true },
  { name: 'organization_id', label: 'Organization id' },
  { name: 'models', label: 'Models (comma-separated; empty = all)', kind: 'list' },
  { name: 'max_budget', label: 'Max budget ($)', kind: 'number' },
  { name: 'budget_duration', label: 'Budget resets every', placeholder: '30d' },
  { name: 'rpm_limit', label: 'Requests / minute', kind: 'integer' },
  { name: 'tpm_limit', label: 'Tokens / minute', kind: 'integer' },
  { name: 'team_member_budget', label: 'Budget per member ($)', kind: 'number', createOnly: true },
  { name: 'metadata', label: 'Metadata (JSON object)', kind: 'json' },
];
