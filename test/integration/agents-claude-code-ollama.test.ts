// Claude Code itself (the pinned CLI, print mode) runs its Bash tool loop through the real gateway
// process against a fake Ollama (test/support/fake-ollama.ts) served as `ollama_chat/`: Claude
// Code's /v1/messages turns are translated to chat and on to Ollama's /api/chat, Ollama's NDJSON
// (written in 3-byte pieces) back to chat chunks and on to Anthropic's events. The first turn is
// answered with a Bash call printing a fresh marker, the turn carrying its result with a text
// quoting it; the marker must be in Claude Code's final answer, and Claude Code reaches no host but
// the gateway.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { claudeCodeSaid, runClaudeCode } from '../support/claude-code-cli';
import { startFakeOllama, type FakeOllama } from '../support/fake-ollama';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { MASTER_KEY } from './conformance-helpers';

let ollama: FakeOllama;
let gw: GatewayProcess;

before(async () => {
  ollama = await startFakeOllama();
  gw = await startGateway({
    workers: 1,
    config: `model_list:
  - model_name: "claude-*"
    litellm_params: { model: ollama_chat/qwen3:8b, api_base: "${ollama.url}" }
router_settings: { num_retries: 0 }
general_settings: { master_key: ${MASTER_KEY} }
`,
  });
});

after(async () => {
  await gw?.stop();
  await ollama?.close();
});

it('Claude Code → ollama_chat/: its Bash tool loop runs, the command’s output comes back in the final answer', async () => {
  const nonce = randomBytes(6).toString('hex');
  const marker = `weir-tool-${nonce}`;
  const command = `printf 'weir-tool-%s\\n' ${nonce}`;
  ollama.script = (json) => {
    const last = json.messages.at(-1);
    // Ollama's tool results are `tool` messages (no call id): the one after the call ends the loop.
    if (last?.role === 'tool') return { text: `The command printed: ${last.content}`, chunkBytes: 3 };
    const offered = Array.isArray(json.tools) && json.tools.some((t: any) => t.function?.name === 'Bash');
    if (!offered) return { text: 'The request offers no Bash tool.' };
    return { toolCall: { name: 'Bash', arguments: { command, description: 'Print the test marker' } }, chunkBytes: 3 };
  };
  const run = await runClaudeCode({ baseUrl: gw.url, apiKey: MASTER_KEY, prompt: 'Run the command that prints the test marker, then tell me what it printed.', deadlineMs: 90_000 });
  assert.equal(run.json?.is_error, false, claudeCodeSaid(run));
  assert.ok(run.json.result.includes(marker), `the command's output is in the final answer\n${claudeCodeSaid(run)}`);
  assert.deepEqual(run.outbound, [], 'Claude Code reached no host but the gateway');
  // The loop at Ollama: a turn that called Bash, then one carrying its output as a tool message.
  const chats = ollama.requests.filter((r) => r.path === '/api/chat' && r.json.messages.some((m: any) => m.role === 'tool' || (Array.isArray(r.json.tools) && r.json.tools.length)));
  const call = chats.find((r) => r.json.messages.at(-1)?.role === 'tool')!;
  assert.ok(call, 'a turn carried the tool result');
  const msgs = call.json.messages;
  const assistant = msgs.findLast((m: any) => m.role === 'assistant');
  assert.deepEqual(assistant.tool_calls, [{ function: { name: 'Bash', arguments: { command, description: 'Print the test marker' } } }]);
  assert.ok(msgs.at(-1).content.includes(marker));
  for (const r of ollama.requests) assert.equal(r.json.model, 'qwen3:8b');
});
