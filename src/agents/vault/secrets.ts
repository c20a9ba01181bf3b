// The vault's secrets in Weir_VaultSecret: checked, sealed on the way in, never shown after (the
// API's view has no value), opened only to hand a run's egress proxy what it swaps in. A run finds
// a secret by name in its job's scope, then its team's, then its user's, then the installation's.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AgentApiError } from '../api-error';
import type { VaultKey } from './crypto';
import { checkHosts } from './hosts';

export const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_VALUE_CHARS = 16 * 1024;

export interface SecretRow {
  id: string;
  name: string;
  scope: string;
  team_id: string | null;
  hosts: string[];
  inject: boolean;
  value: string;
  key_id: string;
  created_at: Date;
  updated_at: Date;
}

/** A secret as a run gets it: the real value, opened. */
export interface RunSecret {
  name: string;
  value: string;
  hosts: string[];
  inject: boolean;
}

export function secretView(r: SecretRow): Record<string, unknown> {
  return {
    id: r.id, object: 'agent.secret', name: r.name, scope: r.scope, team_id: r.team_id, hosts: r.hosts, inject: r.inject,
    created_at: new Date(r.created_at).toISOString(), updated_at: new Date(r.updated_at).toISOString(),
  };
}

export function checkName(v: unknown): string {
  if (typeof v !== 'string' || !SECRET_NAME.test(v)) throw new AgentApiError(400, '"name" must be an environment variable name (letters, digits, _; not starting with a digit)', 'name');
  return v;
}

export function checkValue(v: unknown, inject: boolean): string {
  if (typeof v !== 'string' || v.length === 0) throw new AgentApiError(400, '"value" must be a non-empty string', 'value');
  if (v.length > MAX_VALUE_CHARS) throw new AgentApiError(400, `"value" is longer than ${MAX_VALUE_CHARS} characters`, 'value');
  if (v.includes('\u0000')) throw new AgentApiError(400, '"value" must not contain NUL', 'value');
  // A swapped value goes into a header line.
  if (!inject && /[\r\n]/.test(v)) throw new AgentApiError(400, '"value" must be one line (a swapped secret goes into a header); use "inject": true for a multi-line one', 'value');
  return v;
}

export function checkInject(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new AgentApiError(400, '"inject" must be true or false', 'inject');
  return v;
}

/** Hosts are required for a swapped secret: the proxy swaps it for those hosts only. */
export function checkSecretHosts(v: unknown, inject: boolean): string[] {
  const hosts = checkHosts(v, 'hosts') ?? [];
  if (!inject && hosts.length === 0) throw new AgentApiError(400, '"hosts" must name the hosts the secret is for (e.g. ["github.com", "*.github.com"])', 'hosts');
  return hosts;
}

const COLUMNS = 'id, name, scope, team_id, hosts, inject, value, key_id, created_at, updated_at';

export async function createSecret(pool: pg.Pool, key: VaultKey, s: { name: string; scope: string; team_id: string | null; hosts: string[]; inject: boolean; value: string; created_by: string | null }): Promise<SecretRow> {
  const r = await pool.query<SecretRow>(
    `INSERT INTO "Weir_VaultSecret" (id, name, scope, team_id, hosts, inject, value, key_id, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (scope, name) DO NOTHING RETURNING ${COLUMNS}`,
    [`sec_${randomBytes(12).toString('hex')}`, s.name, s.scope, s.team_id, s.hosts, s.inject, key.seal(s.value), key.id, s.created_by],
  );
  if (!r.rows[0]) throw new AgentApiError(409, `secret "${s.name}" already exists in scope ${s.scope}: PUT it to replace it`, 'name');
  return r.rows[0];
}

export async function getSecret(pool: pg.Pool, scope: string, name: string): Promise<SecretRow | null> {
  const r = await pool.query<SecretRow>(`SELECT ${COLUMNS} FROM "Weir_VaultSecret" WHERE scope = $1 AND name = $2`, [scope, name]);
  return r.rows[0] ?? null;
}

export async function updateSecret(pool: pg.Pool, key: VaultKey, id: string, s: { hosts: string[]; inject: boolean; value?: string }): Promise<SecretRow | null> {
  const r = await pool.query<SecretRow>(
    `UPDATE "Weir_VaultSecret" SET hosts = $2, inject = $3, value = COALESCE($4, value), key_id = CASE WHEN $4::text IS NULL THEN key_id ELSE $5 END, updated_at = CURRENT_TIMESTAMP
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, s.hosts, s.inject, s.value === undefined ? null : key.seal(s.value), key.id],
  );
  return r.rows[0] ?? null;
}

export async function deleteSecret(pool: pg.Pool, id: string): Promise<void> {
  await pool.query(`DELETE FROM "Weir_VaultSecret" WHERE id = $1`, [id]);
}

export async function listSecrets(pool: pg.Pool, scopes: string[] | null): Promise<SecretRow[]> {
  const r = scopes
    ? await pool.query<SecretRow>(`SELECT ${COLUMNS} FROM "Weir_VaultSecret" WHERE scope = ANY($1) ORDER BY scope, name LIMIT 1000`, [scopes])
    : await pool.query<SecretRow>(`SELECT ${COLUMNS} FROM "Weir_VaultSecret" ORDER BY scope, name LIMIT 1000`);
  return r.rows;
}

/** The scopes a run looks in, nearest first. */
export function runScopes(run: { job_name: string | null; team_id: string | null; user_id: string | null }): string[] {
  const out: string[] = [];
  if (run.job_name) out.push(`job:${run.job_name}`);
  if (run.team_id) out.push(`team:${run.team_id}`);
  if (run.user_id) out.push(`user:${run.user_id}`);
  out.push('global');
  return out;
}

/** The run's secrets, opened; throws naming the first that is missing or cannot be opened. */
export async function secretsForRun(pool: pg.Pool, key: VaultKey, names: string[], scopes: string[]): Promise<RunSecret[]> {
  if (!names.length) return [];
  const r = await pool.query<SecretRow>(`SELECT ${COLUMNS} FROM "Weir_VaultSecret" WHERE name = ANY($1) AND scope = ANY($2)`, [names, scopes]);
  const out: RunSecret[] = [];
  for (const name of names) {
    const row = scopes.map((s) => r.rows.find((x) => x.name === name && x.scope === s)).find((x) => x !== undefined);
    if (!row) throw new AgentApiError(400, `unknown secret "${name}" (looked in ${scopes.join(', ')}): create it with POST /v1/agent/secrets`, 'secrets');
    out.push({ name, value: key.open(row.value, row.key_id, `secret "${name}" (${row.scope})`), hosts: row.hosts, inject: row.inject });
  }
  return out;
}
