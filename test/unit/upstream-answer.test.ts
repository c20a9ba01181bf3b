// The gateway's upstream handlers decode a compressed answer themselves, decided per answer
// (src/gateway/upstream-answer.ts): the client they dispatch on wraps no request in a decoder, an
// answer that names a content-encoding reaches the handler decoded (error answers too), and the
// next answer on the same handler (a retry) is taken as it comes. Real HTTP to a local server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import { UpstreamAnswer } from '../../src/gateway/upstream-answer';
import { callPoolFor, closePools } from '../../src/gateway/upstream-pool';
import { UpstreamRequest } from '../../src/upstream/upstream-request';

const TEXT = 'the same words, over and over: '.repeat(200);

let server: http.Server;
let origin = '';

before(async () => {
  server = http.createServer((req, res) => {
    const enc = (req.url ?? '/').slice(1);
    const status = enc.startsWith('500-') ? 500 : 200;
    const encoding = status === 500 ? enc.slice(4) : enc;
    let body: Buffer = Buffer.from(TEXT);
    // Listed in the order applied, as the header names them.
    for (const e of encoding.split(',').map((s) => s.trim())) {
      if (e === 'gzip') body = zlib.gzipSync(body);
      else if (e === 'br') body = zlib.brotliCompressSync(body);
      else if (e === 'deflate') body = zlib.deflateSync(body);
    }
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain', 'content-length': body.length };
    if (encoding !== 'plain') headers['content-encoding'] = encoding;
    res.writeHead(status, headers);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await closePools();
  await new Promise<void>((r) => server.close(() => r()));
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Controllers given to onRequestStart, in order. */
  starts: Dispatcher.DispatchController[];
  /** The controller the answer's data came with. */
  dataController: Dispatcher.DispatchController | null;
  error: Error | null;
}

/** Records what it is given; `next` is called when an answer ends or fails (a retry may go from there). */
class Recorder extends UpstreamAnswer {
  a: Answer = Recorder.fresh();
  private chunks: Buffer[] = [];
  next: (a: Answer) => void = () => {};

  static fresh(): Answer {
    return { status: 0, headers: {}, body: '', starts: [], dataController: null, error: null };
  }

  onRequestStart(c: Dispatcher.DispatchController): void {
    this.a.starts.push(c);
  }
  protected answerStart(_c: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.a.status = status;
    this.a.headers = headers;
  }
  protected answerData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.a.dataController = c;
    this.chunks.push(chunk);
  }
  protected answerEnd(): void {
    this.a.body = Buffer.concat(this.chunks).toString();
    this.chunks = [];
    const done = this.a;
    this.a = Recorder.fresh();
    this.next(done);
  }
  protected answerError(_c: Dispatcher.DispatchController, err: Error): void {
    this.a.error = err;
    const done = this.a;
    this.a = Recorder.fresh();
    this.next(done);
  }
}

function send(h: Recorder, path: string, to = origin): Promise<Answer> {
  return new Promise((resolve) => {
    h.next = resolve;
    callPoolFor(to).dispatch({ path, method: 'GET', headers: [], body: null }, h);
  });
}

test('the client the handlers dispatch on wraps no request in a decoder: a plain answer comes with its own per-request controller', async () => {
  const viaPool = await send(new Recorder(), '/plain');
  assert.ok(viaPool.starts[0] instanceof UpstreamRequest);
  assert.equal(viaPool.dataController, viaPool.starts[0]);
});

test('a plain answer reaches the handler as it was sent, with the controller the client gave', async () => {
  const a = await send(new Recorder(), '/plain');
  assert.equal(a.status, 200);
  assert.equal(a.body, TEXT);
  assert.equal(a.headers['content-length'], String(TEXT.length));
  assert.equal(a.starts.length, 1);
  assert.equal(a.dataController, a.starts[0]);
});

test('content-encoding: identity is taken as it comes', async () => {
  const a = await send(new Recorder(), '/identity');
  assert.equal(a.body, TEXT);
  assert.equal(a.headers['content-encoding'], 'identity');
  assert.equal(a.starts.length, 1);
});

for (const enc of ['gzip', 'br', 'deflate', 'gzip,br']) {
  test(`a ${enc} answer reaches the handler decoded, without content-encoding and content-length`, async () => {
    const a = await send(new Recorder(), `/${enc}`);
    assert.equal(a.error, null);
    assert.equal(a.status, 200);
    assert.equal(a.body, TEXT);
    assert.equal(a.headers['content-encoding'], undefined);
    assert.equal(a.headers['content-length'], undefined);
    // The decoder gives the handler its own controller (pausing it holds the decoder's output too).
    assert.equal(a.starts.length, 2);
    assert.equal(a.dataController, a.starts[1]);
  });
}

test('an error answer is decoded too (its message reaches the client readable)', async () => {
  const a = await send(new Recorder(), '/500-gzip');
  assert.equal(a.status, 500);
  assert.equal(a.body, TEXT);
});

test('after a decoded answer, the same handler takes the next answer as it comes, and a failed connection reaches it', async () => {
  const h = new Recorder();
  assert.equal((await send(h, '/gzip')).body, TEXT);
  const plain = await send(h, '/plain');
  assert.equal(plain.body, TEXT);
  assert.equal(plain.headers['content-length'], String(TEXT.length));
  assert.equal(plain.starts.length, 1);
  assert.equal((await send(h, '/br')).body, TEXT);
  // A port nothing listens on: the error goes to the handler, not to the finished decoder.
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const failed = await send(h, '/plain', `http://127.0.0.1:${port}`);
  assert.ok(failed.error, 'the connection error reached the handler');
});
