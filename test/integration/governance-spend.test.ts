// Spend end to end: every call through the real gateway yields one LiteLLM_SpendLogs row as LiteLLM
// writes it, and the key / user / team `spend` columns and the Daily* rows move by the same total.
// Streams and not, both dialects, a failed upstream call and a client that hangs up mid-stream.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  type Answer, type Weir, CALL_COST, OUT_PRICE, adminOk, bearer, chat, dbPool, governanceConfig, messages, one, rows, sleep, sseJson, startMock, startWeirOn, streamCall, waitFor, waitForLogs, writeConfigFile, ledgerDatabase, closeAndCheckLedgers,
} from './governance-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;

before(async () => {
  const db = await ledgerDatabase('gov_spend');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)));
  pool = dbPool(db);
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => pool?.end(), () => mock?.close());
});

const near = (a: number, b: number, eps = 1e-9) => Math.abs(a - b) <= eps;
const estimate = (bytes: number) => Math.max(1, Math.ceil(bytes / 4));

interface Expected {
  label: string;
  requestId?: string;
  callId: string;
  model: string;
  group: string;
  provider: string;
  callType: string;
  prompt: number | null;
  completion: number | null;
  spend: number | null;
  status: 'success' | 'failure';
}

test('N calls of every kind → exactly N SpendLogs rows, and entity spend and Daily* move by their total', async () => {
  await adminOk(weir.url, '/user/new', { user_id: 'spend-user' });
  const team = await adminOk(weir.url, '/team/new', { team_alias: 'spend-team-alias' });
  await adminOk(weir.url, '/team/member_add', { team_id: team.team_id, member: [{ user_id: 'spend-user', role: 'user' }] });
  const k = await adminOk(weir.url, '/key/generate', { user_id: 'spend-user', team_id: team.team_id, key_alias: 'spend-key' });
  const exp: Expected[] = [];
  const upstreamBytes = () => mock.requests.at(-1)!.body.length;

  // 1. OpenAI, not streamed, priced by config overrides.
  let r: Answer = await chat(weir.url, k.key, 'gpt');
  assert.equal(r.status, 200);
  assert.equal(Number(r.headers['x-litellm-response-cost']), CALL_COST);
  assert.ok(r.headers['x-litellm-key-spend'] !== undefined, 'x-litellm-key-spend');
  assert.ok(Number(r.headers['x-litellm-key-spend']) >= 0);
  exp.push({ label: 'openai non-stream', requestId: r.json.id, callId: String(r.headers['x-litellm-call-id']), model: 'weir-budget-model', group: 'gpt', provider: 'openai', callType: 'acompletion', prompt: r.json.usage.prompt_tokens, completion: 4, spend: CALL_COST, status: 'success' });

  // 2. OpenAI, not streamed, priced by the built-in table (gpt-4o-mini: 0.15 / 0.60 USD per 1M).
  r = await chat(weir.url, k.key, 'gpt-4o-mini');
  assert.equal(r.status, 200);
  const miniCost = r.json.usage.prompt_tokens * 1.5e-7 + r.json.usage.completion_tokens * 6e-7;
  assert.ok(near(Number(r.headers['x-litellm-response-cost']), miniCost, 1e-12), `${r.headers['x-litellm-response-cost']} vs ${miniCost}`);
  exp.push({ label: 'openai table price', requestId: r.json.id, callId: String(r.headers['x-litellm-call-id']), model: 'gpt-4o-mini', group: 'gpt-4o-mini', provider: 'openai', callType: 'acompletion', prompt: r.json.usage.prompt_tokens, completion: r.json.usage.completion_tokens, spend: miniCost, status: 'success' });

  // 3. OpenAI stream, the client asks for usage: it gets the usage chunk.
  let s = await streamCall(weir.url, '/v1/chat/completions', bearer(k.key), { model: 'gpt', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(s.status, 200);
  let chunks = sseJson(s.text);
  const usageChunk = chunks.find((c) => c.usage);
  assert.ok(usageChunk, 'usage chunk present when asked for');
  assert.equal(usageChunk.usage.completion_tokens, 8);
  exp.push({ label: 'openai stream with usage', requestId: chunks[0].id, callId: String(s.headers['x-litellm-call-id']), model: 'weir-budget-model', group: 'gpt', provider: 'openai', callType: 'acompletion', prompt: usageChunk.usage.prompt_tokens, completion: 8, spend: 8 * OUT_PRICE, status: 'success' });

  // 4. OpenAI stream, the client did NOT ask for usage: it sees none, the row still has the tokens.
  // Its 8 deltas come 150 ms apart, so the stream lasts over a second: none of that is Weir's.
  s = await streamCall(weir.url, '/v1/chat/completions', bearer(k.key), { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hello' }], mock_behavior: { paceMs: 150 } });
  assert.equal(s.status, 200);
  chunks = sseJson(s.text);
  assert.equal(chunks.filter((c) => c.choices?.[0]?.delta?.content).length, 8);
  assert.ok(!chunks.some((c) => c.usage), `a usage chunk reached a client that did not ask: ${s.text.slice(-400)}`);
  assert.ok(!chunks.some((c) => Array.isArray(c.choices) && c.choices.length === 0), 'no empty-choices chunk');
  assert.ok(s.text.trimEnd().endsWith('data: [DONE]'));
  exp.push({ label: 'openai stream without usage', requestId: chunks[0].id, callId: String(s.headers['x-litellm-call-id']), model: 'weir-budget-model', group: 'gpt', provider: 'openai', callType: 'acompletion', prompt: estimate(upstreamBytes()), completion: 8, spend: 8 * OUT_PRICE, status: 'success' });

  // 5. Anthropic, not streamed.
  r = await messages(weir.url, k.key, 'claude');
  assert.equal(r.status, 200);
  const claudeCost = (u: { input_tokens: number; output_tokens: number }) => u.input_tokens * 1e-6 + u.output_tokens * 5e-6;
  assert.ok(near(Number(r.headers['x-litellm-response-cost']), claudeCost(r.json.usage), 1e-12));
  exp.push({ label: 'anthropic non-stream', requestId: r.json.id, callId: String(r.headers['x-litellm-call-id']), model: 'weir-claude-model', group: 'claude', provider: 'anthropic', callType: 'anthropic_messages', prompt: r.json.usage.input_tokens, completion: r.json.usage.output_tokens, spend: claudeCost(r.json.usage), status: 'success' });

  // 6. Anthropic stream.
  s = await streamCall(weir.url, '/v1/messages', { 'x-api-key': k.key, 'anthropic-version': '2023-06-01' }, { model: 'claude', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'hello' }] });
  assert.equal(s.status, 200);
  chunks = sseJson(s.text);
  const start = chunks.find((c) => c.type === 'message_start');
  const delta = chunks.find((c) => c.type === 'message_delta');
  const au = { input_tokens: start.message.usage.input_tokens, output_tokens: delta.usage.output_tokens };
  exp.push({ label: 'anthropic stream', requestId: start.message.id, callId: String(s.headers['x-litellm-call-id']), model: 'weir-claude-model', group: 'claude', provider: 'anthropic', callType: 'anthropic_messages', prompt: au.input_tokens, completion: au.output_tokens, spend: claudeCost(au), status: 'success' });

  // 7. The upstream fails (500): the client gets an error, the row says failure.
  r = await chat(weir.url, k.key, 'gpt', { mock_behavior: { status: 500, errorMessage: 'upstream exploded' } });
  assert.ok(r.status >= 500, `${r.status} ${r.text}`);
  exp.push({ label: 'failed upstream', callId: String(r.headers['x-litellm-call-id']), model: 'weir-budget-model', group: 'gpt', provider: 'openai', callType: 'acompletion', prompt: null, completion: null, spend: 0, status: 'failure' });

  // 8. The client hangs up after 3 of 40 slow deltas: charged for what was produced.
  s = await streamCall(
    weir.url,
    '/v1/chat/completions',
    bearer(k.key),
    { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hello' }], mock_behavior: { deltas: 40, paceMs: 60 } },
    { re: /"content":"tok\d+ "/, times: 3 },
  );
  assert.equal(s.aborted, true);
  exp.push({ label: 'client disconnect', callId: String(s.headers['x-litellm-call-id']), model: 'weir-budget-model', group: 'gpt', provider: 'openai', callType: 'acompletion', prompt: null, completion: null, spend: null, status: 'failure' });

  const N = exp.length;
  await waitForLogs(pool, N, 'api_key = $1', [k.token]);
  await sleep(1500); // two more batch intervals: nothing is written twice
  const logs = await rows(pool, `SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1 ORDER BY "startTime"`, [k.token]);
  assert.equal(logs.length, N, logs.map((l) => `${l.request_id} ${l.status}`).join('\n'));
  assert.equal(new Set(logs.map((l) => l.request_id)).size, N);

  for (const e of exp) {
    const row = logs.find((l) => (e.requestId && l.request_id === e.requestId) || l.session_id === e.callId || l.request_id === e.callId);
    assert.ok(row, `row of ${e.label} (request ${e.requestId ?? e.callId})`);
    const m = row.metadata;
    assert.equal(row.api_key, k.token, e.label);
    assert.equal(row.model, e.model, e.label);
    assert.equal(row.model_group, e.group, e.label);
    assert.equal(row.custom_llm_provider, e.provider, e.label);
    assert.equal(row.call_type, e.callType, e.label);
    assert.equal(row.status, e.status, e.label);
    assert.equal(row.user, 'spend-user', e.label);
    assert.equal(row.team_id, team.team_id, e.label);
    assert.equal(m.user_api_key, k.token, e.label);
    assert.equal(m.user_api_key_alias, 'spend-key', e.label);
    assert.equal(m.user_api_key_user_id, 'spend-user', e.label);
    assert.equal(m.user_api_key_team_id, team.team_id, e.label);
    assert.equal(m.user_api_key_team_alias, 'spend-team-alias', e.label);
    assert.equal(m.status, e.status, e.label);
    // Weir's own time: for a stream, until it started; never the upstream's pace after that.
    if (e.label === 'openai stream without usage') assert.ok(m.litellm_overhead_time_ms < 1_050, `overhead ${m.litellm_overhead_time_ms} ms counts the stream's 1,050 ms of upstream pace`);
    if (e.prompt !== null) assert.equal(row.prompt_tokens, e.prompt, `${e.label}: prompt_tokens`);
    if (e.completion !== null) assert.equal(row.completion_tokens, e.completion, `${e.label}: completion_tokens`);
    assert.equal(row.total_tokens, row.prompt_tokens + row.completion_tokens, e.label);
    if (e.spend !== null) assert.ok(near(Number(row.spend), e.spend, 1e-12), `${e.label}: spend ${row.spend} vs ${e.spend}`);
    if (e.label === 'failed upstream') {
      assert.equal(m.error_information.error_code, '500');
      assert.match(m.error_information.error_message, /upstream exploded/);
    }
    if (e.label === 'client disconnect') {
      assert.equal(m.error_information.error_code, '499');
    }
  }

  // Entity spend columns and the Daily* tables moved by exactly the rows' total.
  const total = logs.reduce((a, l) => a + Number(l.spend), 0);
  assert.ok(total > 0);
  const keySpend = Number((await one(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token])).spend);
  const userSpend = Number((await one(pool, `SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'spend-user'`)).spend);
  const teamSpend = Number((await one(pool, `SELECT spend FROM "LiteLLM_TeamTable" WHERE team_id = $1`, [team.team_id])).spend);
  const memberSpend = Number((await one(pool, `SELECT spend FROM "LiteLLM_TeamMembership" WHERE team_id = $1 AND user_id = 'spend-user'`, [team.team_id])).spend);
  assert.ok(near(keySpend, total), `key spend ${keySpend} vs ${total}`);
  assert.ok(near(userSpend, total), `user spend ${userSpend} vs ${total}`);
  assert.ok(near(teamSpend, total), `team spend ${teamSpend} vs ${total}`);
  assert.ok(near(memberSpend, total), `member spend ${memberSpend} vs ${total}`);
  const du = await one(pool, `SELECT sum(spend) AS s, sum(api_requests)::int AS n, sum(prompt_tokens)::int AS p, sum(completion_tokens)::int AS c FROM "LiteLLM_DailyUserSpend" WHERE user_id = 'spend-user'`);
  const dt = await one(pool, `SELECT sum(spend) AS s, sum(api_requests)::int AS n FROM "LiteLLM_DailyTeamSpend" WHERE team_id = $1`, [team.team_id]);
  assert.ok(near(Number(du.s), total), `DailyUserSpend ${du.s} vs ${total}`);
  assert.ok(near(Number(dt.s), total), `DailyTeamSpend ${dt.s} vs ${total}`);
  assert.equal(du.n, N);
  assert.equal(dt.n, N);
  assert.equal(du.p, logs.reduce((a, l) => a + l.prompt_tokens, 0));
  assert.equal(du.c, logs.reduce((a, l) => a + l.completion_tokens, 0));
});

test('x-litellm-key-spend follows the key\'s spend; a stream carries no cost header', async () => {
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 10 });
  const a = await chat(weir.url, k.key);
  const b = await chat(weir.url, k.key);
  assert.equal(a.headers['x-litellm-key-max-budget'], '10');
  assert.ok(near(Number(b.headers['x-litellm-key-spend']) - Number(a.headers['x-litellm-key-spend']), CALL_COST), `${a.headers['x-litellm-key-spend']} → ${b.headers['x-litellm-key-spend']}`);
  const s = await streamCall(weir.url, '/v1/chat/completions', bearer(k.key), { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(s.status, 200);
  assert.equal(s.headers['x-litellm-response-cost'], undefined);
});

test('a stream the client cuts is charged for what was produced', {
}, async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const s = await streamCall(
    weir.url,
    '/v1/chat/completions',
    bearer(k.key),
    { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hello' }], mock_behavior: { deltas: 40, paceMs: 60 } },
    { re: /"content":"tok\d+ "/, times: 3 },
  );
  assert.equal(s.aborted, true);
  await waitForLogs(pool, 1, 'api_key = $1', [k.token]);
  const row = await one(pool, `SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token]);
  assert.ok(row.completion_tokens >= 3 && row.completion_tokens < 40, `completion_tokens of the cut stream: ${row.completion_tokens} (prompt_tokens ${row.prompt_tokens}, spend ${row.spend})`);
  assert.ok(row.prompt_tokens > 0, `prompt_tokens: ${row.prompt_tokens}`);
  assert.ok(near(Number(row.spend), row.completion_tokens * OUT_PRICE, 1e-12), `spend ${row.spend}`);
});

test('a stream the client cuts counts against the key budget (no way around max_budget by hanging up)', {
}, async () => {
  // Room for 5 tokens; each cut stream below produces at least 3.
  const k = await adminOk(weir.url, '/key/generate', { max_budget: 5 * OUT_PRICE });
  for (let i = 0; i < 3; i++) {
    const s = await streamCall(
      weir.url,
      '/v1/chat/completions',
      bearer(k.key),
      { model: 'gpt', stream: true, messages: [{ role: 'user', content: 'hello' }], mock_behavior: { deltas: 40, paceMs: 40 } },
      { re: /"content":"tok\d+ "/, times: 3 },
    );
    if (s.status === 429) return; // refused once the budget was used: what should happen
    await sleep(50);
  }
  const r = await chat(weir.url, k.key);
  assert.equal(r.status, 429, `after 3 cut streams of >= 3 tokens each (budget: 5 tokens) the key still gets ${r.status}`);
});

test('an upstream that repeats its response id: six calls, six SpendLogs rows, and key spend equal to their sum', async () => {
  const k = await adminOk(weir.url, '/key/generate', {});
  const answer = {
    id: 'chatcmpl-repeated-by-a-self-hosted-server',
    object: 'chat.completion',
    created: 1,
    model: 'weir-budget-model',
    choices: [{ index: 0, message: { role: 'assistant', content: 'same' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  };
  for (let i = 0; i < 6; i++) assert.equal((await chat(weir.url, k.key, 'gpt', { mock_behavior: { json: answer } })).status, 200);
  await waitForLogs(pool, 6, 'api_key = $1', [k.token]);
  const got = await one(pool, `SELECT count(*)::int AS n, sum(spend) AS s, count(*) FILTER (WHERE request_id = $2)::int AS first FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [k.token, answer.id]);
  assert.equal(got.n, 6);
  assert.equal(got.first, 1, 'the first call keeps the upstream id, as LiteLLM writes it');
  assert.ok(near(got.s, 6 * CALL_COST), `rows sum to ${got.s}`);
  // The key's own spend moved by as much (every key is also checked against its rows when the file closes).
  await waitFor('the key spend written', async () => near(Number((await one(pool, `SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [k.token])).spend), 6 * CALL_COST));
});
