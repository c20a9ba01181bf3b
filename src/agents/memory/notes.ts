// Notes agents keep between runs, in Weir_AgentNote: one scope (a job's, a team's, a user's, or the
// installation's) holds at most MAX_NOTES_PER_SCOPE notes, each bounded in title, body and tags, so
// nothing an agent writes grows without limit. Search is a case-insensitive substring match on title
// and body (the pattern escaped: `%` and `_` are literal), newest first, a page at a time.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AgentApiError } from '../api-error';

export const MAX_NOTES_PER_SCOPE = 10_000;
export const MAX_TITLE_CHARS = 200;
export const MAX_BODY_CHARS = 64 * 1024;
export const MAX_TAGS = 20;
export const MAX_TAG_CHARS = 64;
export const MAX_PAGE = 200;
const TAG = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export interface Note {
  id: string;
  scope: string;
  team_id: string | null;
  title: string;
  body: string;
  tags: string[];
  run_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface NoteInput {
  title?: unknown;
  body?: unknown;
  tags?: unknown;
}

const COLUMNS = 'id, scope, team_id, title, body, tags, run_id, created_at, updated_at';

function text(v: unknown, field: string, max: number, required: boolean): string | undefined {
  if (v === undefined || v === null) {
    if (required) throw new AgentApiError(400, `"${field}" is required`, field);
    return undefined;
  }
  if (typeof v !== 'string') throw new AgentApiError(400, `"${field}" must be a string`, field);
  if (required && v.trim().length === 0) throw new AgentApiError(400, `"${field}" must not be empty`, field);
  if (v.length > max) throw new AgentApiError(400, `"${field}" is longer than ${max} characters`, field);
  if (v.includes('\u0000')) throw new AgentApiError(400, `"${field}" must not contain NUL`, field);
  return v;
}

export function checkTags(v: unknown, field = 'tags'): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new AgentApiError(400, `"${field}" must be a list of strings`, field);
  if (v.length > MAX_TAGS) throw new AgentApiError(400, `"${field}" holds more than ${MAX_TAGS} tags`, field);
  const out: string[] = [];
  for (const t of v) {
    if (typeof t !== 'string' || t.length === 0 || t.length > MAX_TAG_CHARS || !TAG.test(t)) {
      throw new AgentApiError(400, `"${field}": each tag is 1 to ${MAX_TAG_CHARS} letters, digits or . _ : / - (starting with a letter or digit)`, field);
    }
    if (!out.includes(t)) out.push(t);
  }
  return out;
}

/** A new note's fields, checked (title and body required). */
export function checkNew(input: NoteInput): { title: string; body: string; tags: string[] } {
  return {
    title: text(input.title, 'title', MAX_TITLE_CHARS, true)!,
    body: text(input.body, 'body', MAX_BODY_CHARS, true)!,
    tags: checkTags(input.tags) ?? [],
  };
}

/** The fields an edit changes (at least one). */
export function checkEdit(input: NoteInput): { title?: string; body?: string; tags?: string[] } {
  const out = { title: text(input.title, 'title', MAX_TITLE_CHARS, false), body: text(input.body, 'body', MAX_BODY_CHARS, false), tags: checkTags(input.tags) };
  if (out.title === undefined && out.body === undefined && out.tags === undefined) throw new AgentApiError(400, 'give "title", "body" or "tags" to change', 'body');
  if (out.title !== undefined && out.title.trim() === '') throw new AgentApiError(400, '"title" must not be empty', 'title');
  return out;
}

export async function createNote(pool: pg.Pool, scope: string, teamId: string | null, runId: string | null, n: { title: string; body: string; tags: string[] }): Promise<Note> {
  const id = `note_${randomBytes(12).toString('hex')}`;
  // The count and the insert are one statement: two writers at the bound cannot both pass it.
  const r = await pool.query<Note>(
    `INSERT INTO "Weir_AgentNote" (id, scope, team_id, title, body, tags, run_id)
     SELECT $1, $2, $3, $4, $5, $6, $7 WHERE (SELECT count(*) FROM "Weir_AgentNote" WHERE scope = $2) < $8
     RETURNING ${COLUMNS}`,
    [id, scope, teamId, n.title, n.body, n.tags, runId, MAX_NOTES_PER_SCOPE],
  );
  const row = r.rows[0];
  if (!row) throw new AgentApiError(409, `this memory holds ${MAX_NOTES_PER_SCOPE} notes already: forget some first`);
  return row;
}

export async function getNote(pool: pg.Pool, id: string): Promise<Note | null> {
  const r = await pool.query<Note>(`SELECT ${COLUMNS} FROM "Weir_AgentNote" WHERE id = $1`, [id]);
  return r.rows[0] ?? null;
}

export async function updateNote(pool: pg.Pool, id: string, edit: { title?: string; body?: string; tags?: string[] }): Promise<Note | null> {
  const r = await pool.query<Note>(
    `UPDATE "Weir_AgentNote" SET title = COALESCE($2, title), body = COALESCE($3, body), tags = COALESCE($4, tags), updated_at = CURRENT_TIMESTAMP
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, edit.title ?? null, edit.body ?? null, edit.tags ?? null],
  );
  return r.rows[0] ?? null;
}

export async function deleteNote(pool: pg.Pool, id: string): Promise<boolean> {
  const r = await pool.query(`DELETE FROM "Weir_AgentNote" WHERE id = $1`, [id]);
  return (r.rowCount ?? 0) > 0;
}

export interface NoteQuery {
  /** The scopes searched (empty: every scope, for an admin). */
  scopes: string[] | null;
  /** Substring of title or body. */
  text?: string;
  /** Notes carrying every one of these tags. */
  tags?: string[];
  /** Notes carrying at least one of these tags. */
  anyTags?: string[];
  limit: number;
}

/** `%`, `_` and `\` match themselves. */
export function likePattern(s: string): string {
  return `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function findNotes(pool: pg.Pool, q: NoteQuery): Promise<Note[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.scopes) {
    args.push(q.scopes);
    where.push(`scope = ANY($${args.length})`);
  }
  if (q.text) {
    args.push(likePattern(q.text));
    where.push(`(title ILIKE $${args.length} OR body ILIKE $${args.length})`);
  }
  if (q.tags?.length) {
    args.push(q.tags);
    where.push(`tags @> $${args.length}::text[]`);
  }
  if (q.anyTags?.length) {
    args.push(q.anyTags);
    where.push(`tags && $${args.length}::text[]`);
  }
  args.push(Math.max(1, Math.min(q.limit, MAX_PAGE)));
  const r = await pool.query<Note>(
    `SELECT ${COLUMNS} FROM "Weir_AgentNote" ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id LIMIT $${args.length}`,
    args,
  );
  return r.rows;
}

export function noteView(n: Note): Record<string, unknown> {
  return {
    id: n.id, object: 'agent.note', scope: n.scope, team_id: n.team_id, title: n.title, body: n.body, tags: n.tags, run_id: n.run_id,
    created_at: new Date(n.created_at).toISOString(), updated_at: new Date(n.updated_at).toISOString(),
  };
}
