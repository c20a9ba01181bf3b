// Run notifications against a local HTTP server: signed so verifyWebhook accepts them, retried on
// 5xx with the same webhook-id, not retried on 4xx, given up on after maxAttempts against a dead
// port, bounded, stoppable; logs name only the receiver's origin. Delays are injected: nothing waits.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { backoffMs, Notifier, signStandard, type NotifyOutcome } from '../../src/agents/notify';
import { verifyWebhook } from '../../src/agents/webhook-verify';

interface Hit {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const servers: http.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

/** A server answering each request with the next status of `statuses` (the last one repeats). */
async function receiver(statuses: number[] | ((hit: Hit, res: http.ServerResponse) => void)): Promise<{ url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = { headers: req.headers, body: Buffer.concat(chunks) };
      hits.push(hit);
      if (typeof statuses === 'function') return statuses(hit, res);
      res.writeHead(statuses[Math.min(hits.length, statuses.length) - 1]!, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/run-done`, hits };
}

/** A URL nobody listens on: a port bound and released. */
async function deadUrl(path = '/'): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}${path}`;
}

function notifier(opts: ConstructorParameters<typeof Notifier>[0] = {}) {
  const outcomes: NotifyOutcome[] = [];
  const logs: string[] = [];
  const delays: number[] = [];
  const n = new Notifier({ delayMs: (a) => (delays.push(a), 0), log: (l) => logs.push(l), onDone: (o) => outcomes.push(o), ...opts });
  return { n, outcomes, logs, delays };
}

const SECRET = `whsec_${Buffer.from('notify secret bytes').toString('base64')}`;
const PAYLOAD = { type: 'agent.run.finished', run: { id: 'run_1', status: 'succeeded', cost: 0.0123 } };

test('a notification is JSON signed the Standard Webhooks way, and verifyWebhook accepts it', async () => {
  const r = await receiver([204]);
  const { n, outcomes } = notifier();
  n.send(r.url, SECRET, PAYLOAD);
  await n.idle();
  assert.deepEqual(outcomes, [{ origin: new URL(r.url).origin, ok: true, attempts: 1, status: 204 }]);
  const hit = r.hits[0]!;
  assert.equal(hit.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(hit.body.toString()), PAYLOAD);
  const headers = Object.fromEntries(Object.entries(hit.headers).map(([k, v]) => [k, String(v)]));
  const v = verifyWebhook({ verify: 'standard', secret: SECRET }, headers, hit.body, new Date());
  assert.ok(v.ok, !v.ok ? v.message : '');
  assert.equal(v.deliveryId, hit.headers['webhook-id']);
  assert.equal(v.event, 'agent.run.finished');
  assert.equal(hit.headers['webhook-signature'], signStandard(SECRET, headers['webhook-id']!, Number(headers['webhook-timestamp']), hit.body));
  // With the wrong secret it does not verify: the signature is really over this body.
  assert.equal(verifyWebhook({ verify: 'standard', secret: 'whsec_b3RoZXI=' }, headers, hit.body, new Date()).ok, false);
});

test('without a secret: the id and timestamp are sent, no signature', async () => {
  const r = await receiver([200]);
  const { n } = notifier();
  n.send(r.url, undefined, PAYLOAD);
  await n.idle();
  assert.match(String(r.hits[0]!.headers['webhook-id']), /^msg_[0-9a-f]{32}$/);
  assert.match(String(r.hits[0]!.headers['webhook-timestamp']), /^\d+$/);
  assert.equal(r.hits[0]!.headers['webhook-signature'], undefined);
});

test('a 500 then a 200: retried once, with the same webhook-id and a fresh signature', async () => {
  const r = await receiver([500, 200]);
  let t = Date.parse('2026-03-01T12:00:00Z');
  const { n, outcomes, delays } = notifier({ now: () => new Date((t += 1000)) });
  n.send(r.url, SECRET, PAYLOAD);
  await n.idle();
  assert.equal(r.hits.length, 2);
  assert.deepEqual(delays, [1]);
  assert.deepEqual(outcomes.map((o) => [o.ok, o.attempts, o.status]), [[true, 2, 200]]);
  const [h1, h2] = r.hits;
  assert.equal(h1!.headers['webhook-id'], h2!.headers['webhook-id']);
  assert.notEqual(h1!.headers['webhook-timestamp'], h2!.headers['webhook-timestamp']);
  assert.notEqual(h1!.headers['webhook-signature'], h2!.headers['webhook-signature']);
});

test('429 and 503 are retried until maxAttempts; 400 and a redirect are final', async () => {
  const busy = await receiver([429, 503]);
  const a = notifier({ maxAttempts: 3 });
  a.n.send(busy.url, SECRET, PAYLOAD);
  await a.n.idle();
  assert.equal(busy.hits.length, 3);
  assert.deepEqual(a.outcomes.map((o) => [o.ok, o.attempts, o.status]), [[false, 3, 503]]);
  assert.deepEqual(a.delays, [1, 2]);
  assert.match(a.logs.join('\n'), /answered 503; gave up after 3 attempts/);

  const bad = await receiver([400]);
  const moved = await receiver((_hit, res) => res.writeHead(302, { location: '/elsewhere' }).end());
  const b = notifier();
  b.n.send(bad.url, SECRET, PAYLOAD);
  b.n.send(moved.url, SECRET, PAYLOAD);
  await b.n.idle();
  assert.equal(bad.hits.length, 1);
  assert.equal(moved.hits.length, 1);
  assert.deepEqual(b.outcomes.map((o) => [o.ok, o.attempts, o.status]).sort(), [[false, 1, 302], [false, 1, 400]]);
});

test('a dead URL is given up on after maxAttempts, and the logs name only its origin', async () => {
  const url = await deadUrl('/services/T000/B000/XXXXsecretpath?token=abc');
  const { n, outcomes, logs, delays } = notifier();
  n.send(url, SECRET, PAYLOAD);
  await n.idle();
  assert.deepEqual(outcomes.map((o) => [o.ok, o.attempts, o.status]), [[false, 5, null]]);
  assert.deepEqual(delays, [1, 2, 3, 4]);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, new RegExp(`notification to ${new URL(url).origin.replace(/[.]/g, '\\.')} failed: .*gave up after 5 attempts`));
  assert.ok(!logs[0]!.includes('secretpath') && !logs[0]!.includes('token'), logs[0]);
});

test('the default backoff doubles from 1 s up to 5 minutes', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 9, 10, 50].map(backoffMs), [1000, 2000, 4000, 8000, 16000, 256000, 300000, 300000]);
});

test('stop() cancels a pending retry at once; a send after it is dropped', async () => {
  const r = await receiver([500]);
  let armed!: () => void;
  const waiting = new Promise<void>((res) => (armed = res));
  const outcomes: NotifyOutcome[] = [];
  const n = new Notifier({ delayMs: (a) => (armed(), 3_600_000 * a), onDone: (o) => outcomes.push(o) });
  n.send(r.url, SECRET, PAYLOAD);
  await waiting;
  n.stop();
  await n.idle();
  assert.equal(r.hits.length, 1);
  assert.deepEqual(outcomes.map((o) => [o.ok, o.attempts]), [[false, 1]]);
  // And a send after stop() is dropped at once.
  n.send(r.url, SECRET, PAYLOAD);
  assert.deepEqual(outcomes.map((o) => [o.ok, o.attempts]), [[false, 1], [false, 0]]);
  assert.equal(r.hits.length, 1);
});

test('pending deliveries are bounded: past maxPending a send is dropped and logged, never queued', async () => {
  const held: http.ServerResponse[] = [];
  let arrived!: () => void;
  const both = new Promise<void>((res) => (arrived = res));
  const r = await receiver((_hit, res) => {
    held.push(res);
    if (held.length === 2) arrived();
  });
  const { n, outcomes, logs } = notifier({ maxPending: 2 });
  n.send(r.url, SECRET, PAYLOAD);
  n.send(r.url, SECRET, PAYLOAD);
  n.send(r.url, SECRET, PAYLOAD);
  assert.deepEqual(outcomes.map((o) => [o.ok, o.attempts]), [[false, 0]]);
  assert.match(logs[0]!, /2 notifications are already pending; this one is dropped/);
  await both;
  for (const res of held) res.writeHead(200).end();
  await n.idle();
  assert.equal(r.hits.length, 2);
  assert.deepEqual(outcomes.map((o) => o.ok), [false, true, true]);
});

test('bad input never throws: a bad URL, a non-http scheme, a payload JSON cannot encode', async () => {
  const { n, outcomes, logs } = notifier();
  n.send('not a url', SECRET, PAYLOAD);
  n.send('file:///etc/passwd', SECRET, PAYLOAD);
  n.send('http://127.0.0.1:1/', SECRET, { n: 1n } as unknown as object);
  await n.idle();
  assert.deepEqual(outcomes.map((o) => [o.ok, o.attempts]), [[false, 0], [false, 0], [false, 0]]);
  assert.equal(logs.length, 3);
  // A delay function that throws ends the delivery, it does not escape.
  const r = await receiver([500]);
  const broken = notifier({ delayMs: () => {
    throw new Error('broken delay');
  } });
  broken.n.send(r.url, SECRET, PAYLOAD);
  await broken.n.idle();
  assert.deepEqual(broken.outcomes.map((o) => [o.ok, o.attempts]), [[false, 1]]);
  assert.match(broken.logs[0]!, /failed: broken delay/);
  assert.ok(!logs.join('\n').includes('passwd'));
});
