// Event rows: payloads bounded by their JSON size (the cut one included), types made one short
// printable line, and JSON text JSONB accepts (NUL and lone surrogates replaced, nothing else).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppendedEvent, boundPayload, eventJson, jsonbSafe, safeType } from '../../src/agents/event-row';

test('a payload within the bound is kept as it is', () => {
  const p = { type: 'assistant', message: { content: [{ type: 'text', text: 'hi' }] } };
  const b = boundPayload(p, 1_000);
  assert.equal(b.payload, p);
  assert.equal(b.json, JSON.stringify(p));
  assert.deepEqual(boundPayload(undefined), { payload: undefined, json: 'null' });
  assert.equal(boundPayload({ n: 1n }).json.includes('unserializable'), true);
});

test('a payload above the bound is cut, says so, and its own JSON stays within the bound', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 3_000 }), fc.integer({ min: 200, max: 2_000 }), (text, max) => {
      const p = { text, quote: '"'.repeat(text.length % 500) };
      const full = JSON.stringify(p);
      const b = boundPayload(p, max);
      if (Buffer.byteLength(full) <= max) return assert.equal(b.json, full);
      const cut = b.payload as { truncated: boolean; original_bytes: number; head: string };
      assert.equal(cut.truncated, true);
      assert.equal(cut.original_bytes, Buffer.byteLength(full));
      assert.ok(Buffer.byteLength(b.json) <= max, `${Buffer.byteLength(b.json)} > ${max}`);
      assert.equal(b.json, JSON.stringify(cut));
      // The head is the start of the JSON text (its last character may be a cut one, made U+FFFD).
      assert.ok(full.startsWith(cut.head.replace(/\ufffd$/, '')));
    }),
    { numRuns: 300 },
  );
});

test('jsonbSafe: NUL and lone surrogates become U+FFFD, everything else round-trips', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', '\\', 'u', '0', 'd', '8', '\u0000', '\ud800', '\udc00', '"', '😀') }), (s) => {
      const safe = jsonbSafe(JSON.stringify({ s }));
      const expected = s.replace(/\u0000/g, '\ufffd').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
      assert.deepEqual(JSON.parse(safe), { s: expected });
      assert.ok(!/(^|[^\\])(\\\\)*\\u(0000|d[89a-f])/.test(safe));
    }),
    { numRuns: 500 },
  );
  const plain = '{"a":"C:\\\\udp\\\\u0000"}';
  assert.equal(jsonbSafe(plain), plain);
});

test('safeType: one printable line of at most 100 characters, never empty', () => {
  assert.equal(safeType('item.completed'), 'item.completed');
  assert.equal(safeType('a\nb\r\u0000c'), 'abc');
  assert.equal(safeType('\n'), 'stdout');
  assert.equal(safeType('t'.repeat(500)).length, 100);
});

test("an appended event's JSON is JSON.stringify's, spliced from its payload's JSON; a copy with another payload is encoded afresh", () => {
  fc.assert(
    fc.property(fc.nat(), fc.date({ noInvalidDate: true }), fc.string({ maxLength: 20 }), fc.oneof(fc.jsonValue(), fc.constant(undefined)), (seq, at, type, payload) => {
      const b = boundPayload(payload);
      const e = new AppendedEvent(seq, at.toISOString(), safeType(type), b.payload, b.json);
      const plain = { seq: e.seq, ts: e.ts, type: e.type, payload: e.payload };
      assert.equal(eventJson(e), JSON.stringify(plain));
      // What a page answers (the object itself) is the same text.
      assert.equal(JSON.stringify(e), JSON.stringify(plain));
      const copy = { ...e, payload: { dropped: 1 } };
      assert.equal(eventJson(copy), JSON.stringify({ seq: e.seq, ts: e.ts, type: e.type, payload: { dropped: 1 } }));
    }),
  );
});
