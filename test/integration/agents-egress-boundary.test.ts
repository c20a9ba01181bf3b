// The egress allow-list as a hard boundary on the local sandbox under bwrap: a run whose profile
// has a list gets a network namespace of its own, whose only ways out are Weir's gateway and its
// egress proxy (net-boundary.ts, net-relay.js). The agent (the `command` harness, curl) tries a
// host server directly (refused: there is no route), reaches a listed host through the proxy, calls
// the model through the relay (its spend on the run key), uses a secret swapped by the proxy; after
// the run nothing it had listens. A profile without a list still reaches any host directly. A
// sandbox with a warm pool is fenced the same: its pooled process was started in the host's
// network, so a fenced run does not take it over and starts its agent in a namespace of its own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import { findOnPath, hostIds } from '../../src/agents/sandbox/isolation';
import { ensureBubblewrap } from '../support/bubblewrap';
import { localOptions } from '../../src/agents/sandbox/local-options';
import type { MockUpstream } from '../support/mock-upstream';
import { testTls } from '../support/test-tls';
import { MASTER_KEY, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, rows, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';
import { CURL_CHAT, agentConfig, events, localPoolReady, mustStart, printed, scriptProfile, waitRun } from './agent-runs-helpers';

const REAL = `ghp_boundary${Date.now().toString(36)}`;

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let plain: http.Server;
let api: https.Server;
let dir: string;
const hits: string[] = [];

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

function listen<S extends net.Server>(s: S): Promise<S> {
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

/** Every unix socket path the host has open that lies under this folder. */
function unixSocketsUnder(folder: string): string[] {
  return fs.readFileSync('/proc/net/unix', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)[7] ?? '').filter((p) => p.startsWith(folder));
}

/** Whether Weir's sandbox here will be bwrap with a network namespace (as an unprivileged user when root). */
function bwrapWithNet(): boolean {
  ensureBubblewrap();
  const bwrap = findOnPath('bwrap');
  if (!bwrap) return false;
  const ids = hostIds(localOptions({}));
  return spawnSync(bwrap, ['--unshare-user', '--unshare-net', '--ro-bind', '/', '/', 'true'], { stdio: 'ignore', ...ids }).status === 0;
}
const usable = bwrapWithNet();

before(async () => {
  mock = await startMock();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-boundary-'));
  const tls = testTls(['localhost']);
  const caFile = path.join(dir, 'fake-github-ca.pem');
  fs.writeFileSync(caFile, tls.caPem);
  plain = await listen(http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end(`served ${req.url}`);
  }));
  api = await listen(https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    hits.push(req.url ?? '');
    res.end(req.headers.authorization === `Bearer ${REAL}` ? '{"login":"octo"}' : '{"message":"Bad credentials"}');
  }));
  const db = await ledgerDatabase('agents_egress_boundary');
  pool = dbPool(db);
  const fenced = [
    'echo "base=$OPENAI_BASE_URL"',
    `curl -sS -m 10 --noproxy '*' http://127.0.0.1:${portOf(plain)}/direct; echo "direct-exit=$?"`,
    `curl -sS -m 10 --noproxy '*' http://localhost:${portOf(plain)}/direct-listed; echo "direct-listed-exit=$?"`,
    `curl -sS -m 10 http://localhost:${portOf(plain)}/proxied; echo; echo "proxied-exit=$?"`,
    `curl -sS -m 10 -H "Authorization: Bearer $GITHUB_TOKEN" https://localhost:${portOf(api)}/user; echo`,
    CURL_CHAT,
  ].join('\n');
  const profiles =
    scriptProfile('fenced', fenced, { secrets: ['GITHUB_TOKEN'], egress: { allow: ['localhost'] } }) +
    scriptProfile('open', `curl -sS -m 10 http://127.0.0.1:${portOf(plain)}/open-direct; echo; echo "open-exit=$?"`) +
    scriptProfile('fenced-warm', `curl -sS -m 10 --noproxy '*' http://127.0.0.1:${portOf(plain)}/warm-direct; echo "warm-direct-exit=$?"`, { sandbox: 'warm', egress: { allow: ['localhost'] } });
  const sandboxes = '    - {name: dev, provider: local}\n    - {name: warm, provider: local, warm_pool: 1}\n';
  weir = await startWeirOn(writeConfigFile(agentConfig(mock.url, db, { profiles, sandboxes })), { env: { NODE_EXTRA_CA_CERTS: caFile, WEIR_VAULT_KEY: 'vault-key-of-the-boundary-test' } });
  const r = await call(weir.url, '/v1/agent/secrets', { headers: bearer(MASTER_KEY), body: { name: 'GITHUB_TOKEN', value: REAL, hosts: ['localhost'] } });
  assert.equal(r.status, 201, r.text);
});

after(async () => {
  await closeAndCheckLedgers(() => weir.stop(), async () => pool.end(), () => mock.close());
  plain.close();
  api.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the egress allow-list as a boundary of the local bwrap sandbox', { skip: !usable && 'bwrap cannot make namespaces here' }, () => {
  it('refuses a direct connection, lets the proxy reach a listed host, the model calls go through the relay, a secret is swapped', async () => {
    const { id } = await mustStart(weir.url, { profile: 'fenced', prompt: 'x' });
    const run = await waitRun(weir.url, id, undefined, 90_000);
    const evs = await events(weir.url, id);
    const out = printed(evs);
    assert.equal(run.status, 'succeeded', out);
    const running = evs.find((e) => e.type === 'status' && e.payload.status === 'running');
    assert.match(running.payload.isolation, /network: own namespace, only Weir's gateway and egress proxy/, 'the boundary in force is said');
    assert.match(out, /base=http:\/\/127\.0\.0\.1:\d+\/v1/, 'the agent is pointed at the relay inside');
    assert.match(out, /direct-exit=[1-9]/, `a direct connection fails\n${out}`);
    assert.match(out, /direct-listed-exit=[1-9]/, `even to a listed host\n${out}`);
    assert.ok(!hits.includes('/direct') && !hits.includes('/direct-listed'), 'the host server saw no direct call');
    assert.ok(out.includes('served /proxied') && out.includes('proxied-exit=0'), `the proxy reaches a listed host\n${out}`);
    assert.ok(out.includes('{"login":"octo"}'), `the proxy swapped the stub for the real secret\n${out}`);
    assert.ok(!out.includes(REAL));
    // The model call went through the relay and its spend is the run key's.
    const key = await one(pool, `SELECT * FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [`weir-run-${id}`]);
    const logs = await rows(pool, `SELECT spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1`, [key.token]);
    assert.equal(logs.length, 1, `one call through the relay, one spend row\n${out}`);
    assert.ok(run.cost > 0 && Math.abs(Number(key.spend) - run.cost) < 1e-12, `cost ${run.cost}, key spend ${key.spend}`);
    // Nothing of the boundary is left: no socket of the run's folder is open on the host.
    const sandboxEvent = evs.find((e) => e.type === 'sandbox');
    const runDir = path.dirname(sandboxEvent.payload.workdir);
    assert.deepEqual(unixSocketsUnder(runDir), []);
    assert.equal(fs.existsSync(runDir), false, 'the run folder is gone');
  });

  it('a fenced run on a sandbox with a warm pool is fenced too', async () => {
    await localPoolReady(weir.url, 'warm');
    const { id } = await mustStart(weir.url, { profile: 'fenced-warm', prompt: 'x' });
    const run = await waitRun(weir.url, id, undefined, 90_000);
    const evs = await events(weir.url, id);
    const out = printed(evs);
    assert.equal(run.status, 'succeeded', out);
    assert.equal(run.sandbox.start, 'warm', 'the run had a pooled sandbox');
    const running = evs.find((e) => e.type === 'status' && e.payload.status === 'running');
    assert.match(running.payload.isolation, /network: own namespace/, 'the boundary in force is said');
    assert.match(out, /warm-direct-exit=[1-9]/, `a direct connection fails\n${out}`);
    assert.ok(!hits.includes('/warm-direct'), 'the host server saw no direct call');
  });

  it('a profile without a list keeps the host network (liberal: any host, as before)', async () => {
    const { id } = await mustStart(weir.url, { profile: 'open', prompt: 'x' });
    const run = await waitRun(weir.url, id, undefined, 90_000);
    const out = printed(await events(weir.url, id));
    assert.equal(run.status, 'succeeded', out);
    assert.ok(out.includes('served /open-direct') && out.includes('open-exit=0'), out);
  });
});
