// The stream checker: counts delta frames by their index, so a missing, repeated or reordered
// frame, a stream that never ends, or a long silence is detected however the bytes are chunked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeStream, SseChecker } from '../../native-bench/streams';
import { anthropicStream, openaiStream } from '../support/mock-responses';

const openai = (deltas: number) => openaiStream({ id: 'c1', model: 'm', created: 1, promptTokens: 3, deltas, includeUsage: true }).events;
const anthropic = (deltas: number) => anthropicStream({ id: 'm1', model: 'm', inputTokens: 3, deltas }).events;

test('a complete OpenAI stream fed byte by byte: 64 deltas, ended, nothing lost', () => {
  const c = new SseChecker();
  const text = openai(64).join('');
  for (let i = 0; i < text.length; i++) c.feed(text[i]!, i / 1000);
  assert.equal(c.deltas, 64);
  assert.equal(c.ended, true);
  assert.equal(c.outOfOrder, 0);
  assert.equal(c.lost(64), 0);
  assert.ok(judgeStream(c, { expectedDeltas: 64, stallMs: 1000, error: null, status: 200 }).ok);
});

test('an Anthropic stream ends at message_stop and counts text deltas', () => {
  const c = new SseChecker();
  c.feed(Buffer.from(anthropic(16).join('')), 0);
  assert.equal(c.deltas, 16);
  assert.equal(c.ended, true);
  assert.equal(c.lost(16), 0);
});

test('a dropped frame, a repeated frame and a missing end are each counted as lost', () => {
  const ev = openai(8);
  // events: [role, d0..d7, stop, usage, DONE]; drop d3
  const dropped = new SseChecker();
  dropped.feed([...ev.slice(0, 4), ...ev.slice(5)].join(''), 0);
  assert.equal(dropped.deltas, 7);
  assert.ok(dropped.lost(8) >= 2, 'one missing + one out of order');
  const repeated = new SseChecker();
  repeated.feed([...ev.slice(0, 5), ev[4]!, ...ev.slice(5)].join(''), 0);
  assert.equal(repeated.outOfOrder, 1);
  assert.ok(repeated.lost(8) > 0);
  const cut = new SseChecker();
  cut.feed(ev.slice(0, 9).join(''), 0);
  assert.equal(cut.ended, false);
  assert.ok(cut.lost(8) > 0);
  assert.equal(judgeStream(cut, { expectedDeltas: 8, stallMs: 1000, error: null, status: 200 }).ok, false);
});

test('a half-received frame left in the buffer is a lost frame, and CRLF framing is understood', () => {
  const c = new SseChecker();
  const crlf = openai(2).map((e) => e.replace(/\n/g, '\r\n')).join('');
  c.feed(crlf, 0);
  assert.equal(c.deltas, 2);
  assert.equal(c.lost(2), 0);
  c.feed('data: {"partial', 1);
  assert.equal(c.lost(2), 1);
});

test('a silence longer than the stall threshold marks the stream stalled even if it completes', () => {
  const ev = openai(4);
  const c = new SseChecker();
  ev.forEach((e, i) => c.feed(e, i === 3 ? 2000 : i)); // 2 s gap before the third delta
  assert.ok(c.maxGapMs >= 1990);
  const v = judgeStream(c, { expectedDeltas: 4, stallMs: 1000, error: null, status: 200 });
  assert.equal(v.stalled, true);
  assert.equal(v.lostFrames, 0);
  assert.equal(v.ok, false);
  assert.equal(judgeStream(new SseChecker(), { expectedDeltas: 4, stallMs: 1000, error: 'timeout', status: 200 }).stalled, true);
});
