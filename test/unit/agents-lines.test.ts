// LineSplitter: lines come back whole however the stream was cut into chunks, a line past the
// bound is cut and says so, and garbage (binary, invalid UTF-8, no final newline) never throws.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { droppedBytes, LineSplitter } from '../../src/agents/lines';

function split(chunks: Buffer[], max?: number): string[] {
  const s = new LineSplitter(max);
  const out: string[] = [];
  for (const c of chunks) s.push(c, (l) => out.push(l));
  s.end((l) => out.push(l));
  return out;
}

/** Cuts a buffer at the given offsets. */
function cut(buf: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (buf.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

describe('LineSplitter', () => {
  it('gives back the same lines whatever the chunking (mid-line, mid-character)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\r\n]/g, '')), { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (lines, at) => {
        const text = lines.join('\n') + '\n';
        assert.deepEqual(split(cut(Buffer.from(text), at)), lines);
      }),
    );
  });

  it('strips \\r of CRLF lines and keeps a last line without a newline', () => {
    assert.deepEqual(split([Buffer.from('a\r\nb\nlast')]), ['a', 'b', 'last']);
    assert.deepEqual(split([Buffer.from('\n\n')]), ['', '']);
    assert.deepEqual(split([]), []);
  });

  it('cuts a line past the bound, counts what it dropped and says so at its end', () => {
    const long = Buffer.alloc(100, 'x');
    const out = split([long.subarray(0, 30), long.subarray(30), Buffer.from('\nnext\n')], 64);
    assert.equal(out.length, 2);
    assert.ok(out[0]!.startsWith('x'.repeat(64) + ' [weir: line cut'));
    assert.equal(droppedBytes(out[0]!), 36);
    assert.equal(out[1], 'next');
    assert.equal(droppedBytes('a normal line'), 0);
  });

  it('holds at most the bound of a huge line without a newline', () => {
    const s = new LineSplitter(1024);
    const chunk = Buffer.alloc(64 * 1024, 'y');
    for (let i = 0; i < 100; i++) s.push(chunk, () => assert.fail('no line yet'));
    let line = '';
    s.end((l) => (line = l));
    assert.equal(droppedBytes(line), 100 * 64 * 1024 - 1024);
  });

  it('takes binary and invalid UTF-8 without a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 5 }), (bytes, at) => {
        const lines = split(cut(Buffer.from(bytes), at), 256);
        for (const l of lines) assert.equal(typeof l, 'string');
      }),
    );
    assert.deepEqual(split([Buffer.from([0xff, 0xfe, 0x41, 0x0a])]), ['\ufffd\ufffdA']);
  });
});
