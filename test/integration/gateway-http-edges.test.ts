// Requests at the edges of HTTP/1.1 get an answer, never silence: HTTP/1.0, a target in absolute
// form, many headers, a header section too large, garbage. On the node:http engine, which parses
// all of these. (The uWebSockets.js build that loads on glibc 2.36, 20.30, answers none of them
// and closes the connection after its 10 s idle timeout: see the README's "How it is built".)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startGateway, type GatewayProcess } from '../support/gateway-process';

let gw: GatewayProcess;

before(async () => {
  gw = await startGateway({ config: 'model_list:\n  - model_name: gpt\n    litellm_params: {model: mock/gpt}\n', engine: 'node', workers: 1 });
});

after(async () => {
  await gw?.stop();
});

/** Writes `head` on a fresh connection; resolves with everything answered once the gateway closes it. */
function raw(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(gw.port, '127.0.0.1', () => s.write(head));
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

test('an HTTP/1.0 request is served and its connection closed', async () => {
  const a = await raw('GET /v1/models HTTP/1.0\r\n\r\n');
  assert.match(a, /^HTTP\/1\.1 200 /);
  assert.match(a, /"object":"list"/);
});

test('a request target in absolute form is routed by its path', async () => {
  const a = await raw('GET http://weir.example/v1/models?x=1 HTTP/1.1\r\nhost: weir.example\r\nconnection: close\r\n\r\n');
  assert.match(a, /^HTTP\/1\.1 200 /);
  assert.match(a, /"object":"list"/);
});

test('60 request headers are served; a header section over 16 KB is 431; garbage is 400', async () => {
  const many = Array.from({ length: 60 }, (_, i) => `x-h${i}: v`).join('\r\n');
  assert.match(await raw(`GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${many}\r\n\r\n`), /^HTTP\/1\.1 200 /);
  assert.match(await raw(`GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
  assert.match(await raw('HELLO\r\n\r\n'), /^HTTP\/1\.1 400 /);
});

test('an Upgrade header on a route that is no WebSocket is ignored: the request is served as HTTP/1.1, body and all', async () => {
  const body = JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }] });
  // What `curl --http2` sends to an http:// URL.
  const h2c = await raw(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings, close\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAAQCAAAAAAIAAAAA\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  assert.match(h2c, /^HTTP\/1\.1 200 /, h2c.slice(0, 300));
  assert.match(h2c, /"chat\.completion"/);
  const ws = await raw('GET /v1/models HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, close\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
  assert.match(ws, /^HTTP\/1\.1 200 /, ws.slice(0, 300));
  assert.match(ws, /"object":"list"/);
});
