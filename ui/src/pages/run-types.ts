// The agents API's shapes the run pages read (/v1/agent/runs, /v1/agent/jobs, a run's events and
// artifacts), and the states a run can be in.
export interface Run {
  id: string;
  job: string | null;
  profile: string;
  agent: string;
  model: string | null;
  status: string;
  error: { kind: string | null; message: string | null } | null;
  cost: number | null;
  max_budget: number | null;
  result: unknown;
  num_turns: number | null;
  exit_code: number | null;
  trigger: string;
  trigger_ref: string | null;
  attempt: number;
  retry_of: string | null;
  team_id: string | null;
  user_id: string | null;
  queued_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface Job {
  name: string;
  profile: string;
  prompt: string;
  team_id: string | null;
  schedule: { cron: string; timezone?: string } | null;
  webhook: unknown;
  enabled: boolean;
  read_only: boolean;
}

export interface Profile {
  name: string;
  agent: string;
  model?: string | null;
}

export interface RunEvent {
  seq: number;
  ts: string;
  type: string;
  payload: unknown;
}

export interface Artifact {
  name: string;
  kind: string;
  size: number;
  truncated: boolean;
}

export interface List<T> {
  data: T[];
}

export const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'canceled', 'expired', 'skipped']);
export const STATUSES = ['queued', 'provisioning', 'running', 'succeeded', 'failed', 'timed_out', 'canceled', 'expired', 'skipped'];

export function statusTone(s: string): 'ok' | 'bad' | 'warn' | undefined {
  if (s === 'succeeded') return 'ok';
  if (s === 'failed' || s === 'timed_out' || s === 'expired') return 'bad';
  if (s === 'canceled' || s === 'skipped') return undefined;
  return 'warn';
}

export const runPath = (id: string, rest = '') => `/v1/agent/runs/${encodeURIComponent(id)}${rest}`;
