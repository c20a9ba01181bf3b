// The admin page's files under /ui (issue 14): the real gateway serving a fixture folder named by
// WEIR_UI_DIR, on both HTTP engines. Content types, cache and security headers, gzip, and paths
// that try to leave the folder (raw requests: a client library would normalize them first).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startGateway, type GatewayProcess } from '../support/gateway-process';
import { CSP } from './ui-helpers';

const SECRET = 'SECRET-OUTSIDE-THE-PAGE-4411';
let root: string;
const gateways: GatewayProcess[] = [];

const INDEX = '<!doctype html><html><head><script type="module" src="/ui/assets/index-abc123.js"></script><link rel="stylesheet" href="/ui/assets/index-def456.css"></head><body><div id="app"></div></body></html>';
const JS = `export const rows = [${Array.from({ length: 200 }, (_, i) => `"row ${i}"`).join(',')}];\n`;
const CSS = `body { margin: 0 }\n${'.x { color: red }\n'.repeat(100)}`;

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-ui-static-'));
  fs.writeFileSync(path.join(root, 'secret.txt'), SECRET);
  const ui = path.join(root, 'ui');
  fs.mkdirSync(path.join(ui, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(ui, 'index.html'), INDEX);
  fs.writeFileSync(path.join(ui, 'assets', 'index-abc123.js'), JS);
  fs.writeFileSync(path.join(ui, 'assets', 'index-def456.css'), CSS);
  fs.writeFileSync(path.join(ui, 'assets', 'logo-0a1b2c.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  // A link out of the folder is never served.
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(ui, 'assets', 'link.txt'));
});

after(async () => {
  for (const g of gateways) await g.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

const CONFIG = 'model_list: []\ngeneral_settings:\n  master_key: sk-ui-static-master\n';

async function gateway(engine: string, uiDir: string): Promise<GatewayProcess> {
  const g = await startGateway({ config: CONFIG, workers: engine === 'node' ? 1 : 2, engine, env: { WEIR_UI_DIR: uiDir } });
  gateways.push(g);
  return g;
}

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** A GET with the path exactly as given (nothing normalized or encoded). */
function rawGet(port: number, rawPath: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertSecurity(r: Raw, what: string): void {
  assert.equal(r.headers['content-security-policy'], CSP, what);
  assert.equal(r.headers['x-content-type-options'], 'nosniff', what);
  assert.equal(r.headers['referrer-policy'], 'no-referrer', what);
}

for (const engine of ['uws', 'node']) {
  test(`${engine}: the page, its assets, their types, cache headers and gzip`, async () => {
    const g = await gateway(engine, path.join(root, 'ui'));
    for (const p of ['/ui', '/ui/', '/ui/index.html']) {
      const r = await rawGet(g.port, p);
      assert.equal(r.status, 200, p);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', p);
      assert.equal(r.headers['cache-control'], 'no-cache', p);
      assert.equal(r.body.toString(), INDEX, p);
      assertSecurity(r, p);
    }
    const js = await rawGet(g.port, '/ui/assets/index-abc123.js', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['content-encoding'], 'gzip');
    assert.equal(js.headers.vary, 'accept-encoding');
    assert.ok(js.body.length < Buffer.byteLength(JS));
    assert.equal(gunzipSync(js.body).toString(), JS);
    assertSecurity(js, 'js');
    // Without gzip in Accept-Encoding (or refused with q=0): the bytes as they are.
    for (const ae of [undefined, 'identity', 'gzip;q=0']) {
      const plain = await rawGet(g.port, '/ui/assets/index-abc123.js', ae ? { 'accept-encoding': ae } : {});
      assert.equal(plain.headers['content-encoding'], undefined, String(ae));
      assert.equal(plain.body.toString(), JS);
    }
    const css = await rawGet(g.port, '/ui/assets/index-def456.css', { 'accept-encoding': 'gzip' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(gunzipSync(css.body).toString(), CSS);
    // A file gzip would not shrink goes as it is.
    const png = await rawGet(g.port, '/ui/assets/logo-0a1b2c.png', { 'accept-encoding': 'gzip' });
    assert.equal(png.headers['content-type'], 'image/png');
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.body.length, 7);
  });

  test(`${engine}: paths that try to leave the folder, a NUL, a folder, a link: 404, never a file outside`, async () => {
    const g = await gateway(engine, path.join(root, 'ui'));
    const attempts = [
      '/ui/../secret.txt',
      '/ui/assets/../../secret.txt',
      '/ui/%2e%2e/secret.txt',
      '/ui/%2E%2E%2Fsecret.txt',
      '/ui/assets/..%2f..%2fsecret.txt',
      '/ui/..%5csecret.txt',
      '/ui//' + path.join(root, 'secret.txt'),
      '/ui/' + encodeURIComponent(path.join(root, 'secret.txt')),
      '/ui/index.html%00',
      '/ui/index.html%00.js',
      '/ui/assets',
      '/ui/assets/',
      '/ui/assets/link.txt',
      '/ui/nope.js',
    ];
    for (const p of attempts) {
      const r = await rawGet(g.port, p);
      assert.equal(r.status, 404, p);
      assert.ok(!r.body.toString().includes(SECRET), `${p} leaked the file outside`);
    }
    // Whatever normalizes where, a /ui answer always carries the security headers.
    const r = await rawGet(g.port, '/ui/nope.js');
    assertSecurity(r, '404');
    const post = await rawGetMethod(g.port, '/ui/index.html', 'POST');
    assert.equal(post.status, 405);
  });
}

function rawGetMethod(port: number, rawPath: string, method: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method, agent: false, headers: { 'content-length': '0' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a page that was not built: a plain 404 saying so', async () => {
  const g = await gateway('', path.join(root, 'no-such-folder'));
  assert.match(g.output(), /admin page: not served: The admin page is not built/);
  for (const p of ['/ui', '/ui/', '/ui/assets/index-abc123.js']) {
    const r = await rawGet(g.port, p);
    assert.equal(r.status, 404, p);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(r.body.toString(), /The admin page is not built .*: run npm run build\./);
    assertSecurity(r, p);
  }
  // The login endpoints still answer (the API does not need the page).
  const r = await rawGet(g.port, '/ui/session');
  assert.equal(r.status, 401);
});
