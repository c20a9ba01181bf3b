// A worker that fails is replaced: with WEIR_FAULT_INJECTION=1, POST /__weir/crash makes the
// worker that serves it throw. The log says so, the replacement starts, requests in flight on the
// failed worker still complete, and the process keeps serving with all its workers.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import {
  call, chat, config, countMatches, MASTER_KEY, startMock, startWeir, waitFor, waitForLog,
} from './lifecycle-helpers';
import type { GatewayProcess } from '../support/gateway-process';

const MASTER = `general_settings:\n  master_key: ${MASTER_KEY}\n`;
const slow = (ms: number, text: string) => ({ extra: { mock_behavior: { delayMs: ms, text } }, timeoutMs: 8_000 });

/** `total` calls on fresh connections, `parallel` at a time; returns the statuses (or error codes). */
async function burst(gw: GatewayProcess, total: number, parallel: number): Promise<(number | string)[]> {
  const statuses: (number | string)[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) {
        next++;
        try {
          statuses.push((await chat(gw.url, 'alpha')).status);
        } catch (e) {
          statuses.push((e as NodeJS.ErrnoException).code ?? (e as Error).message);
        }
      }
    }),
  );
  return statuses;
}

const alive = (gw: GatewayProcess) => gw.proc.exitCode === null && gw.proc.signalCode === null;

test('2 workers: a crashed worker is replaced, its requests in flight complete, then 200 fresh connections all succeed', async (t) => {
  const mock = await startMock(t);
  const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers: 2, faultInjection: true });
  // Requests in flight on fresh connections, spread over both workers.
  const settled: string[] = [];
  const inflight = Array.from({ length: 8 }, (_, i) => {
    const p = chat(gw.url, 'alpha', slow(1_500, `slow ${i}`));
    p.then((a) => settled.push(`#${i}: ${a.status} ${a.text.slice(0, 200)}`), (e: Error) => settled.push(`#${i}: ${e.message}`));
    return p;
  });
  await waitFor('8 requests at the upstream', () => mock.activeRequests() >= 8 || settled.length > 0, 8_000).catch((e: Error) => {
    throw new Error(`${e.message}; upstream active ${mock.activeRequests()}, settled: ${settled.join('; ')}\n${gw.output()}`);
  });
  assert.deepEqual(settled, [], 'a slow request ended before the crash');
  const crash = await call(gw.url, '/__weir/crash', { method: 'POST' });
  assert.equal(crash.status, 200, crash.text);
  assert.deepEqual(crash.json, { crashing: true });

  const failed = await waitForLog(gw, /weir warn worker (\d+) failed \((.*)\)/, 5_000);
  assert.match(failed[2]!, /fault injection: worker crash requested/);
  await waitForLog(gw, new RegExp(`weir info worker ${failed[1]} restarted`), 10_000);

  const results = await Promise.allSettled(inflight);
  const lost = results.flatMap((r, i) => (r.status === 'rejected' ? [`#${i}: ${(r.reason as Error).message}`] : []));
  assert.deepEqual(lost, [], `requests in flight at the crash were lost:\n${gw.output()}`);
  const done = results.map((r) => (r as PromiseFulfilledResult<Awaited<(typeof inflight)[number]>>).value);
  assert.deepEqual(done.map((r) => r.status), done.map(() => 200));
  assert.deepEqual(done.map((r) => r.json.choices[0].message.content), done.map((_, i) => `slow ${i}`));

  const statuses = await burst(gw, 200, 8);
  const bad = statuses.filter((s) => s !== 200);
  assert.deepEqual(bad, [], `${bad.length} of 200 failed`);
  assert.ok(alive(gw));
  assert.equal(countMatches(gw.output(), /worker \d+ failed/g), 1, gw.output());
  assert.equal(countMatches(gw.output(), /worker \d+ restarted/g), 1);
  assert.doesNotMatch(gw.output(), /could not be restarted/);

  // The process still shuts down cleanly with a replaced worker.
  const exit = await gw.stop('SIGTERM');
  assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', JSON.stringify(exit));
  assert.match(gw.output(), /shutdown complete/);
});

for (const engine of ['uws', 'node'] as const) {
  test(`1 worker (${engine}): the request and the stream in flight on the crashing worker complete; repeated crashes are each replaced`, async (t) => {
    const mock = await startMock(t);
    const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers: 1, engine, faultInjection: true });
    for (let round = 1; round <= 2; round++) {
      const inflight = chat(gw.url, 'alpha', slow(1_200, `round ${round}`));
      const stream = chat(gw.url, 'alpha', { extra: { stream: true, mock_behavior: { deltas: 6, paceMs: 200 } }, timeoutMs: 15_000 });
      await waitFor('2 requests at the upstream', () => mock.activeRequests() >= 2, 5_000);
      assert.equal((await call(gw.url, '/__weir/crash', { method: 'POST' })).status, 200);
      await waitFor(`restart ${round}`, () => countMatches(gw.output(), /worker 0 restarted/g) >= round, 10_000);
      const [r, s] = await Promise.all([inflight, stream]);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.choices[0].message.content, `round ${round}`);
      assert.equal(s.status, 200);
      assert.equal(s.text.split('\n\n').filter((e) => e.includes('"delta":{"content":')).length, 6, s.text);
      assert.ok(s.text.trimEnd().endsWith('data: [DONE]'));
      const after = await Promise.all(Array.from({ length: 10 }, () => chat(gw.url, 'alpha')));
      assert.deepEqual(after.map((a) => a.status), after.map(() => 200));
    }
    assert.equal(countMatches(gw.output(), /worker 0 failed/g), 2);
    assert.ok(alive(gw));
  });
}

test('without WEIR_FAULT_INJECTION the crash route does not exist', async (t) => {
  const gw = await startWeir(t, { config: 'model_list: []\n', workers: 1 });
  const r = await call(gw.url, '/__weir/crash', { method: 'POST' });
  assert.equal(r.status, 404);
  await new Promise((res) => setTimeout(res, 100));
  assert.doesNotMatch(gw.output(), /failed/);
});

test('a replacement worker serves the config reloaded before the crash, and later reloads reach it', async (t) => {
  const mock = await startMock(t);
  const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }, MASTER), workers: 2, faultInjection: true });
  fs.writeFileSync(gw.configPath, config({ alpha: mock.url + '/v1', gamma: mock.url + '/v1' }, MASTER));
  assert.equal((await call(gw.url, '/config/reload', { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}` } })).status, 200);
  assert.equal((await call(gw.url, '/__weir/crash', { method: 'POST' })).status, 200);
  await waitForLog(gw, /worker \d+ restarted/, 10_000);
  const first = await Promise.all(Array.from({ length: 40 }, () => chat(gw.url, 'gamma')));
  assert.deepEqual(first.map((a) => a.status), first.map(() => 200));
  fs.writeFileSync(gw.configPath, config({ alpha: mock.url + '/v1', gamma: mock.url + '/v1', kappa: mock.url + '/v1' }, MASTER));
  assert.equal((await call(gw.url, '/config/reload', { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}` } })).status, 200);
  const second = await Promise.all(Array.from({ length: 40 }, () => chat(gw.url, 'kappa')));
  assert.deepEqual(second.map((a) => a.status), second.map(() => 200));
});

// A GatewayError thrown after the caller was identified synchronously used to escape to the worker's
// uncaughtException handler (4f09c49): the worker failed and the request was never answered.
test('a request refused with 400 (unknown model, no model, bad JSON) is answered and no worker fails', async (t) => {
  const mock = await startMock(t);
  const gw = await startWeir(t, { config: config({ alpha: mock.url + '/v1' }), workers: 1 });
  const unknown = await chat(gw.url, 'no-such-model', { key: null, timeoutMs: 2_000 });
  assert.equal(unknown.status, 400, unknown.text);
  const missing = await call(gw.url, '/v1/chat/completions', { body: { messages: [] }, timeoutMs: 2_000 });
  assert.equal(missing.status, 400, missing.text);
  const notJson = await call(gw.url, '/v1/chat/completions', { body: 'not json', timeoutMs: 2_000 });
  assert.equal(notJson.status, 400, notJson.text);
  assert.equal((await chat(gw.url, 'alpha', { key: null })).status, 200);
  assert.doesNotMatch(gw.output(), /worker \d+ failed/);
});
