// The real Claude Code (the pinned CLI, print mode) runs its Bash tool loop against Claude on the
// fake Bedrock through the gateway process, two ways:
//   - as it talks to Anthropic (ANTHROPIC_BASE_URL = Weir, /v1/messages): Weir translates the wire
//     (InvokeModelWithResponseStream, SigV4 with the deployment's keys, the event stream decoded);
//   - in its own Bedrock mode (CLAUDE_CODE_USE_BEDROCK=1, ANTHROPIC_BEDROCK_BASE_URL = Weir/bedrock,
//     CLAUDE_CODE_SKIP_BEDROCK_AUTH=1, the Weir key as ANTHROPIC_AUTH_TOKEN, which it sends as
//     `authorization: Bearer`): Weir's /bedrock/* pass-through signs with its own credentials and
//     the event stream comes back byte for byte, its usage read on the way for the spend row.
// The proxy trap records any call past 127.0.0.1: there must be none.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { EventStreamDecoder } from '../../src/providers/bedrock/event-stream';
import { claudeCodeSaid, runClaudeCode, type ClaudeCodeRun } from '../support/claude-code-cli';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import { FINAL_PREFIX, offersTool, toolCall, toolLoop, toolResult, type ToolLoop } from '../support/tool-loop';
import { CLAUDE_ID, deployment, ENV_KEYS, HAIKU_ID, MASTER, PARAM_KEYS, startBedrockRig, type BedrockRig } from './bedrock-helpers';
import { dbPool, rows, waitForLogs } from './governance-helpers';

const PROMPT = 'Run the command that prints the test marker, then tell me what it printed.';
const bashInput = (command: string) => ({ command, description: 'Print the test marker' });

function assertAnswered(run: ClaudeCodeRun, loop: ToolLoop): void {
  assert.equal(run.json?.is_error, false, claudeCodeSaid(run));
  assert.ok(run.json.result.startsWith(FINAL_PREFIX), claudeCodeSaid(run));
  assert.ok(run.json.result.includes(loop.marker), `the command's output is in the final answer\n${claudeCodeSaid(run)}`);
  assert.equal(run.json.num_turns, 2, 'one tool turn, one final turn');
  assert.deepEqual(run.outbound, [], 'Claude Code reached no host but the gateway');
}

/** The loop's two turns at the fake, in Bedrock's InvokeModel body (Anthropic's, without model). */
function assertLoopAtBedrock(rig: BedrockRig, loop: ToolLoop, keyId: string): void {
  const turns = rig.bedrock.requests.filter((r) => offersTool('anthropic', r.json, 'Bash'));
  assert.equal(turns.length, 2, 'the tool turn and the final turn');
  for (const r of turns) {
    // Weir encodes the id's ':'; Claude Code's Bedrock mode sends it as it is, and the pass-through keeps its path.
    assert.equal(decodeURIComponent(r.path), `/model/${CLAUDE_ID}/invoke-with-response-stream`);
    assert.equal(r.accessKeyId, keyId, 'signed by the gateway with its credentials');
    assert.equal(r.json.anthropic_version, 'bedrock-2023-05-31');
    assert.equal(r.json.model, undefined);
  }
  const id = loop.callId('anthropic');
  assert.equal(toolResult('anthropic', turns[0]!.json, id), undefined);
  assert.deepEqual(toolCall('anthropic', turns[1]!.json, id), { name: 'Bash', input: bashInput(loop.command) });
  assert.ok(toolResult('anthropic', turns[1]!.json, id)?.includes(loop.marker));
}

describe('Claude Code → Claude on Bedrock through Weir', () => {
  let rig: BedrockRig;
  let db: string;
  before(async () => {
    db = await freshDatabase('bedrock_cc');
    rig = await startBedrockRig({
      models: (url) => deployment('"claude-*"', `model: "bedrock/${CLAUDE_ID}", aws_region_name: us-east-1, aws_bedrock_runtime_endpoint: "${url}", aws_access_key_id: ${PARAM_KEYS.accessKeyId}, aws_secret_access_key: "${PARAM_KEYS.secretAccessKey}"`),
      databaseUrl: db,
      // The /bedrock/* pass-through's own credentials and endpoint: the gateway's environment.
      env: (url) => ({ AWS_ACCESS_KEY_ID: ENV_KEYS.accessKeyId, AWS_SECRET_ACCESS_KEY: ENV_KEYS.secretAccessKey, AWS_REGION: 'us-east-1', AWS_BEDROCK_RUNTIME_ENDPOINT: url }),
    });
  });
  after(async () => {
    await rig?.close();
    await stopTestPostgres();
  });

  it('as it calls Anthropic (/v1/messages): its Bash tool loop reaches Claude on Bedrock and the output comes back in the final answer', async () => {
    const loop = toolLoop({ name: 'Bash', input: bashInput });
    rig.bedrock.requests.length = 0;
    rig.bedrock.reply = (r) => loop.reply({ api: 'anthropic', json: r.json });
    const run = await runClaudeCode({ baseUrl: rig.gw.url, apiKey: MASTER, model: 'claude-sonnet-4-5', prompt: PROMPT, deadlineMs: 90_000 });
    assertAnswered(run, loop);
    assertLoopAtBedrock(rig, loop, PARAM_KEYS.accessKeyId);
  });

  it('in its own Bedrock mode (/bedrock/*): the same loop through the pass-through, signed with the gateway’s credentials, spend recorded', async () => {
    const loop = toolLoop({ name: 'Bash', input: bashInput });
    rig.bedrock.requests.length = 0;
    rig.bedrock.reply = (r) => loop.reply({ api: 'anthropic', json: r.json });
    const run = await runClaudeCode({
      baseUrl: rig.gw.url,
      apiKey: MASTER,
      prompt: PROMPT,
      deadlineMs: 90_000,
      env: {
        CLAUDE_CODE_USE_BEDROCK: '1',
        ANTHROPIC_BEDROCK_BASE_URL: `${rig.gw.url}/bedrock`,
        CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
        ANTHROPIC_AUTH_TOKEN: MASTER,
        ANTHROPIC_API_KEY: '',
        ANTHROPIC_BASE_URL: '',
        AWS_REGION: 'us-east-1',
        ANTHROPIC_MODEL: CLAUDE_ID,
        ANTHROPIC_DEFAULT_HAIKU_MODEL: HAIKU_ID,
        ANTHROPIC_SMALL_FAST_MODEL: HAIKU_ID,
      },
    });
    assertAnswered(run, loop);
    assertLoopAtBedrock(rig, loop, ENV_KEYS.accessKeyId);
    for (const r of rig.bedrock.requests) assert.ok(!String(r.headers.authorization).includes(MASTER), 'the Weir key stays at the gateway');
    const pool = dbPool(db);
    try {
      await waitForLogs(pool, 2, `"call_type" = 'pass_through_endpoint' AND "custom_llm_provider" = 'bedrock'`);
      const logged = await rows(pool, `SELECT "model", "prompt_tokens", "completion_tokens", "spend" FROM "LiteLLM_SpendLogs" WHERE "call_type" = 'pass_through_endpoint' AND "custom_llm_provider" = 'bedrock'`);
      for (const l of logged) assert.ok(l.prompt_tokens > 0 && l.completion_tokens > 0 && l.spend > 0, JSON.stringify(l));
    } finally {
      await pool.end();
    }
  });

  it('/bedrock/* streams the event stream back byte for byte: every frame whole, its CRCs intact, event for event', async () => {
    rig.bedrock.reply = () => ({ text: 'Hello from the pass-through' });
    const res = await request(`${rig.gw.url}/bedrock/model/${encodeURIComponent(CLAUDE_ID)}/invoke-with-response-stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json', 'x-amz-date': '20200101T000000Z', 'x-amz-security-token': 'client-token' },
      body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.amazon.eventstream');
    const raw = Buffer.from(await res.body.arrayBuffer());
    const frames = new EventStreamDecoder().push(raw);
    const events = frames.map((f) => JSON.parse(Buffer.from(JSON.parse(f.payload.toString()).bytes, 'base64').toString()));
    assert.deepEqual(events.map((e) => e.type), ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join(''), 'Hello from the pass-through');
    const seen = rig.bedrock.requests.at(-1)!;
    assert.equal(seen.accessKeyId, ENV_KEYS.accessKeyId);
    assert.equal(seen.headers['x-amz-security-token'], undefined, 'the client’s signature headers are dropped');
    const noKey = await request(`${rig.gw.url}/bedrock/model/${encodeURIComponent(CLAUDE_ID)}/invoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(noKey.statusCode, 401);
    assert.equal((await noKey.body.json() as any).type, 'error', 'Anthropic’s error shape');
  });
});
