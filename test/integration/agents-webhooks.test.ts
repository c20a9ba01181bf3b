// Webhooks start runs: POST /v1/hooks/{token}, the token shown as the job's webhook_url (derived
// from the job name and a server secret, so a restart keeps it), verified by GitHub's
// X-Hub-Signature-256 or Standard Webhooks, deduplicated by the delivery id, filtered by event,
// and rendered into the prompt. Every refusal starts nothing.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import type { MockUpstream } from '../support/mock-upstream';
import { MASTER_KEY, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, events, printed, scriptProfile, waitRun } from './agent-runs-helpers';
import { signStandard } from '../../src/agents/standard-webhooks';

const GH_SECRET = 'gh-secret-for-tests-81c2';
const STD_SECRET = `whsec_${Buffer.from('standard-webhooks-secret-bytes').toString('base64')}`;

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let ghUrl: string;
let stdUrl: string;

const profiles = scriptProfile('echo', 'cat "$WEIR_PROMPT_FILE"; echo');
const jobs = `    - name: triage
      profile: echo
      prompt: "Triage issue #{{payload.issue.number}}: {{payload.issue.title}}"
      webhook: {verify: github, secret: os.environ/GH_WEBHOOK_SECRET, events: [issues.opened]}
      concurrency: {limit: 2, on_conflict: queue}
    - name: standard
      profile: echo
      prompt: "Deploy {{payload.service}}"
      webhook: {verify: standard, secret: "${STD_SECRET}"}
`;

const runCount = async (): Promise<number> => (await one(pool, `SELECT count(*)::int AS n FROM "Weir_AgentRun"`)).n;

function github(url: string, payload: unknown, o: { event?: string; delivery?: string; secret?: string; tamper?: boolean; raw?: string } = {}) {
  const body = o.raw ?? JSON.stringify(payload);
  const sig = `sha256=${createHmac('sha256', o.secret ?? GH_SECRET).update(body).digest('hex')}`;
  return call(url, '', {
    body: o.tamper ? body.replace('Crash', 'Crasj') : body,
    headers: { 'x-github-event': o.event ?? 'issues', 'x-github-delivery': o.delivery ?? `d-${Math.random()}`, 'x-hub-signature-256': sig },
  });
}

before(async () => {
  mock = await startMock();
  const db = await ledgerDatabase('agents_hooks');
  pool = dbPool(db);
  weir = await startWeirOn(writeConfigFile(agentConfig(mock.url, db, { profiles, jobs })), { env: { GH_WEBHOOK_SECRET: GH_SECRET } });
  const list = await call(weir.url, '/v1/agent/jobs', { headers: bearer(MASTER_KEY), method: 'GET' });
  const job = (n: string) => list.json.data.find((j: any) => j.name === n);
  ghUrl = job('triage').webhook_url;
  stdUrl = job('standard').webhook_url;
});

after(() => closeAndCheckLedgers(() => weir.stop(), async () => pool.end(), () => mock.close()));

const issue = { action: 'opened', issue: { number: 7, title: 'Crash on start' } };

describe('GitHub webhooks', () => {
  it('a job shows its webhook URL (never its secret); a signed delivery → 202 with the run, its payload rendered into the prompt', async () => {
    assert.match(ghUrl, /\/v1\/hooks\/[A-Za-z0-9_-]{22,}$/);
    const job = await call(weir.url, '/v1/agent/jobs/triage', { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.ok(!job.text.includes(GH_SECRET));
    assert.equal(job.json.webhook.secret_set, true);
    const r = await github(ghUrl, issue, { delivery: 'delivery-1' });
    assert.equal(r.status, 202, r.text);
    assert.match(r.json.run_id, /^run_/);
    const run = await waitRun(weir.url, r.json.run_id);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.trigger, 'webhook');
    assert.match(printed(await events(weir.url, run.id)), /Triage issue #7: Crash on start/);
  });

  it('a replayed delivery starts nothing: 200 deduplicated, with the first run', async () => {
    const first = await github(ghUrl, issue, { delivery: 'delivery-replay' });
    assert.equal(first.status, 202);
    const n = await runCount();
    const again = await github(ghUrl, issue, { delivery: 'delivery-replay' });
    assert.equal(again.status, 200);
    assert.equal(again.json.deduplicated, true);
    assert.equal(again.json.run_id, first.json.run_id);
    assert.equal(await runCount(), n);
  });

  const refusals: Array<[string, () => ReturnType<typeof github>, number, RegExp]> = [
    ['a tampered body', () => github(ghUrl, issue, { tamper: true }), 401, /signature/i],
    ['a wrong secret', () => github(ghUrl, issue, { secret: 'not-the-secret' }), 401, /signature/i],
    ['a missing signature', () => call(ghUrl, '', { body: issue, headers: { 'x-github-event': 'issues', 'x-github-delivery': 'x1' } }), 401, /x-hub-signature-256/i],
    ['a body that is not JSON', () => github(ghUrl, null, { raw: 'not json at all' }), 400, /JSON/],
    ['an unknown token', () => call(ghUrl.replace(/[^/]+$/, 'not-a-token'), '', { body: issue }), 404, /unknown webhook/],
    ['a payload without the fields the prompt names', () => github(ghUrl, { action: 'opened', issue: { number: 8 } }), 400, /payload\.issue\.title/],
  ];
  for (const [what, send, status, re] of refusals) {
    it(`${what} → ${status}, and no run`, async () => {
      const n = await runCount();
      const r = await send();
      assert.equal(r.status, status, r.text);
      assert.match(r.json.error.message, re);
      assert.equal(await runCount(), n);
    });
  }

  it('an event the job does not take is acknowledged and ignored', async () => {
    const n = await runCount();
    const r = await github(ghUrl, { ...issue, action: 'closed' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ignored, true);
    assert.equal(await runCount(), n);
  });

  it('a delivery whose run could not start may be delivered again', async () => {
    const bad = await github(ghUrl, { action: 'opened', issue: { number: 9 } }, { delivery: 'retry-me' });
    assert.equal(bad.status, 400);
    const good = await github(ghUrl, issue, { delivery: 'retry-me' });
    assert.equal(good.status, 202, good.text);
  });
});

describe('Standard Webhooks', () => {
  const send = (payload: unknown, o: { ts?: number; secret?: string; id?: string } = {}) => {
    const body = JSON.stringify(payload);
    const id = o.id ?? `msg_${Math.random().toString(36).slice(2)}`;
    const ts = o.ts ?? Math.floor(Date.now() / 1000);
    return call(stdUrl, '', { body, headers: { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signStandard(o.secret ?? STD_SECRET, id, ts, body) } });
  };

  it('a signed message → 202; its payload reaches the prompt', async () => {
    const r = await send({ service: 'billing' });
    assert.equal(r.status, 202, r.text);
    await waitRun(weir.url, r.json.run_id);
    assert.match(printed(await events(weir.url, r.json.run_id)), /Deploy billing/);
  });

  it('an expired timestamp (over 5 minutes old) → 401; a wrong secret → 401; no run', async () => {
    const n = await runCount();
    const old = await send({ service: 'x' }, { ts: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal(old.status, 401, old.text);
    const wrong = await send({ service: 'x' }, { secret: `whsec_${Buffer.from('other').toString('base64')}` });
    assert.equal(wrong.status, 401, wrong.text);
    assert.equal(await runCount(), n);
  });

  it('a body over 1 MB → 413', async () => {
    const r = await send({ service: 'x'.repeat(1024 * 1024) });
    assert.equal(r.status, 413);
  });
});
