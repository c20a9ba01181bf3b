// The memory MCP server at /mcp (streamable HTTP, stateless, JSON answers): tools to remember,
// recall, search and forget notes in the caller's memory (see owner.ts for whose), and to save an
// artifact of the caller's run. Stateless because every call carries the key that decides the
// memory: there is no session to keep, any instance answers any call, and nothing grows per client.
// A GET (a client asking for a server-to-client stream) is answered 405, which the protocol allows.
//
// The worker authenticated the key and relayed the call (agent-relay.ts); this runs on the control
// thread with the SDK's Web-standard transport, one server object per call (the SDK's stateless way).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type pg from 'pg';
import { z } from 'zod';
import { MCP_PATH, type AgentCall } from '../../gateway/agent-relay';
import { AgentApiError } from '../api-error';
import { saveArtifact } from '../artifacts';
import type { ApiAnswer } from '../api';
import { checkEdit, checkNew, checkTags, createNote, deleteNote, findNotes, getNote, MAX_BODY_CHARS, MAX_PAGE, updateNote, type Note } from './notes';
import { MCP_SERVER_NAME } from './mcp-config';
import { memoryOwner, type MemoryOwner } from './owner';

export { MCP_PATH };
const VERSION = '1';

/** Names of the artifacts Weir writes itself: an agent may not replace them. */
const RESERVED_ARTIFACT = /^(result\.txt|diff\.patch|transcript.*)$/;
const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const ARTIFACT_MAX_CHARS = 768 * 1024;

export interface McpDeps {
  pool: pg.Pool;
  /** Bytes of artifacts kept per run (agent_settings.artifact_max_mb). */
  artifactMaxBytes(): number;
}

type ToolAnswer = { content: { type: 'text'; text: string }[]; isError?: boolean };

const ok = (v: unknown): ToolAnswer => ({ content: [{ type: 'text', text: typeof v === 'string' ? v : JSON.stringify(v, null, 1) }] });
const refuse = (message: string): ToolAnswer => ({ content: [{ type: 'text', text: message }], isError: true });

/** What a tool shows of a note (no team id: the agent needs none). */
const shown = (n: Note) => ({ id: n.id, title: n.title, body: n.body, tags: n.tags, updated_at: new Date(n.updated_at).toISOString() });

/** A tool body: a refusal of ours becomes a tool error the model reads, never a protocol error. */
async function guarded(fn: () => Promise<ToolAnswer>): Promise<ToolAnswer> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof AgentApiError) return refuse(e.message);
    throw e;
  }
}

async function ownNote(deps: McpDeps, owner: MemoryOwner, id: string): Promise<Note> {
  const n = await getNote(deps.pool, id);
  if (!n || n.scope !== owner.scope) throw new AgentApiError(404, `no note "${id}" in this memory`);
  return n;
}

function buildServer(deps: McpDeps, owner: MemoryOwner): McpServer {
  const server = new McpServer({ name: MCP_SERVER_NAME, version: VERSION }, { instructions: 'Notes kept between runs: recall or search them before you start, remember what the next run should know.' });
  const limit = z.number().int().min(1).max(MAX_PAGE).optional();
  server.registerTool(
    'remember',
    {
      description: 'Keep a note for later runs (a fact about the repository, a decision, a fix that worked). Give an id to replace that note instead.',
      inputSchema: { title: z.string(), body: z.string().max(MAX_BODY_CHARS), tags: z.array(z.string()).optional(), id: z.string().optional() },
    },
    (a) =>
      guarded(async () => {
        if (a.id) {
          await ownNote(deps, owner, a.id);
          const n = await updateNote(deps.pool, a.id, checkEdit(a));
          return ok({ updated: n ? shown(n) : null });
        }
        const n = await createNote(deps.pool, owner.scope, owner.team_id, owner.run_id, checkNew(a));
        return ok({ remembered: shown(n) });
      }),
  );
  server.registerTool(
    'recall',
    {
      description: 'Read notes kept by earlier runs: one note by id, or the most recent ones (only those carrying all the given tags).',
      inputSchema: { id: z.string().optional(), tags: z.array(z.string()).optional(), limit },
    },
    (a) =>
      guarded(async () => {
        if (a.id) return ok(shown(await ownNote(deps, owner, a.id)));
        const notes = await findNotes(deps.pool, { scopes: [owner.scope], tags: checkTags(a.tags), limit: a.limit ?? 20 });
        return ok(notes.length ? notes.map(shown) : 'No notes yet.');
      }),
  );
  server.registerTool(
    'search',
    {
      description: 'Find notes whose title or body contains the text (case-insensitive), most recent first.',
      inputSchema: { query: z.string().min(1).max(500), tags: z.array(z.string()).optional(), limit },
    },
    (a) =>
      guarded(async () => {
        const notes = await findNotes(deps.pool, { scopes: [owner.scope], text: a.query, tags: checkTags(a.tags), limit: a.limit ?? 20 });
        return ok(notes.length ? notes.map(shown) : `No note contains "${a.query}".`);
      }),
  );
  server.registerTool(
    'forget',
    { description: 'Delete a note by id.', inputSchema: { id: z.string() } },
    (a) =>
      guarded(async () => {
        await ownNote(deps, owner, a.id);
        await deleteNote(deps.pool, a.id);
        return ok({ forgotten: a.id });
      }),
  );
  server.registerTool(
    'save_artifact',
    {
      description: 'Save a file as an artifact of this run (a report, a log, a summary), kept with the run for people to download.',
      inputSchema: { name: z.string(), content: z.string().max(ARTIFACT_MAX_CHARS), encoding: z.enum(['utf8', 'base64']).optional() },
    },
    (a) =>
      guarded(async () => {
        if (!owner.run_id) throw new AgentApiError(400, 'only a run can save artifacts (call with the run key)');
        if (!ARTIFACT_NAME.test(a.name)) throw new AgentApiError(400, 'name: 1 to 100 letters, digits or . _ - (starting with a letter or digit)');
        if (RESERVED_ARTIFACT.test(a.name)) throw new AgentApiError(400, `name "${a.name}" is Weir's own; choose another`);
        const bytes = Buffer.from(a.content, a.encoding === 'base64' ? 'base64' : 'utf8');
        const saved = await saveArtifact(deps.pool, owner.run_id, a.name, 'agent', bytes, deps.artifactMaxBytes());
        return ok({ saved: a.name, ...saved });
      }),
  );
  return server;
}

const PASSED_HEADERS = ['content-type', 'accept', 'mcp-protocol-version', 'mcp-session-id', 'last-event-id'];

/** One relayed call to /mcp → the transport's answer, as the relay sends it. */
export async function handleMcpCall(deps: McpDeps, call: AgentCall): Promise<ApiAnswer> {
  let owner: MemoryOwner;
  try {
    owner = await memoryOwner(deps.pool, call.caller);
  } catch (e) {
    const err = e instanceof AgentApiError ? e : new AgentApiError(500, (e as Error).message);
    return { status: err.status, body: err.body };
  }
  const headers = new Headers();
  for (const h of PASSED_HEADERS) if (call.headers[h] !== undefined) headers.set(h, call.headers[h]!);
  const hasBody = call.method !== 'GET' && call.method !== 'HEAD' && call.method !== 'DELETE';
  const req = new Request(`http://weir${MCP_PATH}${call.query ? `?${call.query}` : ''}`, { method: call.method, headers, body: hasBody ? (call.body ?? new Uint8Array()) : undefined });
  const server = buildServer(deps, owner);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.connect(transport);
    const res = await transport.handleRequest(req);
    const out: string[] = [];
    res.headers.forEach((v, k) => {
      if (k !== 'content-length') out.push(k, v);
    });
    return { status: res.status, body: await res.text(), headers: out };
  } finally {
    await server.close().catch(() => {});
  }
}

