// The tool loop the real-agent tests script on the mock upstream: a turn that does not carry the
// result of the loop's tool call is answered with that call (the agent's command tool running a
// command that prints a fresh marker); the turn that carries the result is answered with a final
// text quoting it. Each answer is decided from the request alone, in its own dialect, so the
// same script serves Anthropic, chat and Responses upstreams, and the tests can count the turns.
import { randomBytes } from 'node:crypto';
import type { ScriptedRequest } from './mock-upstream';
import type { ScriptedApi, ScriptedReply } from './mock-scripted';

export interface ToolLoop {
  /** The fresh random part of the marker (a recording replaces it with a fixed one). */
  nonce: string;
  /**
   * What the command prints: `weir-tool-<nonce>`. The command spells it as a format and an
   * argument, so this string appears whole only in what the command printed.
   */
  marker: string;
  command: string;
  /** The id of the loop's tool call in an upstream API's own id style. */
  callId(api: ScriptedApi): string;
  /** The mock's `reply` script. */
  reply(request: ScriptedRequest): ScriptedReply;
}

/** The text final answers start with, before the quoted tool result. */
export const FINAL_PREFIX = 'The command printed: ';

/**
 * A fresh loop for one agent run. `tool` is the agent's command tool as the model must call it:
 * its name and how a command goes into its input (Claude Code's Bash takes `command`, Codex's
 * exec_command takes `cmd`).
 */
export function toolLoop(tool: { name: string; input: (command: string) => Record<string, unknown> }): ToolLoop {
  const nonce = randomBytes(6).toString('hex');
  const command = `printf 'weir-tool-%s\\n' ${nonce}`;
  const callId = (api: ScriptedApi) => (api === 'anthropic' ? `toolu_weir${nonce}` : `call_weir${nonce}`);
  return {
    nonce,
    marker: `weir-tool-${nonce}`,
    command,
    callId,
    reply({ api, json }) {
      const id = callId(api);
      const result = toolResult(api, json, id);
      if (result !== undefined) return { text: FINAL_PREFIX + result };
      // A real model calls only what it is offered: without the tool the loop cannot be honest.
      if (!offersTool(api, json, tool.name)) return { text: `The request offers no ${tool.name} tool.` };
      return { toolCall: { id, name: tool.name, arguments: JSON.stringify(tool.input(command)) } };
    },
  };
}

/**
 * Whether the request declares a function tool of this name, in its dialect's tool shape; with a
 * `namespace` (Responses only), a function of that name inside the request's namespace tool of
 * that name, as Codex offers an MCP server's tools.
 */
export function offersTool(api: ScriptedApi, json: any, name: string, namespace?: string): boolean {
  const tools: any[] = Array.isArray(json?.tools) ? json.tools : [];
  switch (api) {
    case 'anthropic':
      return namespace === undefined && tools.some((t) => t?.name === name);
    case 'chat':
      return namespace === undefined && tools.some((t) => t?.type === 'function' && t.function?.name === name);
    case 'responses': {
      const isIt = (t: any) => t?.type === 'function' && t.name === name;
      if (namespace === undefined) return tools.some(isIt);
      return tools.some((t) => t?.type === 'namespace' && t.name === namespace && Array.isArray(t.tools) && t.tools.some(isIt));
    }
  }
}

/**
 * The call `callId` as the request replays it from an earlier answer, in its dialect: an Anthropic
 * `tool_use` block, a chat `tool_calls` entry, a Responses `function_call` item (with its
 * `namespace` when it has one). Its input parsed.
 */
export function toolCall(api: ScriptedApi, json: any, callId: string): { name: string; input: any; namespace?: string } | undefined {
  switch (api) {
    case 'anthropic':
      for (const m of Array.isArray(json?.messages) ? json.messages : []) {
        if (m?.role !== 'assistant' || !Array.isArray(m.content)) continue;
        for (const b of m.content) if (b?.type === 'tool_use' && b.id === callId) return { name: b.name, input: b.input };
      }
      return undefined;
    case 'chat':
      for (const m of Array.isArray(json?.messages) ? json.messages : []) {
        for (const c of m?.role === 'assistant' && Array.isArray(m.tool_calls) ? m.tool_calls : []) {
          if (c?.id === callId) return { name: c.function?.name, input: JSON.parse(c.function?.arguments) };
        }
      }
      return undefined;
    case 'responses':
      for (const it of Array.isArray(json?.input) ? json.input : []) {
        if (it?.type !== 'function_call' || it.call_id !== callId) continue;
        const call: { name: string; input: any; namespace?: string } = { name: it.name, input: JSON.parse(it.arguments) };
        if (typeof it.namespace === 'string') call.namespace = it.namespace;
        return call;
      }
      return undefined;
  }
}

/** Text of a content value: a string, or the text parts of a list of blocks / parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (typeof p?.text === 'string' ? p.text : '')).join('');
}

/**
 * The result a request carries for tool call `callId`, in the request's dialect: an Anthropic
 * `tool_result` block, a chat `tool` message, a Responses `function_call_output` item. Undefined
 * when it carries none.
 */
export function toolResult(api: ScriptedApi, json: any, callId: string): string | undefined {
  switch (api) {
    case 'anthropic':
      for (const m of Array.isArray(json?.messages) ? json.messages : []) {
        if (m?.role !== 'user' || !Array.isArray(m.content)) continue;
        for (const b of m.content) if (b?.type === 'tool_result' && b.tool_use_id === callId) return textOf(b.content);
      }
      return undefined;
    case 'chat':
      for (const m of Array.isArray(json?.messages) ? json.messages : []) {
        if (m?.role === 'tool' && m.tool_call_id === callId) return textOf(m.content);
      }
      return undefined;
    case 'responses':
      for (const it of Array.isArray(json?.input) ? json.input : []) {
        if (it?.type === 'function_call_output' && it.call_id === callId) return textOf(it.output);
      }
      return undefined;
  }
}
