// /v1/agent/secrets: the vault's API. A value goes in and never comes out: every answer is the
// secret's view (name, scope, hosts, inject), never its value.
//   GET    /v1/agent/secrets[?scope=]
//   POST   /v1/agent/secrets {name, value, hosts, scope?, inject?}
//   GET    /v1/agent/secrets/{name}?scope=
//   PUT    /v1/agent/secrets/{name}?scope= {value?, hosts?, inject?}
//   DELETE /v1/agent/secrets/{name}?scope=
// Owners as for notes (memory/owner.ts): an admin any scope (global by default), a team's key its
// team's scope and its team's jobs'. A run's key may not call it.
import type { AgentCall } from '../../gateway/agent-relay';
import { parseJson } from '../api-body';
import { AgentApiError } from '../api-error';
import type { ApiAnswer } from '../api';
import type { NotesApiDeps } from '../memory/notes-api';
import { mayUseScope, SCOPE, type MemoryOwner } from '../memory/owner';
import type { VaultKey } from './crypto';
import { checkInject, checkName, checkSecretHosts, checkValue, createSecret, deleteSecret, getSecret, listSecrets, secretView, updateSecret } from './secrets';

export interface SecretsApiDeps extends NotesApiDeps {
  /** The vault key, or the reason there is none. */
  vaultKey(): VaultKey;
}


async function scopeFor(deps: SecretsApiDeps, owner: MemoryOwner, asked: unknown): Promise<string> {
  const scope = asked === undefined || asked === null ? (owner.admin ? 'global' : owner.scope) : asked;
  if (typeof scope !== 'string' || !SCOPE.test(scope)) throw new AgentApiError(400, '"scope" must be global, job:NAME, team:ID or user:ID', 'scope');
  if (!(await mayUseScope(deps.catalog, owner, scope))) throw new AgentApiError(403, `the calling key may not use scope "${scope}"`, 'scope');
  return scope;
}

export async function handleSecrets(deps: SecretsApiDeps, owner: MemoryOwner, call: AgentCall, rest: string[]): Promise<ApiAnswer> {
  if (owner.run_id) throw new AgentApiError(403, "a run's key may not call the vault");
  const q = new URLSearchParams(call.query);
  const m = call.method;
  if (rest.length === 0) {
    if (m === 'GET') {
      const scope = q.get('scope');
      const scopes = scope !== null ? [await scopeFor(deps, owner, scope)] : owner.admin ? null : [owner.scope];
      if (scopes && !owner.admin && owner.team_id) for (const j of await deps.catalog.list('job')) if (j.team_id === owner.team_id) scopes.push(`job:${j.name}`);
      return { status: 200, body: { object: 'list', data: (await listSecrets(deps.pool, scopes)).map(secretView) } };
    }
    if (m === 'POST') {
      const b = parseJson(call);
      const name = checkName(b.name);
      const inject = checkInject(b.inject);
      const value = checkValue(b.value, inject);
      const hosts = checkSecretHosts(b.hosts, inject);
      const scope = await scopeFor(deps, owner, b.scope);
      const key = deps.vaultKey();
      const team = scope.startsWith('team:') ? scope.slice(5) : scope.startsWith('job:') ? ((await deps.catalog.find('job', scope.slice(4)))?.team_id ?? null) : owner.team_id;
      const row = await createSecret(deps.pool, key, { name, scope, team_id: team, hosts, inject, value, created_by: owner.admin ? 'admin' : (owner.team_id ?? owner.user_id) });
      return { status: 201, body: secretView(row) };
    }
    throw new AgentApiError(405, `${m} is not served on /v1/agent/secrets; use GET or POST`);
  }
  if (rest.length !== 1) throw new AgentApiError(404, `Route not found: ${m} ${call.path}`);
  const name = checkName(decodeURIComponent(rest[0]!));
  const scope = await scopeFor(deps, owner, q.get('scope') ?? undefined);
  const row = await getSecret(deps.pool, scope, name);
  if (!row) throw new AgentApiError(404, `unknown secret "${name}" in scope ${scope}`, 'name');
  if (m === 'GET') return { status: 200, body: secretView(row) };
  if (m === 'PUT' || m === 'PATCH') {
    const b = parseJson(call);
    const inject = b.inject === undefined ? row.inject : checkInject(b.inject);
    const value = b.value === undefined ? undefined : checkValue(b.value, inject);
    const hosts = b.hosts === undefined ? checkSecretHosts(row.hosts, inject) : checkSecretHosts(b.hosts, inject);
    const updated = await updateSecret(deps.pool, deps.vaultKey(), row.id, { hosts, inject, value });
    if (!updated) throw new AgentApiError(404, `unknown secret "${name}" in scope ${scope}`, 'name');
    return { status: 200, body: secretView(updated) };
  }
  if (m === 'DELETE') {
    await deleteSecret(deps.pool, row.id);
    return { status: 200, body: { ...secretView(row), deleted: true } };
  }
  throw new AgentApiError(405, `${m} is not served on a secret; use GET, PUT or DELETE`);
}
