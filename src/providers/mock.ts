// The built-in `mock/` provider: answers in-process, in whichever dialect the request came in, so a
// newcomer can call a model with no provider key and no network. It drives the same handler
// callbacks as an undici dispatch, so the gateway treats it like any upstream (streaming,
// backpressure, abort and accounting included).
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { DeploymentParams, ProviderTarget } from './target';

const WORDS = 'This is a mock response from Weir. Set a real provider in config.yaml to talk to a model.'.split(' ');

export function mockTarget(p: DeploymentParams): ProviderTarget {
  return {
    provider: 'mock',
    dialect: 'any',
    upstreamModel: p.upstreamModel,
    origin: '',
    path: '',
    apiBase: 'mock://weir',
    headers: [],
    secrets: [],
    unavailable: null,
  };
}

class MockController implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  private wake: (() => void) | null = null;
  abort(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
    this.resume();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    const w = this.wake;
    this.wake = null;
    if (w) setImmediate(w);
  }
  waitResume(cb: () => void): void {
    this.wake = cb;
  }
}

function usage(promptBytes: number, completion: number) {
  return { prompt: Math.max(1, Math.ceil(promptBytes / 4)), completion };
}

function chatEvents(model: string, promptBytes: number, usageChunk: boolean): string[] {
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const u = usage(promptBytes, WORDS.length);
  return [
    chunk({ role: 'assistant', content: '' }, null),
    ...WORDS.map((w, i) => chunk({ content: i ? ` ${w}` : w }, null)),
    chunk({}, 'stop'),
    ...(usageChunk
      ? [`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion } })}\n\n`]
      : []),
    'data: [DONE]\n\n',
  ];
}

function messagesEvents(model: string, promptBytes: number): string[] {
  const id = `msg_${randomUUID().replace(/-/g, '')}`;
  const u = usage(promptBytes, WORDS.length);
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    ev('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: u.prompt, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ...WORDS.map((w, i) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: i ? ` ${w}` : w } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.completion } }),
    ev('message_stop', {}),
  ];
}

function wholeBody(endpoint: 'chat' | 'messages', model: string, promptBytes: number): string {
  const text = WORDS.join(' ');
  const u = usage(promptBytes, WORDS.length);
  if (endpoint === 'messages') {
    return JSON.stringify({
      id: `msg_${randomUUID().replace(/-/g, '')}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: u.prompt, output_tokens: u.completion, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  }
  return JSON.stringify({
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion },
  });
}

/** Answers one call as an upstream would, through the handler's callbacks. */
export function mockDispatch(
  endpoint: 'chat' | 'messages',
  stream: boolean,
  model: string,
  promptBytes: number,
  /** Chat streams: send the usage chunk (stream_options.include_usage). */
  usageChunk: boolean,
  handler: Dispatcher.DispatchHandler,
): void {
  const c = new MockController();
  handler.onRequestStart?.(c, {});
  const chunks = stream
    ? endpoint === 'messages'
      ? messagesEvents(model, promptBytes)
      : chatEvents(model, promptBytes, usageChunk)
    : [wholeBody(endpoint, model, promptBytes)];
  let i = 0;
  const pump = () => {
    if (c.aborted) return handler.onResponseError?.(c, c.reason ?? new Error('aborted'));
    while (i < chunks.length) {
      if (c.paused) return c.waitResume(pump);
      handler.onResponseData?.(c, Buffer.from(chunks[i++]!));
      if (c.aborted) return handler.onResponseError?.(c, c.reason ?? new Error('aborted'));
    }
    handler.onResponseEnd?.(c, {});
  };
  setImmediate(() => {
    if (c.aborted) return handler.onResponseError?.(c, c.reason ?? new Error('aborted'));
    handler.onResponseStart?.(c, 200, { 'content-type': stream ? 'text/event-stream' : 'application/json' }, 'OK');
    pump();
  });
}
