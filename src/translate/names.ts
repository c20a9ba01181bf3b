// Tool names and tool-call ids as each side accepts them.
//
// Names: both APIs take [a-zA-Z0-9_-]; OpenAI caps them at 64 characters, Anthropic (and MCP
// servers behind Claude Code) do not. A longer name goes to OpenAI as its first 55 characters, `_`
// and the first 8 hex digits of its SHA-256 — LiteLLM's scheme, so both gateways send the same
// name — and the request's ToolNameMap turns it back into the client's name on the way back.
//
// Ids: Anthropic wants tool_use ids matching ^[a-zA-Z0-9_-]+$; OpenAI-compatible upstreams send
// ids like `functions.Bash:0` or none at all. They are made valid the same way in requests and in
// responses, so a tool_use id and the id of its tool_result always match.
import { createHash, randomBytes } from 'node:crypto';

export const OPENAI_MAX_TOOL_NAME = 64;
const HASH_CHARS = 8;
const PREFIX_CHARS = OPENAI_MAX_TOOL_NAME - HASH_CHARS - 1;

const NAME_RE = /^[a-zA-Z0-9_-]+$/;

export function isValidToolName(name: string): boolean {
  return NAME_RE.test(name);
}

/** The name as sent to an OpenAI upstream: unchanged up to 64 characters, else prefix_hash. */
export function truncateToolName(name: string): string {
  if (name.length <= OPENAI_MAX_TOOL_NAME) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, HASH_CHARS);
  return `${name.slice(0, PREFIX_CHARS)}_${hash}`;
}

/** Upstream (truncated) tool name → the name the client used. Only names that changed are in it. */
export type ToolNameMap = ReadonlyMap<string, string>;

/** Restores a client tool name from the upstream's, when it was truncated. */
export function restoreToolName(name: string, map: ToolNameMap | undefined): string {
  if (map === undefined) return name;
  return map.get(name) ?? name;
}

/** Collects the truncations of one request; `map` stays undefined when nothing was truncated. */
export class ToolNamer {
  map: Map<string, string> | undefined;

  upstreamName(name: string): string {
    const out = truncateToolName(name);
    if (out !== name) (this.map ??= new Map()).set(out, name);
    return out;
  }
}

const ID_BAD = /[^a-zA-Z0-9_-]/g;

/** A tool_use id Anthropic accepts: invalid characters become `_`; none at all → a fresh id. */
export function anthropicToolId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0) return newToolUseId();
  return NAME_RE.test(id) ? id : id.replace(ID_BAD, '_');
}

export function newToolUseId(): string {
  return `toolu_${randomBytes(12).toString('base64url').replace(/-/g, 'A')}`;
}

/** A fresh Anthropic message id. */
export function newMessageId(): string {
  return `msg_${randomBytes(12).toString('base64url')}`;
}

/** A message id derived from an upstream id (`chatcmpl-abc` → `msg_abc`), so logs can be joined. */
export function messageIdFrom(upstreamId: unknown): string {
  if (typeof upstreamId !== 'string' || upstreamId.length === 0) return newMessageId();
  if (upstreamId.startsWith('msg_')) return upstreamId;
  const rest = upstreamId.startsWith('chatcmpl-') ? upstreamId.slice(9) : upstreamId;
  return `msg_${NAME_RE.test(rest) ? rest : rest.replace(ID_BAD, '_')}`;
}

/** A chat completion id: the upstream's own id (`msg_…`) as LiteLLM returns it, else a fresh one. */
export function completionIdFrom(upstreamId: unknown): string {
  if (typeof upstreamId === 'string' && upstreamId.length > 0) return upstreamId;
  return `chatcmpl-${randomBytes(12).toString('base64url')}`;
}
