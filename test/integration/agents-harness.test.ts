// The real agent CLIs run through their harnesses inside the local sandbox (whatever isolation
// `auto` picks here), against the scripted mock upstream called directly as the base URL: the
// model's one tool call writes a file in the workspace, the CLI runs it, the final turn quotes
// what it printed. The outcome comes from the CLI's own lines as the harness parses them, and
// the transcript the harness points at exists. (Runs through Weir itself are the executor's tests.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { harnessFor } from '../../src/agents/harness';
import { LineSplitter } from '../../src/agents/lines';
import type { AgentKind, HarnessOutcome, ProfileDef, Sandbox } from '../../src/agents/types';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';
import { sandboxDef, sandboxRig, type Rig } from '../support/sandbox-rig';
import { FINAL_PREFIX, toolLoop, type ToolLoop } from '../support/tool-loop';

const RUN_KEY = 'sk-weir-run-key-for-test';
const PROMPT = 'Write the test marker into edited.txt with your shell tool, then tell me what it printed.';

/** Text the profile appends to the agent's system prompt: it must reach the model. */
const APPENDED = 'Weir-appended-instruction-5e1f';

function profile(agent: AgentKind, model: string): ProfileDef {
  return { id: 'p1', name: 'p1', agent, sandbox: 'test', model, timeout_ms: 120_000, append_system_prompt: APPENDED, source: 'config' };
}

interface AgentRun {
  outcome: HarnessOutcome;
  events: { type: string; payload: unknown }[];
  code: number;
  stderr: string;
}

/** One agent run the way the executor does it: prompt file, harness argv/env, lines → events → outcome. */
async function runAgent(sb: Sandbox, agent: AgentKind, model: string, baseUrl: string): Promise<AgentRun> {
  const harness = harnessFor(agent);
  await sb.writeFile('.weir/prompt.md', PROMPT);
  const input = { profile: profile(agent, model), baseUrl, apiKey: RUN_KEY, runId: 'run-h1', jobName: null, promptFile: '.weir/prompt.md', sandbox: sb };
  const { argv, env } = harness.command(input);
  const events: { type: string; payload: unknown }[] = [];
  const lines = new LineSplitter();
  const onLine = (l: string) => events.push(harness.parseLine(l));
  let stderr = '';
  const h = sb.exec({ argv, env, stdinFile: input.promptFile, onStdout: (c) => lines.push(c, onLine), onStderr: (c) => (stderr += c) });
  const code = await h.done;
  lines.end(onLine);
  return { outcome: harness.outcome(events, code), events, code, stderr };
}

const said = (r: AgentRun) => `exit ${r.code}\n--- events\n${JSON.stringify(r.events).slice(-6000)}\n--- stderr\n${r.stderr.slice(-4000)}`;

/** The edit landed in the workspace and the outcome quotes what the command printed. */
async function assertEdited(sb: Sandbox, r: AgentRun, loop: ToolLoop): Promise<void> {
  assert.equal(r.outcome.ok, true, said(r));
  assert.ok(r.outcome.result?.startsWith(FINAL_PREFIX), said(r));
  assert.ok(r.outcome.result!.includes(loop.marker), said(r));
  assert.equal((await sb.readFile('edited.txt', 1000))?.toString(), `${loop.marker}\n`, 'the agent wrote the file in its workspace');
}

describe('agent harnesses in the local sandbox', () => {
  let rig: Rig;
  let mock: MockUpstream;
  before(async () => {
    rig = sandboxRig();
    mock = await startMockUpstream();
  });
  after(async () => {
    await mock.close();
    rig.close();
  });

  it('Claude Code: edits a file through its Bash tool, the result line is a success, the transcript exists', async () => {
    mock.reset();
    const loop = toolLoop({ name: 'Bash', input: (c) => ({ command: `${c} > edited.txt && cat edited.txt`, description: 'Write the marker' }) });
    mock.setDefault({ reply: (req) => loop.reply(req) });
    const sb = await rig.provider.create(sandboxDef(), 'run-claude', {});
    try {
      const r = await runAgent(sb, 'claude-code', 'claude-sonnet-4-5', mock.url);
      await assertEdited(sb, r, loop);
      assert.equal(r.outcome.numTurns, 2, said(r));
      assert.ok(r.outcome.sessionId, said(r));
      assert.ok(r.events.some((e) => e.type === 'system'), 'the init line is an event of its own type');
      const turns = mock.requests.filter((q) => q.path === '/v1/messages');
      assert.equal(turns.length, 2, 'the tool turn and the final turn');
      for (const q of turns) {
        assert.equal(q.headers.authorization, `Bearer ${RUN_KEY}`, 'the run key as a bearer token');
        assert.equal(q.headers['x-weir-run-id'], 'run-h1');
        assert.equal(q.json.model, 'claude-sonnet-4-5');
        assert.ok(JSON.stringify(q.json.system).includes(APPENDED), 'append_system_prompt reaches the system prompt');
      }
      const [transcript] = harnessFor('claude-code').transcriptPaths(sb, r.outcome.sessionId);
      const bytes = await sb.readFile(transcript!, 1 << 20);
      assert.ok(bytes && bytes.length > 0, `the transcript ${transcript} exists`);
      assert.ok(bytes.toString().includes(loop.marker));
    } finally {
      await sb.destroy();
    }
  });

  it('Codex: edits a file through exec_command, turn.completed is a success, the session file exists', async () => {
    mock.reset();
    const loop = toolLoop({ name: 'exec_command', input: (c) => ({ cmd: `${c} > edited.txt && cat edited.txt` }) });
    mock.setDefault({ reply: (req) => loop.reply(req) });
    const sb = await rig.provider.create(sandboxDef(), 'run-codex', {});
    try {
      const r = await runAgent(sb, 'codex', 'gpt-5.5', mock.url);
      await assertEdited(sb, r, loop);
      assert.equal(r.code, 0, said(r));
      assert.ok(r.events.some((e) => e.type === 'item.completed'), said(r));
      const turns = mock.requests.filter((q) => q.path === '/v1/responses');
      assert.equal(turns.length, 2, 'the tool turn and the final turn');
      for (const q of turns) {
        assert.equal(q.headers.authorization, `Bearer ${RUN_KEY}`);
        assert.equal(q.headers['x-weir-run-id'], 'run-h1');
        assert.equal(q.json.model, 'gpt-5.5');
        assert.ok(JSON.stringify(q.json).includes(APPENDED), 'append_system_prompt reaches the model as developer instructions');
      }
      const [transcript] = harnessFor('codex').transcriptPaths(sb, r.outcome.sessionId);
      const bytes = await sb.readFile(transcript!, 4 << 20);
      assert.ok(bytes && bytes.length > 0, `the session file ${transcript} exists`);
    } finally {
      await sb.destroy();
    }
  });

  it('command: a program gets the gateway, the key and the prompt file; its JSON lines keep their type', async () => {
    const sb = await rig.provider.create(sandboxDef(), 'run-command', {});
    try {
      const script = [
        'printf \'{"type":"progress","n":1}\\n\'',
        'echo "plain text"',
        'echo "base=$OPENAI_BASE_URL key=$OPENAI_API_KEY model=$WEIR_MODEL run=$WEIR_RUN_ID"',
        'printf \'{"type":"result","result":"%s"}\\n\' "$(cat "$WEIR_PROMPT_FILE" | head -c 5)"',
      ].join('; ');
      const p = { ...profile('command', 'mock-model'), command: ['sh', '-c', script] };
      const harness = harnessFor('command');
      await sb.writeFile('.weir/prompt.md', PROMPT);
      const { argv, env } = harness.command({ profile: p, baseUrl: 'http://gw:4000', apiKey: RUN_KEY, runId: 'run-c', jobName: 'j', promptFile: '.weir/prompt.md', sandbox: sb });
      const events: { type: string; payload: unknown }[] = [];
      const lines = new LineSplitter();
      const h = sb.exec({ argv, env, onStdout: (c) => lines.push(c, (l) => events.push(harness.parseLine(l))), onStderr: () => {} });
      const code = await h.done;
      lines.end((l) => events.push(harness.parseLine(l)));
      assert.deepEqual(events.map((e) => e.type), ['progress', 'stdout', 'stdout', 'result']);
      assert.deepEqual(events[1]!.payload, { text: 'plain text' });
      assert.deepEqual(events[2]!.payload, { text: `base=http://gw:4000/v1 key=${RUN_KEY} model=mock-model run=run-c` });
      assert.deepEqual(harness.outcome(events, code), { ok: true, result: 'Write' });
      assert.deepEqual(harness.outcome(events, 3), { ok: false, errorKind: 'agent_error', message: 'the command exited with 3', result: 'Write' });
    } finally {
      await sb.destroy();
    }
  });
});

// Keep the compiled helpers' paths honest: the CLIs live in this checkout's node_modules.
assert.ok(fs.existsSync(path.join(__dirname, '..', '..', '..', 'node_modules')));
