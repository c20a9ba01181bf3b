// Claude Code and Codex themselves (the pinned CLIs) run their tool loops through the real gateway
// process against a fake Ollama (test/support/fake-ollama.ts) served as `ollama_chat/`: Claude
// Code's /v1/messages turns (and Codex's /v1/responses turns) are translated to chat and on to
// Ollama's /api/chat, Ollama's NDJSON (written in 3-byte pieces) back to chat chunks and on to the
// agent's own events. The first turn is answered with a call of the agent's command tool printing
// a fresh marker, the turn carrying its result with a text quoting it; the marker must be in the
// agent's final answer, and the agent reaches no host but the gateway.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { claudeCodeSaid, runClaudeCode } from '../support/claude-code-cli';
import { codexSaid, runCodex } from '../support/codex-cli';
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
  - model_name: qwen3-coder
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

/** A fresh marker and the Ollama script of a one-command tool loop for the agent's command tool. */
function loop(tool: string, input: (command: string) => Record<string, unknown>) {
  const nonce = randomBytes(6).toString('hex');
  const marker = `weir-tool-${nonce}`;
  const command = `printf 'weir-tool-%s\\n' ${nonce}`;
  ollama.requests.length = 0;
  ollama.script = (json) => {
    const last = json.messages.at(-1);
    // Ollama's tool results are `tool` messages (no call id): the one after the call ends the loop.
    if (last?.role === 'tool') return { text: `The command printed: ${last.content}`, chunkBytes: 3 };
    const offered = Array.isArray(json.tools) && json.tools.some((t: any) => t.function?.name === tool);
    if (!offered) return { text: `The request offers no ${tool} tool.` };
    return { toolCall: { name: tool, arguments: input(command) }, chunkBytes: 3 };
  };
  return { marker, command };
}

it('Codex → ollama_chat/ (Responses → chat → Ollama): its exec_command loop runs, the output comes back in its last message', async () => {
  const { marker, command } = loop('exec_command', (cmd) => ({ cmd }));
  const run = await runCodex({ baseUrl: gw.url, apiKey: MASTER_KEY, model: 'qwen3-coder', prompt: 'Run the command that prints the test marker, then tell me what it printed.', deadlineMs: 90_000 });
  const ran = run.events.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
  assert.ok(ran, `Codex ran a command\n${codexSaid(run)}`);
  assert.ok(ran.item.aggregated_output.includes(marker), codexSaid(run));
  assert.ok(run.lastMessage?.includes(marker), `the command's output is in the last message\n${codexSaid(run)}`);
  assert.equal(run.code, 0, codexSaid(run));
  assert.deepEqual(run.outbound, [], 'Codex reached no host but the gateway');
  const carried = ollama.requests.find((r) => r.json.messages.at(-1)?.role === 'tool')!;
  assert.deepEqual(carried.json.messages.findLast((m: any) => m.role === 'assistant').tool_calls, [{ function: { name: 'exec_command', arguments: { cmd: command } } }]);
});

it('Claude Code → ollama_chat/: its Bash tool loop runs, the command’s output comes back in the final answer', async () => {
  const { marker, command } = loop('Bash', (c) => ({ command: c, description: 'Print the test marker' }));
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
