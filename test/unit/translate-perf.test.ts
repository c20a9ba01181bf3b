// CPU-time budgets for the translators, with wide margins (the gateway's whole overhead budget is
// ~0.2 ms per request). CPU time, not wall time, so a busy test machine does not make them flaky.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicToOpenAIChat, openAIChatToAnthropic, OpenAIToAnthropicStream, AnthropicToOpenAIStream } from '../../src/translate';
import { fixtureJson } from './translate-helpers';

function cpuMicros(n: number, fn: () => void): number {
  for (let i = 0; i < Math.min(200, n); i++) fn(); // warm up
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / n;
}

/** The Claude Code fixture grown to ~130 KB: its tool loop repeated 12 times with longer text. */
function bigClaudeCodeRequest(): Record<string, any> {
  const body = fixtureJson('claude-code-request.json');
  const loop = body.messages.slice(1, 7);
  const extra: any[] = [];
  for (let r = 0; r < 12; r++) {
    for (const m of structuredClone(loop)) {
      for (const b of m.content) {
        if (b.id) b.id += `_${r}`;
        if (b.tool_use_id) b.tool_use_id += `_${r}`;
        if (b.type === 'text') b.text += ' lorem ipsum dolor sit amet'.repeat(40);
        if (b.type === 'tool_result' && typeof b.content === 'string') b.content += '\nconst x = y + z; // a line of code'.repeat(60);
      }
      extra.push(m);
    }
  }
  body.messages.splice(1, 0, ...extra);
  return body;
}

test('a Claude-Code-sized request (~130 KB) translates in well under a millisecond of CPU, both ways', () => {
  const body = bigClaudeCodeRequest();
  assert.ok(JSON.stringify(body).length > 100_000);
  const a2o = cpuMicros(300, () => anthropicToOpenAIChat(body, { model: 'gpt-4.1' }));
  const openai = anthropicToOpenAIChat(body, { model: 'gpt-4.1' }).body;
  const o2a = cpuMicros(300, () => openAIChatToAnthropic(openai, { model: 'claude' }));
  console.log(`request translation CPU: anthropic→openai ${a2o.toFixed(1)} µs, openai→anthropic ${o2a.toFixed(1)} µs`);
  assert.ok(a2o < 1000, `anthropic→openai ${a2o} µs`);
  assert.ok(o2a < 1000, `openai→anthropic ${o2a} µs`);
});

test('a 64-delta stream costs a few microseconds per chunk, both ways', () => {
  const chunk = (delta: unknown, finish: string | null = null) =>
    Buffer.from(`data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`);
  const upstream: Buffer[] = [chunk({ role: 'assistant', content: '' })];
  for (let i = 0; i < 64; i++) upstream.push(chunk({ content: `token${i} ` }));
  upstream.push(chunk({}, 'stop'), Buffer.from('data: {"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":64}}\n\ndata: [DONE]\n\n'));
  const o2a = cpuMicros(2000, () => {
    const s = new OpenAIToAnthropicStream({ model: 'claude' });
    for (const c of upstream) s.push(c);
    s.end();
  });
  const s = new OpenAIToAnthropicStream({ model: 'claude', messageId: 'msg_1' });
  const anthropic = upstream.map((c) => Buffer.from(s.push(c))).concat(Buffer.from(s.end()));
  const a2o = cpuMicros(2000, () => {
    const t = new AnthropicToOpenAIStream({ model: 'gpt', includeUsage: true });
    for (const c of anthropic) t.push(c);
    t.end();
  });
  console.log(`stream translation CPU per chunk: openai→anthropic ${(o2a / upstream.length).toFixed(2)} µs, anthropic→openai ${(a2o / anthropic.length).toFixed(2)} µs`);
  assert.ok(o2a / upstream.length < 20, `openai→anthropic ${o2a / upstream.length} µs per chunk`);
  assert.ok(a2o / anthropic.length < 20, `anthropic→openai ${a2o / anthropic.length} µs per chunk`);
});
