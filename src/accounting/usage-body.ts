// Usage and id of a non-streamed upstream answer, read without parsing the body.
//
// Providers put `usage` at the end of the body (OpenAI: `…,"usage":{…},"service_tier":…,
// "system_fingerprint":…}`; Anthropic: `…,"stop_sequence":null,"usage":{…}}`), and `id` first.
// So `usage` is searched for from the end and proven to be a member of the outermost object
// (findTopLevelMemberFromEnd: a nested `"usage"` or one inside a string is skipped, and the search
// goes on towards the start, so it is found wherever it is); only the usage object's own bytes are
// JSON.parsed. `id` comes from walking the outer object's members until it is found: the walk
// stops there (the model the provider names is not read: a call records the deployment it chose).
// When the fast path cannot decide (no `"usage"` bytes, escaped key names, malformed JSON), the
// whole body is JSON.parsed once; if that fails too, usage is undefined.
import { anthropicUsage, count, openaiUsage, type TokenUsage } from './usage-types';
import { findTopLevelMemberFromEnd, parseSpan, readTopLevelStrings, skipSpace } from './usage-json';
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';

export interface BodyUsage {
  /** Provider response id (`chatcmpl-…`, `resp_…`, `msg_…`), when present. */
  id: string | undefined;
  /** Usage, when the body carries it. */
  usage: TokenUsage | undefined;
}

const USAGE_KEY = Buffer.from('"usage"');
const ID = ['id'] as const;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * OpenAI-format usage: chat completions (`prompt_tokens`, `completion_tokens`,
 * `prompt_tokens_details.cached_tokens`) or the Responses API (`input_tokens`, `output_tokens`,
 * `input_tokens_details.cached_tokens`). OpenAI-compatible servers that also report Anthropic-style
 * `cache_read_input_tokens` / `cache_creation_input_tokens` (LiteLLM itself does) count them inside
 * prompt_tokens, so they keep OpenAI semantics.
 */
export function openaiUsageFromObject(u: unknown): TokenUsage | undefined {
  if (!isObj(u)) return undefined;
  const chat = u.prompt_tokens !== undefined || u.completion_tokens !== undefined;
  const prompt = chat ? u.prompt_tokens : u.input_tokens;
  const completion = chat ? u.completion_tokens : u.output_tokens;
  if (typeof prompt !== 'number' && typeof completion !== 'number') return undefined;
  const details = isObj(u.prompt_tokens_details) ? u.prompt_tokens_details : isObj(u.input_tokens_details) ? u.input_tokens_details : undefined;
  let cached = details ? count(details.cached_tokens) : 0;
  if (cached === 0) cached = count(u.cache_read_input_tokens) || count(u.prompt_cache_hit_tokens);
  const written = count(u.cache_creation_input_tokens) || (details ? count(details.cache_creation_tokens) : 0);
  return openaiUsage(count(prompt), count(completion), cached, written);
}

/** Anthropic Messages usage (`input_tokens` excludes cache reads and writes). */
export function anthropicUsageFromObject(u: unknown): TokenUsage | undefined {
  if (!isObj(u)) return undefined;
  if (typeof u.input_tokens !== 'number' && typeof u.output_tokens !== 'number') return undefined;
  const split = isObj(u.cache_creation) ? u.cache_creation : undefined;
  return anthropicUsage(
    count(u.input_tokens),
    count(u.output_tokens),
    count(u.cache_read_input_tokens),
    count(u.cache_creation_input_tokens),
    split ? count(split.ephemeral_1h_input_tokens) : 0,
  );
}

function fromBody(buf: Buffer, toUsage: (u: unknown) => TokenUsage | undefined): BodyUsage {
  const end = buf.length;
  const start = skipSpace(buf, 0, end);
  scanSteps.n += start;
  if (start < end && buf[start] === Byte.LBRACE) {
    const span = findTopLevelMemberFromEnd(buf, start, end, USAGE_KEY);
    if (span) {
      const fields: Record<string, string> = {};
      const walked = readTopLevelStrings(buf, start, end, ID, fields);
      if (walked !== -1) {
        const raw = parseSpan(buf, span[0], span[1]);
        // `"usage": null` (or a shape we do not know) is a legitimate "no usage" answer.
        if (raw === null || isObj(raw)) return { id: fields.id, usage: raw === null ? undefined : toUsage(raw) };
      }
    }
  }
  // Slow path: the whole body, once.
  const whole = parseSpan(buf, 0, end);
  if (!isObj(whole)) return { id: undefined, usage: undefined };
  return {
    id: typeof whole.id === 'string' ? whole.id : undefined,
    usage: toUsage(whole.usage),
  };
}

/** Usage and id of an OpenAI chat completion (or Responses API) body. */
export function usageFromOpenAIBody(buf: Buffer): BodyUsage {
  return fromBody(buf, openaiUsageFromObject);
}

/** Usage and id of an Anthropic Messages body. */
export function usageFromAnthropicBody(buf: Buffer): BodyUsage {
  return fromBody(buf, anthropicUsageFromObject);
}
