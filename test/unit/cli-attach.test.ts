// `weir attach`'s command line: the session, the address and key (flags over the environment), and
// a clear usage error for everything else, before anything is sent. Its window size: in the
// upgrade's query at connect and as a resize text frame when the window changes (against a real
// WebSocket server on loopback), keystrokes in binary frames, Weir's error frames on stderr.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import { AttachUsageError, attachCommand, attachUrl, parseAttachArgs, resizeMessage, windowSize } from '../../src/cli-attach';
import { TERMINAL_CONTROLS_HEADER } from '../../src/server/ws-route';

/** A stdout that is a terminal of cols × rows, as process.stdout is in a window. */
function fakeTty(cols: number, rows: number): PassThrough & { isTTY: true; columns: number; rows: number } {
  return Object.assign(new PassThrough(), { isTTY: true as const, columns: cols, rows });
}

describe('weir attach arguments', () => {
  it('a session, with the address and key from flags over WEIR_URL / WEIR_API_KEY / LITELLM_MASTER_KEY', () => {
    assert.deepEqual(parseAttachArgs(['ses_1'], { WEIR_URL: 'http://h:1', LITELLM_MASTER_KEY: 'sk-m' }), { url: 'http://h:1', key: 'sk-m', session: 'ses_1', help: false });
    assert.deepEqual(parseAttachArgs(['--url', 'https://w', 'ses_2', '--key', 'sk-k'], { WEIR_API_KEY: 'sk-e' }), { url: 'https://w', key: 'sk-k', session: 'ses_2', help: false });
    assert.equal(parseAttachArgs(['ses_3'], {}).url, 'http://127.0.0.1:4000');
  });

  it('help needs no session', () => {
    assert.equal(parseAttachArgs(['--help'], {}).help, true);
  });

  it('no session, two sessions, an unknown flag, a flag without its value, a URL that is not http: usage errors', () => {
    for (const argv of [[], ['a', 'b'], ['--nope', 'a'], ['a', '--key'], ['a', '--url', 'ftp://x']]) {
      assert.throws(() => parseAttachArgs(argv, {}), AttachUsageError, JSON.stringify(argv));
    }
  });
});

describe('weir attach: the window size', () => {
  it("the size of stdout's window, bounded to 1..1000; none when stdout is no terminal", () => {
    assert.deepEqual(windowSize(fakeTty(100, 30)), { cols: 100, rows: 30 });
    assert.deepEqual(windowSize(fakeTty(4000, 1200)), { cols: 1000, rows: 1000 });
    assert.equal(windowSize(new PassThrough()), null);
    assert.equal(windowSize(fakeTty(0, 0)), null);
  });

  it('the upgrade carries it as ?cols=&rows=; a resize is a JSON text message', () => {
    assert.equal(attachUrl('http://h:4000/', 'ses 1', { cols: 100, rows: 30 }), 'ws://h:4000/v1/agent/sessions/ses%201/attach?cols=100&rows=30');
    assert.equal(attachUrl('https://h', 'ses_1', null), 'wss://h/v1/agent/sessions/ses_1/attach');
    assert.deepEqual(JSON.parse(resizeMessage({ cols: 132, rows: 50 })), { type: 'resize', cols: 132, rows: 50 });
  });

  it('sent at connect and again on each change of the window; keystrokes go in binary frames, an error frame goes to stderr', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    // A Weir that takes resize frames says so on the upgrade.
    wss.on('headers', (headers) => headers.push(`${TERMINAL_CONTROLS_HEADER}: resize`));
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const conn = new Promise<{ ws: WebSocket; url: string }>((r) => wss.once('connection', (ws, req) => r({ ws, url: req.url ?? '' })));
    // The frames the server got, each awaited in turn.
    const frames: Array<{ text: string; binary: boolean }> = [];
    const waiting: Array<(f: { text: string; binary: boolean }) => void> = [];
    const next = () => new Promise<{ text: string; binary: boolean }>((r) => (frames.length ? r(frames.shift()!) : waiting.push(r)));
    const stdin = new PassThrough();
    const stdout = fakeTty(100, 30);
    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (d: Buffer) => (err += d.toString()));
    const port = (wss.address() as AddressInfo).port;
    const exit = attachCommand(['ses_1', '--url', `http://127.0.0.1:${port}`, '--key', 'sk-k'], {}, { stdin, stdout, stderr });
    const { ws, url } = await conn;
    ws.on('message', (d: Buffer, binary: boolean) => {
      const f = { text: d.toString('utf8'), binary };
      const w = waiting.shift();
      if (w) w(f);
      else frames.push(f);
    });
    assert.equal(url, '/v1/agent/sessions/ses_1/attach?cols=100&rows=30');
    stdin.write('x'); // read once the socket is open: its frame says the command listens for resizes too
    assert.deepEqual(await next(), { text: 'x', binary: true });
    stdout.emit('resize'); // the same size: nothing to say
    Object.assign(stdout, { columns: 132, rows: 50 });
    stdout.emit('resize');
    assert.deepEqual(await next(), { text: resizeMessage({ cols: 132, rows: 50 }), binary: false });
    ws.send(JSON.stringify({ type: 'error', error: { message: '"cols" must be an integer from 1 to 1000', type: 'invalid_request_error', param: 'cols', code: '400' } }));
    stdin.write('y');
    assert.deepEqual(await next(), { text: 'y', binary: true }, 'the resize to the same size sent nothing');
    ws.close(1000, 'the terminal ended');
    assert.equal(await exit, 0);
    assert.match(err, /weir: "cols" must be an integer from 1 to 1000/);
    assert.doesNotMatch(stdout.read()?.toString() ?? '', /invalid_request_error/, 'an error frame is not printed into the terminal');
    wss.close();
  });

  it('against an older Weir, which does not say it takes resize frames, a change of the window sends nothing (it would type the JSON into the terminal)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const conn = new Promise<WebSocket>((r) => wss.once('connection', (ws) => r(ws)));
    const frames: Array<{ text: string; binary: boolean }> = [];
    const waiting: Array<(f: { text: string; binary: boolean }) => void> = [];
    const next = () => new Promise<{ text: string; binary: boolean }>((r) => (frames.length ? r(frames.shift()!) : waiting.push(r)));
    const stdin = new PassThrough();
    const stdout = fakeTty(100, 30);
    const exit = attachCommand(['ses_1', '--url', `http://127.0.0.1:${(wss.address() as AddressInfo).port}`], {}, { stdin, stdout, stderr: new PassThrough() });
    const ws = await conn;
    ws.on('message', (d: Buffer, binary: boolean) => {
      const f = { text: d.toString('utf8'), binary };
      const w = waiting.shift();
      if (w) w(f);
      else frames.push(f);
    });
    try {
      stdin.write('x');
      assert.deepEqual(await next(), { text: 'x', binary: true });
      Object.assign(stdout, { columns: 132, rows: 50 });
      stdout.emit('resize');
      stdin.write('y');
      assert.deepEqual(await next(), { text: 'y', binary: true }, 'no resize frame before the keystroke after it');
    } finally {
      ws.close(1000);
      assert.equal(await exit, 0);
      wss.close();
    }
    assert.equal(frames.length, 0);
  });
});
