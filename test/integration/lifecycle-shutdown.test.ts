// Graceful shutdown on SIGTERM and SIGINT: requests and streams in flight finish, new connections
// are refused soon after the signal, the process exits within the grace period with its log lines;
// with a short WEIR_SHUTDOWN_GRACE_MS and an upstream that hangs it still exits and says it cut
// requests. Under uWS (2 workers) and node:http.
//
// Exit status seen (Node 20.20, this VM): code 0 when every worker thread ended within the second
// the control thread waits for them; otherwise the process dies by the signal it was sent
// (boot.ts dieBy), which is what happens after the grace period cut requests. Both are accepted.
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test, type TestContext } from 'node:test';
import type { GatewayProcess } from '../support/gateway-process';
import { chat, config, MASTER_KEY, probe, startMock, startWeir, waitFor, waitForLog } from './lifecycle-helpers';

const MASTER = `general_settings:\n  master_key: ${MASTER_KEY}\n`;

interface Timed<T> {
  promise: Promise<T>;
  /** Date.now() when it settled, 0 before. */
  settledAt(): number;
}

function timed<T>(p: Promise<T>): Timed<T> {
  let at = 0;
  const promise = p.finally(() => (at = Date.now()));
  promise.catch(() => {}); // observed by the test later
  return { promise, settledAt: () => at };
}

/** Polls until a TCP connect to the gateway's port is refused; returns when that was. */
async function refusedAt(gw: GatewayProcess, timeoutMs = 2_000): Promise<number> {
  await waitFor(`port ${gw.port} refusing connections`, async () => (await probe(gw.port)) === 'refused', timeoutMs, 20);
  return Date.now();
}

/** One idle keep-alive connection to the gateway, as a client's connection pool would hold. */
async function idleKeepAlive(t: TestContext, gw: GatewayProcess): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  await new Promise<void>((resolve, reject) => {
    http
      .get(`${gw.url}/health/liveliness`, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject);
  });
}

async function exitWithin(gw: GatewayProcess, ms: number) {
  const r = await Promise.race([gw.exited, new Promise<null>((res) => setTimeout(() => res(null), ms).unref())]);
  assert.ok(r, `the process did not exit within ${ms} ms:\n${gw.output()}`);
  return r;
}

for (const engine of ['uws', 'node'] as const) {
  describe(`graceful shutdown (${engine})`, { concurrency: 3 }, () => {
    const workers = engine === 'uws' ? 2 : 1;

    test('SIGTERM: the slow request in flight completes 200, new connections are refused at once, exit with the log lines', async (t) => {
      const mock = await startMock(t);
      const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers, engine });
      await idleKeepAlive(t, gw);
      const slow = timed(chat(gw.url, 'alpha', { extra: { mock_behavior: { delayMs: 1_500, text: 'finished during shutdown' } }, timeoutMs: 15_000 }));
      await waitFor('request at the upstream', () => mock.activeRequests() >= 1, 5_000);
      const signalledAt = Date.now();
      gw.proc.kill('SIGTERM');
      const refused = await refusedAt(gw);
      assert.equal(slow.settledAt(), 0, 'connections were refused only after the request in flight ended');
      assert.ok(gw.proc.exitCode === null && gw.proc.signalCode === null, 'still running while the request is in flight');
      t.diagnostic(`refused ${refused - signalledAt} ms after SIGTERM`);
      const r = await slow.promise;
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.choices[0].message.content, 'finished during shutdown');
      const exit = await exitWithin(gw, 5_000);
      t.diagnostic(`exit ${JSON.stringify(exit)} ${Date.now() - signalledAt} ms after SIGTERM`);
      assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit));
      assert.match(gw.output(), /weir info shutdown \(SIGTERM\): not accepting new connections/);
      assert.match(gw.output(), /weir info shutdown complete\n/);
      assert.doesNotMatch(gw.output(), /requests still in flight were cut|Assertion failed/);
    });

    test('SIGINT: a stream in flight finishes all its frames, a slow request too; exit with the log lines', async (t) => {
      const mock = await startMock(t);
      const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers, engine });
      const stream = timed(chat(gw.url, 'alpha', { extra: { stream: true, mock_behavior: { deltas: 10, paceMs: 150 } }, timeoutMs: 15_000 }));
      const slow = timed(chat(gw.url, 'alpha', { extra: { mock_behavior: { delayMs: 1_200 } }, timeoutMs: 15_000 }));
      await waitFor('2 requests at the upstream', () => mock.activeRequests() >= 2, 5_000);
      await new Promise((r) => setTimeout(r, 200)); // the stream has started
      gw.proc.kill('SIGINT');
      await refusedAt(gw);
      assert.equal(stream.settledAt(), 0, 'the stream was still running when new connections were refused');
      const [s, r] = await Promise.all([stream.promise, slow.promise]);
      assert.equal(s.status, 200);
      const events = s.text.split('\n\n').filter(Boolean);
      assert.equal(events.filter((e) => e.includes('"delta":{"content":')).length, 10, s.text);
      assert.equal(events.at(-1), 'data: [DONE]');
      assert.ok(s.chunks.length >= 4, `frames arrived as they came (${s.chunks.length} chunks)`);
      assert.equal(r.status, 200, r.text);
      const exit = await exitWithin(gw, 5_000);
      t.diagnostic(`exit ${JSON.stringify(exit)}`);
      assert.ok(exit.code === 0 || exit.signal === 'SIGINT', JSON.stringify(exit));
      assert.match(gw.output(), /weir info shutdown \(SIGINT\): not accepting new connections/);
      assert.match(gw.output(), /weir info shutdown complete\n/);
    });

    test('a second SIGTERM during the drain exits at once', async (t) => {
      const mock = await startMock(t);
      const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers, engine });
      const hung = chat(gw.url, 'alpha', { extra: { mock_behavior: { hang: true } }, timeoutMs: 15_000 }).catch((e: Error) => e);
      await waitFor('request at the upstream', () => mock.activeRequests() >= 1, 5_000);
      gw.proc.kill('SIGTERM');
      await waitForLog(gw, /shutdown \(SIGTERM\)/, 3_000);
      const againAt = Date.now();
      gw.proc.kill('SIGTERM');
      const exit = await exitWithin(gw, 3_000);
      t.diagnostic(`exit ${JSON.stringify(exit)} ${Date.now() - againAt} ms after the second SIGTERM`);
      assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit));
      assert.match(gw.output(), /SIGTERM again: exiting now/);
      await hung;
    });

    test('WEIR_SHUTDOWN_GRACE_MS=500 and an upstream that hangs: the process exits within a few seconds and says requests were cut', async (t) => {
      const mock = await startMock(t);
      const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers, engine, env: { WEIR_SHUTDOWN_GRACE_MS: '500' } });
      const hung = timed(chat(gw.url, 'alpha', { extra: { mock_behavior: { hang: true } }, timeoutMs: 15_000 }));
      await waitFor('request at the upstream', () => mock.activeRequests() >= 1, 5_000);
      const signalledAt = Date.now();
      gw.proc.kill('SIGTERM');
      const exit = await exitWithin(gw, 4_000);
      const took = Date.now() - signalledAt;
      t.diagnostic(`exit ${JSON.stringify(exit)} ${took} ms after SIGTERM`);
      assert.ok(took >= 400, `exited after ${took} ms, before the grace period`);
      assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit));
      assert.match(gw.output(), /shutdown \(SIGTERM\): .*\(up to 0\.5 s\)/);
      await waitForLog(gw, /weir info shutdown: grace period over, requests still in flight were cut/, 1_000);
      assert.doesNotMatch(gw.output(), /shutdown complete/);
      // The cut request ends for the client (an error or a 5xx), it does not hang on.
      const outcome = await hung.promise.then((a) => `status ${a.status}`, (e: NodeJS.ErrnoException) => e.code ?? e.message);
      t.diagnostic(`the client of the cut request saw: ${outcome}`);
      assert.ok(!/^status 2/.test(outcome), outcome);
      // The upstream call was abandoned with it.
      await waitFor('upstream connection closed', () => mock.activeRequests() === 0, 3_000);
    });
  });
}
