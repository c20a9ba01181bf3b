// One request whose answer is wanted whole (a token count) on the gateway's own client
// (src/gateway/whole-answer.ts): its status, headers and body, decoded when compressed, and each
// way it can fail. And the module graph a worker loads to serve calls holds no undici, which is
// loaded only by what needs it (an answer that arrives compressed, WEIR_UPSTREAM_CLIENT=undici).
// Real HTTP to a local server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { callPoolFor, closePools } from '../../src/gateway/upstream-pool';
import { requestWhole, WholeAnswerTimeout } from '../../src/gateway/whole-answer';

const ANSWER = JSON.stringify({ input_tokens: 1234 });

let server: http.Server;
let origin = '';
/** Requests to /silent, held open until the server closes. */
const silent: http.ServerResponse[] = [];
const bodies: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString());
      if (req.url === '/silent') return void silent.push(res);
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return void res.end(zlib.gzipSync(ANSWER));
      }
      if (req.url === '/limited') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
        return void res.end('{"error":{"message":"slow down"}}');
      }
      // In several writes: the answer is gathered whole.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(ANSWER.slice(0, 5));
      res.end(ANSWER.slice(5));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const res of silent) res.destroy();
  await closePools();
  await new Promise<void>((r) => server.close(() => r()));
});

const post = (p: string) => ({ path: p, method: 'POST', headers: ['content-type', 'application/json'], body: Buffer.from('{"model":"m","messages":[]}') });

test('an answer sent in several writes is given whole, with its status and headers; the body went up as given', async () => {
  const a = await requestWhole(callPoolFor(origin), post('/plain'), 60_000, new AbortController().signal);
  assert.equal(a.status, 200);
  assert.equal(a.headers['content-type'], 'application/json');
  assert.equal(a.body.toString(), ANSWER);
  assert.equal(bodies.at(-1), '{"model":"m","messages":[]}');
});

test('a compressed answer is given decoded', async () => {
  const a = await requestWhole(callPoolFor(origin), post('/gzip'), 60_000, new AbortController().signal);
  assert.equal(a.status, 200);
  assert.equal(a.headers['content-encoding'], undefined);
  assert.equal(a.body.toString(), ANSWER);
});

test('an error status is an answer, not a failure: the caller reads it', async () => {
  const a = await requestWhole(callPoolFor(origin), post('/limited'), 60_000, new AbortController().signal);
  assert.equal(a.status, 429);
  assert.equal(a.headers['retry-after'], '7');
  assert.match(a.body.toString(), /slow down/);
});

test('no answer within the timeout fails with WholeAnswerTimeout, and the pool serves the next request', async () => {
  await assert.rejects(requestWhole(callPoolFor(origin), post('/silent'), 50, new AbortController().signal), (e) => e instanceof WholeAnswerTimeout);
  const a = await requestWhole(callPoolFor(origin), post('/plain'), 60_000, new AbortController().signal);
  assert.equal(a.body.toString(), ANSWER);
});

test('the client going away stops the request, whether before it is sent or while it waits', async () => {
  const gone = new AbortController();
  gone.abort();
  await assert.rejects(requestWhole(callPoolFor(origin), post('/plain'), 60_000, gone.signal), /went away/);
  const leaving = new AbortController();
  const waiting = requestWhole(callPoolFor(origin), post('/silent'), 60_000, leaving.signal);
  const heldBefore = silent.length;
  // Once the server holds the request, the client leaves.
  while (silent.length === heldBefore) await new Promise((r) => setImmediate(r));
  leaving.abort();
  await assert.rejects(waiting, /went away/);
});

test('a connection refused is a failure with the error', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(requestWhole(callPoolFor(`http://127.0.0.1:${port}`), post('/plain'), 60_000, new AbortController().signal), /ECONNREFUSED/);
});

test('the modules a worker loads to serve calls hold no undici (4 MB of heap and 160 ms of start a thread)', async () => {
  const server = path.join(__dirname, '..', '..', 'src', 'server');
  // What the worker's entry requires (its own code runs only with a parent's init), and both engines.
  const entry = fs.readFileSync(path.join(server, 'worker-main.js'), 'utf8');
  const required = [...entry.matchAll(/require\("(\.[^"]+)"\)/g)].map((m) => path.join(server, m[1]!));
  assert.ok(required.length > 5, 'the imports of the entry were found');
  const loaded = await new Promise<string[]>((resolve, reject) => {
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       for (const m of workerData) require(m);
       parentPort.postMessage(Object.keys(require.cache));`,
      { eval: true, workerData: [...required, path.join(server, 'uws-engine.js'), path.join(server, 'node-engine.js')] },
    );
    w.once('message', (m: string[]) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
  assert.ok(loaded.some((f) => f.endsWith(path.join('gateway', 'proxy-call.js'))), 'the call path was loaded');
  assert.ok(loaded.some((f) => f.endsWith(path.join('gateway', 'count-tokens.js'))), 'the token count was loaded');
  assert.deepEqual(loaded.filter((f) => f.includes(`${path.sep}undici${path.sep}`)), []);
});
