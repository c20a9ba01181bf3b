// The gateway's HTTP/1.1 client (src/upstream/h1-pool.ts) against scripted servers on loopback:
// what it writes, keep-alive reuse and its limits, a kept-alive connection dropped under a request,
// failures before and during an answer, abort, pause and resume, a body framed by the connection's
// end, refused headers, and HTTPS.
import assert from 'node:assert/strict';
import * as https from 'node:https';
import * as net from 'node:net';
import { after, test } from 'node:test';
import type { Dispatcher } from 'undici';
import { LentBody } from '../../src/server/large-buffers';
import { H1Pool } from '../../src/upstream/h1-pool';
import { testTls } from '../support/test-tls';

/** What a handler heard, in order, and a promise of its end (answer or error). */
class Heard implements Dispatcher.DispatchHandler {
  events: string[] = [];
  status = 0;
  headers: Record<string, unknown> = {};
  body = '';
  error: (Error & { code?: string }) | null = null;
  controller!: Dispatcher.DispatchController;
  readonly done: Promise<void>;
  private finish!: () => void;
  /** Called with each chunk; may pause, abort or throw. */
  onChunk: ((c: Dispatcher.DispatchController, chunk: Buffer) => void) | null = null;
  constructor() {
    this.done = new Promise((r) => (this.finish = r));
  }
  onRequestStart(c: Dispatcher.DispatchController): void {
    this.controller = c;
    this.events.push('start');
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, unknown>): void {
    this.events.push('head');
    this.status = status;
    this.headers = headers;
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.body += chunk.toString();
    this.onChunk?.(c, chunk);
  }
  onResponseEnd(): void {
    this.events.push('end');
    this.finish();
  }
  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.events.push('error');
    this.error = err;
    this.finish();
  }
}

/** A raw TCP server: `answer` gets each request's head and body text and its socket's number and request count. */
interface Scripted {
  port: number;
  connections: number;
  requests: string[];
  close(): Promise<void>;
}

function scripted(answer: (req: string, socket: net.Socket, conn: number, nth: number) => void): Promise<Scripted> {
  const sockets = new Set<net.Socket>();
  const s: Scripted = { port: 0, connections: 0, requests: [], close: () => new Promise((r) => { for (const x of sockets) x.destroy(); server.close(() => r()); }) };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const conn = ++s.connections;
    let nth = 0;
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const req = buf.slice(0, end + 4 + len);
        buf = buf.slice(end + 4 + len);
        s.requests.push(req);
        answer(req, socket, conn, ++nth);
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => { s.port = (server.address() as net.AddressInfo).port; r(s); }));
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

async function call(pool: H1Pool, body = '{"a":1}', headers: string[] = ['content-type', 'application/json'], h = new Heard()): Promise<Heard> {
  pool.dispatch({ path: '/v1/chat/completions', method: 'POST', headers, body: Buffer.from(body) }, h);
  await h.done;
  return h;
}

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const x of open) await x.close();
});

test('the request as written: request line, host, the caller fields, our own content-length; framing fields of the caller dropped', async () => {
  const srv = await scripted((_r, s) => s.write(ok('fine')));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const h = await call(pool, 'hello', ['authorization', 'Bearer k', 'content-length', '999', 'transfer-encoding', 'chunked', 'x-a', 'b']);
  assert.deepEqual(h.events, ['start', 'head', 'end']);
  assert.equal(h.status, 200);
  assert.equal(h.headers['content-type'], 'text/plain');
  assert.equal(h.body, 'fine');
  assert.equal(srv.requests[0], `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\nauthorization: Bearer k\r\nx-a: b\r\ncontent-length: 5\r\n\r\nhello`);
});

test('a body in pieces goes out as one body under its total length; a GET without one has no content-length', async () => {
  const srv = await scripted((_r, s) => s.write(ok('fine')));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const h = new Heard();
  pool.dispatch({ path: '/p', method: 'POST', headers: [], body: [Buffer.from('{"a":'), Buffer.alloc(0), Buffer.from('1}')] }, h);
  await h.done;
  assert.equal(h.body, 'fine');
  assert.ok(srv.requests[0]!.endsWith('content-length: 7\r\n\r\n{"a":1}'), srv.requests[0]);
  const g = new Heard();
  pool.dispatch({ path: '/g?x=1', method: 'GET', headers: [], body: null }, g);
  await g.done;
  assert.equal(srv.requests[1], `GET /g?x=1 HTTP/1.1\r\nhost: 127.0.0.1:${srv.port}\r\n\r\n`);
});

test('one connection carries one call after another; `connection: close` and a short keep-alive hint end its reuse', async () => {
  let mode = '';
  const srv = await scripted((_r, s) => s.write(ok('x', mode)));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  for (let i = 0; i < 5; i++) await call(pool);
  assert.equal(srv.connections, 1);
  mode = 'connection: close\r\n';
  await call(pool);
  mode = '';
  await call(pool);
  assert.equal(srv.connections, 2, 'a connection the server closes is not used again');
  mode = 'keep-alive: timeout=1\r\n';
  await call(pool);
  mode = '';
  await call(pool);
  assert.equal(srv.connections, 3, 'a hint of one second leaves no time to reuse it');
});

test('a kept-alive connection dropped with the request unanswered fails the call: it is not sent twice', async () => {
  // The first connection answers its first request and drops its second unanswered.
  const srv = await scripted((_r, s, conn, nth) => (conn === 1 && nth === 2 ? s.destroy() : s.write(ok(`c${conn}`))));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  assert.equal((await call(pool)).body, 'c1');
  const h = await call(pool);
  assert.deepEqual(h.events, ['start', 'error']);
  assert.equal(srv.requests.length, 2);
  assert.equal((await call(pool)).body, 'c2', 'the next call opens a fresh connection');
});

test('a fresh connection that closes without answering, or mid-answer, fails the call (no resend); a refused one names ECONNREFUSED', async () => {
  let seen = 0;
  const srv = await scripted((_r, s) => (++seen === 1 ? s.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc') : s.destroy()));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const cut = await call(pool);
  assert.deepEqual(cut.events, ['start', 'head', 'error']);
  assert.equal(cut.body, 'abc');
  const silent = await call(pool);
  assert.deepEqual(silent.events, ['start', 'error']);
  assert.equal(silent.error?.code, 'UPSTREAM_CLOSED');
  assert.equal(srv.requests.length, 2, 'not sent twice');

  const dead = await scripted(() => {});
  const port = dead.port;
  await dead.close();
  const refused = await call(new H1Pool(`http://127.0.0.1:${port}`));
  assert.equal(refused.error?.code, 'ECONNREFUSED');
});

test('a body framed by the connection end is complete when it closes', async () => {
  const srv = await scripted((_r, s) => s.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nto the end'));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const h = await call(pool);
  assert.deepEqual(h.events, ['start', 'head', 'end']);
  assert.equal(h.body, 'to the end');
});

test('abort mid-answer: the handler hears the reason once, and the connection is not reused', async () => {
  const srv = await scripted((_r, s) => s.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n'));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const h = new Heard();
  const reason = new Error('client gone');
  h.onChunk = (c) => c.abort(reason);
  await call(pool, '{}', [], h);
  assert.deepEqual(h.events, ['start', 'head', 'error']);
  assert.equal(h.error, reason);
  h.controller.abort(new Error('again'));
  assert.equal(h.events.length, 3, 'a second abort is not heard');
  // Aborted on seeing the head of an answer with no body: the error, and no end after it.
  const empty = await scripted((_r, s) => s.write('HTTP/1.1 204 No Content\r\n\r\n'));
  open.push(empty);
  const onHead = new Heard();
  onHead.onResponseStart = (c, status) => {
    onHead.events.push(`head ${status}`);
    c.abort(reason);
  };
  const logged: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => logged.push(String(chunk)) > 0) as typeof process.stdout.write;
  try {
    await call(new H1Pool(`http://127.0.0.1:${empty.port}`), '{}', [], onHead);
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(onHead.events, ['start', 'head 204', 'error']);
  assert.deepEqual(logged.filter((l) => l.includes(' error ')), [], 'nothing went wrong after the abort');
  // Aborted before it was sent (in onRequestStart): told after dispatch returns, nothing written.
  const early = new Heard();
  early.onRequestStart = (c) => {
    early.events.push('start');
    c.abort(reason);
  };
  pool.dispatch({ path: '/', method: 'POST', headers: [], body: Buffer.from('x') }, early);
  assert.deepEqual(early.events, ['start']);
  await early.done;
  assert.deepEqual(early.events, ['start', 'error']);
  assert.equal(srv.requests.length, 1);
});

test('pause holds the rest of the answer until resume, in order', async () => {
  // The whole answer arrives in one read: its chunks reach the handler as one piece, and the
  // answer's end, read behind them, waits while paused.
  let seen = 0;
  const srv = await scripted((_r, s) => s.write(++seen === 1 ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n' : ok('x')));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const h = new Heard();
  let paused = false;
  let whilePaused = '';
  h.onChunk = (c) => {
    if (paused) return;
    paused = true;
    c.pause();
    setImmediate(() => {
      whilePaused = `${h.body} ${h.events.join(' ')}`;
      c.resume();
    });
  };
  pool.dispatch({ path: '/', method: 'POST', headers: [], body: Buffer.from('x') }, h);
  await h.done;
  assert.equal(whilePaused, 'abc start head', 'nothing past the pause');
  assert.deepEqual(h.events, ['start', 'head', 'end']);
  assert.equal(h.body, 'abc');
  assert.equal((await call(pool)).body, 'x');
  assert.equal(srv.connections, 1, 'the connection is reused after a paused answer');
});

test('a handler that throws fails its call; a header value with a line break or a bad path is refused before anything is sent', async () => {
  const srv = await scripted((_r, s) => s.write(ok('body')));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const h = new Heard();
  h.onChunk = () => {
    throw new Error('handler bug');
  };
  await call(pool, '{}', [], h);
  assert.equal(h.error?.message, 'handler bug');
  const bad = await call(pool, '{}', ['x-a', 'b\r\nx-injected: 1']);
  assert.equal((bad.error as { code?: string }).code, 'UPSTREAM_INVALID_REQUEST');
  const badName = await call(pool, '{}', ['x a', 'b']);
  assert.equal((badName.error as { code?: string }).code, 'UPSTREAM_INVALID_REQUEST');
  const path = new Heard();
  pool.dispatch({ path: '/a b', method: 'POST', headers: [], body: null }, path);
  await path.done;
  assert.equal((path.error as { code?: string }).code, 'UPSTREAM_INVALID_REQUEST');
  assert.equal(srv.requests.length, 1);
});

test('a lent body is reported written whole once its answer ends, and a large one goes out intact', async () => {
  const srv = await scripted((req, s) => s.write(ok(String(req.length))));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv, pool);
  const chunk = Buffer.alloc(200_000, 'q');
  const lent = new LentBody(chunk);
  let told = 0;
  lent.sentWhole = () => void told++;
  const h = new Heard();
  pool.dispatch({ path: '/', method: 'POST', headers: [], body: lent }, h);
  await h.done;
  assert.equal(told, 1);
  assert.ok(srv.requests[0]!.endsWith('q'.repeat(1000)));
  assert.ok(srv.requests[0]!.includes('content-length: 200000\r\n'));
});

test('HTTPS: the same calls over TLS, the connection reused', async () => {
  const t = testTls(['127.0.0.1']);
  let connections = 0;
  const server = https.createServer({ key: t.keyPem, cert: t.certPem }, (req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => res.end(`got ${n}`));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const pool = new H1Pool(`https://127.0.0.1:${port}`, { tls: { ca: t.caPem } });
  open.push(pool, { close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) });
  assert.equal((await call(pool, 'four')).body, 'got 4');
  assert.equal((await call(pool, 'x'.repeat(40_000))).body, 'got 40000');
  assert.equal(connections, 1);
  // A server certificate nobody vouched for is refused.
  const strict = await call(new H1Pool(`https://127.0.0.1:${port}`));
  assert.equal(strict.events.at(-1), 'error');
});

test('close: idle connections closed at once, a busy one after its answer', async () => {
  let hold: net.Socket | null = null;
  const srv = await scripted((_r, s, _c, nth) => (nth === 1 ? s.write(ok('a')) : (hold = s)));
  const pool = new H1Pool(`http://127.0.0.1:${srv.port}`);
  open.push(srv);
  await call(pool);
  const h = new Heard();
  pool.dispatch({ path: '/', method: 'POST', headers: [], body: Buffer.from('x') }, h);
  while (hold === null) await new Promise((r) => setImmediate(r));
  let closed = false;
  const closing = pool.close().then(() => (closed = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, false, 'waits for the call in flight');
  (hold as net.Socket | null)!.write(ok("late"));
  await h.done;
  await closing;
  assert.equal(h.body, 'late');
});
