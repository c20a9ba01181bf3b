// Whose memory a caller reads and writes. A run's key (its metadata names the run) works in its
// job's memory when the run belongs to a job, else its team's, else its starter's user's; any other
// key allowed /mcp works in its team's (else its user's); the master key in the installation's
// (`global`). The caller's credentials were checked by the worker; this only reads whose they are.
import type pg from 'pg';
import type { AgentCall } from '../../gateway/agent-relay';
import { AgentApiError } from '../api-error';
import type { Catalog } from '../catalog';

export interface MemoryOwner {
  /** The scope its notes live in. */
  scope: string;
  team_id: string | null;
  user_id: string | null;
  /** Set for a run's key: the run (artifacts are saved to it). */
  run_id: string | null;
  /** Master key, open proxy or proxy_admin: may read and edit every scope through the API. */
  admin: boolean;
}

export function scopeOf(o: { job_name: string | null; team_id: string | null; user_id: string | null }): string {
  if (o.job_name) return `job:${o.job_name}`;
  if (o.team_id) return `team:${o.team_id}`;
  if (o.user_id) return `user:${o.user_id}`;
  return 'global';
}

export async function memoryOwner(pool: pg.Pool, caller: AgentCall['caller']): Promise<MemoryOwner> {
  if (!caller) throw new AgentApiError(401, 'Authentication Error, No api key passed in.');
  if (caller.open || caller.isMasterKey) return { scope: 'global', team_id: null, user_id: null, run_id: null, admin: true };
  if (!caller.keyHash) throw new AgentApiError(401, 'Authentication Error, No api key passed in.');
  const k = await pool.query<{ team_id: string | null; user_id: string | null; metadata: Record<string, unknown> | null; user_role: string | null }>(
    `SELECT k.team_id, k.user_id, k.metadata, u.user_role FROM "LiteLLM_VerificationToken" k LEFT JOIN "LiteLLM_UserTable" u ON u.user_id = k.user_id WHERE k.token = $1`,
    [caller.keyHash],
  );
  const key = k.rows[0];
  if (!key) throw new AgentApiError(401, 'the calling key is not known to the database');
  const runId = key.metadata && typeof key.metadata.weir_run_id === 'string' ? key.metadata.weir_run_id : null;
  if (runId) {
    const r = await pool.query<{ job_name: string | null; team_id: string | null; user_id: string | null }>(`SELECT job_name, team_id, user_id FROM "Weir_AgentRun" WHERE id = $1`, [runId]);
    const run = r.rows[0];
    if (!run) throw new AgentApiError(403, 'the run of this key is not known');
    return { scope: scopeOf(run), team_id: run.team_id, user_id: run.user_id, run_id: runId, admin: false };
  }
  const admin = caller.userRole === 'proxy_admin' || key.user_role === 'proxy_admin';
  if (admin) return { scope: 'global', team_id: key.team_id, user_id: key.user_id, run_id: null, admin: true };
  if (!key.team_id && !key.user_id) throw new AgentApiError(403, 'a key with neither a team nor a user has no memory');
  return { scope: scopeOf({ job_name: null, team_id: key.team_id, user_id: key.user_id }), team_id: key.team_id, user_id: key.user_id, run_id: null, admin: false };
}

/** Scopes an owner may read and write through the API: an admin any, others their own and their team's jobs'. */
export async function mayUseScope(catalog: Catalog, owner: MemoryOwner, scope: string): Promise<boolean> {
  if (owner.admin) return true;
  if (scope === owner.scope) return true;
  if (scope.startsWith('job:') && owner.team_id) {
    const job = await catalog.find('job', scope.slice(4));
    return !!job && job.team_id === owner.team_id;
  }
  return false;
}

/** global, job:NAME, team:ID or user:ID. */
export const SCOPE = /^(global|(job|team|user):[^\s]{1,255})$/;
