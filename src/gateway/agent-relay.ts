// Agent routes (/v1/agent/*, /v1/hooks/*, /mcp) run on the control thread, which owns runs, sandboxes and
// the database; the worker authenticates the caller (hooks are public: their signature is checked
// on the control thread), reads the raw body and relays the call. An event stream (SSE) is relayed
// piece by piece until the run ends or the client leaves.
import type { Exchange, HeaderList } from '../server/exchange';
import type { Identity } from './identity';

export const AGENT_PREFIX = '/v1/agent/';
export const HOOK_PREFIX = '/v1/hooks/';
/** Webhook payloads and API bodies above this are refused (413) before anything is created. */
export const AGENT_MAX_BODY_BYTES = 1024 * 1024;

export interface AgentCall {
  method: string;
  path: string;
  /** The raw query string (no '?'). */
  query: string;
  /** Request headers, names lower-cased; the caller's credentials are left out. */
  headers: Record<string, string>;
  /** The raw body bytes (webhook signatures are computed over them), or null. */
  body: Uint8Array | null;
  caller: { isMasterKey: boolean; keyHash: string | null; userRole: string | null; open: boolean } | null;
}

const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'x-litellm-api-key', 'cookie']);

/** The memory MCP server (src/agents/memory/mcp-server.ts), served on the control thread too. */
export const MCP_PATH = '/mcp';

export function isAgentPath(path: string): boolean {
  return path.startsWith(AGENT_PREFIX) || path.startsWith(HOOK_PREFIX) || path === MCP_PATH;
}

export function agentCall(ex: Exchange, id: Identity | null, body: Buffer | null): AgentCall {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(ex.headers)) if (!CREDENTIAL_HEADERS.has(k)) headers[k] = v;
  return {
    method: ex.method,
    path: ex.path,
    query: ex.query,
    headers,
    body: body && body.length ? new Uint8Array(body) : null,
    caller: id
      ? {
          isMasterKey: id.kind === 'master',
          keyHash: id.kind === 'key' ? id.profile.tokenHash : null,
          userRole: id.kind === 'key' ? id.profile.userRole : null,
          open: id.kind === 'open',
        }
      : null,
  };
}

/** True when the client asks for the run's events as server-sent events. */
export function wantsEventStream(ex: Exchange): boolean {
  return ex.method === 'GET' && /^\/v1\/agent\/runs\/[^/]+\/events\/?$/.test(ex.path) && (ex.headers.accept ?? '').includes('text/event-stream');
}

/** Sends what the control thread answered: JSON, or text/bytes as they are with its headers. */
export function respondRelayed(ex: Exchange, r: { status: number; body: unknown; headers?: string[] }): void {
  if (ex.aborted) return;
  const extra: HeaderList = r.headers ?? [];
  if (typeof r.body === 'string') return ex.respond(r.status, extra, r.body);
  if (r.body instanceof Uint8Array) return ex.respond(r.status, extra, Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength));
  ex.respond(r.status, ['content-type', 'application/json', ...extra], JSON.stringify(r.body));
}
