// The egress allow-list as a hard boundary on the local sandbox under bwrap: a run whose profile
// has a list gets a network namespace of its own, whose only ways out are Weir's gateway and its
// egress proxy (net-boundary.ts, net-relay.js). The agent (the `command` harness, curl) tries a
// host server directly (refused: there is no route), reaches a listed host through the proxy, calls
// the model through the relay (its spend on the run key), uses a secret swapped by the proxy; after
// the run nothing it had listens. A profile without a list still reaches any host directly. A
// sandbox with a warm pool is fenced the same: its pooled process was started in the host's
// network, so a fenced run does not take it over and starts its agent in a namespace of its own.
// A session's live terminal of a fenced profile (`weir attach`'s WebSocket) is fenced the same way:
// what runs in its PTY reaches the gateway and the proxy, and nothing else.
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
import WebSocket from 'ws';
import { findOnPath, hostIds } from '../../src/agents/sandbox/isolation';
import { ensureBubblewrap } from '../support/bubblewrap';
import { localOptions } from '../../src/agents/sandbox/local-options';
import type { MockUpstream } from '../support/mock-upstream';
import { testTls } from '../support/test-tls';
import { MASTER_KEY, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, rows, startMock, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';
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
    // The same checks in a session's terminal, run when a line is typed into it.
    scriptProfile('fenced-term', `echo term-ready; read -r go\n${fenced}\necho term-done; read -r end`, { secrets: ['GITHUB_TOKEN'], egress: { allow: ['localhost'] } }) +
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
    // The boundary's bytes were forwarded on a thread that is not the control thread (the egress
    // proxy's), which counted them: the relayed model call, the proxied calls.
    const stats = await waitFor('the forwarded connections counted', async () => {
      const r = await call(weir.url, '/v1/agent/stats', { headers: bearer(MASTER_KEY), method: 'GET' });
      return r.json?.net_boundary?.connections >= 3 ? r.json : null;
    }, 30_000);
    assert.ok(Number.isInteger(stats.net_boundary.thread_id) && stats.net_boundary.thread_id !== stats.control_thread_id, JSON.stringify(stats));
    assert.ok(stats.net_boundary.bytes > 1000, JSON.stringify(stats));
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

  it("a session's live terminal of a fenced profile is fenced the same: only the gateway and the proxy are reached from it", async () => {
    const made = await call(weir.url, '/v1/agent/sessions', { headers: bearer(MASTER_KEY), body: { profile: 'fenced-term' } });
    assert.equal(made.status, 201, made.text);
    const sessionId = made.json.id as string;
    let out = '';
    const ws = new WebSocket(`${weir.url.replace(/^http/, 'ws')}/v1/agent/sessions/${sessionId}/attach`, { headers: bearer(MASTER_KEY) });
    ws.on('message', (d, binary) => {
      if (binary) out += Buffer.from(d as Buffer).toString('utf8');
    });
    const closed = new Promise<void>((r) => ws.on('close', () => r()));
    await new Promise<void>((resolve, reject) => ws.on('open', resolve).on('error', reject));
    const seen = (what: string) => waitFor(`terminal output "${what}"`, () => out.includes(what) || null, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n--- received\n${out.slice(-3000)}\n--- gateway\n${weir.output().slice(-3000)}`);
    });
    await seen('term-ready');
    const before = hits.length;
    ws.send(Buffer.from('go\r'));
    await seen('term-done');
    assert.match(out, /base=http:\/\/127\.0\.0\.1:\d+\/v1/, `the agent is pointed at the relay inside\n${out}`);
    assert.match(out, /direct-exit=[1-9]/, `a direct connection from the terminal fails\n${out}`);
    assert.match(out, /direct-listed-exit=[1-9]/, `even to a listed host\n${out}`);
    assert.ok(!hits.slice(before).includes('/direct') && !hits.slice(before).includes('/direct-listed'), 'the host server saw no direct call');
    assert.ok(out.includes('served /proxied') && out.includes('proxied-exit=0'), `the proxy reaches a listed host\n${out}`);
    assert.ok(out.includes('{"login":"octo"}'), `the proxy swapped the stub for the real secret\n${out}`);
    assert.ok(!out.includes(REAL));
    assert.match(out, /"chat\.completion"/, `the model call went through the relay to the gateway\n${out}`);
    const del = await call(weir.url, `/v1/agent/sessions/${sessionId}`, { headers: bearer(MASTER_KEY), method: 'DELETE' });
    assert.equal(del.status, 200, del.text);
    await closed;
    // Nothing of the terminal's boundary is left once its sandbox is gone (its folder is named
    // after the session): polled, as the sandbox goes after the viewers are told.
    const open = () => fs.readFileSync('/proc/net/unix', 'utf8').split('\n').filter((l) => l.includes(`/${sessionId}-t`));
    await waitFor("the terminal's sockets closed", () => (open().length === 0 ? true : null), 30_000);
  });

  it('a profile without a list keeps the host network (liberal: any host, as before)', async () => {
    const { id } = await mustStart(weir.url, { profile: 'open', prompt: 'x' });
    const run = await waitRun(weir.url, id, undefined, 90_000);
    const out = printed(await events(weir.url, id));
    assert.equal(run.status, 'succeeded', out);
    assert.ok(out.includes('served /open-direct') && out.includes('open-exit=0'), out);
  });
});
