// The vault: the agent (the `command` harness, with curl and git) calls a local HTTPS server standing
// in for GitHub (`localhost`) with $GITHUB_TOKEN through Weir's egress proxy. That server sees the
// real token (a bearer header from curl, Basic credentials from git); the agent's environment, its
// events and Weir's output hold only the stub, and a real value it prints is masked. A host the
// secret is not for (127.0.0.3) is tunnelled untouched: it sees the stub, under its own
// certificate. An injected secret (opt-in) is the real value, masked when printed. Bad input: an unknown secret name, a secret sealed under another vault key, proxy
// requests without (or with a spent) run key, a host outside the allow-list.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import { vaultKey } from '../../src/agents/vault/crypto';
import { startGitHttp, type GitHttp } from '../support/git-http';
import type { MockUpstream } from '../support/mock-upstream';
import { testTls } from '../support/test-tls';
import { MASTER_KEY, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, one, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';
import { agentConfig, events, mustStart, printed, scriptProfile, waitRun } from './agent-runs-helpers';

const REAL = `ghp_real${'x'.repeat(8)}${Date.now().toString(36)}`;
const VAULT_KEY = 'vault-key-of-this-test';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let api: https.Server;
let other: https.Server;
let git: GitHttp;
let dir: string;
/** Authorization headers the two HTTPS servers saw, by path. */
const seen: { host: string; path: string; auth: string | undefined }[] = [];

function apiServer(tls: { keyPem: string; certPem: string }, host: string): Promise<https.Server> {
  const s = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    seen.push({ host, path: req.url ?? '', auth: req.headers.authorization });
    if (req.url === '/echo') return void res.end(`auth=${req.headers.authorization ?? ''}`);
    if (req.url === '/user') {
      if (req.headers.authorization === `Bearer ${REAL}`) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"login":"octo"}');
      return void res.writeHead(401).end('{"message":"Bad credentials"}');
    }
    res.writeHead(404).end();
  });
  return new Promise((r) => s.listen(0, host, () => r(s)));
}

const port = (s: https.Server) => (s.address() as net.AddressInfo).port;

before(async () => {
  mock = await startMock();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-vault-'));
  const tls = testTls(['localhost', '127.0.0.3']);
  const caFile = path.join(dir, 'fake-github-ca.pem');
  fs.writeFileSync(caFile, tls.caPem);
  api = await apiServer(tls, '127.0.0.1');
  other = await apiServer(tls, '127.0.0.3');
  // A repository to list over HTTPS, served only with x-access-token:<real token>.
  const src = path.join(dir, 'src');
  execFileSync('git', ['init', '-q', src]);
  execFileSync('git', ['-C', src, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'first']);
  execFileSync('git', ['clone', '-q', '--bare', src, path.join(dir, 'repos', 'repo.git')]);
  git = await startGitHttp(path.join(dir, 'repos'), `Basic ${Buffer.from(`x-access-token:${REAL}`).toString('base64')}`, { key: tls.keyPem, cert: tls.certPem, host: 'localhost' });

  const db = await ledgerDatabase('agents_vault');
  pool = dbPool(db);
  const gh = [
    'echo "env-token=$GITHUB_TOKEN"',
    'echo "proxy-port=${HTTPS_PROXY##*:}"',
    `curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" https://localhost:${port(api)}/user; echo`,
    `curl -sS -H "Authorization: Bearer $GITHUB_TOKEN" https://localhost:${port(api)}/echo; echo`,
    `git ls-remote "https://x-access-token:$GITHUB_TOKEN@localhost:${git.url.split(':').pop()}/repo.git" && echo git-ok`,
    'printf "%s" "$FAKE_CA" > fake-ca.pem',
    `curl -sS --cacert fake-ca.pem -H "Authorization: Bearer $GITHUB_TOKEN" https://127.0.0.3:${port(other)}/echo; echo`,
  ].join('\n');
  const profiles =
    scriptProfile('gh', gh, { secrets: ['GITHUB_TOKEN'], env: { FAKE_CA: tls.caPem } }) +
    scriptProfile('fenced', `curl -sS https://127.0.0.3:${port(other)}/echo; echo "curl-exit=$?"`, { egress: { allow: ['allowed.example'] } }) +
    scriptProfile('missing', 'echo never', { secrets: ['NO_SUCH_SECRET'] }) +
    scriptProfile('rekeyed', 'echo never', { secrets: ['OLD_TOKEN'] }) +
    scriptProfile('injected', 'echo "npm=$NPM_TOKEN"; echo "proxy=${HTTPS_PROXY:+set}"', { secrets: ['NPM_TOKEN'] });
  weir = await startWeirOn(writeConfigFile(agentConfig(mock.url, db, { profiles })), { env: { NODE_EXTRA_CA_CERTS: caFile, WEIR_VAULT_KEY: VAULT_KEY } });
});

after(async () => {
  await closeAndCheckLedgers(() => weir.stop(), async () => pool.end(), () => mock.close(), () => git.close());
  api.close();
  other.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const secrets = (p: string, body?: unknown, method?: string) => call(weir.url, `/v1/agent/secrets${p}`, { headers: bearer(MASTER_KEY), body, method: method ?? (body === undefined ? 'GET' : 'POST') });

/** A CONNECT through the proxy with this Proxy-Authorization (or none): the status line it answers. */
function connect(proxyPort: number, target: string, auth?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(proxyPort, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\nhost: ${target}\r\n${auth ? `proxy-authorization: ${auth}\r\n` : ''}\r\n`));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        resolve(got.split('\r\n')[0]!);
        s.destroy();
      }
    });
    s.on('error', reject);
  });
}

describe('the vault and its egress proxy', () => {
  let proxyPort = 0;
  let runKey = '';

  it('stores a secret sealed and never shows it again', async () => {
    const r = await secrets('', { name: 'GITHUB_TOKEN', value: REAL, hosts: ['localhost'] });
    assert.equal(r.status, 201, r.text);
    assert.ok(!r.text.includes(REAL));
    assert.deepEqual([r.json.name, r.json.scope, r.json.hosts, r.json.inject], ['GITHUB_TOKEN', 'global', ['localhost'], false]);
    const list = await secrets('');
    assert.ok(!list.text.includes(REAL) && list.json.data.length === 1, list.text);
    assert.ok(!(await secrets('/GITHUB_TOKEN')).text.includes(REAL));
    const row = await one(pool, `SELECT value FROM "Weir_VaultSecret" WHERE name = 'GITHUB_TOKEN'`);
    assert.ok(row.value.startsWith('v3:gcm:') && !row.value.includes(REAL));
    assert.equal((await secrets('', { name: 'GITHUB_TOKEN', value: 'x', hosts: ['localhost'] })).status, 409);
    for (const [body, param] of [
      [{ name: '1BAD', value: 'x', hosts: ['a.com'] }, 'name'],
      [{ name: 'T', value: 'x' }, 'hosts'],
      [{ name: 'T', value: 'a\nb', hosts: ['a.com'] }, 'value'],
      [{ name: 'T', value: 'x', hosts: ['not a host'] }, 'hosts'],
      [{ name: 'T', value: 'x', hosts: ['a.com'], scope: 'somewhere' }, 'scope'],
    ] as const) {
      const bad = await secrets('', body);
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.json.error.param, param);
    }
  });

  it('the agent uses GitHub with the stub; GitHub sees the real token; events hold only the stub', async () => {
    const { id } = await mustStart(weir.url, { profile: 'gh', prompt: 'use github' });
    const run = await waitRun(weir.url, id, undefined, 90_000);
    const evs = await events(weir.url, id);
    const out = printed(evs);
    assert.equal(run.status, 'succeeded', out);
    const stub = /env-token=(weir-stub-github-token-[0-9a-f]{16})/.exec(out)?.[1];
    assert.ok(stub, out);
    assert.ok(out.includes('{"login":"octo"}'), `curl's bearer call was served\n${out}`);
    assert.ok(out.includes('auth=Bearer [secret GITHUB_TOKEN]'), `a real value the agent prints is masked\n${out}`);
    assert.ok(out.includes('git-ok') && /[0-9a-f]{40}\\tHEAD/.test(out), `git listed the private repository\n${out}`);
    assert.ok(out.includes(`auth=Bearer ${stub}`), `the host the secret is not for got the stub, tunnelled under its own certificate\n${out}`);
    assert.ok(!out.includes(REAL), 'no event holds the real token');
    assert.ok(!weir.output().includes(REAL), 'no log line holds the real token');
    // What the servers saw.
    assert.ok(seen.some((s) => s.host === '127.0.0.1' && s.path === '/user' && s.auth === `Bearer ${REAL}`));
    assert.ok(git.authorizations.includes(`Basic ${Buffer.from(`x-access-token:${REAL}`).toString('base64')}`));
    assert.ok(seen.some((s) => s.host === '127.0.0.3' && s.auth === `Bearer ${stub}`));
    assert.ok(!seen.some((s) => s.host === '127.0.0.3' && s.auth?.includes(REAL)), 'the real value went only to its host');
    proxyPort = Number(/proxy-port=(\d+)/.exec(out)?.[1]);
    assert.ok(proxyPort > 0, out);
    const key = await one(pool, `SELECT token FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [`weir-run-${id}`]);
    runKey = key.token;
  });

  it('an injected secret (the explicit opt-in) is in the environment as it is, and masked in what the agent prints', async () => {
    const value = `npm_injected_${Date.now().toString(36)}`;
    const r = await secrets('', { name: 'NPM_TOKEN', value, inject: true });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual([r.json.inject, r.json.hosts], [true, []]);
    const { id } = await mustStart(weir.url, { profile: 'injected', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    const out = printed(await events(weir.url, id));
    assert.equal(run.status, 'succeeded', out);
    assert.ok(out.includes('npm=[secret NPM_TOKEN]') && out.includes('proxy=set'), out);
    assert.ok(!out.includes(value));
  });

  it('the proxy refuses a request without the run key, with another key, or with a run key whose run ended', async () => {
    assert.ok(proxyPort > 0, 'the run before found the proxy');
    assert.match(await connect(proxyPort, `localhost:${port(api)}`), /^HTTP\/1\.1 407 /);
    assert.match(await connect(proxyPort, `localhost:${port(api)}`, `Basic ${Buffer.from(`weir:${MASTER_KEY}`).toString('base64')}`), /^HTTP\/1\.1 407 /);
    assert.match(await connect(proxyPort, `localhost:${port(api)}`, `Basic ${Buffer.from(`weir:${runKey}`).toString('base64')}`), /^HTTP\/1\.1 407 /);
  });

  it('a host outside the profile’s egress allow-list is refused', async () => {
    const before = seen.length;
    const { id } = await mustStart(weir.url, { profile: 'fenced', prompt: 'x' });
    await waitRun(weir.url, id);
    const out = printed(await events(weir.url, id));
    assert.match(out, /403/, out);
    assert.doesNotMatch(out, /curl-exit=0/, out);
    assert.equal(seen.length, before, 'the host saw nothing');
  });

  it('an unknown secret name, and a secret sealed under another vault key, fail the run with a clear error', async () => {
    const { id } = await mustStart(weir.url, { profile: 'missing', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'failed');
    assert.equal(run.error?.kind ?? run.error_kind, 'config_error', JSON.stringify(run));
    assert.match(JSON.stringify(run), /unknown secret \\"NO_SUCH_SECRET\\"/);

    const old = vaultKey('the key before it changed');
    await pool.query(`INSERT INTO "Weir_VaultSecret" (id, name, scope, hosts, value, key_id) VALUES ('sec_old', 'OLD_TOKEN', 'global', ARRAY['localhost'], $1, $2)`, [old.seal('old-value-123'), old.id]);
    const r2 = await mustStart(weir.url, { profile: 'rekeyed', prompt: 'x' });
    const run2 = await waitRun(weir.url, r2.id);
    assert.equal(run2.status, 'failed');
    assert.match(JSON.stringify(run2), /vault key .*changed/);
    assert.ok(!JSON.stringify(run2).includes('old-value-123'));
  });
});
