// GET /ui/live (issue 14): the real gateway (2 workers) on a real PostgreSQL and the mock upstream.
// The stream is parsed as SSE and its ticks are counted against the requests sent: every request
// finished after the first tick appears in exactly one later tick (no timing in the asserts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { MockUpstream } from '../support/mock-upstream';
import {
  MASTER_KEY, type Weir, adminOk, bearer, burst, call, chat, closeAndCheckLedgers, governanceConfig, ledgerDatabase, startMock, startWeirOn, waitFor, writeConfigFile,
} from './governance-helpers';
import { assertSecurityHeaders, login } from './ui-helpers';

let mock: MockUpstream;
let weir: Weir;

before(async () => {
  const db = await ledgerDatabase('ui_live');
  mock = await startMock();
  weir = await startWeirOn(writeConfigFile(governanceConfig(mock.url, db)));
});

after(async () => {
  await closeAndCheckLedgers(() => weir?.stop(), () => mock?.close());
});

interface LiveStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  ticks: any[];
  text: () => string;
  close(): void;
}

/** Opens GET /ui/live and parses its events as they come; resolves once the head arrived. */
function openLive(base: string, headers: Record<string, string>): Promise<LiveStream> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    const req = http.request({ host: u.hostname, port: u.port, path: '/ui/live', method: 'GET', headers, agent: false }, (res) => {
      let buf = '';
      let all = '';
      const s: LiveStream = { status: res.statusCode!, headers: res.headers, ticks: [], text: () => all, close: () => req.destroy() };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        all += chunk;
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
          if (event === 'tick') s.ticks.push(JSON.parse(data));
        }
      });
      res.on('error', () => {});
      resolve(s);
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET /ui/live needs a session or key of proxy_admin or proxy_admin_viewer', async () => {
  const none = await call(weir.url, '/ui/live');
  assert.equal(none.status, 401);
  assertSecurityHeaders(none, 'live 401');
  await adminOk(weir.url, '/user/new', { user_id: 'live-dev', user_role: 'internal_user', auto_create_key: false });
  const dev = await adminOk(weir.url, '/key/generate', { user_id: 'live-dev' });
  const s = await openLive(weir.url, bearer(dev.key));
  s.close();
  assert.equal(s.status, 403);
  await adminOk(weir.url, '/user/new', { user_id: 'live-viewer', user_role: 'proxy_admin_viewer', auto_create_key: false });
  const viewer = await adminOk(weir.url, '/key/generate', { user_id: 'live-viewer' });
  const v = await openLive(weir.url, bearer(viewer.key));
  v.close();
  assert.equal(v.status, 200);
});

test('ticks count every request once: totals, errors by status, the deployment and its health', async () => {
  const session = await login(weir.url, { key: MASTER_KEY });
  const s = await openLive(weir.url, { cookie: session.cookie });
  try {
    assert.equal(s.status, 200);
    assert.equal(s.headers['content-type'], 'text/event-stream');
    assert.equal(s.headers['cache-control'], 'no-cache');
    assert.equal(s.headers['x-content-type-options'], 'nosniff');
    assert.equal(s.headers['referrer-policy'], 'no-referrer');
    assert.ok(s.headers['content-security-policy']);
    await waitFor('the first tick', () => s.ticks.length >= 1, 10_000);
    const first = s.ticks.length;
    const ok = await burst(5, () => chat(weir.url, MASTER_KEY));
    assert.deepEqual(ok.map((r) => r.status), [200, 200, 200, 200, 200]);
    const bad = await burst(3, () => chat(weir.url, MASTER_KEY, 'no-such-model'));
    assert.deepEqual(bad.map((r) => r.status), [400, 400, 400]);
    const after = () => s.ticks.slice(first);
    const sum = (f: (t: any) => number) => after().reduce((n, t) => n + f(t), 0);
    await waitFor('8 requests counted in ticks', () => sum((t) => t.requests) >= 8, 15_000);
    // One more tick, so a request counted twice would show.
    const seen = s.ticks.length;
    await waitFor('another tick', () => s.ticks.length > seen, 10_000);
    assert.equal(sum((t) => t.requests), 8);
    assert.equal(sum((t) => t.errors['400'] ?? 0), 3);
    const gpt = (t: any) => t.deployments.find((d: any) => d.model === 'gpt');
    assert.equal(sum((t) => gpt(t).requests), 5);
    assert.equal(sum((t) => gpt(t).errors), 0);
    const busy = after().find((t) => gpt(t).requests > 0);
    assert.ok(busy.latency_ms.p50 > 0 && busy.latency_ms.p99 >= busy.latency_ms.p50, JSON.stringify(busy.latency_ms));
    assert.ok(busy.overhead_ms.p50 > 0, JSON.stringify(busy.overhead_ms));
    assert.ok(gpt(busy).latency_ms.p50 > 0);
    for (const t of s.ticks) {
      assert.equal(typeof t.t, 'number');
      assert.equal(typeof t.rps, 'number');
      for (const d of t.deployments) {
        assert.equal(typeof d.cooldown, 'boolean');
        assert.ok(Number.isInteger(d.in_flight) && d.in_flight >= 0);
      }
    }
    // An idle tick has no latency to report.
    const idle = s.ticks.find((t) => t.requests === 0);
    if (idle) assert.deepEqual(idle.latency_ms, { p50: null, p99: null });
  } finally {
    s.close();
  }
});

test('streams are bounded; a client that leaves frees its place', async () => {
  const open: LiveStream[] = [];
  try {
    for (;;) {
      const s = await openLive(weir.url, bearer(MASTER_KEY));
      open.push(s);
      if (s.status !== 200) break;
      assert.ok(open.length <= 32, 'more than 32 streams were admitted');
    }
    const refused = open[open.length - 1]!;
    assert.equal(refused.status, 503);
    assert.equal(open.length, 33);
  } finally {
    for (const s of open) s.close();
  }
  // The control thread learns of each close from the workers: poll until a stream opens again.
  await waitFor('a stream admitted again', async () => {
    const s = await openLive(weir.url, bearer(MASTER_KEY));
    s.close();
    return s.status === 200;
  }, 10_000, 100);
});
