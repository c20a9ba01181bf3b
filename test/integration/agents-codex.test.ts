// Codex itself (the pinned 0.171 CLI, `codex exec --json`) runs its exec_command tool loop through
// the real gateway process against the scripted upstream (test/support/tool-loop.ts), on a
// Responses-native deployment (passed through), a chat-only one (Responses translated to chat)
// and an Anthropic one (Responses → chat → Anthropic). The first turn is answered with an
// exec_command call that prints a fresh marker, Codex runs it, and the turn carrying the result
// is answered with a text quoting it. Each test ends with the marker in Codex's last message,
// counts the upstream's calls, and reads them in the upstream's own dialect. Codex always streams.
//
// Which tools Codex offers depends on the model. For a model it has no metadata for (what a
// gateway serves under its own names) exec_command is a top-level function tool, next to a
// `namespace` tool and the hosted `web_search`; for a model it knows (gpt-5.5) exec_command is
// there too, next to a client-run `tool_search` tool and `web_search`; for its default model it
// runs in code mode, every tool inside an `additional_tools` input item behind a JavaScript `exec`
// tool. The tool loops use the first two (a scripted model calls only what it is offered); the
// default model is driven through a plain answer.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { codexSaid, runCodex, type CodexRun } from '../support/codex-cli';
import { FINAL_PREFIX, toolLoop, type ToolLoop } from '../support/tool-loop';
import { assertLoopAtUpstream } from './agents-helpers';
import { gatewayRig, MASTER_KEY, type Rig } from './conformance-helpers';

const PROMPT = 'Run the command that prints the test marker, then tell me what it printed.';

/** The model Codex 0.171 uses when none is configured (code mode). */
const CODEX_DEFAULT_MODEL = 'gpt-6.2-sol';

/** Codex's command tool as the model calls it. */
const execInput = (cmd: string) => ({ cmd });

/** One Codex run through the rig's gateway, its upstream scripted by a fresh exec_command loop. */
async function runLoop(rig: Rig, model: string): Promise<{ loop: ToolLoop; run: CodexRun }> {
  const loop = toolLoop({ name: 'exec_command', input: execInput });
  rig.mock.setDefault({ reply: (r) => loop.reply(r) });
  const run = await runCodex({ baseUrl: rig.url, apiKey: MASTER_KEY, model, prompt: PROMPT, deadlineMs: 90_000 });
  return { loop, run };
}

/** Codex ran the command, and its last message is the scripted answer quoting the marker. */
function assertAnswered(run: CodexRun, loop: ToolLoop): void {
  const ran = run.events.find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
  assert.ok(ran, `Codex ran a command\n${codexSaid(run)}`);
  assert.equal(ran.item.exit_code, 0, codexSaid(run));
  assert.ok(ran.item.aggregated_output.includes(loop.marker), codexSaid(run));
  assert.ok(run.lastMessage?.startsWith(FINAL_PREFIX), `the scripted final answer\n${codexSaid(run)}`);
  assert.ok(run.lastMessage!.includes(loop.marker), `the command's output is in the last message\n${codexSaid(run)}`);
  assert.equal(run.code, 0, codexSaid(run));
  assert.deepEqual(run.outbound, [], 'Codex reached no host but the gateway');
}

/** Codex with its default model, its first turn answered by a plain text: that text comes back. */
async function runPlainAnswer(rig: Rig): Promise<{ text: string; run: CodexRun }> {
  const text = `Plain answer ${randomBytes(6).toString('hex')}`;
  rig.mock.setDefault({ reply: { text } });
  const run = await runCodex({ baseUrl: rig.url, apiKey: MASTER_KEY, prompt: 'Say hello.', deadlineMs: 90_000 });
  assert.equal(run.lastMessage, text, codexSaid(run));
  assert.equal(run.code, 0, codexSaid(run));
  assert.deepEqual(run.outbound, [], 'Codex reached no host but the gateway');
  return { text, run };
}

describe('Codex → OpenAI Responses deployment (pass-through)', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: gpt-5.5
    litellm_params: { model: openai/gpt-5.5, api_base: ${url}/v1, api_key: sk-oa-upstream }
  - model_name: ${CODEX_DEFAULT_MODEL}
    litellm_params: { model: openai/${CODEX_DEFAULT_MODEL}, api_base: ${url}/v1, api_key: sk-oa-upstream }
`,
  );

  it('runs its exec_command tool loop: the command’s output comes back in the last message', async () => {
    const { loop, run } = await runLoop(rig, 'gpt-5.5');
    assertAnswered(run, loop);
    assertLoopAtUpstream({ api: 'responses', requests: rig.mock.requests, loop, path: '/v1/responses', model: 'gpt-5.5', tool: 'exec_command', input: execInput(loop.command) });
    for (const r of rig.mock.requests) assert.equal(r.headers.authorization, 'Bearer sk-oa-upstream', 'the deployment’s key');
  });

  it('with its default model (code mode): the upstream’s answer comes back', async () => {
    await runPlainAnswer(rig);
    assert.equal(rig.mock.requests.length, 1);
    const seen = rig.mock.requests[0]!;
    assert.equal(seen.path, '/v1/responses');
    assert.equal(seen.json.model, CODEX_DEFAULT_MODEL, 'still Codex’s default model');
    assert.equal(seen.json.input[0].type, 'additional_tools', 'its tools travel in an input item, as Codex sent them');
  });
});

describe('Codex → chat-only deployment (Responses translated to chat completions)', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: qwen3-coder
    litellm_params: { model: hosted_vllm/qwen3-coder-480b, api_base: ${url}/v1 }
  - model_name: gpt-5.5
    litellm_params: { model: hosted_vllm/qwen3-coder-480b, api_base: ${url}/v1 }
  - model_name: ${CODEX_DEFAULT_MODEL}
    litellm_params: { model: hosted_vllm/qwen3-coder-480b, api_base: ${url}/v1 }
`,
  );

  it('runs its exec_command tool loop: the command’s output comes back in the last message', async () => {
    const { loop, run } = await runLoop(rig, 'qwen3-coder');
    assertAnswered(run, loop);
    assertLoopAtUpstream({ api: 'chat', requests: rig.mock.requests, loop, path: '/v1/chat/completions', model: 'qwen3-coder-480b', tool: 'exec_command', input: execInput(loop.command) });
    for (const r of rig.mock.requests) assert.deepEqual(r.json.stream_options, { include_usage: true });
  });

  it('with a model it knows (gpt-5.5): runs its exec_command tool loop, the command’s output comes back in the last message', async () => {
    const { loop, run } = await runLoop(rig, 'gpt-5.5');
    assertAnswered(run, loop);
    assertLoopAtUpstream({ api: 'chat', requests: rig.mock.requests, loop, path: '/v1/chat/completions', model: 'qwen3-coder-480b', tool: 'exec_command', input: execInput(loop.command) });
  });

  it('with its default model (code mode): the upstream’s answer comes back', async () => {
    await runPlainAnswer(rig);
    assert.equal(rig.mock.requests.length, 1);
    assert.equal(rig.mock.requests[0]!.path, '/v1/chat/completions');
    assert.equal(rig.mock.requests[0]!.json.model, 'qwen3-coder-480b');
  });
});

describe('Codex → Anthropic deployment (Responses → chat → Anthropic)', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: claude-sonnet-4-5
    litellm_params: { model: anthropic/claude-sonnet-4-5-20250929, api_base: ${url}, api_key: sk-ant-upstream }
`,
  );

  it('runs its exec_command tool loop: the command’s output comes back in the last message', async () => {
    const { loop, run } = await runLoop(rig, 'claude-sonnet-4-5');
    assertAnswered(run, loop);
    assertLoopAtUpstream({ api: 'anthropic', requests: rig.mock.requests, loop, path: '/v1/messages', model: 'claude-sonnet-4-5-20250929', tool: 'exec_command', input: execInput(loop.command) });
    for (const r of rig.mock.requests) assert.equal(r.headers['x-api-key'], 'sk-ant-upstream', 'the deployment’s key');
  });
});
