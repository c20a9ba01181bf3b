// Incoming webhook verification, as a table per scheme: valid, tampered body, wrong secret, missing
// headers, expired and future timestamps, a rotation list of signatures, a non-JSON body; plus the
// event filter and the hook token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { hookToken, serverSecretFrom } from '../../src/agents/hook-token';
import { signStandard } from '../../src/agents/standard-webhooks';
import type { WebhookSpec } from '../../src/agents/types';
import { eventMatches, verifyWebhook, type VerifyResult } from '../../src/agents/webhook-verify';

const SECRET = 'It\'s a Secret to Everybody';
const NOW = new Date('2026-03-01T12:00:00Z');
const NOW_S = NOW.getTime() / 1000;
const BODY = Buffer.from('{"action":"opened","issue":{"number":7}}');
const hex = (secret: string, body: Buffer | string) => createHmac('sha256', secret).update(body).digest('hex');

interface Row {
  name: string;
  spec: WebhookSpec;
  headers: Record<string, string>;
  body?: Buffer;
  /** ok → the delivery id and event expected; else the status and a pattern of the message. */
  expect: { deliveryId: string | null; event: string | null } | { status: 400 | 401; message: RegExp };
}

function check(rows: Row[]): void {
  for (const r of rows) {
    const got: VerifyResult = verifyWebhook(r.spec, r.headers, r.body ?? BODY, NOW);
    if ('status' in r.expect) {
      assert.equal(got.ok, false, r.name);
      assert.ok(!got.ok);
      assert.equal(got.status, r.expect.status, r.name);
      assert.match(got.message, r.expect.message, r.name);
      // Never the secret, nor the signature we expected.
      assert.ok(!got.message.includes(SECRET), r.name);
      assert.ok(!got.message.includes(hex(SECRET, r.body ?? BODY)), r.name);
    } else {
      assert.ok(got.ok, `${r.name}: ${!got.ok && got.message}`);
      assert.equal(got.deliveryId, r.expect.deliveryId, r.name);
      assert.equal(got.event, r.expect.event, r.name);
    }
  }
}

test('known answers: the Standard Webhooks reference vector and GitHub\'s documented example', () => {
  assert.equal(signStandard('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}'), 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const hello = Buffer.from('Hello, World!');
  const r = verifyWebhook({ verify: 'hmac', secret: SECRET }, { 'x-signature': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' }, hello, NOW);
  assert.ok(r.ok);
  assert.equal(r.payload, 'Hello, World!');
});

test('github: X-Hub-Signature-256 over the raw body; event = X-GitHub-Event.action; non-JSON refused after the signature', () => {
  const spec: WebhookSpec = { verify: 'github', secret: SECRET };
  const good = { 'x-hub-signature-256': `sha256=${hex(SECRET, BODY)}`, 'x-github-event': 'issues', 'x-github-delivery': 'd-1' };
  const push = Buffer.from('{"ref":"refs/heads/main"}');
  const text = Buffer.from('not json');
  const form = Buffer.from(`payload=${encodeURIComponent('{"action":"closed"}')}`);
  check([
    { name: 'valid', spec, headers: good, expect: { deliveryId: 'd-1', event: 'issues.opened' } },
    { name: 'upper-case hex', spec, headers: { ...good, 'x-hub-signature-256': `sha256=${hex(SECRET, BODY).toUpperCase()}` }, expect: { deliveryId: 'd-1', event: 'issues.opened' } },
    { name: 'no action: the event alone', spec, body: push, headers: { ...good, 'x-hub-signature-256': `sha256=${hex(SECRET, push)}`, 'x-github-event': 'push' }, expect: { deliveryId: 'd-1', event: 'push' } },
    { name: 'no delivery header', spec, headers: { 'x-hub-signature-256': good['x-hub-signature-256'], 'x-github-event': 'issues' }, expect: { deliveryId: null, event: 'issues.opened' } },
    { name: 'form-encoded payload', spec, body: form, headers: { ...good, 'content-type': 'application/x-www-form-urlencoded', 'x-hub-signature-256': `sha256=${hex(SECRET, form)}` }, expect: { deliveryId: 'd-1', event: 'issues.closed' } },
    { name: 'tampered body', spec, body: Buffer.from('{"action":"opened","issue":{"number":8}}'), headers: good, expect: { status: 401, message: /does not match the body/ } },
    { name: 'wrong secret', spec, headers: { ...good, 'x-hub-signature-256': `sha256=${hex('other', BODY)}` }, expect: { status: 401, message: /does not match the body/ } },
    { name: 'missing signature', spec, headers: { 'x-github-event': 'issues' }, expect: { status: 401, message: /missing X-Hub-Signature-256/ } },
    { name: 'no sha256= prefix', spec, headers: { ...good, 'x-hub-signature-256': hex(SECRET, BODY) }, expect: { status: 401, message: /"sha256="/ } },
    { name: 'short hex', spec, headers: { ...good, 'x-hub-signature-256': 'sha256=abcd' }, expect: { status: 401, message: /64 hex digits/ } },
    { name: 'the old SHA-1 header only', spec, headers: { 'x-hub-signature': `sha1=${'0'.repeat(40)}` }, expect: { status: 401, message: /missing X-Hub-Signature-256/ } },
    { name: 'non-JSON body, signed', spec, body: text, headers: { ...good, 'x-hub-signature-256': `sha256=${hex(SECRET, text)}` }, expect: { status: 400, message: /not JSON/ } },
  ]);
  const r = verifyWebhook(spec, good, BODY, NOW);
  assert.ok(r.ok);
  assert.deepEqual(r.payload, JSON.parse(BODY.toString()));
});

test('standard: id.timestamp.body signed, whsec_ or raw secrets, 5 minutes of tolerance both ways, a rotation list', () => {
  const key = Buffer.from('a 24-byte key, for tests').toString('base64');
  const whsec = `whsec_${key}`;
  const spec: WebhookSpec = { verify: 'standard', secret: whsec };
  const hdr = (secret: string, ts = NOW_S, id = 'msg_1', body = BODY) => ({ 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signStandard(secret, id, ts, body) });
  // The reference value: base64 HMAC keyed with the *decoded* key, as the spec's libraries do.
  const reference = createHmac('sha256', Buffer.from(key, 'base64')).update(`msg_1.${NOW_S}.${BODY}`).digest('base64');
  assert.equal(hdr(whsec)['webhook-signature'], `v1,${reference}`);
  const typed = Buffer.from('{"type":"invoice.paid","data":{}}');
  check([
    { name: 'valid', spec, headers: hdr(whsec), expect: { deliveryId: 'msg_1', event: null } },
    { name: 'event from the payload type', spec, body: typed, headers: hdr(whsec, NOW_S, 'msg_2', typed), expect: { deliveryId: 'msg_2', event: 'invoice.paid' } },
    { name: 'raw secret', spec: { verify: 'standard', secret: SECRET }, headers: hdr(SECRET), expect: { deliveryId: 'msg_1', event: null } },
    { name: '299 s old', spec, headers: hdr(whsec, NOW_S - 299), expect: { deliveryId: 'msg_1', event: null } },
    { name: '299 s ahead', spec, headers: hdr(whsec, NOW_S + 299), expect: { deliveryId: 'msg_1', event: null } },
    { name: 'rotation: old then new', spec, headers: { ...hdr(whsec), 'webhook-signature': `${signStandard('whsec_b2xk', 'msg_1', NOW_S, BODY)} ${hdr(whsec)['webhook-signature']}` }, expect: { deliveryId: 'msg_1', event: null } },
    { name: 'rotation: an asymmetric v1a entry skipped', spec, headers: { ...hdr(whsec), 'webhook-signature': `v1a,AAAA ${hdr(whsec)['webhook-signature']}` }, expect: { deliveryId: 'msg_1', event: null } },
    { name: 'rotation: none matches', spec, headers: { ...hdr(whsec), 'webhook-signature': `${signStandard('one', 'msg_1', NOW_S, BODY)} ${signStandard('two', 'msg_1', NOW_S, BODY)}` }, expect: { status: 401, message: /does not match/ } },
    { name: 'tampered body', spec, body: Buffer.from('{"action":"closed"}'), headers: hdr(whsec), expect: { status: 401, message: /does not match/ } },
    { name: 'id changed', spec, headers: { ...hdr(whsec), 'webhook-id': 'msg_2' }, expect: { status: 401, message: /does not match/ } },
    { name: 'wrong secret', spec, headers: hdr('whsec_b3RoZXI='), expect: { status: 401, message: /does not match/ } },
    { name: 'expired', spec, headers: hdr(whsec, NOW_S - 301), expect: { status: 401, message: /301 s old/ } },
    { name: 'future', spec, headers: hdr(whsec, NOW_S + 3600), expect: { status: 401, message: /3600 s in the future/ } },
    { name: 'timestamp not a number', spec, headers: { ...hdr(whsec), 'webhook-timestamp': '2026-03-01T12:00:00Z' }, expect: { status: 400, message: /not a number of seconds/ } },
    { name: 'missing all', spec, headers: {}, expect: { status: 401, message: /missing webhook-id, webhook-timestamp, webhook-signature headers/ } },
    { name: 'missing signature', spec, headers: { 'webhook-id': 'x', 'webhook-timestamp': String(NOW_S) }, expect: { status: 401, message: /missing webhook-signature header$/ } },
    { name: 'no v1 entry', spec, headers: { ...hdr(whsec), 'webhook-signature': 'v2,abc' }, expect: { status: 401, message: /no "v1,<base64>"/ } },
  ]);
  // A non-JSON body is carried as its text (only the GitHub scheme promises JSON).
  const text = Buffer.from('plain text');
  const r = verifyWebhook(spec, hdr(whsec, NOW_S, 'msg_3', text), text, NOW);
  assert.ok(r.ok);
  assert.equal(r.payload, 'plain text');
});

test('hmac: hex or sha256=hex in the configured header, delivery id from x-delivery-id or x-request-id', () => {
  const spec: WebhookSpec = { verify: 'hmac', secret: SECRET };
  const custom: WebhookSpec = { verify: 'hmac', secret: SECRET, header: 'X-Custom-Sig' };
  check([
    { name: 'valid hex', spec, headers: { 'x-signature': hex(SECRET, BODY), 'x-delivery-id': 'd-9' }, expect: { deliveryId: 'd-9', event: null } },
    { name: 'valid sha256=hex', spec, headers: { 'x-signature': `sha256=${hex(SECRET, BODY)}`, 'x-request-id': 'r-1' }, expect: { deliveryId: 'r-1', event: null } },
    { name: 'custom header (any case in the spec)', spec: custom, headers: { 'x-custom-sig': hex(SECRET, BODY), 'x-event-type': 'build.done' }, expect: { deliveryId: null, event: 'build.done' } },
    { name: 'custom header absent', spec: custom, headers: { 'x-signature': hex(SECRET, BODY) }, expect: { status: 401, message: /missing x-custom-sig header/ } },
    { name: 'tampered body', spec, body: Buffer.from('{}'), headers: { 'x-signature': hex(SECRET, BODY) }, expect: { status: 401, message: /does not match the body/ } },
    { name: 'wrong secret', spec, headers: { 'x-signature': hex('other', BODY) }, expect: { status: 401, message: /does not match the body/ } },
    { name: 'missing', spec, headers: {}, expect: { status: 401, message: /missing x-signature header/ } },
    { name: 'not hex', spec, headers: { 'x-signature': 'zz'.repeat(32) }, expect: { status: 401, message: /64 hex digits/ } },
    { name: 'no secret configured', spec: { verify: 'hmac' }, headers: { 'x-signature': hex('', BODY) }, expect: { status: 401, message: /no secret configured/ } },
  ]);
});

test('none: accepted, with whatever delivery id and event the headers carry; long ids are hashed', () => {
  check([
    { name: 'bare', spec: { verify: 'none' }, headers: {}, expect: { deliveryId: null, event: null } },
    { name: 'github-like', spec: { verify: 'none' }, headers: { 'x-github-delivery': 'g1', 'x-github-event': 'issues' }, expect: { deliveryId: 'g1', event: 'issues.opened' } },
    { name: 'empty body', spec: { verify: 'none' }, body: Buffer.alloc(0), headers: { 'webhook-id': 'w1' }, expect: { deliveryId: 'w1', event: null } },
  ]);
  const r = verifyWebhook({ verify: 'none' }, { 'x-delivery-id': 'x'.repeat(1000) }, BODY, NOW);
  assert.ok(r.ok);
  assert.match(r.deliveryId!, /^sha256:[0-9a-f]{64}$/);
});

test('eventMatches: a bare event matches all its actions, a dotted one only itself, no list matches all', () => {
  const table: [string[] | undefined, string | null, boolean][] = [
    [undefined, 'issues.opened', true],
    [[], null, true],
    [['issues'], 'issues.opened', true],
    [['issues'], 'issues', true],
    [['issues'], 'issue_comment.created', false],
    [['issues'], 'issuesx.opened', false],
    [['issues.opened'], 'issues.opened', true],
    [['issues.opened'], 'issues.closed', false],
    [['issues.opened'], 'issues', false],
    [['push', 'pull_request.opened'], 'pull_request.opened', true],
    [['push'], null, false],
    [['*'], 'anything', true],
  ];
  for (const [events, event, want] of table) assert.equal(eventMatches(events, event), want, `${JSON.stringify(events)} ${event}`);
});

test('hook tokens: stable per job and secret, different otherwise, url-safe and 192 bits', () => {
  const a = hookToken('triage', 's1');
  assert.equal(a, hookToken('triage', 's1'));
  assert.notEqual(a, hookToken('triage', 's2'));
  assert.notEqual(a, hookToken('triage2', 's1'));
  assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  assert.equal(serverSecretFrom({ WEIR_WEBHOOK_SECRET: 'w', LITELLM_SALT_KEY: 's' }, 'm'), 'w');
  assert.equal(serverSecretFrom({ WEIR_WEBHOOK_SECRET: ' ', LITELLM_SALT_KEY: 's' }, 'm'), 's');
  assert.equal(serverSecretFrom({}, 'sk-master'), 'sk-master');
  assert.equal(serverSecretFrom({ LITELLM_SALT_KEY: '' }, null), null);
});
