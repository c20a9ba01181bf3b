// Whole-answer checks for streamed responses the bench times, so a broken path (a translator that
// drops, merges or reorders deltas, or never ends the stream) cannot post a fast figure. A check
// reads the complete SSE text after the response has ended (outside the timed span) and returns
// null when the answer is right, or what is wrong with it.
//
// The mock's deltas carry their index ("tok0 ", "tok1 "…), so the expected text is known exactly.

export interface SseEvent {
  event: string;
  data: string;
}

/** Splits SSE text into events (blank-line separated; `event:` and `data:` fields, comments skipped). */
export function parseSseText(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split('\n\n')) {
    if (!block.trim()) continue;
    let event = '';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const c = line.indexOf(':');
      const field = c < 0 ? line : line.slice(0, c);
      const value = c < 0 ? '' : line.slice(line.charCodeAt(c + 1) === 0x20 ? c + 2 : c + 1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) out.push({ event, data: data.join('\n') });
  }
  return out;
}

/** The text the mock streams in `n` deltas. */
export function expectedText(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `tok${i} `;
  return s;
}

function json(data: string): Record<string, any> | null {
  try {
    const v: unknown = JSON.parse(data);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, any>) : null;
  } catch {
    return null;
  }
}

/**
 * An Anthropic Messages stream as Claude Code needs it: message_start, one text block
 * (content_block_start, `deltas` text_delta events in order, content_block_stop), message_delta
 * with stop_reason end_turn, and message_stop last. `ping` events may appear anywhere.
 */
export function checkAnthropicStream(text: string, deltas: number): string | null {
  const events = parseSseText(text).filter((e) => e.event !== 'ping');
  const want = ['message_start', 'content_block_start', ...Array<string>(deltas).fill('content_block_delta'), 'content_block_stop', 'message_delta', 'message_stop'];
  for (let i = 0; i < Math.max(want.length, events.length); i++) {
    const e = events[i];
    if (!e) return `stream ended after ${events.length} events, before ${want[i]}`;
    if (i >= want.length) return `event after message_stop: ${e.event}`;
    if (e.event !== want[i]) return `event ${i}: ${e.event || '(none)'} where ${want[i]} was due`;
    const d = json(e.data);
    if (!d || d.type !== e.event) return `event ${i} (${e.event}): data is not a ${e.event} object`;
    if (e.event === 'content_block_start' && (d.index !== 0 || d.content_block?.type !== 'text')) return 'content_block_start: not text block 0';
    if (e.event === 'content_block_delta') {
      const k = i - 2;
      if (d.index !== 0 || d.delta?.type !== 'text_delta') return `delta ${k}: not a text_delta of block 0`;
      if (d.delta.text !== `tok${k} `) return `delta ${k}: text ${JSON.stringify(d.delta.text)}, expected "tok${k} "`;
    }
    if (e.event === 'message_delta' && d.delta?.stop_reason !== 'end_turn') return `message_delta: stop_reason ${String(d.delta?.stop_reason)}`;
  }
  return null;
}

/**
 * An OpenAI chat completions stream: content deltas carrying exactly the expected text in
 * `deltas` non-empty pieces, a finish_reason of stop, and `data: [DONE]` last.
 */
export function checkOpenAIStream(text: string, deltas: number): string | null {
  const events = parseSseText(text);
  if (events.length === 0 || events[events.length - 1]!.data !== '[DONE]') return 'stream did not end with [DONE]';
  let got = '';
  let pieces = 0;
  let finish: unknown = null;
  for (let i = 0; i < events.length - 1; i++) {
    const d = json(events[i]!.data);
    if (!d) return `event ${i}: data is not a JSON object`;
    const c = Array.isArray(d.choices) ? d.choices[0] : undefined;
    if (!c) continue; // the usage chunk
    const content = c.delta?.content;
    if (typeof content === 'string' && content.length > 0) {
      got += content;
      pieces++;
    }
    if (c.finish_reason) finish = c.finish_reason;
  }
  if (pieces !== deltas) return `${pieces} content deltas, expected ${deltas}`;
  if (got !== expectedText(deltas)) return 'content text differs from the expected tok0 … text';
  if (finish !== 'stop') return `finish_reason ${String(finish)}`;
  return null;
}
