// The aligner a passed-through stream goes through: whole events out, the bytes unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventAligner, lastEventEnd, MAX_HELD_BYTES } from '../../src/gateway/sse-align';
import { chunkings, fixtureBytes } from './translate-helpers';

const b = (s: string) => Buffer.from(s, 'latin1');

test('lastEventEnd finds the end of the last blank line, whatever the line endings', () => {
  assert.equal(lastEventEnd(b('')), 0);
  assert.equal(lastEventEnd(b('data: 1\n\n')), 9);
  assert.equal(lastEventEnd(b('data: 1\r\n\r\n')), 11);
  assert.equal(lastEventEnd(b('data: 1\r\rdata: 2')), 9);
  assert.equal(lastEventEnd(b('data: 1\n\ndata: 2\n')), 9, 'one line ending is not an event end');
  assert.equal(lastEventEnd(b('data: 1\n\nevent: x\ndata: {"a"')), 9);
  assert.equal(lastEventEnd(b('data: 1\r\n\r')), 10, 'a CR ending a blank line ends the event even before its LF');
  assert.equal(lastEventEnd(b('\ndata: 1')), 1, 'a buffer starts at an event start, so a leading line ending is blank');
  assert.equal(lastEventEnd(b('event: message_start\ndata: {"type":"mess')), 0);
});

test('pushing any chunking forwards the same bytes, each piece ending on an event', () => {
  for (const name of ['anthropic-stream-thinking-tools.sse', 'openai-stream-reasoning-tools.sse', 'openai-stream-text-crlf.sse']) {
    const src = fixtureBytes(name);
    for (const { name: how, chunks } of chunkings(src)) {
      const a = new EventAligner();
      const out: Buffer[] = [];
      for (const c of chunks) {
        const piece = a.push(c);
        if (piece.length > 0) {
          assert.equal(lastEventEnd(piece), piece.length, `${name}, ${how}: a piece ends on an event`);
          out.push(piece);
        }
      }
      const rest = a.end();
      if (rest) out.push(rest);
      assert.ok(Buffer.concat(out).equals(src), `${name}, ${how}: the same bytes`);
    }
  }
});

test('a chunk that ends on an event is forwarded as it is (no copy)', () => {
  const a = new EventAligner();
  const chunk = b('event: ping\ndata: {}\n\n');
  assert.equal(a.push(chunk), chunk);
});

test('discard drops the unfinished event; end returns it', () => {
  const a = new EventAligner();
  assert.equal(a.push(b('data: 1\n\ndata: {"par')).toString(), 'data: 1\n\n');
  a.discard();
  assert.equal(a.push(b('data: 2\n\n')).toString(), 'data: 2\n\n', 'nothing of the dropped event comes back');
  assert.equal(a.push(b('data: 3')).length, 0);
  assert.equal(a.end()?.toString(), 'data: 3', 'a last event without its blank line still goes out at the end');
  assert.equal(a.end(), null);
});

test('a blank line split across chunks is found at the join, and an event split many times is joined once', () => {
  const a = new EventAligner();
  assert.equal(a.push(b('data: 1\n')).length, 0);
  assert.equal(a.push(b('\ndata: 2\r')).toString(), 'data: 1\n\n', 'the LF opening the chunk ends the blank line');
  assert.equal(a.push(b('\n')).length, 0);
  assert.equal(a.push(b('\r')).toString(), 'data: 2\r\n\r', 'CRLF then CR: a blank line across three chunks');
  assert.equal(a.push(b('\ndata: 3\n')).toString(), '\n');
  for (const c of 'ABCDEFGH') assert.equal(a.push(b(c)).length, 0);
  assert.equal(a.push(b('\n\n')).toString(), 'data: 3\nABCDEFGH\n\n');
});

test('an event longer than MAX_HELD_BYTES is forwarded as it arrives: memory per stream stays bounded', () => {
  const a = new EventAligner();
  const piece = Buffer.alloc(256 * 1024, 0x61);
  let forwarded = 0;
  forwarded += a.push(Buffer.from('data: ')).length;
  for (let i = 0; i < 8; i++) forwarded += a.push(piece).length;
  assert.ok(forwarded >= 8 * piece.length + 6 - MAX_HELD_BYTES, `only up to MAX_HELD_BYTES held (forwarded ${forwarded})`);
  assert.ok(forwarded > 0);
  // Once the giant event ends, alignment resumes for the events after it.
  const tail = a.push(Buffer.from('\n\ndata: {"next":1}\n\ndata: {"half'));
  assert.ok(tail.toString().endsWith('data: {"next":1}\n\n'));
  assert.equal(a.end()!.toString(), 'data: {"half');
});
