// A streamed answer on the uWS engine goes out once per event-loop turn (src/server/uws-engine.ts,
// src/server/staged-bytes.ts): everything written in one turn is one write, so one chunk of the
// chunked answer. Counted on the wire with a raw client: each chunk of the answer is a turn. The
// bytes must arrive intact although callers reuse their buffers right after write() returns, and
// backpressure must still stop the writer and wake it once the client drains.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { chooseEngine, createEngine } from '../../src/server/load-engine';
import type { Engine, Exchange } from '../../src/server/exchange';

type Route = (ex: Exchange) => void;
const routes = new Map<string, Route>();
let engine: Engine;
let port = 0;

before(async () => {
  const choice = chooseEngine('uws'); // throws, naming why, when no uWS build loads here
  engine = createEngine(choice, (ex) => routes.get(ex.path)!(ex));
  port = await engine.listen('127.0.0.1', 0);
});

after(() => engine.stopAccepting());

interface Raw {
  head: string;
  /** The chunks of a chunked answer, in order (the final empty one left out); null when it has a length. */
  chunks: Buffer[] | null;
  body: Buffer;
}

/** The whole answer in `raw`, or null while it is incomplete. Throws on a malformed chunked body. */
function parse(raw: Buffer): Raw | null {
  const at = raw.indexOf('\r\n\r\n');
  if (at < 0) return null;
  const head = raw.subarray(0, at).toString('latin1');
  let rest = raw.subarray(at + 4);
  if (!/transfer-encoding: chunked/i.test(head)) {
    const length = Number(/content-length: (\d+)/i.exec(head)![1]);
    return rest.length < length ? null : { head, chunks: null, body: rest };
  }
  const chunks: Buffer[] = [];
  for (;;) {
    const eol = rest.indexOf('\r\n');
    if (eol < 0) return null;
    const size = parseInt(rest.subarray(0, eol).toString('latin1'), 16);
    if (!Number.isInteger(size)) throw new Error(`not a chunked body: ${JSON.stringify(rest.subarray(0, 80).toString('latin1'))}`);
    if (rest.length < eol + 2 + size + 2) return null;
    if (rest.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n') {
      throw new Error(`chunk not followed by CRLF: ${JSON.stringify(rest.subarray(eol + 2 + size, eol + 40 + size).toString('latin1'))}`);
    }
    if (size === 0) return { head, chunks, body: Buffer.concat(chunks) };
    chunks.push(rest.subarray(eol + 2, eol + 2 + size));
    rest = rest.subarray(eol + 2 + size + 2);
  }
}

/**
 * GET path with a raw socket, read until the answer is complete; `onFirstData` sees the socket
 * once the first bytes arrived. With `untilClosed`, also waits for the server to close.
 */
function get(path: string, o: { onFirstData?: (s: net.Socket) => void; port?: number; untilClosed?: boolean } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = net.connect(o.port ?? port, '127.0.0.1');
    const parts: Buffer[] = [];
    let answer: Raw | null = null;
    s.on('data', (d: Buffer) => {
      if (parts.length === 0) o.onFirstData?.(s);
      parts.push(d);
      try {
        answer = parse(Buffer.concat(parts));
      } catch (e) {
        s.destroy();
        return reject(e as Error);
      }
      if (answer && !o.untilClosed) {
        s.destroy();
        resolve(answer);
      }
    });
    s.on('end', () => (answer ? resolve(answer) : reject(new Error(`closed before the answer was whole: ${Buffer.concat(parts).toString('latin1').slice(0, 200)}`))));
    s.on('error', reject);
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A route that starts an event stream (then does `then`); the returned call gives its exchange. */
function streamRoute(path: string, then?: (ex: Exchange) => void): () => Exchange {
  let ex: Exchange | undefined;
  routes.set(path, (e) => {
    ex = e;
    e.startStream(200, ['content-type', 'text/event-stream']);
    then?.(e);
  });
  return () => ex!;
}

/** A promise and the call that settles it: what a test waits for from a route or a client. */
function signal(): { seen: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const seen = new Promise<void>((r) => (fire = r));
  return { seen, fire };
}

test('what a turn writes goes out as one chunk, intact although the caller reuses its buffer', async () => {
  let expected = '';
  routes.set('/turns', (ex) => {
    ex.startStream(200, ['content-type', 'text/event-stream']);
    const scratch = Buffer.alloc(64);
    void (async () => {
      for (let turn = 0; turn < 3; turn++) {
        for (let i = 0; i < 100; i++) {
          // Bytes from a buffer the caller overwrites at once, and strings with multi-byte text.
          const line = `data: turn ${turn} event ${i}\n\n`;
          const n = scratch.write(line);
          assert.equal(ex.write(scratch.subarray(0, n)), true);
          scratch.fill(0x21);
          const text = `data: é ${turn}/${i} ✓\n\n`;
          ex.write(text);
          expected += line + text;
        }
        await nextTurn();
      }
      ex.end();
    })();
  });
  const r = await get('/turns');
  assert.match(r.head, /^HTTP\/1\.1 200/);
  assert.match(r.head, /content-type: text\/event-stream/i);
  assert.ok(r.chunks, 'a stream that spans turns is chunked');
  assert.equal(r.chunks.length, 3, 'one chunk per turn, not one per write (600 writes)');
  assert.equal(r.body.toString('utf8'), expected);
});

test('a stream written and ended in one turn goes out whole, with its end', async () => {
  let expected = '';
  routes.set('/one-turn', (ex) => {
    ex.startStream(200, ['content-type', 'text/event-stream']);
    for (let i = 0; i < 50; i++) {
      const line = `data: ${i}\n\n`;
      ex.write(Buffer.from(line));
      expected += line;
    }
    ex.end('data: [DONE]\n\n');
    expected += 'data: [DONE]\n\n';
  });
  const r = await get('/one-turn');
  assert.match(r.head, /^HTTP\/1\.1 200/);
  // uWS sends an answer that never wrote before its end with a length: one piece either way.
  assert.ok(r.chunks === null || r.chunks.length === 1, `${r.chunks?.length} chunks`);
  assert.equal(r.body.toString('utf8'), expected);
});

test('the head goes out in its own turn when nothing follows it yet', async () => {
  const head = signal();
  const exchange = streamRoute('/head-first');
  const done = get('/head-first', { onFirstData: head.fire });
  await head.seen; // the client has the head while the answer has no byte yet
  const ex = exchange();
  ex.write('data: late\n\n');
  ex.end();
  const r = await done;
  assert.equal(r.body.toString('utf8'), 'data: late\n\n');
});

test('a client that stops reading stops the writer; once it drains, the writer is woken and nothing is lost', async () => {
  const PIECE = 256 * 1024;
  let turns = 0;
  let wakes = 0;
  const blocked = signal();
  routes.set('/slow', (ex) => {
    ex.startStream(200, ['content-type', 'application/octet-stream']);
    const piece = Buffer.alloc(PIECE);
    void (async () => {
      // One piece per turn until write() says the client is behind: bounded by the socket buffers.
      for (;;) {
        piece.fill(97 + (turns % 26));
        turns++;
        if (!ex.write(piece)) break;
        assert.ok(turns < 512, 'write() never reported the client as slow');
        await nextTurn();
      }
      ex.onWritable(() => {
        wakes++;
        ex.end('end');
      });
      blocked.fire();
    })();
  });
  let client!: net.Socket;
  const done = get('/slow', {
    onFirstData: (s) => {
      client = s;
      s.pause();
    },
  });
  await blocked.seen;
  client.resume();
  const r = await done;
  assert.equal(wakes, 1);
  assert.equal(r.body.length, turns * PIECE + 3);
  for (let t = 0; t < turns; t++) assert.equal(r.body[t * PIECE + PIECE - 1], 97 + (t % 26), `piece ${t} intact`);
  assert.equal(r.body.subarray(-3).toString(), 'end');
});

test('a client that leaves mid-stream: what is staged is dropped, later writes are ignored', async () => {
  const gone = signal();
  const exchange = streamRoute('/leave', (e) => {
    e.write('data: first\n\n');
    e.onAbort(gone.fire);
  });
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.once('data', () => s.destroy());
  s.write('GET /leave HTTP/1.1\r\nHost: x\r\n\r\n');
  await gone.seen;
  const ex = exchange();
  assert.equal(ex.aborted, true);
  // Written after the abort, and staged before a flush that finds the client gone: no throw.
  assert.equal(ex.write('data: after\n\n'), true);
  await nextTurn();
  ex.end();
});

test('a stream that ends while the worker drains stays a valid chunked answer that asks the client to close', async () => {
  const draining = createEngine(chooseEngine('uws'), (ex) => {
    ex.startStream(200, ['content-type', 'text/event-stream']);
    ex.write('data: 1\n\n');
    setImmediate(() => {
      ex.write('data: 2\n\n');
      setImmediate(() => ex.end('data: [DONE]\n\n'));
    });
  });
  const p = await draining.listen('127.0.0.1', 0);
  draining.setDraining();
  try {
    // uWS asked to close at the end of a chunked answer writes `Connection: close` into its body:
    // the head says it instead, and the client closes.
    const r = await get('/', { port: p });
    assert.match(r.head, /connection: close/i);
    assert.equal(r.chunks!.length, 3);
    assert.equal(r.body.toString(), 'data: 1\n\ndata: 2\n\ndata: [DONE]\n\n');
    // An answer in one piece still has uWS close the connection after it.
    const whole = createEngine(chooseEngine('uws'), (ex) => ex.respond(200, ['content-type', 'text/plain'], 'ok'));
    const q = await whole.listen('127.0.0.1', 0);
    whole.setDraining();
    const w = await get('/', { port: q, untilClosed: true });
    assert.equal(w.body.toString(), 'ok');
    whole.stopAccepting();
  } finally {
    draining.stopAccepting();
  }
});
