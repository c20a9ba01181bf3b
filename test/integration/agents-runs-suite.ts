// Agent runs through the real gateway process and its database, with the `command` agent in a
// sandbox of the provider the calling file names (agents-runs.test.ts: local; -e2b, -daytona: the
// real SDKs against their fakes): a run started by API goes queued → provisioning → running →
// succeeded, calls the model with its own key (the run's cost is that key's spend, exactly), leaves
// its diff, and ends with the key blocked. Cancel, timeout, budget, idempotency, team scoping and
// the agent's environment are checked the same way, and no sandbox is left running at the end.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import {
  CALL_COST, MASTER_KEY, UPSTREAM_KEY, adminOk, bearer, call, chat, closeAndCheckLedgers, dbPool, ledgerDatabase, one, rows, startMock, startWeirOn,
  writeConfigFile, type Weir,
} from './governance-helpers';
import { startCloud, type ProviderName, type TestCloud } from '../support/cloud-fakes';
import { waitFor } from './governance-helpers';
import { CURL_CHAT, WAIT_FOREVER, agentConfig, events, getRun, mustStart, printed, scriptProfile, startRun, statuses, waitRun } from './agent-runs-helpers';

const HOST_SECRET = 'weir-host-secret-3f9a71';

export function runsSuite(provider: ProviderName): void {
let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let cloud: TestCloud;

const profiles = [
  scriptProfile('edit', `cat "$WEIR_PROMPT_FILE"; echo; ${CURL_CHAT}; echo '{"type":"progress","step":1,"novel":{"x":[1,2]}}'; echo hello > note.txt; echo bye`),
  scriptProfile('env', 'env; echo "uid=$(id -u)"'),
  scriptProfile('wait', WAIT_FOREVER),
  scriptProfile('together', `echo "ws=$PWD"; cat "$WEIR_PROMPT_FILE" > mine.txt; echo "pid=$$ $(cat mine.txt)"; ${WAIT_FOREVER}`),
  scriptProfile('slow', WAIT_FOREVER, { timeout: '2s' }),
  scriptProfile('spender', `for i in $(seq 1 12); do ${CURL_CHAT}; done`, { max_budget: 0.01 }),
  scriptProfile('agent-api', `curl -s -o /dev/null -w 'agent-api=%{http_code}\\n' -H "authorization: Bearer $OPENAI_API_KEY" "$WEIR_BASE_URL/v1/agent/runs"; curl -s -o /dev/null -w 'key-api=%{http_code}\\n' -H "authorization: Bearer $OPENAI_API_KEY" "$WEIR_BASE_URL/key/list"`),
  scriptProfile('fails', 'echo "about to fail"; exit 3'),
  scriptProfile('other-model', 'true', { model: 'other-model' }),
  scriptProfile('cloudy', 'true', { sandbox: 'cloud' }),
].join('');

const jobs = `    - {name: single, profile: wait, prompt: "wait", concurrency: {limit: 1, on_conflict: skip}}
    - {name: templated, profile: edit, prompt: "Fix {{input.issue}} now"}
    - {name: latest, profile: wait, prompt: "wait", concurrency: {limit: 1, on_conflict: cancel_running}}
    - {name: short-lived, profile: wait, prompt: "wait", ttl: 1s, concurrency: {limit: 1, on_conflict: queue}}
`;

before(async () => {
  mock = await startMock();
  cloud = await startCloud(provider);
  const db = await ledgerDatabase(`agents_runs_${provider}`);
  pool = dbPool(db);
  // `cloud` is an E2B sandbox whose key is not set: every run of it fails to get a sandbox.
  const sandboxes = `    - ${cloud.sandbox('dev')}\n    - {name: cloud, provider: e2b}\n`;
  const config = agentConfig(mock.url, db, { profiles, jobs, sandboxes });
  weir = await startWeirOn(writeConfigFile(config), { env: { WEIR_TEST_SECRET: HOST_SECRET, OPENAI_API_KEY: 'sk-host-openai-leak', ANTHROPIC_API_KEY: 'sk-host-anthropic-leak', E2B_API_KEY: '' } });
});

after(() =>
  closeAndCheckLedgers(
    async () => {
      // Every run ended: nothing of theirs runs at the provider.
      try {
        await waitFor(`${provider} sandboxes to be gone`, async () => (cloud.live() === 0 ? true : null), 30_000, 50);
      } finally {
        await weir.stop();
      }
    },
    async () => pool.end(),
    () => mock.close(),
    () => cloud.close(),
  ),
);

describe('a run started by API', () => {
  it('goes queued → provisioning → running → succeeded, with the prompt from a file, every line an event, its diff kept', async () => {
    const started = await mustStart(weir.url, { profile: 'edit', prompt: 'Please edit note.txt' });
    assert.match(started.id, /^run_[0-9a-f]{24}$/);
    assert.equal(started.status, 'queued');
    const run = await waitRun(weir.url, started.id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.error, null);
    assert.equal(run.exit_code, 0);
    const evs = await events(weir.url, run.id);
    assert.deepEqual(statuses(evs), ['provisioning', 'running', 'succeeded']);
    assert.deepEqual(evs.map((e) => e.seq), evs.map((_, i) => i + 1), 'seq counts from 1 without gaps');
    const text = printed(evs);
    assert.ok(text.includes('Please edit note.txt'), 'the prompt file reached the agent');
    const progress = evs.find((e) => e.type === 'progress');
    assert.deepEqual(progress?.payload, { type: 'progress', step: 1, novel: { x: [1, 2] } }, 'an unknown line type keeps every field');
    const list = await call(weir.url, `/v1/agent/runs/${run.id}/artifacts`, { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(list.status, 200, list.text);
    assert.ok(list.json.data.some((a: any) => a.name === 'diff.patch'), list.text);
    const diff = await call(weir.url, `/v1/agent/runs/${run.id}/artifacts/diff.patch`, { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(diff.status, 200);
    assert.match(diff.text, /note\.txt/);
    assert.match(diff.text, /^\+hello$/m);
  });

  it('calls the model with a key of its own: the run’s cost is exactly that key’s spend, and the key ends blocked', async () => {
    const { id } = await mustStart(weir.url, { profile: 'edit', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'succeeded');
    const key = await one(pool, `SELECT * FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [`weir-run-${id}`]);
    assert.ok(key, 'the run key exists (kept for the spend history)');
    assert.equal(key.blocked, true);
    assert.deepEqual(key.models, ['gpt']);
    assert.equal(key.metadata.weir_run_id, id);
    assert.deepEqual(key.allowed_routes, ['llm_api_routes']);
    const logs = await rows(pool, `SELECT spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [key.token]);
    assert.equal(logs.length, 1, 'one call, one spend row');
    assert.ok(Math.abs(run.cost - CALL_COST) < 1e-12, `cost ${run.cost}`);
    assert.ok(Math.abs(Number(key.spend) - run.cost) < 1e-12);
  });

  it('the agent’s environment holds nothing of Weir’s own (master key, provider keys, host variables), and it does not run as root', async () => {
    const { id } = await mustStart(weir.url, { profile: 'env', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'succeeded');
    const text = printed(await events(weir.url, id));
    assert.match(text, /OPENAI_API_KEY=sk-/, 'the run key is there');
    for (const secret of [MASTER_KEY, UPSTREAM_KEY, HOST_SECRET, 'sk-host-openai-leak', 'sk-host-anthropic-leak', 'DATABASE_URL', 'postgres://']) {
      assert.ok(!text.includes(secret), `${secret} leaked into the agent's environment`);
    }
    const uid = /uid=(\d+)/.exec(text);
    assert.ok(uid && uid[1] !== '0', `uid ${uid?.[1]}`);
    // The key the agent held is blocked now: the gateway refuses it.
    const runKey = /OPENAI_API_KEY=(sk-[A-Za-z0-9_-]+)/.exec(text)![1]!;
    const after = await chat(weir.url, runKey);
    assert.equal(after.status, 401, after.text);
    assert.match(after.text, /blocked/i);
  });

  it('a run’s key may call models, never the agent API or the management API', async () => {
    const { id } = await mustStart(weir.url, { profile: 'agent-api', prompt: 'x' });
    await waitRun(weir.url, id);
    const text = printed(await events(weir.url, id));
    assert.match(text, /agent-api=403/);
    assert.match(text, /key-api=403/);
  });

  it('an agent that exits non-zero ends as failed: agent_error, with what it printed kept', async () => {
    const { id } = await mustStart(weir.url, { profile: 'fails', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'failed');
    assert.equal(run.error.kind, 'agent_error');
    assert.equal(run.exit_code, 3);
    assert.match(printed(await events(weir.url, id)), /about to fail/);
  });

  it('Idempotency-Key: the same key twice starts one run and answers it twice', async () => {
    const a = await startRun(weir.url, { profile: 'fails', prompt: 'x' }, MASTER_KEY, { 'idempotency-key': 'idem-1' });
    const b = await startRun(weir.url, { profile: 'fails', prompt: 'x' }, MASTER_KEY, { 'idempotency-key': 'idem-1' });
    assert.equal(a.status, 202);
    assert.equal(b.status, 200);
    assert.equal(a.json.id, b.json.id);
    assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentRun" WHERE idempotency_key = 'idem-1'`)).n, 1);
    await waitRun(weir.url, a.json.id);
  });

  // How runs are inserted does not depend on the sandbox: on the local provider only.
  if (provider === 'local') {
    it('Idempotency-Key: many POSTs at once, several sharing a key, make one run per key (runs arriving together are inserted together)', async () => {
      const keys = ['idem-burst-a', 'idem-burst-b', 'idem-burst-a', null, 'idem-burst-b', 'idem-burst-a', null];
      const answers = await Promise.all(keys.map((k) => startRun(weir.url, { profile: 'fails', prompt: 'x' }, MASTER_KEY, k ? { 'idempotency-key': k } : {})));
      const ids = (k: string) => new Set(answers.filter((_, i) => keys[i] === k).map((a) => a.json.id));
      assert.equal(ids('idem-burst-a').size, 1);
      assert.equal(ids('idem-burst-b').size, 1);
      assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 202, 202, 202, 202]);
      assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentRun" WHERE idempotency_key LIKE 'idem-burst-%'`)).n, 2);
      for (const id of new Set(answers.map((a) => a.json.id as string))) await waitRun(weir.url, id);
    });
  }

  // Runs started together go through their start together (one key mint, one file-thread message,
  // one spawner message, one move to running for the batch): on the local provider only.
  if (provider === 'local') {
    it('runs POSTed together all run at once, each with its own key, workspace, prompt and process; one whose sandbox fails fails alone', async () => {
      const n = 6;
      const bodies = [...Array.from({ length: n }, (_, i) => ({ profile: 'together', prompt: `together-${i}` })), { profile: 'cloudy', prompt: 'x' }];
      const started = await Promise.all(bodies.map((b) => mustStart(weir.url, b)));
      const ids = started.slice(0, n).map((s) => s.id as string);
      // Every run of the batch is running at the same time: none waited for another to end.
      const running = await Promise.all(ids.map((id) => waitRun(weir.url, id, 'running')));
      assert.equal(new Set(running.map((r) => r.sandbox?.id)).size, n, 'a sandbox each');
      const keys = await rows(pool, `SELECT id, key_token FROM "Weir_AgentRun" WHERE id = ANY($1)`, [ids]);
      assert.equal(new Set(keys.map((k) => k.key_token).filter(Boolean)).size, n, 'a key each');
      // Each agent printed its own workspace and read its own prompt, in a process of its own.
      const seen = await Promise.all(
        ids.map((id) => waitFor(`run ${id} to print its prompt`, async () => {
          const text = printed(await events(weir.url, id));
          const ws = /ws=(\S+)/.exec(text)?.[1];
          const own = /pid=(\d+) (together-\d+)/.exec(text);
          return ws && own ? { ws, prompt: own[2] } : null;
        }, 30_000, 50)),
      );
      assert.equal(new Set(seen.map((s) => s.ws)).size, n, 'a workspace each');
      assert.deepEqual(seen.map((s) => s.prompt), ids.map((_, i) => `together-${i}`), 'each its own prompt');
      // The run whose sandbox could not be made failed as sandbox_error; the others ran on.
      const bad = await waitRun(weir.url, started[n].id);
      assert.equal(bad.status, 'failed');
      assert.equal(bad.error.kind, 'sandbox_error');
      for (const id of ids) assert.equal((await getRun(weir.url, id)).status, 'running');
      for (const id of ids) await call(weir.url, `/v1/agent/runs/${id}/cancel`, { headers: bearer(MASTER_KEY), body: {} });
      for (const id of ids) assert.equal((await waitRun(weir.url, id)).status, 'canceled');
      const blocked = await rows(pool, `SELECT k.blocked FROM "Weir_AgentRun" r JOIN "LiteLLM_VerificationToken" k ON k.token = r.key_token WHERE r.id = ANY($1)`, [ids]);
      assert.deepEqual(blocked.map((b) => b.blocked), ids.map(() => true), 'every key blocked at its end');
    });
  }

  it('a job’s prompt is rendered from the input; a missing field is a 400 naming it, and nothing is created', async () => {
    const before = (await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentRun"`)).n;
    const bad = await startRun(weir.url, { job: 'templated', input: { other: 1 } });
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.json.error.message, /input\.issue/);
    assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentRun"`)).n, before);
    const ok = await mustStart(weir.url, { job: 'templated', input: { issue: '#42' } });
    await waitRun(weir.url, ok.id);
    assert.match(printed(await events(weir.url, ok.id)), /Fix #42 now/);
  });
});

describe('stopping runs', () => {
  it('cancel ends a running run as canceled and kills its processes; canceling it again is a 409', async () => {
    const { id } = await mustStart(weir.url, { profile: 'wait', prompt: 'x' });
    await waitRun(weir.url, id, 'running');
    const c = await call(weir.url, `/v1/agent/runs/${id}/cancel`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal(c.status, 200, c.text);
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'canceled');
    const again = await call(weir.url, `/v1/agent/runs/${id}/cancel`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal(again.status, 409);
    assert.match(again.json.error.message, /already ended \(canceled\)/);
  });

  it('a run past its timeout is killed by the watchdog and ends as timed_out', async () => {
    const { id } = await mustStart(weir.url, { profile: 'slow', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'timed_out');
    assert.match(run.error.message, /timeout of 2 s/);
  });

  it('a run that spends its budget is refused by the gateway and ends as failed: budget_exceeded, within its budget', async () => {
    const { id } = await mustStart(weir.url, { profile: 'spender', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'failed', JSON.stringify(run));
    assert.equal(run.error.kind, 'budget_exceeded');
    assert.equal(run.max_budget, 0.01);
    assert.ok(run.cost > 0 && run.cost <= 0.01 + 1e-12, `cost ${run.cost}`);
  });

  it('a job with concurrency {limit: 1, on_conflict: skip} records a second run as skipped while the first runs', async () => {
    const first = await mustStart(weir.url, { job: 'single' });
    await waitRun(weir.url, first.id, 'running');
    const second = await startRun(weir.url, { job: 'single' });
    assert.equal(second.status, 202);
    assert.equal(second.json.status, 'skipped');
    assert.match(second.json.error.message, /concurrency limit 1/);
    await call(weir.url, `/v1/agent/runs/${first.id}/cancel`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal((await waitRun(weir.url, first.id)).status, 'canceled');
  });
});

describe('queue policies and retries', () => {
  it('on_conflict: cancel_running cancels the running run when a new one comes, and runs the new one', async () => {
    const first = await mustStart(weir.url, { job: 'latest' });
    await waitRun(weir.url, first.id, 'running');
    const second = await mustStart(weir.url, { job: 'latest' });
    assert.equal((await waitRun(weir.url, first.id)).status, 'canceled');
    await waitRun(weir.url, second.id, 'running');
    await call(weir.url, `/v1/agent/runs/${second.id}/cancel`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal((await waitRun(weir.url, second.id)).status, 'canceled');
  });

  it('a queued run not started within its job’s ttl ends as expired', async () => {
    const first = await mustStart(weir.url, { job: 'short-lived' });
    await waitRun(weir.url, first.id, 'running');
    const second = await mustStart(weir.url, { job: 'short-lived' });
    assert.equal(second.status, 'queued');
    assert.ok(second.expires_at);
    const run = await waitRun(weir.url, second.id);
    assert.equal(run.status, 'expired');
    // The status commits first; its event is appended after it, in the event log's next batch.
    const seen = await waitFor('the expired run’s status event', async () => {
      const st = statuses(await events(weir.url, second.id));
      return st.length > 0 ? st : null;
    });
    assert.deepEqual(seen, ['expired']);
    await call(weir.url, `/v1/agent/runs/${first.id}/cancel`, { headers: bearer(MASTER_KEY), body: {} });
    await waitRun(weir.url, first.id);
  });

  it('a sandbox error is retried (three attempts in all), then the run fails as sandbox_error; retry by API starts a new attempt', async () => {
    const { id } = await mustStart(weir.url, { profile: 'cloudy', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'failed');
    assert.equal(run.error.kind, 'sandbox_error');
    assert.match(run.error.message, /sandbox "cloud" could not be created: sandbox option api_key: E2B_API_KEY is not set/);
    assert.equal(run.attempt, 3);
    assert.deepEqual(statuses(await events(weir.url, id)), ['provisioning', 'queued', 'provisioning', 'queued', 'provisioning', 'failed']);
    const again = await call(weir.url, `/v1/agent/runs/${id}/retry`, { headers: bearer(MASTER_KEY), body: {} });
    assert.equal(again.status, 202, again.text);
    assert.equal(again.json.retry_of, id);
    assert.notEqual(again.json.id, id);
    await waitRun(weir.url, again.json.id);
  });
});

describe('who owns a run', () => {
  let keyA: string;
  let keyB: string;
  before(async () => {
    await adminOk(weir.url, '/team/new', { team_id: 'agents-a', max_budget: 1 });
    await adminOk(weir.url, '/team/new', { team_id: 'agents-b' });
    keyA = (await adminOk(weir.url, '/key/generate', { team_id: 'agents-a', max_budget: 0.05 })).key;
    keyB = (await adminOk(weir.url, '/key/generate', { team_id: 'agents-b', models: ['other-model'] })).key;
  });

  it('a team key’s run belongs to its team: its team sees it, another team gets a 404', async () => {
    const { id } = await mustStart(weir.url, { profile: 'fails', prompt: 'x' }, keyA);
    const run = await waitRun(weir.url, id);
    assert.equal(run.team_id, 'agents-a');
    assert.equal((await getRun(weir.url, id, keyA)).id, id);
    const other = await call(weir.url, `/v1/agent/runs/${id}`, { headers: bearer(keyB), method: 'GET' });
    assert.equal(other.status, 404);
    const listB = await call(weir.url, '/v1/agent/runs', { headers: bearer(keyB), method: 'GET' });
    assert.ok(!listB.json.data.some((r: any) => r.id === id));
    const listA = await call(weir.url, '/v1/agent/runs', { headers: bearer(keyA), method: 'GET' });
    assert.ok(listA.json.data.some((r: any) => r.id === id));
  });

  it('a run never gets more than its starter: a budget above what the key has left is a 400, a model it may not use a 403', async () => {
    const over = await startRun(weir.url, { profile: 'edit', prompt: 'x', max_budget: 0.5 }, keyA);
    assert.equal(over.status, 400, over.text);
    assert.equal(over.json.error.param, 'max_budget');
    const model = await startRun(weir.url, { profile: 'edit', prompt: 'x' }, keyB);
    assert.equal(model.status, 403, model.text);
    assert.equal(model.json.error.param, 'model');
  });

  it('a team key may not change profiles or start another team’s job', async () => {
    const r = await call(weir.url, '/v1/agent/profiles', { headers: bearer(keyA), body: { name: 'mine', agent: 'command', sandbox: 'dev', command: ['true'] } });
    assert.equal(r.status, 403);
    const j = await startRun(weir.url, { job: 'templated', input: { issue: '1' } }, keyA);
    assert.equal(j.status, 403);
  });
});

describe('bad input', () => {
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['an unknown profile', { profile: 'nope', prompt: 'x' }, 404, /unknown profile "nope"/],
    ['an unknown job', { job: 'nope' }, 404, /unknown job "nope"/],
    ['neither job nor profile', { prompt: 'x' }, 400, /give "job"/],
    ['a profile without a prompt', { profile: 'edit' }, 400, /"prompt" is required/],
    ['a negative max_budget', { profile: 'edit', prompt: 'x', max_budget: -1 }, 400, /max_budget/],
    ['input that is not an object', { job: 'templated', input: [1] }, 400, /"input" must be a JSON object/],
  ];
  for (const [what, body, status, re] of cases) {
    it(`${what} → ${status}`, async () => {
      const r = await startRun(weir.url, body);
      assert.equal(r.status, status, r.text);
      assert.match(r.json.error.message, re);
    });
  }

  it('a body that is not JSON → 400; a run id that does not exist → 404; a body over 1 MB → 413', async () => {
    const notJson = await call(weir.url, '/v1/agent/runs', { headers: bearer(MASTER_KEY), body: '{"profile":' });
    assert.equal(notJson.status, 400, notJson.text);
    const missing = await call(weir.url, '/v1/agent/runs/run_000000000000000000000000', { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(missing.status, 404);
    const big = await startRun(weir.url, { profile: 'edit', prompt: 'x'.repeat(1024 * 1024 + 10) });
    assert.equal(big.status, 413);
  });

  it('the list is paged: limit and offset over newest first; an offset that is not a number → 400', async () => {
    const list = async (qs: string) => {
      const r = await call(weir.url, `/v1/agent/runs${qs}`, { headers: bearer(MASTER_KEY), method: 'GET' });
      assert.equal(r.status, 200, r.text);
      return r.json.data.map((x: any) => x.id) as string[];
    };
    const all = await list('?limit=100');
    assert.ok(all.length >= 3, `runs so far: ${all.length}`);
    assert.deepEqual(await list('?limit=2'), all.slice(0, 2));
    assert.deepEqual(await list('?limit=2&offset=1'), all.slice(1, 3));
    assert.deepEqual(await list(`?offset=${all.length}`), []);
    const bad = await call(weir.url, '/v1/agent/runs?offset=-1', { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(bad.json.error.param, 'offset');
  });

  it('no key → 401', async () => {
    const r = await call(weir.url, '/v1/agent/runs', { method: 'GET' });
    assert.equal(r.status, 401);
  });
});
}
