// The bench's C load generator (native-bench/loadgen.c), built with the machine's compiler and run
// against a tiny local HTTP server that counts what it receives: every request the generator says
// it sent arrived, whole, on as many keep-alive connections as it was given, and its response
// parser reads Content-Length, chunked (across reads) and close-delimited bodies and statuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildLoadgen, loadgenStep, requestBytes, runLoadgen } from '../../native-bench/loadgen';
import type { RequestSpec } from '../../native-bench/timed-request';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-loadgen-test-'));
let bin = '';
let url = '';
let server: http.Server;
/** Per path: requests received whole, and the sockets they came on. */
const seen = new Map<string, { requests: number; badBody: number; sockets: Set<unknown> }>();
const BODY = Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'é'.repeat(3000) }] }));

before(async () => {
  try {
    bin = buildLoadgen(dir);
  } catch (e) {
    throw new Error(`this test needs a C compiler to build native-bench/loadgen.c: ${(e as Error).message}`);
  }
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p = req.url!.split('?')[0]!;
      const s = seen.get(p) ?? { requests: 0, badBody: 0, sockets: new Set() };
      seen.set(p, s);
      s.requests++;
      s.sockets.add(req.socket);
      if (req.method === 'POST' && !Buffer.concat(chunks).equals(BODY)) s.badBody++;
      if (p === '/chunked') {
        // Several chunks, one longer than the generator's 64 KB read buffer.
        res.write('a');
        res.write('b'.repeat(100_000));
        res.end('c'.repeat(17));
      } else if (p === '/status') {
        res.statusCode = s.requests % 2 === 0 ? 500 : 200;
        res.end('x');
      } else if (p === '/close') {
        res.setHeader('connection', 'close');
        res.end('bye');
      } else if (p === '/empty') {
        res.statusCode = 204;
        res.end();
      } else {
        res.setHeader('content-length', '2');
        res.end('ok');
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (p: string): RequestSpec => ({ path: p, method: 'GET', headers: ['accept', '*/*'], body: null });

test('the build is cached by the source hash: a second build returns the same binary', () => {
  assert.equal(buildLoadgen(dir), bin);
  assert.match(path.basename(bin), /^weir-loadgen-[0-9a-f]{16}$/);
});

test('the request bytes: request line, host, the spec headers, content-length and the body', () => {
  const b = requestBytes('http://127.0.0.1:9', { path: '/v1/x', method: 'POST', headers: ['content-type', 'application/json', 'content-length', '1'], body: Buffer.from('{}') });
  assert.equal(b.toString(), 'POST /v1/x HTTP/1.1\r\nhost: 127.0.0.1:9\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}');
});

test('closed loop with a request count: every request sent arrives whole, on one keep-alive connection each', async () => {
  const spec: RequestSpec = { path: '/post', method: 'POST', headers: ['content-type', 'application/json'], body: BODY };
  const r = await runLoadgen(bin, url, spec, { connections: 4, requests: 2000 });
  const s = seen.get('/post')!;
  assert.equal(r.sent, 2000);
  assert.equal(r.completed, 2000);
  assert.equal(s.requests, 2000, 'the server counted each one');
  assert.equal(s.badBody, 0, 'every body arrived byte for byte');
  assert.equal(s.sockets.size, 4, 'one keep-alive connection per connection slot');
  assert.equal(r.connects, 4);
  assert.deepEqual(r.status, { '200': 2000 });
  assert.equal(r.errors + r.non2xx + r.timeouts, 0);
  assert.ok(r.latency_ms.p50 > 0 && r.latency_ms.p50 <= r.latency_ms.p99 && r.latency_ms.p99 <= r.latency_ms.p999 && r.latency_ms.p999 <= r.latency_ms.max);
  const step = loadgenStep(r);
  assert.equal(step.total, 2000);
  assert.equal(step.connections, 4);
});

test('chunked bodies longer than a read, split over several reads, end where the last chunk says', async () => {
  const r = await runLoadgen(bin, url, get('/chunked'), { connections: 3, requests: 300 });
  assert.equal(r.completed, 300);
  assert.equal(seen.get('/chunked')!.requests, 300);
  assert.equal(seen.get('/chunked')!.sockets.size, 3, 'the connection is reused after a chunked body');
  assert.equal(r.errors, 0, r.first_error ?? '');
});

test('statuses are counted: every other answer a 500 is a non-2xx, not an error; 204 has no body', async () => {
  const r = await runLoadgen(bin, url, get('/status'), { connections: 1, requests: 100 });
  assert.deepEqual(r.status, { '200': 50, '500': 50 });
  assert.equal(r.non2xx, 50);
  assert.equal(r.errors, 0);
  const e = await runLoadgen(bin, url, get('/empty'), { connections: 2, requests: 50 });
  assert.deepEqual(e.status, { '204': 50 });
  assert.equal(e.errors, 0);
});

test('a server closing after each answer: the generator reconnects and still counts exactly', async () => {
  const r = await runLoadgen(bin, url, get('/close'), { connections: 2, requests: 40 });
  assert.equal(r.completed, 40);
  assert.equal(seen.get('/close')!.requests, 40);
  assert.equal(r.errors, 0, r.first_error ?? '');
  assert.equal(r.connects, 40, 'one connection per answer');
});

test('open loop: the planned number of requests at the rate, each counted by the server', async () => {
  const r = await runLoadgen(bin, url, get('/open'), { connections: 8, requests: 200, rate: 2000 });
  assert.equal(r.mode, 'open');
  assert.equal(r.sent, 200);
  assert.equal(r.completed, 200);
  assert.equal(seen.get('/open')!.requests, 200);
  assert.ok(r.connects >= 1 && r.connects <= 8, 'at most one connection per request in flight, up to the bound');
});

test('a run for a duration waits for the requests in flight: sent = answered = received', async () => {
  const before = seen.get('/')?.requests ?? 0;
  const r = await runLoadgen(bin, url, get('/'), { connections: 8, durationS: 0.3 });
  assert.ok(r.sent > 0);
  assert.equal(r.completed, r.sent);
  assert.equal(seen.get('/')!.requests - before, r.sent);
});

test('nothing listening: the run ends with its errors counted, not a hang', async () => {
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const r = await runLoadgen(bin, `http://127.0.0.1:${port}`, get('/'), { connections: 2, requests: 2, timeoutS: 2 });
  assert.equal(r.completed, 0);
  assert.ok(r.errors >= 1);
  assert.equal(r.first_error, 'cannot connect');
});
