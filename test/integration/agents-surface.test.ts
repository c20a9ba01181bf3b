// The rest of the agent API through the real gateway: definitions by API beside the config's (and
// every refusal there), cron firing a job, a job's notify webhook signed as Standard Webhooks, the
// events as server-sent events resumed with Last-Event-ID, and agents that misbehave (garbage
// output, a capped fork bomb, a workspace filler) ended by the sandbox's limits while Weir serves.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { parseSse } from '../support/http';
import { verifyWebhook } from '../../src/agents/webhook-verify';
import { MASTER_KEY, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, startMock, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, events, mustStart, printed, scriptProfile, statuses, waitRun } from './agent-runs-helpers';

const NOTIFY_SECRET = `whsec_${Buffer.from('notify-secret-bytes-for-tests').toString('base64')}`;

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let receiver: http.Server;
const received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];

const api = (p: string, method: string, body?: unknown) => call(weir.url, p, { headers: bearer(MASTER_KEY), method, body });

before(async () => {
  mock = await startMock();
  receiver = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(parts) });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/weir`;
  const db = await ledgerDatabase('agents_surface');
  pool = dbPool(db);
  const profiles = [
    scriptProfile('quick', 'echo one; echo two; echo three'),
    scriptProfile('garbage', `head -c 100000 /dev/urandom; echo; head -c 3000000 /dev/zero | tr '\\0' x; echo; echo '{"type":'; echo done`),
    // It ends on its own once its forks have been refused (the timeout is only the backstop): how
    // fast it gets there depends on the CPU a niced agent gets on a busy machine, so no deadline.
    scriptProfile('bomb', 'i=0; while [ $i -lt 2000 ]; do sleep 100017 & i=$((i+1)); done; echo finished; exit 1', { sandbox: 'tight', timeout: '120s' }),
    scriptProfile('filler', 'i=0; while [ $i -lt 60 ]; do head -c 1048576 /dev/zero > f$i || break; i=$((i+1)); done; echo filled; exec sleep 100000', { sandbox: 'tight' }),
  ].join('');
  const jobs = `    - {name: notified, profile: quick, prompt: "x", notify: {url: "${notifyUrl}", secret: "${NOTIFY_SECRET}"}}
    - {name: ticking, profile: quick, prompt: "tick {{schedule.tick}}", schedule: {cron: "*/5 * * * * *"}, concurrency: {limit: 1, on_conflict: skip}}
`;
  const config = agentConfig(mock.url, db, { profiles, jobs }).replace(
    '    - {name: dev, provider: local}\n',
    '    - {name: dev, provider: local}\n    - {name: tight, provider: local, max_processes: 48, max_workspace_mb: 20, size_check_ms: 100}\n',
  );
  weir = await startWeirOn(writeConfigFile(config));
});

after(() => closeAndCheckLedgers(() => weir.stop(), async () => pool.end(), () => mock.close(), () => new Promise<void>((r) => receiver.close(() => r()))));

describe('start lines', () => {
  it('say which isolation each local sandbox gets', () => {
    assert.match(weir.output(), /agents: sandbox "dev" \(local\) isolation: (bwrap|user|none) /);
    assert.match(weir.output(), /agents: sandbox "tight" \(local\) isolation: .*48 processes, .*20 MB disk/);
  });
});

describe('definitions through the API', () => {
  it('a profile and a job made by API are listed beside the config’s, read by name or id, changed and deleted', async () => {
    const p = await api('/v1/agent/profiles', 'POST', { name: 'api-quick', agent: 'command', sandbox: 'dev', model: 'gpt', command: ['sh', '-c', 'echo from-api'] });
    assert.equal(p.status, 201, p.text);
    assert.equal(p.json.source, 'api');
    const j = await api('/v1/agent/jobs', 'POST', { name: 'api-job', profile: 'api-quick', prompt: 'hi {{input.who}}' });
    assert.equal(j.status, 201, j.text);
    const byId = await api(`/v1/agent/jobs/${j.json.id}`, 'GET');
    assert.equal(byId.json.name, 'api-job');
    const list = await api('/v1/agent/profiles', 'GET');
    const names = list.json.data.map((x: any) => `${x.name}:${x.source}`);
    assert.ok(names.includes('quick:config') && names.includes('api-quick:api'), names.join(','));
    const patched = await api('/v1/agent/jobs/api-job', 'PATCH', { prompt: 'bye {{input.who}}' });
    assert.equal(patched.status, 200, patched.text);
    const run = await mustStart(weir.url, { job: 'api-job', input: { who: 'there' } });
    assert.equal((await waitRun(weir.url, run.id)).status, 'succeeded');
    assert.match(printed(await events(weir.url, run.id)), /from-api/);
    const inUse = await api('/v1/agent/profiles/api-quick', 'DELETE');
    assert.equal(inUse.status, 409, 'a profile a job uses stays');
    assert.equal((await api('/v1/agent/jobs/api-job', 'DELETE')).status, 200);
    assert.equal((await api('/v1/agent/profiles/api-quick', 'DELETE')).status, 200);
    assert.equal((await api('/v1/agent/jobs/api-job', 'GET')).status, 404);
  });

  const refusals: Array<[string, string, string, unknown, number, RegExp]> = [
    ['a name the config uses', '/v1/agent/profiles', 'POST', { name: 'quick', agent: 'command', sandbox: 'dev', command: ['true'] }, 409, /defined in the config/],
    ['a change to a config definition', '/v1/agent/jobs/notified', 'PATCH', { prompt: 'y' }, 409, /defined in the config/],
    ['a bad cron pattern', '/v1/agent/jobs', 'POST', { name: 'c1', profile: 'quick', prompt: 'x', schedule: { cron: '61 * * * *' } }, 400, /cron/],
    ['an unknown timezone', '/v1/agent/jobs', 'POST', { name: 'c2', profile: 'quick', prompt: 'x', schedule: { cron: '0 3 * * *', timezone: 'Mars/Olympus' } }, 400, /timezone|cron/],
    ['an unknown profile', '/v1/agent/jobs', 'POST', { name: 'c3', profile: 'nope', prompt: 'x' }, 400, /unknown profile "nope"/],
    ['an unknown sandbox', '/v1/agent/profiles', 'POST', { name: 'p1', agent: 'command', sandbox: 'nope', command: ['true'] }, 400, /unknown sandbox "nope"/],
    ['an unknown agent', '/v1/agent/profiles', 'POST', { name: 'p2', agent: 'gemini', sandbox: 'dev' }, 400, /agent/],
    ['a prompt template left open', '/v1/agent/jobs', 'POST', { name: 'c4', profile: 'quick', prompt: 'hi {{input.x' }, 400, /prompt/],
    ['a webhook without a secret', '/v1/agent/jobs', 'POST', { name: 'c5', profile: 'quick', prompt: 'x', webhook: { verify: 'github' } }, 400, /secret/],
    ['a bad timeout', '/v1/agent/profiles', 'POST', { name: 'p3', agent: 'command', sandbox: 'dev', command: ['true'], timeout: 'soon' }, 400, /timeout/],
  ];
  for (const [what, p, method, body, status, re] of refusals) {
    it(`${what} → ${status}, nothing created`, async () => {
      const before = (await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentDefinition"`)).n;
      const r = await api(p, method, body);
      assert.equal(r.status, status, r.text);
      assert.match(r.json.error.message, re);
      assert.equal((await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentDefinition"`)).n, before);
    });
  }

  it('a profile naming a model this gateway does not serve: its run is refused with a 400 naming the model', async () => {
    assert.equal((await api('/v1/agent/profiles', 'POST', { name: 'ghost', agent: 'command', sandbox: 'dev', model: 'no-such-model', command: ['true'] })).status, 201);
    const r = await call(weir.url, '/v1/agent/runs', { headers: bearer(MASTER_KEY), body: { profile: 'ghost', prompt: 'x' } });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.param, 'model');
  });
});

describe('cron', () => {
  it('a scheduled job fires; next-runs lists its coming ticks', async () => {
    const next = await api('/v1/agent/jobs/ticking/next-runs?n=3', 'GET');
    assert.equal(next.status, 200, next.text);
    assert.equal(next.json.data.length, 3);
    const fired = await waitFor('a run of the cron job', async () => (await one(pool, `SELECT id FROM "Weir_AgentRun" WHERE job_name = 'ticking' AND trigger = 'cron' AND status = 'succeeded' LIMIT 1`)), 30_000, 100);
    const run = await waitRun(weir.url, fired.id);
    assert.match(run.trigger_ref, /^\d{4}-\d\d-\d\dT/);
    const notScheduled = await api('/v1/agent/jobs/notified/next-runs', 'GET');
    assert.equal(notScheduled.status, 400);
  });
});

describe('notify', () => {
  it('a finished run of a job with notify POSTs its summary, signed as Standard Webhooks', async () => {
    const { id } = await mustStart(weir.url, { job: 'notified' });
    await waitRun(weir.url, id);
    const got = await waitFor('the notification', () => received.find((r) => r.body.toString().includes(id)), 20_000);
    const headers = Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k, String(v)]));
    const v = verifyWebhook({ verify: 'standard', secret: NOTIFY_SECRET }, headers, got.body, new Date());
    assert.ok(v.ok, JSON.stringify(v));
    const body = JSON.parse(got.body.toString());
    assert.equal(body.type, 'agent.run.finished');
    assert.equal(body.run.id, id);
    assert.equal(body.run.status, 'succeeded');
  });
});

describe('events as server-sent events', () => {
  it('a finished run’s stream replays every event with its id and ends; Last-Event-ID resumes after it', async () => {
    const { id } = await mustStart(weir.url, { profile: 'quick', prompt: 'x' });
    await waitRun(weir.url, id);
    const all = await call(weir.url, `/v1/agent/runs/${id}/events`, { headers: { ...bearer(MASTER_KEY), accept: 'text/event-stream' }, method: 'GET' });
    assert.equal(all.status, 200);
    assert.match(String(all.headers['content-type']), /text\/event-stream/);
    const evs = parseSse(all.text).filter((e) => e.data);
    const seqs = evs.map((e) => JSON.parse(e.data).seq);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
    assert.ok(all.text.includes('id: 1\n'));
    assert.equal(JSON.parse(evs.at(-1)!.data).payload.status, 'succeeded');
    const resumed = await call(weir.url, `/v1/agent/runs/${id}/events`, { headers: { ...bearer(MASTER_KEY), accept: 'text/event-stream', 'last-event-id': '2' }, method: 'GET' });
    const after = parseSse(resumed.text).filter((e) => e.data).map((e) => JSON.parse(e.data).seq);
    assert.deepEqual(after, seqs.slice(2));
  });

  it('a live stream delivers the run’s events as they happen and ends with its final status', async () => {
    const { id } = await mustStart(weir.url, { profile: 'quick', prompt: 'x' });
    const live = await call(weir.url, `/v1/agent/runs/${id}/events`, { headers: { ...bearer(MASTER_KEY), accept: 'text/event-stream' }, method: 'GET', timeoutMs: 60_000 });
    const evs = parseSse(live.text).filter((e) => e.data).map((e) => JSON.parse(e.data));
    assert.deepEqual(statuses(evs), ['provisioning', 'running', 'succeeded']);
  });

  it('a run id that does not exist → 404 in JSON, not a stream', async () => {
    const r = await call(weir.url, '/v1/agent/runs/run_nope/events', { headers: { ...bearer(MASTER_KEY), accept: 'text/event-stream' }, method: 'GET' });
    assert.equal(r.status, 404);
    assert.match(r.json.error.message, /unknown run/);
  });
});

describe('agents that misbehave', () => {
  const serving = async () => assert.equal((await call(weir.url, '/health/liveliness', { method: 'GET' })).status, 200);

  it('garbage output (binary, a 3 MB line, broken JSON) is kept as events, cut where too long; the run ends', async () => {
    const { id } = await mustStart(weir.url, { profile: 'garbage', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'succeeded');
    assert.match(printed(await events(weir.url, id)), /done/);
    await serving();
  });

  it('a capped fork bomb runs into the process limit; the run ends with every process it made (the watchdog is the backstop)', async () => {
    const { id } = await mustStart(weir.url, { profile: 'bomb', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.ok(run.status === 'failed' || run.status === 'timed_out', run.status);
    assert.match(printed(await events(weir.url, id)), /fork/i, 'it was refused a fork');
    assert.equal(execFileSync('sh', ['-c', 'ps -eo args | grep -c "[s]leep 100017" || true']).toString().trim(), '0', 'no process of the bomb is left');
    await serving();
  });

  it('a workspace filler is killed at the workspace cap', async () => {
    const { id } = await mustStart(weir.url, { profile: 'filler', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'failed');
    assert.match(printed(await events(weir.url, id)), /max_workspace_mb/);
    await serving();
  });
});
