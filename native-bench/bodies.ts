// Request bodies and headers the scenarios send, built deterministically (a seeded generator) so
// every run and every target gets byte-identical requests.
import type { RequestSpec } from './timed-request';

export const MASTER_KEY = 'sk-bench-master';
export const CHAT_MODEL = 'bench-gpt';
export const CLAUDE_MODEL = 'bench-claude';
export const CHAT_PATH = '/v1/chat/completions';
export const MESSAGES_PATH = '/v1/messages';

export function openaiHeaders(key: string): string[] {
  return ['content-type', 'application/json', 'authorization', `Bearer ${key}`];
}

export function anthropicHeaders(key: string): string[] {
  return [
    'content-type', 'application/json',
    'x-api-key', key,
    'anthropic-version', '2023-06-01',
    'anthropic-beta', 'claude-code-20250219,interleaved-thinking-2025-05-14',
    'user-agent', 'claude-cli/2.0.0 (external, cli)',
  ];
}

/** Per-request behaviour for the mock (ignored by real upstreams); see test/support/mock-upstream.ts. */
export interface MockHints {
  deltas?: number;
  paceMs?: number;
}

export function smallChat(o: { stream?: boolean; mock?: MockHints } = {}): object {
  const body: Record<string, unknown> = {
    model: CHAT_MODEL,
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Write a haiku about tail latency.' },
    ],
    max_tokens: 64,
  };
  if (o.stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (o.mock) body.mock_behavior = o.mock;
  return body;
}

// ---- a Claude-Code-sized /v1/messages body ------------------------------------------------

/** mulberry32: tiny, seeded, good enough to make varied text. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the function returns a promise that resolves when request body stream is read fully and every ' +
  'worker thread keeps its own pool of upstream connections while config snapshot changes atomically ' +
  'latency budget spend key team model route retry fallback cooldown deployment header token cache ' +
  'file path line error test passes fails because undefined null string number boolean array object'
).split(' ');
const CODE = [
  'export function handle(req: Request): Promise<Response> {\n  const body = await req.json();\n  return route(body);\n}\n',
  'if (err instanceof GatewayError) {\n  res.status(err.status).send({ error: { message: err.message } });\n}\n',
  'for (const [key, value] of Object.entries(headers)) {\n\tout.push(`${key}: ${value}`);\n}\n',
  'const re = /"model"\\s*:\\s*"([^"]+)"/;\nconsole.log("matched → %s", re.exec(text)?.[1] ?? "none");\n',
  'SELECT token, spend, max_budget FROM "LiteLLM_VerificationToken" WHERE token = $1; -- résumé ✓\n',
];

function sentence(r: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(r() * WORDS.length)]!);
  return out.join(' ');
}

function text(r: () => number, bytes: number): string {
  let s = '';
  while (s.length < bytes) s += r() < 0.25 ? CODE[Math.floor(r() * CODE.length)]! : `${sentence(r, 8 + Math.floor(r() * 16))}.\n`;
  return s.slice(0, bytes);
}

function tool(r: () => number, i: number): object {
  const props: Record<string, unknown> = {};
  const n = 3 + Math.floor(r() * 5);
  for (let k = 0; k < n; k++) {
    props[`param_${k}`] = r() < 0.3
      ? { type: 'array', items: { type: 'string' }, description: sentence(r, 12) }
      : { type: r() < 0.5 ? 'string' : 'integer', description: sentence(r, 18) };
  }
  return {
    name: `Tool${i}_${sentence(r, 1)}`,
    description: text(r, 900 + Math.floor(r() * 900)),
    input_schema: { type: 'object', properties: props, required: Object.keys(props).slice(0, 2), additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' },
  };
}

/**
 * A Claude-Code-shaped request: a long system prompt with cache_control, ~30 tools with JSON
 * schemas, and a long history of text, tool_use and tool_result turns, grown to ≈150 KB.
 */
export function claudeCodeBody(o: { stream?: boolean; mock?: MockHints; targetBytes?: number; tools?: number; seed?: number } = {}): object {
  const r = rng(o.seed ?? 0xc1a0de);
  const target = o.targetBytes ?? 150 * 1024;
  const tools = Array.from({ length: o.tools ?? 30 }, (_, i) => tool(r, i));
  const messages: object[] = [];
  const body: Record<string, unknown> = {
    model: CLAUDE_MODEL,
    max_tokens: 32000,
    system: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: 'text', text: text(r, 14_000), cache_control: { type: 'ephemeral' } },
    ],
    tools,
    messages,
    metadata: { user_id: 'user_bench_account__session_0f3c9a' },
    temperature: 1,
  };
  if (o.stream) body.stream = true;
  if (o.mock) body.mock_behavior = o.mock;
  messages.push({ role: 'user', content: [{ type: 'text', text: text(r, 600) }] });
  let turn = 0;
  while (JSON.stringify(body).length < target - 2500) {
    const id = `toolu_${(turn + 1).toString(36).padStart(6, '0')}`;
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: text(r, 200 + Math.floor(r() * 400)) },
        { type: 'tool_use', id, name: (tools[turn % tools.length] as { name: string }).name, input: { param_0: text(r, 80), param_1: Math.floor(r() * 1000) } },
      ],
    });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: text(r, 800 + Math.floor(r() * 2200)) }] });
    turn++;
  }
  messages.push({ role: 'user', content: [{ type: 'text', text: 'Now run the tests and fix whatever fails.', cache_control: { type: 'ephemeral' } }] });
  return body;
}

type Obj = Record<string, unknown>;

/** Claude Code's cache breakpoint: on the last message's last block only (each call moves it there from the message before). */
export function withBreakpoint(messages: Obj[]): Obj[] {
  const out = messages.slice();
  const last = out[out.length - 1];
  if (last !== undefined && Array.isArray(last.content) && last.content.length > 0) {
    const blocks = (last.content as Obj[]).slice();
    blocks[blocks.length - 1] = { ...blocks[blocks.length - 1]!, cache_control: { type: 'ephemeral' } };
    out[out.length - 1] = { ...last, content: blocks };
  }
  return out;
}

/**
 * `calls` calls of a Claude Code session from the history of `body` (a claudeCodeBody), without
 * its closing request: each call the one before plus an assistant turn and its tool result, the
 * breakpoint on its last message, as Claude Code sends them. The last holds all the turns.
 */
export function claudeCodeSession(body: object, calls: number): Buffer[] {
  const b = body as Obj & { messages: Obj[] };
  const turns = b.messages.length - 1; // the first message, then assistant and tool-result turns; the last message is the closing request
  return Array.from({ length: calls }, (_, k) => jsonBody({ ...b, messages: withBreakpoint(b.messages.slice(0, turns - 2 * (calls - 1 - k))) }));
}

export function jsonBody(o: object): Buffer {
  return Buffer.from(JSON.stringify(o));
}

export function chatSpec(body: object, key = MASTER_KEY): RequestSpec {
  return { path: CHAT_PATH, method: 'POST', headers: openaiHeaders(key), body: jsonBody(body) };
}

export function messagesSpec(body: object, key = MASTER_KEY): RequestSpec {
  return { path: MESSAGES_PATH, method: 'POST', headers: anthropicHeaders(key), body: jsonBody(body) };
}
