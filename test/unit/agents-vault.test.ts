// The vault's parts without a gateway: sealing in LiteLLM's v3:gcm format (and the error a changed
// key gives), host patterns, what the egress proxy reads from a request (the run key, a CONNECT
// target) and how it swaps stubs (inside Basic credentials too), the masking of real values, and
// the proxy itself in-process: swap on a secret's host, untouched tunnel elsewhere, 407 and 403.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { threadId } from 'node:worker_threads';
import { AgentApiError } from '../../src/agents/api-error';
import { makeCa } from '../../src/agents/vault/ca';
import { vaultKey, VaultKeyError, vaultSecretFrom } from '../../src/agents/vault/crypto';
import { Egress } from '../../src/agents/vault/egress';
import { EgressProxy, keyHash, proxyKey, splitTarget, swapValue } from '../../src/agents/vault/egress-proxy';
import { checkHosts, hostMatcher } from '../../src/agents/vault/hosts';
import { scrubber, stubFor } from '../../src/agents/vault/run-vault';
import { testTls } from '../support/test-tls';

/** One CONNECT to the proxy on `port`; resolves with the status line and the socket (for a TLS session inside). */
function connectVia(port: number, target: string, auth?: string): Promise<{ status: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT ${target} HTTP/1.1\r\n${auth ? `proxy-authorization: ${auth}\r\n` : ''}\r\n`));
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      resolve({ status: got.split('\r\n')[0]!, socket: s });
    };
    s.on('data', onData);
    s.on('error', reject);
  });
}

test('sealed values open under the same key only; another key is named as the cause', () => {
  const k = vaultKey('salt');
  const sealed = k.seal('ghp_secret');
  assert.match(sealed, /^v3:gcm:[A-Za-z0-9_-]+$/);
  assert.notEqual(k.seal('ghp_secret'), sealed, 'a fresh nonce each time');
  assert.equal(k.open(sealed, k.id, 'x'), 'ghp_secret');
  const other = vaultKey('another salt');
  assert.notEqual(other.id, k.id);
  assert.throws(() => other.open(sealed, k.id, 'secret "X"'), (e: Error) => e instanceof VaultKeyError && /vault key .*changed/.test(e.message) && !e.message.includes('ghp_secret'));
  const damaged = sealed.slice(0, -4) + (sealed.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  assert.throws(() => k.open(damaged, k.id, 'x'), /damaged/);
  assert.equal(vaultSecretFrom({ WEIR_VAULT_KEY: ' a ', LITELLM_SALT_KEY: 'b' }, 'm'), 'a');
  assert.equal(vaultSecretFrom({ LITELLM_SALT_KEY: 'b' }, 'm'), 'b');
  assert.equal(vaultSecretFrom({}, 'm'), 'm');
  assert.equal(vaultSecretFrom({}, null), null);
});

test('host patterns: exact names and *.domain, without case; bad ones refused', () => {
  const m = hostMatcher(checkHosts(['GitHub.com', '*.githubusercontent.com'], 'hosts')!);
  assert.ok(m.matches('github.com') && m.matches('GITHUB.COM'));
  assert.ok(m.matches('raw.githubusercontent.com'));
  assert.ok(!m.matches('githubusercontent.com') && !m.matches('evilgithub.com') && !m.matches('github.com.evil.net'));
  for (const bad of [['a b'], ['*'], ['http://x.com'], ['x.com:443'], 'x.com', [42]]) assert.throws(() => checkHosts(bad, 'hosts'), AgentApiError);
});

test('the run key from Proxy-Authorization (Basic password or Bearer); CONNECT targets', () => {
  assert.equal(proxyKey(`Basic ${Buffer.from('weir:sk-1').toString('base64')}`), 'sk-1');
  assert.equal(proxyKey(`basic ${Buffer.from('sk-2').toString('base64')}`), 'sk-2');
  assert.equal(proxyKey('Bearer sk-3'), 'sk-3');
  for (const h of [undefined, '', 'Basic', 'Digest x', `Basic ${Buffer.from('weir:').toString('base64')}`]) assert.equal(proxyKey(h), null);
  assert.deepEqual(splitTarget('GitHub.com:443', 443), { host: 'github.com', port: 443 });
  assert.deepEqual(splitTarget('[::1]:8443', 443), { host: '::1', port: 8443 });
  assert.deepEqual(splitTarget('example.com', 443), { host: 'example.com', port: 443 });
  for (const bad of ['', 'x:0', 'x:70000', 'a b:1', 'x/y:1']) assert.equal(splitTarget(bad, 443), null);
});

test('stubs are swapped in header values and inside Basic credentials; other values are left as they are', () => {
  const swaps = [{ stub: 'weir-stub-t-1', value: 'REAL1', hosts: hostMatcher([]) }];
  assert.equal(swapValue('Bearer weir-stub-t-1', swaps), 'Bearer REAL1');
  assert.equal(swapValue('token weir-stub-t-1, weir-stub-t-1', swaps), 'token REAL1, REAL1');
  const basic = `Basic ${Buffer.from('x-access-token:weir-stub-t-1').toString('base64')}`;
  assert.equal(swapValue(basic, swaps), `Basic ${Buffer.from('x-access-token:REAL1').toString('base64')}`);
  const unrelated = `Basic ${Buffer.from('u:p').toString('base64')}`;
  assert.equal(swapValue(unrelated, swaps), unrelated);
  assert.equal(swapValue('application/json', swaps), 'application/json');
});

test('real values are masked as printed and as JSON carries them; short ones are not', () => {
  const scrub = scrubber([{ name: 'TOKEN', value: 'abc"def\\ghi' }, { name: 'PIN', value: '1234' }])!;
  assert.equal(scrub('x abc"def\\ghi y 1234'), 'x [secret TOKEN] y 1234');
  assert.equal(scrub(JSON.stringify({ text: 'abc"def\\ghi' })), '{"text":"[secret TOKEN]"}');
  assert.equal(scrubber([{ name: 'PIN', value: '1234' }]), undefined);
  assert.match(stubFor('GITHUB_TOKEN'), /^weir-stub-github-token-[0-9a-f]{16}$/);
});

describe('the egress proxy in-process', () => {
  const ca = makeCa('unit');
  const upstreamTls = testTls(['localhost']);
  const seen: (string | undefined)[] = [];
  let upstream: https.Server;
  let proxy: EgressProxy;
  let proxyPort = 0;
  const RUN_KEY = 'sk-run-key-unit';

  before(async () => {
    upstream = https.createServer({ key: upstreamTls.keyPem, cert: upstreamTls.certPem }, (req, res) => {
      seen.push(req.headers.authorization);
      res.end('ok');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    proxy = new EgressProxy({ ca, upstreamCa: [upstreamTls.caPem] });
    proxyPort = await proxy.listen('127.0.0.1', 0);
    proxy.register(keyHash(RUN_KEY), { runId: 'r1', swaps: [{ stub: 'STUB', value: 'REAL', hosts: ['localhost'] }], allow: ['127.0.0.1'] });
  });

  after(async () => {
    await proxy.close();
    upstream.close();
  });

  const connect = (target: string, auth?: string) => connectVia(proxyPort, target, auth);

  const basic = (k: string) => `Basic ${Buffer.from(`weir:${k}`).toString('base64')}`;

  /** A GET over TLS through an established tunnel, trusting only `caPem`. */
  function getThrough(socket: net.Socket, servername: string, caPem: string, auth: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = tls.connect({ socket, servername, ca: caPem }, () => {
        t.write(`GET / HTTP/1.1\r\nhost: ${servername}\r\nauthorization: ${auth}\r\nconnection: close\r\n\r\n`);
      });
      let body = '';
      t.on('data', (d) => (body += d.toString()));
      t.on('end', () => resolve(body));
      t.on('error', reject);
    });
  }

  test('a secret host: TLS under the installation CA, the stub swapped, answered by the real host', async () => {
    const port = (upstream.address() as net.AddressInfo).port;
    const { status, socket } = await connect(`localhost:${port}`, basic(RUN_KEY));
    assert.match(status, /^HTTP\/1\.1 200/);
    const answer = await getThrough(socket, 'localhost', ca.certPem, 'Bearer STUB');
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.ok(answer.endsWith('ok'));
    assert.equal(seen.at(-1), 'Bearer REAL');
  });

  test('another allowed host: tunnelled untouched (its own certificate, the stub as sent)', async () => {
    const port = (upstream.address() as net.AddressInfo).port;
    const { status, socket } = await connect(`127.0.0.1:${port}`, basic(RUN_KEY));
    assert.match(status, /^HTTP\/1\.1 200/);
    // The upstream's certificate names localhost: verified by its own CA, not the installation's.
    const answer = await getThrough(socket, 'localhost', upstreamTls.caPem, 'Bearer STUB');
    assert.match(answer, /^HTTP\/1\.1 200/);
    assert.equal(seen.at(-1), 'Bearer STUB');
  });

  test('no key, an unknown key, an unregistered run: 407; a host outside the allow-list: 403', async () => {
    assert.match((await connect('localhost:1')).status, /^HTTP\/1\.1 407 /);
    assert.match((await connect('localhost:1', basic('sk-other'))).status, /^HTTP\/1\.1 407 /);
    assert.match((await connect('example.com:443', basic(RUN_KEY))).status, /^HTTP\/1\.1 403 /);
    assert.match((await connect('not a target', basic(RUN_KEY))).status, /^HTTP\/1\.1 400 /);
    proxy.unregister(keyHash(RUN_KEY));
    assert.match((await connect('localhost:1', basic(RUN_KEY))).status, /^HTTP\/1\.1 407 /);
    proxy.register(keyHash(RUN_KEY), { runId: 'r1', swaps: [{ stub: 'STUB', value: 'REAL', hosts: ['localhost'] }], allow: ['127.0.0.1'] });
  });
});

test('the egress thread dies with runs registered: it starts again on the same port and still knows them', async () => {
  const lines: string[] = [];
  const ca = makeCa('unit-restart');
  const egress = new Egress({ ca: async () => ca, host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
  const RUN = 'sk-run-key-restart';
  const auth = `Basic ${Buffer.from(`weir:${RUN}`).toString('base64')}`;
  await egress.register(keyHash(RUN), { runId: 'r-restart', swaps: [], allow: ['127.0.0.1'] });
  const port = await egress.port();
  const target = net.createServer((c) => c.end());
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const to = `127.0.0.1:${(target.address() as net.AddressInfo).port}`;
  try {
    const first = await connectVia(port, to, auth);
    assert.match(first.status, /^HTTP\/1\.1 200/);
    first.socket.destroy();
    // The crash: the thread is ended under the runtime (as an uncaught error in it would).
    await (egress as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    // Polled until the new thread answers (connections refused meanwhile); then the run is known.
    let status = '';
    for (let i = 0; i < 200 && !status.includes(' 200'); i++) {
      status = await connectVia(port, to, auth).then(
        (r) => (r.socket.destroy(), r.status),
        () => new Promise<string>((res) => setTimeout(() => res(''), 25)),
      );
    }
    assert.match(status, /^HTTP\/1\.1 200/, lines.join('\n'));
    assert.equal(await egress.port(), port);
    assert.ok(lines.some((l) => /exited .* with 1 run\(s\) registered, 0 boundary socket\(s\); starting it again on port/.test(l)), lines.join('\n'));
    // A run that ended before the crash is not brought back.
    egress.unregister(keyHash(RUN));
    const after = await connectVia(port, to, auth);
    after.socket.destroy();
    assert.match(after.status, /^HTTP\/1\.1 407/);
  } finally {
    target.close();
    await egress.stop();
  }
});

test("a network boundary's sockets are forwarded on the egress thread, counted there, opened again after a crash, and closed with their folder", async () => {
  const lines: string[] = [];
  const ca = makeCa('unit-forward');
  const egress = new Egress({ ca: async () => ca, host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
  const echo = net.createServer((c) => c.pipe(c));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-fwd-'));
  const socket = path.join(dir, '4000');
  /** One round trip through the socket: what the echo server sent back. */
  const roundTrip = (text: string) =>
    new Promise<string>((resolve, reject) => {
      const c = net.connect({ path: socket });
      let got = '';
      c.on('data', (d) => {
        got += d.toString();
        if (got.length >= text.length) c.end();
      });
      c.on('close', () => resolve(got));
      c.on('error', reject);
      c.write(text);
    });
  try {
    assert.equal(egress.forwarding(), null, 'nothing forwarded before the thread runs');
    await egress.open({ dir, socket, host: '127.0.0.1', port: (echo.address() as net.AddressInfo).port });
    assert.equal(fs.statSync(socket).mode & 0o777, 0o600, "the socket is the sandbox user's alone");
    assert.equal(await roundTrip('x'.repeat(5000)), 'x'.repeat(5000));
    // Counted as each socket closes, on the forwarding thread: polled until both sides are in.
    for (const end = Date.now() + 10_000; (egress.forwarding()?.bytes ?? 0) < 10_000 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
    const s = egress.forwarding()!;
    assert.ok(s.thread_id > 0 && s.thread_id !== threadId, `forwarded on thread ${s.thread_id}, not this one (${threadId})`);
    assert.deepEqual({ bytes: s.bytes, connections: s.connections }, { bytes: 10_000, connections: 1 }, 'both ways, one connection');
    // The crash: the socket is opened again by the new thread (polled until it answers).
    await (egress as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    let again = '';
    for (let i = 0; i < 200 && again !== 'after'; i++) again = await roundTrip('after').catch(() => new Promise<string>((res) => setTimeout(() => res(''), 25)));
    assert.equal(again, 'after', lines.join('\n'));
    assert.ok(lines.some((l) => /with 0 run\(s\) registered, 1 boundary socket\(s\)/.test(l)), lines.join('\n'));
    // Closed with its folder: nothing listens there any more.
    await egress.close(dir);
    await assert.rejects(roundTrip('gone'), /ENOENT|ECONNREFUSED/);
  } finally {
    echo.close();
    await egress.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
