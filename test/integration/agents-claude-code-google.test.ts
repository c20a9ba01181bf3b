// Claude Code itself (the pinned CLI, print mode) runs its Bash tool loop through the gateway
// process to the fake Google (test/support/fake-google.ts), offline: Claude on Vertex AI through
// /v1/messages (rawPredict's stream), Claude on Vertex AI through /vertex_ai/* in Claude Code's own
// Vertex mode (CLAUDE_CODE_USE_VERTEX, its base URL at the gateway, its Google auth skipped), and
// Gemini through the translated path. Each run ends with the command's marker in the final answer,
// two model calls at the fake (the tool turn and the final turn), and no call past 127.0.0.1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { claudeCodeSaid, runClaudeCode, type ClaudeCodeRun } from '../support/claude-code-cli';
import { googleTestEnv, startFakeGoogle, type FakeGoogle, type FakeReply } from '../support/fake-google';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { FINAL_PREFIX, offersTool, toolCall, toolResult, toolLoop, type ToolLoop } from '../support/tool-loop';

const MASTER_KEY = 'sk-google-agents-master';
const PROMPT = 'Run the command that prints the test marker, then tell me what it printed.';
const bashInput = (command: string) => ({ command, description: 'Print the test marker' });

let google: FakeGoogle;
let gw: GatewayProcess;
let dir: string;

before(async () => {
  google = await startFakeGoogle();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-cc-google-'));
  const sa = path.join(dir, 'sa.json');
  fs.writeFileSync(sa, JSON.stringify(google.serviceAccount));
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const deadPort = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  gw = await startGateway({
    workers: 1,
    env: { ...googleTestEnv(deadPort, dir), GOOGLE_APPLICATION_CREDENTIALS: sa },
    config: `model_list:
  - model_name: claude-sonnet-4-5
    litellm_params: { model: vertex_ai/claude-sonnet-4-5@20250929, vertex_project: ${google.project}, vertex_location: us-east5, vertex_credentials: ${sa}, api_base: ${google.url} }
  - model_name: gemini-coder
    litellm_params: { model: gemini/gemini-2.5-pro, api_key: ${google.apiKey}, api_base: ${google.url} }
router_settings: { num_retries: 0 }
general_settings: { master_key: ${MASTER_KEY} }
`,
  });
});

after(async () => {
  await gw?.stop();
  await google?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => google.reset());

const modelCalls = () => google.requests.filter((r) => r.surface !== 'token');

function assertAnswered(run: ClaudeCodeRun, loop: ToolLoop): void {
  assert.equal(run.json?.is_error, false, claudeCodeSaid(run));
  assert.ok(run.json.result.startsWith(FINAL_PREFIX), claudeCodeSaid(run));
  assert.ok(run.json.result.includes(loop.marker), `the command's output is in the final answer\n${claudeCodeSaid(run)}`);
  assert.equal(run.json.num_turns, 2, 'one tool turn, one final turn');
  assert.deepEqual(run.outbound, [], 'Claude Code reached no host but the gateway');
}

/** The loop on Claude's side: the fake gets Anthropic bodies (without model, as Vertex takes them). */
function claudeLoop(): ToolLoop {
  const loop = toolLoop({ name: 'Bash', input: bashInput });
  google.script = (_api, json) => ({ reply: loop.reply({ api: 'anthropic', json }) });
  return loop;
}

function assertClaudeLoopAtVertex(loop: ToolLoop, model: string): void {
  const calls = modelCalls();
  assert.deepEqual(calls.map((c) => c.path), [0, 1].map(() => `/v1/projects/${google.project}/locations/us-east5/publishers/anthropic/models/${model}:streamRawPredict`), 'the tool turn and the final turn, nothing else');
  for (const c of calls) {
    assert.equal(c.json.anthropic_version, 'vertex-2023-10-16');
    assert.match(String(c.headers.authorization), /^Bearer ya29\.fake-/, 'Weir’s Google token, not the caller’s key');
    assert.ok(offersTool('anthropic', c.json, 'Bash'));
  }
  const id = loop.callId('anthropic');
  assert.deepEqual(toolCall('anthropic', calls[1]!.json, id), { name: 'Bash', input: bashInput(loop.command) });
  assert.ok(toolResult('anthropic', calls[1]!.json, id)?.includes(loop.marker));
}

describe('Claude Code → Claude on Vertex AI', () => {
  it('through /v1/messages: runs its Bash tool loop, the command’s output comes back in the final answer', async () => {
    const loop = claudeLoop();
    const run = await runClaudeCode({ baseUrl: gw.url, apiKey: MASTER_KEY, model: 'claude-sonnet-4-5', prompt: PROMPT, deadlineMs: 90_000 });
    assertAnswered(run, loop);
    assertClaudeLoopAtVertex(loop, 'claude-sonnet-4-5@20250929');
  });

  it('in its own Vertex mode through /vertex_ai/*: the same loop, Weir adding its Google token', async () => {
    const loop = claudeLoop();
    const run = await runClaudeCode({
      baseUrl: gw.url,
      apiKey: MASTER_KEY,
      model: 'claude-sonnet-4-5@20250929',
      prompt: PROMPT,
      deadlineMs: 90_000,
      env: {
        CLAUDE_CODE_USE_VERTEX: '1',
        ANTHROPIC_VERTEX_BASE_URL: `${gw.url}/vertex_ai/v1`,
        CLAUDE_CODE_SKIP_VERTEX_AUTH: '1',
        ANTHROPIC_VERTEX_PROJECT_ID: google.project,
        CLOUD_ML_REGION: 'us-east5',
        ANTHROPIC_AUTH_TOKEN: MASTER_KEY,
      },
    });
    assertAnswered(run, loop);
    assertClaudeLoopAtVertex(loop, 'claude-sonnet-4-5@20250929');
  });
});

describe('Claude Code → Gemini (translated)', () => {
  it('through /v1/messages: its Bash tool as a functionDeclaration, the call and its result as functionCall / functionResponse', async () => {
    const loop = toolLoop({ name: 'Bash', input: bashInput });
    google.script = (_api, json): FakeReply => {
      const contents: any[] = json.contents ?? [];
      for (const c of contents) for (const p of c.parts ?? []) if (p.functionResponse?.name === 'Bash') return { reply: { text: FINAL_PREFIX + String(p.functionResponse.response?.content ?? '') } };
      const offered = (json.tools ?? []).some((t: any) => (t.functionDeclarations ?? []).some((d: any) => d.name === 'Bash'));
      if (!offered) return { reply: { text: 'The request offers no Bash tool.' } };
      return { reply: { toolCall: { id: 'unused', name: 'Bash', arguments: JSON.stringify(bashInput(loop.command)) } }, thinking: 'I will run it.' };
    };
    const run = await runClaudeCode({ baseUrl: gw.url, apiKey: MASTER_KEY, model: 'gemini-coder', prompt: PROMPT, deadlineMs: 90_000 });
    assertAnswered(run, loop);
    const calls = modelCalls();
    assert.deepEqual(calls.map((c) => `${c.path}?${c.query}`), [0, 1].map(() => '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse'));
    const [, second] = calls;
    const modelTurn = second!.json.contents.find((c: any) => c.role === 'model' && c.parts.some((p: any) => p.functionCall));
    const callPart = modelTurn.parts.find((p: any) => p.functionCall);
    assert.deepEqual(callPart.functionCall, { name: 'Bash', args: bashInput(loop.command) });
    assert.equal(callPart.thoughtSignature, 'c2lnbmF0dXJl+/8=', 'the thought signature came back with the call');
    const response = second!.json.contents.flatMap((c: any) => c.parts).find((p: any) => p.functionResponse);
    assert.ok(String(response.functionResponse.response.content).includes(loop.marker));
  });
});
