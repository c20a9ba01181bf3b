// The framing of an upstream's HTTP/1.1 answer (src/upstream/response-reader.ts): every answer
// here is also read split at every byte, since a socket may cut it anywhere, and from a buffer
// that is overwritten after each read, as the client's shared read buffer is.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseFormatError, ResponseReader, type ResponseSink } from '../../src/upstream/response-reader';

interface Heard {
  status: number;
  headers: Record<string, string | string[]>;
  reason: string;
  body: string;
  ended: boolean;
}

class Sink implements ResponseSink {
  heard: Heard = { status: 0, headers: {}, reason: '', body: '', ended: false };
  paused = false;
  /** Pause after this many data calls (-1: never). */
  pauseAfter = -1;
  private calls = 0;
  head(status: number, headers: Record<string, string | string[]>, reason: string): void {
    this.heard = { ...this.heard, status, headers, reason };
  }
  data(view: Buffer): void {
    this.heard.body += view.toString('latin1');
    if (++this.calls === this.pauseAfter) this.paused = true;
  }
  end(): void {
    this.heard.ended = true;
  }
}

/** A reader started on a fresh sink (one that pauses after `pauseAfter` data calls; -1: never). */
function openReader(pauseAfter = -1, noBody = false): { sink: Sink; r: ResponseReader } {
  const sink = new Sink();
  sink.pauseAfter = pauseAfter;
  const r = new ResponseReader(sink);
  r.start(noBody);
  return { sink, r };
}

/** Reads `wire` in pieces of `size` bytes copied into one reused buffer; returns what the sink heard and the bytes left over. */
function readIn(wire: string, size: number, noBody = false): { heard: Heard; rest: string; reader: ResponseReader } {
  const { sink, r: reader } = openReader(-1, noBody);
  const bytes = Buffer.from(wire, 'latin1');
  const scratch = Buffer.alloc(size + 8);
  let rest = '';
  for (let at = 0; at < bytes.length; at += size) {
    const n = bytes.copy(scratch, 4, at, Math.min(bytes.length, at + size));
    const stop = reader.read(scratch, 4, 4 + n);
    if (stop < 4 + n) {
      rest = scratch.toString('latin1', stop, 4 + n) + bytes.toString('latin1', at + size);
      break;
    }
    scratch.fill(0x7a); // what a later read would leave there
  }
  return { heard: sink.heard, rest, reader };
}

/** The same answer read whole and split at every size: all must hear the same. */
function readAllWays(wire: string, noBody = false): Heard {
  const whole = readIn(wire, wire.length, noBody).heard;
  for (let size = 1; size < wire.length; size++) assert.deepEqual(readIn(wire, size, noBody).heard, whole, `split every ${size} bytes`);
  return whole;
}

test('a content-length answer: status, reason, lowercase names, repeated fields as a list, the body', () => {
  const h = readAllWays('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 11\r\n\r\n{"ok":true}');
  assert.equal(h.status, 200);
  assert.equal(h.reason, 'OK');
  assert.equal(h.headers['content-type'], 'application/json');
  assert.deepEqual(h.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(h.body, '{"ok":true}');
  assert.ok(h.ended);
});

test('a chunked answer with extensions and trailers, as an SSE stream comes', () => {
  const wire = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/event-stream\r\n\r\n' + 'f;name=value\r\ndata: {"a":1}\n\n\r\n' + 'E\r\ndata: [DONE]\n\n\r\n' + '0\r\nx-trailer: 1\r\n\r\n';
  const h = readAllWays(wire);
  assert.equal(h.body, 'data: {"a":1}\n\ndata: [DONE]\n\n');
  assert.ok(h.ended);
});

test('liberal: bare LF line ends, no reason phrase, an interim 100 and 103 before the answer', () => {
  const h = readAllWays('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 201\ncontent-length: 2\n\nhi');
  assert.equal(h.status, 201);
  assert.equal(h.reason, '');
  assert.equal(h.headers.link, undefined, 'the interim answer is not the answer');
  assert.equal(h.body, 'hi');
});

test('no framing field: the body runs to the connection end, which completes it; the connection is then spent', () => {
  const { heard, reader } = readIn('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it', 100);
  assert.equal(heard.body, 'all of it');
  assert.equal(heard.ended, false);
  assert.ok(reader.endsWithConnection);
  assert.equal(reader.keepAlive, false);
  const { sink, r } = openReader();
  const b = Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc');
  r.read(b, 0, b.length);
  r.closed();
  assert.equal(sink.heard.ended, true);
});

test('keep-alive: HTTP/1.1 unless connection: close; HTTP/1.0 only when asked; the server timeout hint', () => {
  assert.equal(readIn('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', 99).reader.keepAlive, true);
  assert.equal(readIn('HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 0\r\n\r\n', 99).reader.keepAlive, false);
  assert.equal(readIn('HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n', 99).reader.keepAlive, false);
  const r = readIn('HTTP/1.0 200 OK\r\nconnection: keep-alive\r\nkeep-alive: timeout=5, max=100\r\ncontent-length: 0\r\n\r\n', 99).reader;
  assert.equal(r.keepAlive, true);
  assert.equal(r.keepAliveHintMs, 5000);
});

test('no body for 204, 304 and an answer to HEAD, whatever the fields say', () => {
  for (const status of [204, 304]) {
    const { heard, rest } = readIn(`HTTP/1.1 ${status} X\r\ncontent-length: 5\r\n\r\n`, 99);
    assert.ok(heard.ended && heard.body === '' && rest === '', `${status}`);
  }
  const { heard } = readIn('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', 99, true);
  assert.ok(heard.ended && heard.body === '');
});

test('bytes after the answer are left to the caller, not read as part of it', () => {
  const { heard, rest } = readIn('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n', 1000);
  assert.equal(heard.body, 'ok');
  assert.equal(rest, 'HTTP/1.1 200 OK\r\n');
});

test('the chunks one read holds reach the sink as one piece, the framing between them left out', () => {
  const { sink, r } = openReader();
  const pieces: string[] = [];
  sink.data = (view: Buffer) => void pieces.push(view.toString('latin1'));
  const events = ['data: {"a":1}\n\n', 'data: {"b":22}\n\n', 'data: [DONE]\n\n'];
  const chunked = events.map((e) => `${e.length.toString(16)};x=y\r\n${e}\r\n`).join('');
  const wire = Buffer.from(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${chunked}0\r\n\r\n`, 'latin1');
  // Split inside the second chunk's data: one piece for each read.
  const cut = wire.indexOf('22}') + 1;
  assert.equal(r.read(wire, 0, cut), cut);
  assert.equal(r.read(wire, cut, wire.length), wire.length);
  assert.deepEqual(pieces, ['data: {"a":1}\n\ndata: {"b":2', '2}\n\ndata: [DONE]\n\n']);
  assert.ok(sink.heard.ended);
});

test('a sink that pauses on the last data stops the reader before the end, which the next read gives', () => {
  const { sink, r } = openReader(1);
  const wire = Buffer.from('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n');
  const stop = r.read(wire, 0, wire.length);
  assert.equal(sink.heard.body, 'abcdef');
  assert.equal(sink.heard.ended, false);
  assert.ok(stop < wire.length);
  sink.paused = false;
  assert.equal(r.read(wire, stop, wire.length), wire.length);
  assert.equal(sink.heard.body, 'abcdef');
  assert.ok(sink.heard.ended);
});

test('a sink that pauses mid-answer gets no more until read again, from where the reader stopped', () => {
  const { sink, r } = openReader(1);
  const wire = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nabcdef');
  const first = wire.length - 3;
  assert.equal(r.read(wire, 0, first), first);
  assert.equal(sink.heard.body, 'abc');
  assert.equal(sink.heard.ended, false);
  sink.paused = false;
  assert.equal(r.read(wire, first, wire.length), wire.length);
  assert.equal(sink.heard.body, 'abcdef');
  assert.ok(sink.heard.ended);
});

test('what cannot be framed is an error, not a guess', () => {
  const bad = [
    'HTTP/2 200\r\n\r\n',
    'SSH-2.0-OpenSSH\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 12x\r\n\r\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n',
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
    'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n',
    'HTTP/1.1 101 Switching Protocols\r\n\r\n',
  ];
  for (const wire of bad) assert.throws(() => readIn(wire, wire.length), ResponseFormatError, JSON.stringify(wire));
  // Cut short: the connection ended mid-body.
  const { r } = openReader();
  const b = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
  r.read(b, 0, b.length);
  assert.throws(() => r.closed(), ResponseFormatError);
  // A head that never ends is refused at its limit rather than held without end.
  const endless = new ResponseReader(new Sink());
  endless.start(false);
  const line = Buffer.from(`HTTP/1.1 200 OK\r\n${'x-a: b\r\n'.repeat(200)}`);
  assert.throws(() => {
    for (let i = 0; i < 100; i++) endless.read(line, 0, line.length);
  }, /longer than/);
});

test('"5, 5" is one content-length; a list of equal lengths is not two', () => {
  const h = readAllWays('HTTP/1.1 200 OK\r\ncontent-length: 5, 5\r\n\r\nhello');
  assert.equal(h.body, 'hello');
});
