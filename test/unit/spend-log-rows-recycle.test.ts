// A batch's SpendLogs column buffers go to the next batch once its statements are sent
// (spend-log-columns.ts): the next batch writes into the same memory, not a fresh megabyte, and
// its parameters hold its own rows only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpendLogRows } from '../../src/db/spend-log-columns';
import { rec } from '../support/journal-record';

const memoryOf = (params: (Buffer | string)[]): ArrayBufferLike[] => params.filter((p): p is Buffer => Buffer.isBuffer(p)).map((p) => p.buffer);

/** The request ids of a statement's first parameter (a text array: 20-byte header, then length-prefixed elements). */
function ids(param: Buffer | string): string[] {
  const b = param as Buffer;
  const out: string[] = [];
  for (let at = 20; at < b.length; ) {
    const len = b.readInt32BE(at);
    out.push(b.toString('utf8', at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

test("a sent batch's column buffers are the next batch's, holding the next batch's rows", () => {
  const first = SpendLogRows.of(Array.from({ length: 300 }, (_, i) => rec(i)));
  const [sent] = first.statements();
  const used = memoryOf(sent!);
  first.recycle();

  const second = SpendLogRows.of(Array.from({ length: 2 }, (_, i) => rec(1000 + i)));
  const [next] = second.statements();
  const now = memoryOf(next!);
  assert.equal(now.length, used.length);
  assert.ok(
    now.every((m, i) => m === used[i]),
    'every binary column writes into the buffer the sent batch used',
  );
  assert.deepEqual(ids(next![0]!), ['req-1000', 'req-1001']);

  // Rows that are not recycled keep theirs: a third batch gets fresh buffers.
  const third = SpendLogRows.of([rec(5)]);
  const [other] = third.statements();
  for (const m of memoryOf(other!)) assert.ok(!used.includes(m));
});
