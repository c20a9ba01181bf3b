// The bytes a uWS stream stages within one turn (src/server/staged-bytes.ts): Buffers copied as
// they come, strings joined and encoded when the bytes are asked for, in the order written,
// through growth past the first buffer and across the reuse of released buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StagedBytes } from '../../src/server/staged-bytes';

test('strings and buffers come out in the order written, whatever their size', () => {
  const s = new StagedBytes();
  assert.equal(s.empty, true);
  const scratch = Buffer.alloc(40_000);
  let expected = '';
  for (let i = 0; i < 30; i++) {
    const text = `é${i}✓😀`.repeat(i * 50);
    s.append(text);
    const n = scratch.write(`[buffer ${i}]`.repeat(i * 40));
    s.append(scratch.subarray(0, n));
    expected += text + scratch.toString('utf8', 0, n);
    scratch.fill(0x21); // the caller's buffer changes at once: what was staged must not
  }
  assert.equal(s.empty, false);
  assert.equal(s.bytes().toString('utf8'), expected);
  s.release();
  assert.equal(s.empty, true);
});

test('a released buffer serves the next stage; what the first staged is not mixed into it', () => {
  const a = new StagedBytes();
  a.append(Buffer.from('first answer'));
  const first = a.bytes().toString();
  a.release();
  const b = new StagedBytes();
  b.append('second');
  b.append(Buffer.from(' answer'));
  assert.equal(first, 'first answer');
  assert.equal(b.bytes().toString(), 'second answer');
  b.release();
  // Only strings: encoded on demand.
  const c = new StagedBytes();
  c.append('');
  assert.equal(c.empty, true);
  c.append('x'.repeat(100_000));
  assert.equal(c.bytes().length, 100_000);
  c.release();
});

test('a turn of text larger than the first size finds the spare such a turn gave back', () => {
  // A translated stream's events, ~19 KB of text staged in one turn, turn after turn.
  const text = 'event: content_block_delta\ndata: {"text":"é"}\n\n'.repeat(400);
  const first = new StagedBytes();
  first.append(text);
  const memory = first.bytes().buffer;
  assert.equal(first.bytes().toString('utf8'), text);
  first.release();
  for (let turn = 0; turn < 3; turn++) {
    const s = new StagedBytes();
    s.append(text);
    assert.equal(s.bytes().toString('utf8'), text);
    assert.equal(s.bytes().buffer, memory, `turn ${turn}: the spare, not a new buffer`);
    s.release();
  }
});
