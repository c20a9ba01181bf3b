// Agent runs of the real agents (the pinned Claude Code and Codex CLIs from devDependencies) in the
// local sandbox, through the real gateway, against the scripted upstream: the model asks for one
// command that writes a file in the workspace, the agent runs it, and the turn carrying its output
// is answered with a final text. Each run must end succeeded with that text as its result, the file
// in its diff artifact, its transcript kept, and its cost exactly its key's spend.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { FINAL_PREFIX, toolLoop } from '../support/tool-loop';
import { MASTER_KEY, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, rows, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, events, mustStart, statuses, waitRun } from './agent-runs-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

const price = 'input_cost_per_token: 0.000001, output_cost_per_token: 0.000002';
const profile = (name: string, agent: string, model: string) =>
  `    - {name: ${name}, agent: ${agent}, sandbox: dev, model: ${model}, max_turns: 5, timeout: 180s, max_budget: 1}\n`;

before(async () => {
  mock = await startMock();
  const db = await ledgerDatabase('agents_real');
  pool = dbPool(db);
  const models = `  - model_name: coder-chat
    litellm_params: { model: openai/qwen3-coder-480b, api_base: ${mock.url}/v1, api_key: sk-up, ${price} }
  - model_name: coder-anthropic
    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: ${mock.url}, api_key: sk-up, ${price} }
  - model_name: gpt-5.5
    litellm_params: { model: openai/gpt-5.5, api_base: ${mock.url}/v1, api_key: sk-up, ${price} }
`;
  const config = agentConfig(mock.url, db, {
    profiles: profile('claude-chat', 'claude-code', 'coder-chat') + profile('claude-native', 'claude-code', 'coder-anthropic') + profile('codex', 'codex', 'gpt-5.5'),
  }).replace('model_list:\n', `model_list:\n${models}`);
  weir = await startWeirOn(writeConfigFile(config));
});

after(() => closeAndCheckLedgers(() => weir.stop(), async () => pool.end(), () => mock.close()));

/** Runs the profile with a tool loop whose command writes the marker into a file of the workspace. */
async function loopRun(profileName: string, tool: { name: string; input: (c: string) => Record<string, unknown> }) {
  const loop = toolLoop({ name: tool.name, input: (c) => tool.input(`${c} | tee weir-note.txt`) });
  mock.setDefault({ reply: (r) => loop.reply(r) });
  const { id } = await mustStart(weir.url, { profile: profileName, prompt: 'Run the command that prints the test marker, then tell me what it printed.' });
  const run = await waitRun(weir.url, id, undefined, 170_000);
  const evs = await events(weir.url, id);
  const said = () => JSON.stringify({ run, tail: evs.slice(-8) }, null, 1).slice(0, 4000);
  assert.equal(run.status, 'succeeded', said());
  assert.deepEqual(statuses(evs), ['provisioning', 'running', 'succeeded']);
  assert.ok(typeof run.result === 'string' && run.result.startsWith(FINAL_PREFIX) && run.result.includes(loop.marker), said());
  const diff = await call(weir.url, `/v1/agent/runs/${id}/artifacts/diff.patch`, { headers: bearer(MASTER_KEY), method: 'GET' });
  assert.equal(diff.status, 200, diff.text);
  assert.match(diff.text, /weir-note\.txt/);
  assert.ok(diff.text.includes(`+${loop.marker}`), diff.text);
  const list = await call(weir.url, `/v1/agent/runs/${id}/artifacts`, { headers: bearer(MASTER_KEY), method: 'GET' });
  assert.ok(list.json.data.some((a: any) => a.kind === 'transcript'), list.text);
  const key = await one(pool, `SELECT token, spend, blocked FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [`weir-run-${id}`]);
  assert.equal(key.blocked, true);
  const logs = await rows(pool, `SELECT spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [key.token]);
  assert.ok(logs.length >= 2, 'a tool turn and a final turn, each logged on the run key');
  const sum = logs.reduce((a, r) => a + Number(r.spend), 0);
  assert.ok(run.cost > 0 && Math.abs(run.cost - sum) < 1e-12, `cost ${run.cost} vs logs ${sum}`);
  return { run, evs };
}

const bash = { name: 'Bash', input: (command: string) => ({ command, description: 'Print the test marker' }) };

describe('Claude Code as an agent run', () => {
  it('on an OpenAI-dialect deployment (translated): edits the workspace, result, diff, transcript and cost', async () => {
    const { evs } = await loopRun('claude-chat', bash);
    assert.ok(evs.some((e) => e.type === 'system' && e.payload.subtype === 'init'), 'stream-json lines are events');
    assert.ok(evs.some((e) => e.type === 'result'));
  });

  it('on an Anthropic deployment (passed through): the same', async () => {
    await loopRun('claude-native', bash);
  });
});

describe('Codex as an agent run', () => {
  it('on a Responses deployment: runs exec_command, edits the workspace, result, diff, transcript and cost', async () => {
    const { evs } = await loopRun('codex', { name: 'exec_command', input: (cmd: string) => ({ cmd }) });
    assert.ok(evs.some((e) => e.type === 'item.completed'), 'codex --json lines are events');
  });
});
