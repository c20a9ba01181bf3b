// Claude Code itself (the pinned 2.1.332 CLI, print mode) runs its Bash tool loop through the real
// gateway process against the scripted upstream (test/support/tool-loop.ts): the first turn is
// answered with a Bash call that prints a fresh marker, Claude Code runs it, and the turn carrying
// the result is answered with a text quoting it. Each test ends with the marker in Claude Code's
// final answer, counts the upstream's calls, and reads them in the upstream's own dialect.
// Claude Code always streams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claudeCodeSaid, runClaudeCode, type ClaudeCodeRun } from '../support/claude-code-cli';
import { FINAL_PREFIX, toolLoop, type ToolLoop } from '../support/tool-loop';
import { assertLoopAtUpstream } from './agents-helpers';
import { gatewayRig, MASTER_KEY, type Rig } from './conformance-helpers';

const PROMPT = 'Run the command that prints the test marker, then tell me what it printed.';

/** Claude Code's command tool as the model calls it. */
const bashInput = (command: string) => ({ command, description: 'Print the test marker' });

/** One Claude Code run through the rig's gateway, its upstream scripted by a fresh Bash loop. */
async function runLoop(rig: Rig, model?: string): Promise<{ loop: ToolLoop; run: ClaudeCodeRun }> {
  const loop = toolLoop({ name: 'Bash', input: bashInput });
  rig.mock.setDefault({ reply: (r) => loop.reply(r) });
  const run = await runClaudeCode({ baseUrl: rig.url, apiKey: MASTER_KEY, model, prompt: PROMPT, deadlineMs: 90_000 });
  return { loop, run };
}

/** The run ended in the scripted final answer, which quotes the marker the command printed. */
function assertAnswered(run: ClaudeCodeRun, loop: ToolLoop): void {
  assert.equal(run.json?.is_error, false, claudeCodeSaid(run));
  assert.ok(run.json.result.startsWith(FINAL_PREFIX), claudeCodeSaid(run));
  assert.ok(run.json.result.includes(loop.marker), `the command's output is in the final answer\n${claudeCodeSaid(run)}`);
  assert.equal(run.json.num_turns, 2, 'one tool turn, one final turn');
  assert.deepEqual(run.outbound, [], 'Claude Code reached no host but the gateway');
}

describe('Claude Code → OpenAI-dialect deployment (translated to chat completions)', () => {
  // Whatever Claude model Claude Code asks for is served by the chat deployment.
  const rig = gatewayRig(
    (url) => `
  - model_name: "claude-*"
    litellm_params: { model: openai/qwen3-coder-480b, api_base: ${url}/v1, api_key: sk-oa-upstream }
`,
  );

  const assertChatLoop = (loop: ToolLoop) => {
    assertLoopAtUpstream({ api: 'chat', requests: rig.mock.requests, loop, path: '/v1/chat/completions', model: 'qwen3-coder-480b', tool: 'Bash', input: bashInput(loop.command) });
    for (const r of rig.mock.requests) {
      assert.deepEqual(r.json.stream_options, { include_usage: true });
      assert.equal(r.headers.authorization, 'Bearer sk-oa-upstream', 'the deployment’s key');
      assert.equal(r.headers['anthropic-beta'], undefined);
    }
  };

  it('with its default model: runs its Bash tool loop, the command’s output comes back in the final answer', async () => {
    const { loop, run } = await runLoop(rig);
    assertAnswered(run, loop);
    assertChatLoop(loop);
  });

  it('with --model claude-sonnet-4-5: runs its Bash tool loop, the command’s output comes back in the final answer', async () => {
    const { loop, run } = await runLoop(rig, 'claude-sonnet-4-5');
    assertAnswered(run, loop);
    assertChatLoop(loop);
  });
});

describe('Claude Code → Anthropic deployment (pass-through)', () => {
  const rig = gatewayRig(
    (url) => `
  - model_name: "claude-*"
    litellm_params: { model: "anthropic/claude-*", api_base: ${url}, api_key: sk-ant-upstream }
`,
  );

  it('with its default model: runs its Bash tool loop, the command’s output comes back in the final answer', async () => {
    const { loop, run } = await runLoop(rig);
    assertAnswered(run, loop);
    assertLoopAtUpstream({ api: 'anthropic', requests: rig.mock.requests, loop, path: '/v1/messages', model: /^claude-/, tool: 'Bash', input: bashInput(loop.command) });
    for (const [i, r] of rig.mock.requests.entries()) {
      assert.equal(r.headers['x-api-key'], 'sk-ant-upstream', `call ${i}: the deployment's key`);
      assert.equal(r.headers.authorization, undefined, `call ${i}: the gateway key stays at the gateway`);
      assert.ok(String(r.headers['anthropic-beta']).split(',').includes('claude-code-20250219'), `call ${i}: Claude Code's betas reach Anthropic`);
    }
  });
});
