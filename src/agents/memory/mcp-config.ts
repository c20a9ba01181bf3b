// What a run gets of its memory before the agent starts: an MCP configuration naming Weir's /mcp
// with the run's key (a file in the sandbox's home, never an argument: the command line of a
// process is readable by others), and the notes its profile pins by tag, written into the agent's
// user-level memory file (~/.claude/CLAUDE.md, ~/.codex/AGENTS.md) — never into the workspace,
// whose diff is the run's product.
import type pg from 'pg';
import type { AgentSetup } from '../agent-setup';
import type { AgentKind, HarnessInput, ProfileDef, Sandbox, SandboxFile } from '../types';
import { findNotes, type Note } from './notes';

export const MCP_SERVER_NAME = 'weir-memory';
/** Notes pinned into a memory file at most, and the bytes of that file's pinned part. */
const PIN_MAX_NOTES = 50;
const PIN_MAX_BYTES = 32 * 1024;

const MEMORY_FILE: Record<AgentKind, string | null> = { 'claude-code': '.claude/CLAUDE.md', codex: '.codex/AGENTS.md', command: null };

export function memoryEnabled(p: ProfileDef): boolean {
  // Runs queued before profiles had the setting get the default (on).
  return p.memory?.enabled !== false;
}

/** The notes pinned for this run, as the Markdown the agent reads (null when none). */
export function pinnedText(notes: Note[]): string | null {
  if (!notes.length) return null;
  let out = '# Notes from earlier runs (pinned by Weir)\n';
  let kept = 0;
  for (const n of notes) {
    const part = `\n## ${n.title.replace(/\s+/g, ' ')}\n${n.tags.length ? `tags: ${n.tags.join(', ')}\n` : ''}\n${n.body.trim()}\n`;
    if (Buffer.byteLength(out + part) > PIN_MAX_BYTES) break;
    out += part;
    kept++;
  }
  if (kept < notes.length) out += `\n(${notes.length - kept} more pinned note(s) left out: use the ${MCP_SERVER_NAME} tools to read them.)\n`;
  return out;
}

/**
 * The MCP config and the pinned notes, as files for the executor to write with the prompt, and the
 * harness input's `mcp`; nothing when memory is off.
 */
export async function prepareMemory(pool: pg.Pool, scope: string, sandbox: Sandbox, input: HarnessInput): Promise<AgentSetup> {
  const p = input.profile;
  if (!memoryEnabled(p)) return {};
  const url = `${input.baseUrl.replace(/\/+$/, '')}/mcp`;
  const configFile = `${sandbox.home}/.weir/mcp.json`;
  const config = { mcpServers: { [MCP_SERVER_NAME]: { type: 'http', url, headers: { Authorization: `Bearer ${input.apiKey}` } } } };
  const files: SandboxFile[] = [{ path: configFile, data: JSON.stringify(config, null, 1) + '\n' }];
  const file = MEMORY_FILE[p.agent];
  const tags = p.memory?.pin_tags ?? [];
  if (file && tags.length) {
    const text = pinnedText(await findNotes(pool, { scopes: [scope], anyTags: tags, limit: PIN_MAX_NOTES }));
    if (text) files.push({ path: `${sandbox.home}/${file}`, data: text });
  }
  return { mcp: { url, configFile }, files };
}
