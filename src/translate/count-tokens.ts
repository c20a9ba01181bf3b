// A local token estimate for /v1/messages/count_tokens when the upstream has no counting API
// (OpenAI-compatible deployments), and for the input_tokens a translated stream announces in
// message_start before the upstream's usage arrives.
//
// The rule: characters / 4 over the text that reaches the model — system text, message text,
// thinking, tool_use inputs and tool definitions (name, description and schema, measured as the
// length of their JSON without building it) — rounded up, plus fixed overheads: 3 tokens per
// message (role and separators), 8 per tool definition, 1,600 per image (Anthropic's cost for an
// image of ~1.15 megapixels, the size its API resizes larger images to), and for a base64 document
// its decoded size / 8 (PDF bytes are mostly not text). An estimate without a tokenizer: close for
// English prose and code, low for CJK text; it never reads the network.
import { base64DecodedSize } from './content';
import { isObj, type Obj } from './shape';

const PER_MESSAGE = 3;
const PER_TOOL = 8;
const PER_IMAGE = 1600;

/** The length a string counts for; the raw-body translation passes one that knows its stand-ins. */
export type StringLength = (s: string) => number;

const plainLength: StringLength = (s) => s.length;

/** Approximate length of JSON.stringify(v), without building it. */
function jsonLength(v: unknown, len: StringLength, depth = 0): number {
  if (typeof v === 'string') return len(v) + 2;
  if (typeof v === 'number') return v < 10 && v >= 0 ? 1 : String(v).length;
  if (typeof v === 'boolean') return v ? 4 : 5;
  if (v === null || v === undefined || depth > 64) return 4;
  let n = 2;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += jsonLength(v[i], len, depth + 1) + 1;
    return n;
  }
  for (const k in v as Obj) n += k.length + 4 + jsonLength((v as Obj)[k], len, depth + 1);
  return n;
}

interface Tally {
  chars: number;
  tokens: number;
  len: StringLength;
}

function block(b: unknown, t: Tally): void {
  if (typeof b === 'string') {
    t.chars += t.len(b);
    return;
  }
  if (!isObj(b)) return;
  switch (b.type) {
    case 'text':
      if (typeof b.text === 'string') t.chars += t.len(b.text);
      return;
    case 'thinking':
      if (typeof b.thinking === 'string') t.chars += t.len(b.thinking);
      return;
    case 'redacted_thinking':
      return;
    case 'image':
    case 'image_url':
      t.tokens += PER_IMAGE;
      return;
    case 'document': {
      const s = isObj(b.source) ? b.source : undefined;
      if (s && typeof s.data === 'string') {
        if (s.type === 'base64') t.tokens += Math.ceil(base64DecodedSize(s.data) / 8);
        else t.chars += t.len(s.data);
      }
      return;
    }
    case 'tool_use':
      if (typeof b.name === 'string') t.chars += t.len(b.name);
      t.chars += jsonLength(b.input, t.len);
      return;
    case 'tool_result':
      content(b.content, t);
      return;
    default:
      t.chars += jsonLength(b, t.len);
  }
}

function content(c: unknown, t: Tally): void {
  if (typeof c === 'string') t.chars += t.len(c);
  else if (Array.isArray(c)) for (let i = 0; i < c.length; i++) block(c[i], t);
}

/**
 * Estimated input tokens of an Anthropic Messages request body (`system`, `messages`, `tools`).
 * Also accepts an OpenAI chat body (`messages` with string or part content, `tools`).
 */
export function estimateTokens(body: unknown, len: StringLength = plainLength): number {
  const t = tallyTokens(body, len);
  return Math.ceil(t.chars / 4) + t.tokens;
}

/**
 * estimateTokens before its rounding: characters and fixed tokens, each a sum over the body's
 * parts, so the estimate of a body is that of its parts added (the per-session translation cache
 * adds its turns' tallies, gateway/translation-cache.ts).
 */
export function tallyTokens(body: unknown, len: StringLength = plainLength): { chars: number; tokens: number } {
  const t: Tally = { chars: 0, tokens: 0, len };
  if (!isObj(body)) return t;
  content(body.system, t);
  const msgs = body.messages;
  if (Array.isArray(msgs)) {
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      if (!isObj(m)) continue;
      t.tokens += PER_MESSAGE;
      content(m.content, t);
      if (Array.isArray(m.tool_calls)) t.chars += jsonLength(m.tool_calls, len);
    }
  }
  const tools = body.tools;
  if (Array.isArray(tools)) {
    for (let i = 0; i < tools.length; i++) {
      t.tokens += PER_TOOL;
      t.chars += jsonLength(tools[i], len);
    }
  }
  return t;
}
