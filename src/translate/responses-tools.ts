// Responses API tools → chat completions function tools, for the Responses → chat translation.
//
//   function → function (name, description, parameters, strict).
//   custom (freeform, with an optional grammar) → a function taking one string `input`, the
//     grammar appended to its description; its calls go back as custom_tool_call items.
//   namespace (Codex 0.171: multi_agent_v1 with spawn_agent, close_agent, …) → one function per
//     member, under a flat name. Codex runs a namespaced tool only when the call carries `name` and
//     `namespace` apart (a call named `multi_agent_v1__close_agent` is an "unsupported call"), so
//     the flat name is mapped back on the way out (ToResponsesContext.namespaced). The flat name is
//     Codex's own canonical_flat_name: the namespace without trailing `_`, `__`, the name without
//     leading `_`; characters chat refuses become `_`, and past 64 characters it is shortened the
//     way LiteLLM shortens long names (names.ts).
//   hosted tools (web_search, file_search, code_interpreter, image_generation, local_shell, mcp,
//     …) run on OpenAI's servers: left out and named in `dropped` (or a 400 with hostedTools
//     'error'). Tool types newer than this translator are left out and named too.
// Tools come from the request's `tools` and from Codex's `additional_tools` input items alike.
import type { Dropped } from './dropped';
import { TranslationError } from './errors';
import { truncateToolName } from './names';
import { expectArray, expectObj, expectString, isObj, type Obj } from './shape';

/** A namespaced tool's two names, as the Responses client knows it. */
export interface NamespacedName {
  namespace: string;
  name: string;
}

const HOSTED_TOOL_TYPES = /^(web_search|file_search|code_interpreter|image_generation|local_shell|mcp|computer_use|shell|apply_patch)/;
const CHAT_NAME_BAD = /[^a-zA-Z0-9_-]/g;
const UNDERSCORE = 0x5f;

/** The chat name of `name` in `namespace` (see the header). Linear: no regex over the `_` runs. */
export function flatToolName(namespace: string, name: string): string {
  let end = namespace.length;
  while (end > 0 && namespace.charCodeAt(end - 1) === UNDERSCORE) end--;
  let start = 0;
  while (start < name.length && name.charCodeAt(start) === UNDERSCORE) start++;
  return truncateToolName(`${namespace.slice(0, end)}__${name.slice(start)}`.replace(CHAT_NAME_BAD, '_'));
}

export class ChatTools {
  readonly tools: Obj[] = [];
  /** Chat names of the tools offered. */
  readonly names = new Set<string>();
  /** Chat names of freeform (custom) tools: their calls go back as custom_tool_call items. */
  custom: Set<string> | undefined;
  /** Chat name → namespace and name, for the namespaced tools. */
  namespaced: Map<string, NamespacedName> | undefined;
  /** A member's own name → its chat name (null when two namespaces have one of that name). */
  private members: Map<string, string | null> | undefined;
  /** Names of the tools left out: a tool_choice naming one is left out too. */
  private droppedNames: Set<string> | undefined;

  constructor(
    private readonly hosted: 'error' | 'drop',
    private readonly dropped: Dropped,
  ) {}

  /** Adds a `tools` list (the request's, or an additional_tools item's) found at `param`. */
  add(v: unknown, param: string): void {
    if (v === undefined || v === null) return;
    const list = expectArray(v, param);
    for (let i = 0; i < list.length; i++) this.tool(expectObj(list[i], `${param}[${i}]`), `${param}[${i}]`, undefined);
  }

  private tool(t: Obj, param: string, namespace: string | undefined): void {
    if (t.type === 'function' || t.type === 'custom') {
      const name = expectString(t.name, `${param}.name`);
      const fn = t.type === 'function' ? functionTool(t, name, param) : customTool(t, name);
      let chatName = name;
      if (namespace !== undefined) {
        chatName = flatToolName(namespace, name);
        (this.namespaced ??= new Map()).set(chatName, { namespace, name });
        this.members ??= new Map();
        this.members.set(name, this.members.has(name) ? null : chatName);
      }
      fn.name = chatName;
      if (this.names.has(chatName)) throw new TranslationError(`${param}.name: duplicate tool name '${chatName}'`, `${param}.name`);
      if (t.type === 'custom') (this.custom ??= new Set()).add(chatName);
      this.names.add(chatName);
      this.tools.push({ type: 'function', function: fn });
      return;
    }
    if (t.type === 'namespace' && namespace === undefined) {
      const ns = expectString(t.name, `${param}.name`);
      const members = expectArray(t.tools, `${param}.tools`);
      for (let k = 0; k < members.length; k++) this.tool(expectObj(members[k], `${param}.tools[${k}]`), `${param}.tools[${k}]`, ns);
      return;
    }
    if (typeof t.type !== 'string') throw new TranslationError(`${param}.type: expected a string`, `${param}.type`);
    if (this.hosted === 'error' && HOSTED_TOOL_TYPES.test(t.type)) {
      throw new TranslationError(`${param}: '${t.type}' is a hosted tool of the Responses API; this model is served through chat completions`, `${param}.type`);
    }
    this.dropped.tool(t.type);
    if (typeof t.name === 'string') (this.droppedNames ??= new Set()).add(t.name);
  }

  /** tool_choice → chat's; undefined when it named a tool that was left out (then it is too). */
  choice(v: unknown): unknown {
    if (v === 'auto' || v === 'none' || v === 'required') return v;
    const tc = expectObj(v, 'tool_choice');
    if (tc.type === 'allowed_tools') return tc.mode === 'required' ? 'required' : 'auto';
    if (typeof tc.type !== 'string') throw new TranslationError('tool_choice.type: expected a string', 'tool_choice.type');
    if ((tc.type === 'function' || tc.type === 'custom') && typeof tc.name === 'string') {
      const name = this.chatName(tc.name, tc.namespace);
      if (name !== undefined) return { type: 'function', function: { name } };
      if (this.droppedNames?.has(tc.name) !== true) throw new TranslationError(`tool_choice.name: no tool named '${tc.name}'`, 'tool_choice.name');
    }
    // A hosted tool (web_search, mcp, …) or one that was left out: the model chooses.
    this.dropped.item('tool_choice', tc.type);
    return undefined;
  }

  /** The chat name a tool_choice means: by namespace and name, by its own name, or by a member's. */
  private chatName(name: string, namespace: unknown): string | undefined {
    if (typeof namespace === 'string') {
      const flat = flatToolName(namespace, name);
      return this.names.has(flat) ? flat : undefined;
    }
    if (this.names.has(name)) return name;
    return this.members?.get(name) ?? undefined;
  }
}

function functionTool(t: Obj, name: string, param: string): Obj {
  const fn: Obj = { name };
  if (typeof t.description === 'string') fn.description = t.description;
  if (t.parameters !== undefined && t.parameters !== null) fn.parameters = expectObj(t.parameters, `${param}.parameters`);
  if (typeof t.strict === 'boolean') fn.strict = t.strict;
  return fn;
}

function customTool(t: Obj, name: string): Obj {
  let description = typeof t.description === 'string' ? t.description : '';
  const f = isObj(t.format) ? t.format : undefined;
  if (f !== undefined && f.type === 'grammar' && typeof f.definition === 'string') {
    description += `${description ? '\n\n' : ''}The input must follow this ${String(f.syntax ?? '')} grammar:\n${f.definition}`;
  }
  const fn: Obj = { name, parameters: { type: 'object', properties: { input: { type: 'string', description: 'The tool input, as free-form text.' } }, required: ['input'] } };
  if (description) fn.description = description;
  return fn;
}
