// Gemini `generateContent` answer → OpenAI chat completion, and what the stream translator shares
// with it: finish reasons, usage, tool call ids.
//
//  - Parts: text → content (joined); `thought: true` text → reasoning_content; functionCall →
//    tool_calls (arguments serialized; the id is the call's own when Gemini gives one, else a
//    fresh `call_…`; a part's thoughtSignature rides in the id after `__thought__`, base64url, so
//    it comes back with the tool result — gemini-request.ts puts it on the part again).
//  - finishReason: STOP → stop (tool_calls when calls were made), MAX_TOKENS → length, SAFETY,
//    RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY, LANGUAGE → content_filter;
//    anything else → stop. A prompt blocked before any candidate (promptFeedback.blockReason) →
//    content_filter with no content.
//  - usageMetadata: prompt_tokens = promptTokenCount (+ toolUsePromptTokenCount), completion_tokens
//    = candidatesTokenCount + thoughtsTokenCount (LiteLLM counts reasoning as completion),
//    prompt_tokens_details.cached_tokens = cachedContentTokenCount,
//    completion_tokens_details.reasoning_tokens = thoughtsTokenCount.
import { randomBytes } from 'node:crypto';
import { TranslationError } from './errors';
import { THOUGHT_MARK, type GeminiContext } from './gemini-request';
import { restoreToolName } from './names';
import { isObj, num, type Obj } from './shape';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

export function finishFromGemini(reason: unknown, sawToolCalls: boolean): string {
  if (sawToolCalls) return 'tool_calls';
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  return 'stop';
}

export function toolCallId(call: Obj, part: Obj): string {
  const base = typeof call.id === 'string' && call.id.length > 0 ? call.id : `call_${randomBytes(12).toString('base64url').replace(/-/g, 'A')}`;
  const sig = part.thoughtSignature;
  return typeof sig === 'string' && sig.length > 0 ? `${base}${THOUGHT_MARK}${Buffer.from(sig, 'base64').toString('base64url')}` : base;
}

/** A functionCall part → an OpenAI tool call (without `index`). */
export function toolCall(part: Obj, ctx: GeminiContext): Obj {
  const call = part.functionCall as Obj;
  const name = typeof call.name === 'string' ? restoreToolName(call.name, ctx.toolNames) : '';
  return { id: toolCallId(call, part), type: 'function', function: { name, arguments: JSON.stringify(isObj(call.args) ? call.args : {}) } };
}

/** usageMetadata → OpenAI usage (the chat clients' shape), or undefined. */
export function chatUsage(meta: unknown): Obj | undefined {
  if (!isObj(meta)) return undefined;
  const prompt = num(meta.promptTokenCount) + num(meta.toolUsePromptTokenCount);
  const thoughts = num(meta.thoughtsTokenCount);
  const completion = num(meta.candidatesTokenCount) + thoughts;
  const cached = num(meta.cachedContentTokenCount);
  const u: Obj = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  u.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts > 0) u.completion_tokens_details = { reasoning_tokens: thoughts };
  return u;
}

/** Gemini error body or stream event (`{error: {code, message, status}}`) → status and message. */
export function geminiError(e: unknown): { status: number; message: string } {
  if (!isObj(e)) return { status: 500, message: String(e) };
  const status = typeof e.code === 'number' && e.code >= 400 && e.code < 600 ? e.code : 500;
  return { status, message: typeof e.message === 'string' ? e.message : JSON.stringify(e) };
}

export function completionId(res: Obj): string {
  return typeof res.responseId === 'string' && res.responseId.length > 0 ? `chatcmpl-${res.responseId}` : `chatcmpl-${randomBytes(12).toString('base64url')}`;
}

/** A whole generateContent answer → a chat.completion. Throws a 502 TranslationError on a body that is no answer. */
export function geminiResponseToChat(res: unknown, ctx: GeminiContext): Obj {
  if (!isObj(res)) throw new TranslationError('the upstream answer is not a JSON object', null, 502, 'api_error');
  const candidates = Array.isArray(res.candidates) ? res.candidates : [];
  const choices: Obj[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    if (!isObj(c)) continue;
    const parts = isObj(c.content) && Array.isArray(c.content.parts) ? c.content.parts : [];
    let text = '';
    let reasoning = '';
    const calls: Obj[] = [];
    for (const p of parts) {
      if (!isObj(p)) continue;
      if (isObj(p.functionCall)) calls.push({ ...toolCall(p, ctx), index: calls.length });
      else if (typeof p.text === 'string') {
        if (p.thought === true) reasoning += p.text;
        else text += p.text;
      }
    }
    const message: Obj = { role: 'assistant', content: text.length > 0 || calls.length === 0 ? text : null };
    if (reasoning) message.reasoning_content = reasoning;
    if (calls.length > 0) message.tool_calls = calls.map(({ index: _i, ...rest }) => rest);
    choices.push({ index: typeof c.index === 'number' ? c.index : i, message, finish_reason: finishFromGemini(c.finishReason, calls.length > 0) });
  }
  if (choices.length === 0) {
    // The prompt itself was blocked (promptFeedback.blockReason): no candidate at all.
    choices.push({ index: 0, message: { role: 'assistant', content: null }, finish_reason: isObj(res.promptFeedback) && res.promptFeedback.blockReason ? 'content_filter' : 'stop' });
  }
  const out: Obj = { id: completionId(res), object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: ctx.model, choices };
  const usage = chatUsage(res.usageMetadata);
  if (usage) out.usage = usage;
  return out;
}
