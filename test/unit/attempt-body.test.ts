// What one attempt sends (src/gateway/attempt-body.ts): a translation's pieces go as they are
// unless something reads the body after the translation (parameter rules, a wire, the mock), and
// the client's lent buffer goes back with them; a whole lent body is lent again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Dispatcher } from 'undici';
import { attemptBody, sendAttempt, type AttemptBody } from '../../src/gateway/attempt-body';
import type { BodyScan } from '../../src/gateway/body-scan';
import type { Target } from '../../src/gateway/snapshot';
import type { Translation } from '../../src/gateway/translation';
import type { CallPool } from '../../src/gateway/upstream-pool';
import { LARGE_BODY, LentBody, takeLarge } from '../../src/server/large-buffers';
import type { H1DispatchOptions } from '../../src/upstream/h1-pool';

const PIECES = [Buffer.from('{"model":"gpt","max_tokens":5,'), Buffer.from('"messages":[]}')];
const translation = { request: () => PIECES } as unknown as Translation;
const target = (o: Partial<Target>): Target => ({ provider: 'openai', upstreamModel: 'gpt', paramRules: null, ...o }) as Target;
const scan = {} as BodyScan;
const client = Buffer.from('{"model":"claude"}');

test('pieces go as they are; parameter rules, a wire and the mock get them joined', () => {
  const plain = attemptBody(target({}), 'messages', client, scan, translation, null);
  assert.equal(plain.pieces, PIECES);
  const rules = attemptBody(target({ paramRules: { refuse: [], drop: [], renames: [['max_tokens', 'max_completion_tokens']] } }), 'messages', client, scan, translation, null);
  assert.equal(rules.pieces, null);
  assert.deepEqual(JSON.parse(rules.whole!.toString()), { model: 'gpt', max_completion_tokens: 5, messages: [] });
  for (const o of [{ wire: {} as Target['wire'] }, { provider: 'mock' }]) {
    const b = attemptBody(target(o), 'messages', client, scan, translation, null);
    assert.deepEqual(b.whole, Buffer.concat(PIECES), JSON.stringify(o));
  }
});

test('sent: pieces under their total length, the lent client buffer with them on the first attempt only; a whole lent body lent again', () => {
  const sent: H1DispatchOptions[] = [];
  const pool: CallPool = { dispatch: (opts) => (sent.push(opts), true) };
  const handler = {} as Dispatcher.DispatchHandler;
  const lentClient = takeLarge(LARGE_BODY);
  const pieces: AttemptBody = { whole: null, pieces: PIECES };
  const first = sendAttempt(pool, '/v1/chat/completions', [], pieces, lentClient, true, true, handler);
  assert.ok(first instanceof LentBody && sent[0]!.body === first);
  assert.deepEqual(sent[0]!.headers, ['content-length', String(Buffer.concat(PIECES).length)]);
  assert.equal(sendAttempt(pool, '/p', [], pieces, lentClient, false, true, handler), null, 'a retry lends nothing');
  assert.equal(sent[1]!.body, PIECES);
  const whole = takeLarge(LARGE_BODY);
  const again = sendAttempt(pool, '/p', [], { whole, pieces: null }, client, true, false, handler);
  assert.ok(again instanceof LentBody && again.chunk === whole);
  assert.equal(sendAttempt(pool, '/p', [], { whole: client, pieces: null }, client, true, false, handler), null);
  assert.equal(sent[3]!.body, client);
});
