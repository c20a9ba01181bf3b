// Large bodies in reused buffers (src/server/large-buffers.ts): a buffer comes back only once
// undici is proved done writing it and its answer completed normally. Real HTTP through a real
// undici Pool to a local server that hashes every body it receives whole, with many large bodies
// of distinct bytes in flight at once, some read slowly, some answered before they were read
// (the server reads them to their end anyway and records their hash), some answered 500. A buffer
// given back too early would be refilled by the next body while undici still writes it: the
// server would receive bytes of two bodies, and a hash would differ.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import { isLent, LARGE_BODY, largeBufferStats, LentBody, takeLarge } from '../../src/server/large-buffers';

let server: http.Server;
let origin = '';
/** sha256 of each body the server read to its end, by request id. */
const received = new Map<string, string>();

before(async () => {
  server = http.createServer((req, res) => {
    const id = String(req.headers['x-id']);
    const mode = String(req.headers['x-mode']);
    const hash = crypto.createHash('sha256');
    let chunks = 0;
    req.on('data', (d: Buffer) => {
      hash.update(d);
      // Slow readers: the body's write stays in flight across many turns of the client's loop.
      if (mode === 'slow' && chunks++ % 2 === 0) {
        req.pause();
        setImmediate(() => req.resume());
      }
      if (mode === 'early' && chunks++ === 0) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('early');
      }
    });
    req.on('end', () => {
      const digest = hash.digest('hex');
      received.set(id, digest);
      if (mode === 'early') return;
      res.writeHead(mode === 'fail' ? 500 : 200, { 'content-type': 'text/plain' });
      res.end(digest);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((r) => server.close(() => r())));

/** Sends one lent body; resolves with the answer's status and text once it ended, either way. */
function send(pool: Pool, id: string, mode: string, body: LentBody): Promise<{ status: number; text: string; error: Error | null }> {
  return new Promise((resolve) => {
    let status = 0;
    let text = '';
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => {},
      onResponseStart: (_c, s) => {
        status = s;
      },
      onResponseData: (_c, chunk: Buffer) => {
        text += chunk.toString();
      },
      onResponseEnd: () => {
        if (status === 200) body.answered();
        else body.drop();
        resolve({ status, text, error: null });
      },
      onResponseError: (_c, err: Error) => {
        body.drop();
        resolve({ status, text, error: err });
      },
    };
    const headers = ['content-type', 'application/octet-stream', 'content-length', String(body.chunk.length), 'x-id', id, 'x-mode', mode];
    pool.dispatch({ path: '/', method: 'POST', headers, body: body as unknown as Buffer }, handler);
  });
}

test('takeLarge lends a buffer of the size asked, and only lent buffers count as lent', () => {
  const b = takeLarge(LARGE_BODY + 5);
  assert.equal(b.length, LARGE_BODY + 5);
  assert.ok(isLent(b));
  assert.ok(!isLent(Buffer.allocUnsafe(LARGE_BODY)));
});

test('a lent body never written is not given back, nor one whose answer came first', () => {
  const before = largeBufferStats.givenBack;
  const never = new LentBody(takeLarge(LARGE_BODY));
  never.answered();
  const early = new LentBody(takeLarge(LARGE_BODY));
  const it = early[Symbol.iterator]();
  assert.equal(it.next().done, false);
  early.answered(); // the answer before undici came back for the next chunk
  assert.equal(it.next().done, true);
  assert.equal(largeBufferStats.givenBack, before);
  assert.throws(() => early[Symbol.iterator](), /written once/);
});

test('a body in pieces: handed over piece by piece, and only the lent buffer made for it goes back', () => {
  const pieces = [Buffer.from('{"a":'), Buffer.alloc(LARGE_BODY, 0x20), Buffer.from('1}')];
  const client = takeLarge(LARGE_BODY);
  const before = largeBufferStats.givenBack;
  const l = new LentBody(pieces, client);
  const seen: Buffer[] = [];
  for (const p of l) seen.push(p);
  assert.deepEqual(seen, pieces, 'each piece once, in order');
  l.answered();
  assert.equal(largeBufferStats.givenBack, before + 1, 'the client buffer, not the pieces');
  assert.equal(isLent(pieces[1]!), false);
  // Written by the gateway's own client, which reports it whole.
  const c2 = takeLarge(LARGE_BODY);
  const direct = new LentBody(pieces, c2);
  direct.sentWhole();
  direct.answered();
  assert.equal(largeBufferStats.givenBack, before + 2);
});

test('many large bodies of distinct bytes at once: every body arrives whole, and buffers are reused', async () => {
  const pool = new Pool(origin, { connections: 16, keepAliveTimeout: 30_000 });
  const modes = ['plain', 'slow', 'early', 'plain', 'fail', 'slow', 'plain'];
  const sent = new Map<string, string>();
  const reusedBefore = largeBufferStats.reused;
  try {
    // 24 lanes, each sending its bodies one after another: buffers are given back and lent again
    // while the other lanes' bodies are being written.
    const lane = async (l: number): Promise<void> => {
      for (let k = 0; k < 10; k++) {
        const id = `${l}-${k}`;
        const mode = modes[(l + k) % modes.length]!;
        const size = LARGE_BODY + ((l * 7919 + k * 104_729) % (3 * LARGE_BODY));
        const buf = takeLarge(size);
        crypto.randomFillSync(buf);
        sent.set(id, crypto.createHash('sha256').update(buf).digest('hex'));
        const r = await send(pool, id, mode, new LentBody(buf));
        if (mode === 'plain' || mode === 'slow') {
          assert.equal(r.error, null, `${id}: ${r.error?.message}`);
          assert.equal(r.text, sent.get(id), `${id} (${mode}) arrived other than sent`);
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, (_, l) => lane(l)));
    // An early answer's body: its socket is destroyed when the answer completes before the
    // write (undici), so the server may or may not have read it whole; what it did read whole must match.
    for (const [id, digest] of received) assert.equal(digest, sent.get(id), `${id} arrived other than sent`);
    assert.ok(largeBufferStats.reused - reusedBefore >= 48, `${largeBufferStats.reused - reusedBefore} of 240 buffers reused`);
  } finally {
    await pool.close();
  }
});
