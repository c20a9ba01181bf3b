// /v1/agent/notes: the notes agents keep, read and edited by people.
//   GET    /v1/agent/notes?scope=&q=&tag=&limit=   list (newest first)
//   POST   /v1/agent/notes {scope?, title, body, tags?}
//   GET    /v1/agent/notes/{id}
//   PATCH  /v1/agent/notes/{id} {title?, body?, tags?}
//   DELETE /v1/agent/notes/{id}
// An admin key sees and edits every scope (and must name one to create); a team's key its team's
// scope and its team's jobs' scopes; a key without a team its user's scope.
import type pg from 'pg';
import type { AgentCall } from '../../gateway/agent-relay';
import { parseJson } from '../api-body';
import { AgentApiError } from '../api-error';
import type { ApiAnswer } from '../api';
import type { Catalog } from '../catalog';
import { checkEdit, checkNew, checkTags, createNote, deleteNote, findNotes, getNote, MAX_PAGE, noteView, updateNote, type Note } from './notes';
import { mayUseScope, SCOPE, type MemoryOwner } from './owner';

export interface NotesApiDeps {
  pool: pg.Pool;
  catalog: Catalog;
}


async function visible(deps: NotesApiDeps, owner: MemoryOwner, id: string): Promise<Note> {
  const n = await getNote(deps.pool, id);
  if (!n || !(owner.admin || n.scope === owner.scope || (owner.team_id !== null && n.team_id === owner.team_id && (await mayUseScope(deps.catalog, owner, n.scope))))) {
    throw new AgentApiError(404, `unknown note "${id}"`, 'id');
  }
  return n;
}

export async function handleNotes(deps: NotesApiDeps, owner: MemoryOwner, call: AgentCall, rest: string[]): Promise<ApiAnswer> {
  if (owner.run_id) throw new AgentApiError(403, "a run's key uses its notes through /mcp, not the agent API");
  const q = new URLSearchParams(call.query);
  const m = call.method;
  if (rest.length === 0) {
    if (m === 'GET') {
      const scope = q.get('scope');
      if (scope !== null && !SCOPE.test(scope)) throw new AgentApiError(400, '"scope" must be global, job:NAME, team:ID or user:ID', 'scope');
      if (scope !== null && !(await mayUseScope(deps.catalog, owner, scope))) throw new AgentApiError(403, `the calling key may not read scope "${scope}"`, 'scope');
      const limitText = q.get('limit');
      if (limitText !== null && !/^\d+$/.test(limitText)) throw new AgentApiError(400, '"limit" must be a positive integer', 'limit');
      const text = q.get('q') ?? undefined;
      if (text !== undefined && text.length > 500) throw new AgentApiError(400, '"q" is longer than 500 characters', 'q');
      const tags = checkTags(q.getAll('tag').length ? q.getAll('tag') : undefined, 'tag');
      let scopes: string[] | null;
      if (scope !== null) scopes = [scope];
      else if (owner.admin) scopes = null;
      else {
        scopes = [owner.scope];
        if (owner.team_id) for (const j of await deps.catalog.list('job')) if (j.team_id === owner.team_id) scopes.push(`job:${j.name}`);
      }
      const notes = await findNotes(deps.pool, { scopes, text, tags, limit: limitText === null ? 50 : Math.min(Number(limitText), MAX_PAGE) });
      return { status: 200, body: { object: 'list', data: notes.map(noteView) } };
    }
    if (m === 'POST') {
      const body = parseJson(call);
      const scope = body.scope === undefined ? (owner.admin ? undefined : owner.scope) : body.scope;
      if (scope === undefined) throw new AgentApiError(400, '"scope" is required with an admin key (global, job:NAME, team:ID or user:ID)', 'scope');
      if (typeof scope !== 'string' || !SCOPE.test(scope)) throw new AgentApiError(400, '"scope" must be global, job:NAME, team:ID or user:ID', 'scope');
      if (!(await mayUseScope(deps.catalog, owner, scope))) throw new AgentApiError(403, `the calling key may not write scope "${scope}"`, 'scope');
      const team = scope.startsWith('team:') ? scope.slice(5) : scope.startsWith('job:') ? ((await deps.catalog.find('job', scope.slice(4)))?.team_id ?? null) : owner.team_id;
      const n = await createNote(deps.pool, scope, team, null, checkNew(body));
      return { status: 201, body: noteView(n) };
    }
    throw new AgentApiError(405, `${m} is not served on /v1/agent/notes; use GET or POST`);
  }
  if (rest.length !== 1) throw new AgentApiError(404, `Route not found: ${m} ${call.path}`);
  const id = decodeURIComponent(rest[0]!);
  const note = await visible(deps, owner, id);
  if (m === 'GET') return { status: 200, body: noteView(note) };
  if (m === 'PATCH' || m === 'PUT') {
    const n = await updateNote(deps.pool, id, checkEdit(parseJson(call)));
    if (!n) throw new AgentApiError(404, `unknown note "${id}"`, 'id');
    return { status: 200, body: noteView(n) };
  }
  if (m === 'DELETE') {
    await deleteNote(deps.pool, id);
    return { status: 200, body: { id, object: 'agent.note', deleted: true } };
  }
  throw new AgentApiError(405, `${m} is not served on a note; use GET, PATCH or DELETE`);
}
