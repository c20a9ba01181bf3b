// Agent sessions through the real gateway: a session's messages are runs that resume it, each in a
// fresh local sandbox. The real Claude Code and Codex, against the scripted upstream: the first
// message's tool call writes a marker into a file of the workspace; the second message's tool
// call reads that file back, so the second run's answer quotes the first run's marker only if the
// workspace was restored, and its request to the upstream carries the first turn only if the
// agent resumed its conversation. The `command` agent covers queueing (messages run one at a
// time, in order), a job's session per key, the reaper (with an injected clock) and bad input. The
// live terminal has its own suite (agents-terminal-suite.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import { sweepRetention } from '../../src/agents/retention';
import { Sessions } from '../../src/agents/sessions';
import { AGENT_ARCHIVE, WORKSPACE_ARCHIVE } from '../../src/agents/session-state';
import type { MockUpstream } from '../support/mock-upstream';
import { FINAL_PREFIX, toolCall, toolLoop } from '../support/tool-loop';
import { MASTER_KEY, adminOk, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, events, getRun, waitRun } from './agent-runs-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

const price = 'input_cost_per_token: 0.000001, output_cost_per_token: 0.000002';
const profile = (name: string, agent: string, model: string) =>
  `    - {name: ${name}, agent: ${agent}, sandbox: dev, model: ${model}, max_turns: 5, timeout: 180s, max_budget: 1}\n`;
/** Appends each message to a log in the workspace and answers with the whole log. */
const LOG_SCRIPT = `cat "$WEIR_PROMPT_FILE" >> log.txt; echo >> log.txt; printf '{"type":"result","result":"%s"}\\n' "$(tr '\\n' ' ' < log.txt)"`;

before(async () => {
  mock = await startMock();
  const db = await ledgerDatabase('agents_sessions');
  pool = dbPool(db);
  const models = `  - model_name: coder-anthropic
    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: ${mock.url}, api_key: sk-up, ${price} }
  - model_name: gpt-5.5
    litellm_params: { model: openai/gpt-5.5, api_base: ${mock.url}/v1, api_key: sk-up, ${price} }
`;
  const logProfile = `    - ${JSON.stringify({ name: 'log', agent: 'command', sandbox: 'dev', model: 'gpt', timeout: '120s', command: ['sh', '-c', LOG_SCRIPT] })}\n`;
  const config = agentConfig(mock.url, db, {
    profiles: profile('claude', 'claude-code', 'coder-anthropic') + profile('codex', 'codex', 'gpt-5.5') + logProfile,
    jobs: `    - {name: review, profile: log, prompt: "review {{payload.note}}", session_key: "pr-{{payload.pr}}", webhook: {verify: none}, concurrency: {limit: 4, on_conflict: queue}}\n`,
  }).replace('model_list:\n', `model_list:\n${models}`);
  weir = await startWeirOn(writeConfigFile(config));
});

after(() => closeAndCheckLedgers(() => weir.stop(), async () => pool.end(), () => mock.close()));

async function newSession(profileName: string, key = MASTER_KEY): Promise<any> {
  const r = await call(weir.url, '/v1/agent/sessions', { headers: bearer(key), body: { profile: profileName } });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.status, 'active');
  return r.json;
}

async function send(id: string, prompt: string, key = MASTER_KEY): Promise<any> {
  const r = await call(weir.url, `/v1/agent/sessions/${id}/messages`, { headers: bearer(key), body: { prompt } });
  assert.equal(r.status, 202, r.text);
  assert.equal(r.json.session, id);
  return r.json;
}

async function session(id: string, key = MASTER_KEY): Promise<any> {
  const r = await call(weir.url, `/v1/agent/sessions/${id}`, { headers: bearer(key), method: 'GET' });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function succeeded(id: string): Promise<{ run: any; evs: any[] }> {
  const run = await waitRun(weir.url, id, undefined, 170_000);
  const evs = await events(weir.url, id);
  assert.equal(run.status, 'succeeded', JSON.stringify({ run, tail: evs.slice(-8) }, null, 1).slice(0, 4000));
  return { run, evs };
}

const workdirOf = (evs: any[]) => evs.find((e) => e.type === 'sandbox')?.payload.workdir as string;

/**
 * Two messages to one session of a real agent: the first writes a marker into the workspace, the
 * second reads it back; each in its own sandbox.
 */
async function twoMessages(profileName: string, tool: { name: string; input: (c: string) => Record<string, unknown> }, api: 'anthropic' | 'responses') {
  const s = await newSession(profileName);
  const write = toolLoop({ name: tool.name, input: (c) => tool.input(`${c} | tee weir-note.txt`) });
  mock.setDefault({ reply: (r) => write.reply(r) });
  const first = await succeeded((await send(s.id, 'Run the command that prints the test marker, then tell me what it printed.')).id);
  assert.ok(first.run.result.includes(write.marker), first.run.result);
  assert.ok(first.run.session_id, 'the agent reported its session id');

  const read = toolLoop({ name: tool.name, input: () => tool.input('cat weir-note.txt') });
  const seen = mock.requests.length;
  mock.setDefault({ reply: (r) => read.reply(r) });
  const second = await succeeded((await send(s.id, 'Now show me what weir-note.txt holds.')).id);
  // The file the first run wrote was in this run's (fresh) workspace.
  assert.ok(second.run.result.startsWith(FINAL_PREFIX) && second.run.result.includes(write.marker), second.run.result);
  assert.notEqual(workdirOf(second.evs), undefined);
  assert.notEqual(workdirOf(first.evs), workdirOf(second.evs), 'each message runs in a sandbox of its own');
  // The agent resumed: its requests carry the first message's tool call, and it says which session.
  const later = mock.requests.slice(seen).filter((q) => q.json);
  assert.ok(later.length >= 2);
  for (const q of later) assert.ok(toolCall(api, q.json, write.callId(api)), 'the second run sends the first turn upstream');
  const resumed = second.evs.find((e) => e.type === 'session');
  assert.equal(resumed?.payload.resume, first.run.session_id);
  assert.equal(second.run.session_id, first.run.session_id);
  return { s, first, second, write };
}

describe('a session of the real Claude Code', () => {
  it('the second message resumes the first in a fresh sandbox; the session shows its runs, cost and transcript', async () => {
    const { s, first, second, write } = await twoMessages('claude', { name: 'Bash', input: (command) => ({ command, description: 'Run it' }) }, 'anthropic');
    const view = await session(s.id);
    assert.equal(view.runs, 2);
    assert.equal(view.busy, false);
    assert.deepEqual(view.messages.map((m: any) => m.run_id), [first.run.id, second.run.id]);
    assert.ok(view.cost > 0 && Math.abs(view.cost - (first.run.cost + second.run.cost)) < 1e-12, `${view.cost}`);
    assert.equal(view.agent_session_id, first.run.session_id);
    const t = await call(weir.url, `/v1/agent/sessions/${s.id}/transcript`, { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(t.status, 200, t.text);
    assert.ok(t.text.includes(write.marker) && t.text.includes('Now show me what weir-note.txt holds.'), 'one transcript holds the whole conversation');

    // The kept state deleted (retention, or by hand): the next message fails before the agent
    // starts, and says why.
    await pool.query(`DELETE FROM "Weir_AgentArtifact" WHERE run_id = $1 AND name = ANY($2)`, [second.run.id, [WORKSPACE_ARCHIVE, AGENT_ARCHIVE]]);
    const lost = await waitRun(weir.url, (await send(s.id, 'and again')).id, undefined, 60_000);
    assert.equal(lost.status, 'failed');
    assert.equal(lost.error.kind, 'session_error');
    assert.match(lost.error.message, /was deleted .*cannot be resumed/);
  });
});

describe('a session of the real Codex', () => {
  it('the second message resumes the first (exec resume) in a fresh sandbox', async () => {
    await twoMessages('codex', { name: 'exec_command', input: (cmd) => ({ cmd }) }, 'responses');
  });
});

describe('sessions of the command agent', () => {
  it('messages sent at once queue, run one at a time in the order sent, each on the workspace the last one left', async () => {
    const s = await newSession('log');
    const runs = [];
    for (const word of ['one', 'two', 'three']) runs.push(await send(s.id, word));
    const done = [];
    for (const r of runs) done.push((await succeeded(r.id)).run);
    assert.deepEqual(done.map((r) => r.result), ['one ', 'one two ', 'one two three ']);
    for (let i = 1; i < done.length; i++) assert.ok(Date.parse(done[i].started_at) >= Date.parse(done[i - 1].finished_at), 'never two of one session at once');
  });

  it('a job keeps one session per key: a second delivery for the same pull request continues it', async () => {
    const { json: job } = await call(weir.url, '/v1/agent/jobs/review', { headers: bearer(MASTER_KEY), method: 'GET' });
    const hook = async (payload: unknown) => call(weir.url, new URL(job.webhook_url).pathname, { body: payload });
    const a = await hook({ pr: 7, note: 'first' });
    assert.equal(a.status, 202, a.text);
    const b = await hook({ pr: 7, note: 'second' });
    const c = await hook({ pr: 8, note: 'other' });
    const ra = (await succeeded(a.json.run_id)).run;
    const rb = (await succeeded(b.json.run_id)).run;
    const rc = (await succeeded(c.json.run_id)).run;
    assert.equal(ra.result, 'review first ');
    assert.equal(rb.result, 'review first review second ');
    assert.equal(rc.result, 'review other ');
    const list = await call(weir.url, '/v1/agent/sessions', { headers: bearer(MASTER_KEY), method: 'GET' });
    const keys = list.json.data.filter((x: any) => x.job === 'review').map((x: any) => `${x.session_key}:${x.runs}`).sort();
    assert.deepEqual(keys, ['pr-7:2', 'pr-8:1']);
    const bad = await hook({ note: 'no pull request number' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.error.message, /session_key/);
  });

  it('idle sessions are reaped after idle_timeout (injected clock), state kept; the next message wakes and resumes them', async () => {
    const s = await newSession('log');
    await succeeded((await send(s.id, 'before')).id);
    // A session whose message is in flight (held by another instance, as the row says) is not idle.
    const busy = await newSession('log');
    const inFlight = `run_sessions_test_${Date.now()}`;
    await pool.query(
      `INSERT INTO "Weir_AgentRun" (id, profile_name, profile, prompt, trigger, status, instance_id, lease_until) VALUES ($1, 'log', '{}', 'x', 'api', 'running', 'another-instance', $2)`,
      [inFlight, new Date(Date.now() + 3_600_000)],
    );
    await pool.query(`INSERT INTO "Weir_AgentSessionRun" (run_id, session_id) VALUES ($1, $2)`, [inFlight, busy.id]);
    let clock = Date.now();
    const sessions = new Sessions({ pool, start: () => Promise.reject(new Error('not used')), cancel: async () => {}, idleMs: () => 24 * 3_600_000, now: () => new Date(clock) });
    try {
      assert.deepEqual((await sessions.reap()).map((x) => x.id).filter((id) => id === s.id || id === busy.id), [], 'nothing is idle before idle_timeout');
      clock += 24 * 3_600_000 + 1;
      const reaped = (await sessions.reap()).map((x) => x.id);
      assert.ok(reaped.includes(s.id), 'idle past idle_timeout: reaped');
      assert.ok(!reaped.includes(busy.id), 'a session with a message in flight is not idle');
      assert.equal((await session(s.id)).status, 'idle');
      assert.equal((await session(busy.id)).status, 'active');
    } finally {
      await pool.query(`UPDATE "Weir_AgentRun" SET status = 'failed', lease_until = NULL WHERE id = $1`, [inFlight]);
    }
    const woke = await succeeded((await send(s.id, 'after')).id);
    assert.equal(woke.run.result, 'before after ', 'the state survived the reaping');
    assert.equal((await session(s.id)).status, 'active');
  });
});

describe('bad input', () => {
  let keyA: string;
  let keyB: string;
  before(async () => {
    await adminOk(weir.url, '/team/new', { team_id: 'sessions-a' });
    await adminOk(weir.url, '/team/new', { team_id: 'sessions-b' });
    keyA = (await adminOk(weir.url, '/key/generate', { team_id: 'sessions-a' })).key;
    keyB = (await adminOk(weir.url, '/key/generate', { team_id: 'sessions-b' })).key;
  });

  it('an unknown session, a profile missing or unknown, a message without a prompt: 4xx naming the field', async () => {
    for (const [method, p, body] of [['GET', '/v1/agent/sessions/ses_nope', undefined], ['POST', '/v1/agent/sessions/ses_nope/messages', { prompt: 'x' }], ['DELETE', '/v1/agent/sessions/ses_nope', undefined]] as const) {
      const r = await call(weir.url, p, { headers: bearer(MASTER_KEY), method, body });
      assert.equal(r.status, 404, r.text);
      assert.match(r.json.error.message, /unknown session "ses_nope"/);
    }
    const none = await call(weir.url, '/v1/agent/sessions', { headers: bearer(MASTER_KEY), body: {} });
    assert.equal(none.status, 400);
    assert.equal(none.json.error.param, 'profile');
    const unknown = await call(weir.url, '/v1/agent/sessions', { headers: bearer(MASTER_KEY), body: { profile: 'nope' } });
    assert.equal(unknown.status, 404);
    const s = await newSession('log');
    const empty = await call(weir.url, `/v1/agent/sessions/${s.id}/messages`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal(empty.status, 400);
    assert.equal(empty.json.error.param, 'prompt');
  });

  it("another team's session is a 404 for every verb; its own team sees it", async () => {
    const s = await newSession('log', keyA);
    assert.equal((await session(s.id, keyA)).team_id, 'sessions-a');
    for (const [method, p, body] of [['GET', `/v1/agent/sessions/${s.id}`, undefined], ['POST', `/v1/agent/sessions/${s.id}/messages`, { prompt: 'x' }], ['DELETE', `/v1/agent/sessions/${s.id}`, undefined]] as const) {
      const r = await call(weir.url, p, { headers: bearer(keyB), method, body });
      assert.equal(r.status, 404, r.text);
    }
    const listB = await call(weir.url, '/v1/agent/sessions', { headers: bearer(keyB), method: 'GET' });
    assert.ok(!listB.json.data.some((x: any) => x.id === s.id));
  });

  it('a retried message stays in its session: it resumes the workspace and counts among the runs; after the session ends, a retry is a 409', async () => {
    const s = await newSession('log');
    const first = await send(s.id, 'one');
    await succeeded(first.id);
    const r = await call(weir.url, `/v1/agent/runs/${first.id}/retry`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal(r.status, 202, r.text);
    // The retry ran on the workspace the session left (its log already held "one").
    assert.equal((await succeeded(r.json.id)).run.result, 'one one ');
    assert.equal((await session(s.id)).runs, 2);
    const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
    assert.equal(del.status, 200, del.text);
    const late = await call(weir.url, `/v1/agent/runs/${first.id}/retry`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal(late.status, 409, late.text);
    assert.match(late.json.error.message, /session .* has ended/);
  });

  it('DELETE ends a session and cancels its queued messages; a message to an ended session is a 409', async () => {
    const s = await newSession('log');
    const first = await send(s.id, 'kept');
    await succeeded(first.id);
    // Retention keeps the run a live session resumes from (its artifacts: one run's cap), until
    // the session ends.
    const kept = async () => (await pool.query(`SELECT name FROM "Weir_AgentArtifact" WHERE run_id = $1 ORDER BY name`, [first.id])).rows.map((r) => r.name);
    const later = new Date(Date.now() + 86_400_000);
    await sweepRetention(pool, 0, later);
    assert.deepEqual(await kept(), ['diff.patch', 'result.txt', AGENT_ARCHIVE, WORKSPACE_ARCHIVE]);
    const del = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
    assert.equal(del.status, 200, del.text);
    assert.equal(del.json.status, 'ended');
    const again = await call(weir.url, `/v1/agent/sessions/${s.id}/messages`, { headers: bearer(MASTER_KEY), body: { prompt: 'too late' } });
    assert.equal(again.status, 409, again.text);
    assert.match(again.json.error.message, /has ended/);
    const twice = await call(weir.url, `/v1/agent/sessions/${s.id}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
    assert.equal(twice.status, 409);
    assert.equal((await getRun(weir.url, first.id)).status, 'succeeded');
    await sweepRetention(pool, 0, later);
    assert.deepEqual(await kept(), [], 'an ended session keeps nothing past retention');
  });
});
