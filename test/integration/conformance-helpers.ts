// Shared by the conformance-*.test.ts files: the recorded fixtures, the headers agents send, a
// spec-following SSE reader for raw (passed-through or cut) streams, and compact traces of each
// dialect's events so a test can state the whole expected sequence in a few readable lines.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

// Tests run from dist/test/integration/, fixtures stay in the source tree.
const FIXTURES = path.resolve(__dirname, '../../../test/fixtures');

/** A fixture's bytes: `conformance/x.sse`, `translate/y.json`. */
export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURES, name));
}

export function fixtureJson(name: string): Record<string, any> {
  return JSON.parse(fixture(name).toString('utf8'));
}

export const MASTER_KEY = 'sk-conformance-master';

export interface Rig {
  mock: MockUpstream;
  gw: GatewayProcess;
  /** The gateway's base URL. */
  readonly url: string;
}

/**
 * A mock upstream and the real gateway (one worker) for a describe block: started before its
 * tests, stopped after them, the mock's queue and recordings cleared before each test. The
 * gateway serves `models(mockUrl)` (model_list items in YAML) behind the master key, with no
 * retries (a replayed answer is consumed once), and `env(mockUrl)` in its environment.
 */
export function gatewayRig(models: (mockUrl: string) => string, env?: (mockUrl: string) => Record<string, string>): Rig {
  const rig = {
    get url(): string {
      return rig.gw.url;
    },
  } as Rig;
  before(async () => {
    rig.mock = await startMockUpstream();
    const list = models(rig.mock.url).replace(/^\n+|\s+$/g, ''); // the items keep their indentation
    rig.gw = await startGateway({
      workers: 1,
      env: env?.(rig.mock.url),
      config: `model_list:${list ? `\n${list}` : ' []'}\nrouter_settings: { num_retries: 0 }\ngeneral_settings: { master_key: ${MASTER_KEY} }\n`,
    });
  });
  after(async () => {
    await rig.gw?.stop();
    await rig.mock?.close();
  });
  beforeEach(() => rig.mock.reset());
  return rig;
}

/** The headers Claude Code sends, with its credential as ANTHROPIC_AUTH_TOKEN sends it. */
export function claudeCodeHeaders(): Record<string, string> {
  return { ...(fixtureJson('conformance/claude-code-headers.json') as Record<string, string>), authorization: `Bearer ${MASTER_KEY}` };
}

/** The headers Codex sends to its model provider, with the provider key (env_key) it sends. */
export function codexHeaders(): Record<string, string> {
  return { ...(fixtureJson('conformance/codex-headers.json') as Record<string, string>), authorization: `Bearer ${MASTER_KEY}` };
}

/** The signature of the signature-only thinking block in the recorded `*-signature-only.sse` streams. */
export const SIGNATURE_ONLY = 'ErUBCkYIBhgCIkBm0T1q4Vx8pN2sKc7LhYd3Jw9RfGb6ZtA5eU0oIyXQ';

/**
 * Claude Code's recorded tool-loop turn as it replays other answers it gets: one that began with a
 * signature-only thinking block (what Claude sends under `thinking.display: "omitted"`, which
 * Claude Code asks for), and a command that failed (its tool_result then has `is_error: true`).
 */
export function claudeCodeToolLoop(o: { signatureOnly?: boolean; failed?: boolean }): Record<string, any> {
  const body = fixtureJson('conformance/claude-code-tool-loop.json');
  const [assistant, results] = [body.messages[1], body.messages[2]];
  assert.equal(assistant.content[0].type, 'tool_use', 'the recorded turn: an assistant tool_use…');
  assert.equal(results.content[0].type, 'tool_result', '…answered by a tool_result');
  if (o.signatureOnly) assistant.content.unshift({ type: 'thinking', thinking: '', signature: SIGNATURE_ONLY });
  if (o.failed) results.content[0].is_error = true;
  return body;
}

/** A request body as the agent's SDK serializes it (compact JSON), with `model` swapped if asked. */
export function agentBody(name: string, model?: string): Buffer {
  const body = fixtureJson(name);
  if (model !== undefined) body.model = model;
  return Buffer.from(JSON.stringify(body));
}

/** Ways to cut a replayed stream: whole, and pieces small enough to split lines, `\r\n` and UTF-8. */
export const PIECES: ReadonlyArray<number | undefined> = [undefined, 1, 5, 64];

export interface RawEvent {
  event: string;
  data: string;
}

/**
 * Events as a spec-following EventSource reads them: lines end in \r\n, \n or \r; data lines join
 * with \n; a blank line dispatches; an event still open when the body ends is discarded. A partial
 * event glued to an error event therefore shows up as one unparseable event, as a client sees it.
 */
export function readEvents(text: string): RawEvent[] {
  const out: RawEvent[] = [];
  let event = '';
  let data: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/).slice(0, -1)) {
    if (line === '') {
      if (data.length > 0) out.push({ event, data: data.join('\n') });
      event = '';
      data = [];
    } else if (line.startsWith(':')) continue;
    else {
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
  return out;
}

/** Every event's data parsed (asserting it is JSON), `[DONE]` kept as the string. */
export function parsedEvents(text: string): { event: string; json: any }[] {
  return readEvents(text).map(({ event, data }) => {
    if (data === '[DONE]') return { event, json: data };
    let json: any;
    assert.doesNotThrow(() => (json = JSON.parse(data)), `event ${JSON.stringify(event)} carries JSON: ${data.slice(0, 200)}`);
    return { event, json };
  });
}

/** One line per Anthropic event: type, block index and what the event carries. */
export function anthropicTrace(text: string): string[] {
  return parsedEvents(text).map(({ event, json: e }) => {
    assert.equal(e.type, event, 'event name = data.type');
    switch (e.type) {
      case 'content_block_start': {
        const b = e.content_block;
        return `start ${e.index} ${b.type}${b.type === 'tool_use' ? ` ${b.id} ${b.name}` : ''}`;
      }
      case 'content_block_delta': {
        const d = e.delta;
        const v = d.type === 'text_delta' ? d.text : d.type === 'thinking_delta' ? d.thinking : d.type === 'signature_delta' ? d.signature : d.partial_json;
        return `delta ${e.index} ${d.type} ${v}`;
      }
      case 'content_block_stop':
        return `stop ${e.index}`;
      case 'message_delta':
        return `message_delta ${e.delta.stop_reason}`;
      case 'error':
        return `error ${e.error.type}`;
      default:
        return e.type;
    }
  });
}

/** One line per chat.completion.chunk: what its delta carries, the finish reason, the usage chunk. */
export function chatTrace(text: string): string[] {
  return parsedEvents(text).map(({ event, json: c }) => {
    assert.equal(event, '', 'chat chunks have no event name');
    if (c === '[DONE]') return '[DONE]';
    if (c.error) return `error ${c.error.type}`;
    if (c.choices.length === 0) return `usage ${c.usage.prompt_tokens}/${c.usage.completion_tokens} cached ${c.usage.prompt_tokens_details.cached_tokens}`;
    const ch = c.choices[0];
    if (ch.finish_reason) return `finish ${ch.finish_reason}`;
    const d = ch.delta;
    if (d.role) return `role ${d.role}`;
    if (d.reasoning_content !== undefined) return `reasoning ${d.reasoning_content}`;
    if (d.thinking_blocks) return `thinking_blocks ${d.thinking_blocks.map((b: any) => `${b.type}:${b.thinking ?? ''}:${b.signature ?? b.data}`).join(',')}`;
    if (d.content !== undefined) return `content ${d.content}`;
    const tc = d.tool_calls[0];
    return tc.id ? `tool_call ${tc.index} ${tc.id} ${tc.function.name} ${tc.function.arguments}` : `args ${tc.index} ${tc.function.arguments}`;
  });
}

/** One line per Responses event: type, and the delta or item it carries. */
export function responsesTrace(text: string): string[] {
  return parsedEvents(text).map(({ event, json: e }) => {
    assert.equal(e.type, event, 'event name = data.type');
    if (e.type.endsWith('.delta')) return `${e.type} ${e.output_index} ${e.delta}`;
    if (e.type === 'response.output_item.added' || e.type === 'response.output_item.done') {
      return `${e.type} ${e.output_index} ${e.item.type}${e.item.name ? ` ${e.item.name}` : ''}`;
    }
    return e.type;
  });
}
