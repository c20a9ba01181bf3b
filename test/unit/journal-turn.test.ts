// The spend journal's one write per event-loop turn: the records of every answer that ends in a
// turn go out with one write, and each answer gets its end only once its record is in the file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, test } from 'node:test';
import { JournalWriter, readSegment } from '../../src/accounting/journal';
import { listSegments } from '../../src/accounting/journal-segments';
import type { SpendRecord } from '../../src/accounting/spend-record';
import { rec } from '../support/journal-record';
import { HeldEnd } from '../../src/gateway/held-end';
import type { Exchange, HeaderList } from '../../src/server/exchange';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-journal-turn-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Multi-byte UTF-8 in a field, so the turn's buffer is measured in bytes, not characters. */
const recUtf8 = (i: number): SpendRecord => rec(i, { key_alias: 'é ✓ 𝄞' });

/** The ids journaled in `dir` so far, every segment, in file order. */
function journaled(dir: string): string[] {
  return listSegments(dir).flatMap((s) => readSegment(s.path, 0).records.map((r) => r.request_id));
}

/** An exchange that notes how its answer ended and what the journal held at that moment. */
class EndProbe implements Exchange {
  readonly method = 'POST';
  readonly path = '/v1/chat/completions';
  readonly query = '';
  readonly headers: Record<string, string> = {};
  readonly startedAt = performance.now();
  aborted = false;
  ended: { how: string; journalHad: string[] } | null = null;
  writes: string[] = [];
  constructor(private readonly dir: string) {}
  holdBody(): void {}
  readBody(): void {}
  onAbort(): void {}
  remoteAddress(): string {
    return '';
  }
  private note(how: string): void {
    assert.equal(this.ended, null, 'an answer ends once');
    this.ended = { how, journalHad: journaled(this.dir) };
  }
  respond(status: number, _h: HeaderList, body: string | Buffer): void {
    this.note(`respond ${status} ${String(body)}`);
  }
  startStream(): void {}
  write(chunk: Buffer | string): boolean {
    this.writes.push(String(chunk));
    return true;
  }
  onWritable(): void {}
  end(chunk?: Buffer | string): void {
    this.note(`end${chunk ? ` ${String(chunk)}` : ''}`);
  }
  destroy(): void {
    this.note('destroy');
  }
}

/** The rest of this turn's check phase: immediates run in the order they were queued. */
const nextCheckPhase = (): Promise<void> => new Promise((r) => setImmediate(r));

test('answers ending in one turn: their records go out with one write, each answer ends after it', async () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
  const probes: EndProbe[] = [];
  for (let i = 0; i < 6; i++) {
    const ex = new EndProbe(dir);
    const held = new HeldEnd(ex);
    held.hold();
    w.stage(recUtf8(i), held);
    // Each kind of last act the gateway makes is held the same way.
    if (i % 3 === 0) held.end();
    else if (i % 3 === 1) held.respond(200, [], `{"n":${i}}`);
    else held.destroy();
    probes.push(ex);
  }
  assert.equal(w.writes, 0, 'nothing is written before the turn ends');
  assert.deepEqual(journaled(dir), []);
  assert.ok(probes.every((p) => p.ended === null), 'no answer ends before its record is written');
  await nextCheckPhase();
  assert.equal(w.writes, 1, 'one write for the turn');
  const all = ['req-0', 'req-1', 'req-2', 'req-3', 'req-4', 'req-5'];
  assert.deepEqual(journaled(dir), all, 'every record once, in order');
  probes.forEach((p, i) => {
    assert.ok(p.ended, `answer ${i} ended`);
    assert.deepEqual(p.ended.journalHad, all, `answer ${i} ended after the write`);
    assert.equal(p.ended.how, i % 3 === 0 ? 'end' : i % 3 === 1 ? `respond 200 {"n":${i}}` : 'destroy');
  });
  const seg = listSegments(dir)[0]!;
  assert.equal(readSegment(seg.path, 0).records[0]!.key_alias, 'é ✓ 𝄞');

  // The next turn's answers: their own write.
  const ex = new EndProbe(dir);
  const held = new HeldEnd(ex);
  held.hold();
  w.stage(recUtf8(6), held);
  held.end('last');
  await nextCheckPhase();
  assert.equal(w.writes, 2);
  assert.deepEqual(ex.ended, { how: 'end last', journalHad: [...all, 'req-6'] });
});

test('what is written before the end is not held; an end not held goes out at once', async () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
  const ex = new EndProbe(dir);
  const held = new HeldEnd(ex);
  held.end('no journal: not held');
  assert.deepEqual(ex.ended, { how: 'end no journal: not held', journalHad: [] });

  const ex2 = new EndProbe(dir);
  const held2 = new HeldEnd(ex2);
  held2.hold();
  w.stage(recUtf8(1), held2);
  ex2.write('data: {"error":…}\n\n'); // a stream's error event goes before the held end
  held2.end();
  held2.end(); // a second end is ignored, as the exchange would
  assert.deepEqual(ex2.writes, ['data: {"error":…}\n\n']);
  assert.equal(ex2.ended, null);
  await nextCheckPhase();
  assert.deepEqual(ex2.ended, { how: 'end', journalHad: ['req-1'] });
});

test('a turn staged past the segment size rotates first and lands whole in the next segment', async () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1', { maxBytes: 1_000 });
  const ends: EndProbe[] = [];
  for (let turn = 0; turn < 3; turn++) {
    for (let i = 0; i < 3; i++) {
      const ex = new EndProbe(dir);
      const held = new HeldEnd(ex);
      held.hold();
      w.stage(recUtf8(turn * 3 + i), held);
      held.end();
      ends.push(ex);
    }
    await nextCheckPhase();
  }
  assert.equal(w.writes, 3);
  const segs = listSegments(dir);
  assert.ok(segs.length >= 2, 'rotated');
  assert.deepEqual(journaled(dir), Array.from({ length: 9 }, (_, i) => `req-${i}`));
  for (const s of segs.slice(0, -1)) assert.equal(readSegment(s.path, 0).closed, true);
  assert.ok(ends.every((e) => e.ended !== null));
});

test('close() writes what is staged and lets those answers end; staging after it throws', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
  const ex = new EndProbe(dir);
  const held = new HeldEnd(ex);
  held.hold();
  w.stage(recUtf8(1), held);
  held.end();
  w.close();
  assert.deepEqual(ex.ended, { how: 'end', journalHad: ['req-1'] });
  assert.equal(readSegment(listSegments(dir)[0]!.path, 0).closed, true);
  assert.throws(() => w.stage(recUtf8(2), new HeldEnd(new EndProbe(dir))), /closed/);
});

test('a turn the disk refuses: no partial line, the loss is told, every answer still ends', async () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
  w.append(recUtf8(0));
  const seg = listSegments(dir)[0]!;
  const size = fs.statSync(seg.path).size;
  const failures: { records: number; code: string | undefined }[] = [];
  w.onFailure = (records, err) => failures.push({ records, code: (err as NodeJS.ErrnoException).code });
  const probes: EndProbe[] = [];
  for (let i = 1; i <= 3; i++) {
    const ex = new EndProbe(dir);
    const held = new HeldEnd(ex);
    held.hold();
    w.stage(recUtf8(i), held);
    held.end();
    probes.push(ex);
  }
  const real = fs.writeSync;
  let calls = 0;
  (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Buffer, off: number, len: number) => {
    if (calls++ === 0) return real(fd, buf, off, Math.min(len, 17)); // part of the turn goes out…
    const e = new Error('ENOSPC: no space left on device') as NodeJS.ErrnoException;
    e.code = 'ENOSPC'; // …then the disk is full
    throw e;
  };
  try {
    await nextCheckPhase();
  } finally {
    (fs as { writeSync: unknown }).writeSync = real;
  }
  assert.deepEqual(failures, [{ records: 3, code: 'ENOSPC' }]);
  assert.equal(fs.statSync(seg.path).size, size, 'the fragment is cut off');
  assert.ok(probes.every((p) => p.ended?.how === 'end'));
  // The journal goes on once the disk takes writes again.
  const ex = new EndProbe(dir);
  const held = new HeldEnd(ex);
  held.hold();
  w.stage(recUtf8(4), held);
  held.end();
  await nextCheckPhase();
  assert.deepEqual(journaled(dir), ['req-0', 'req-4']);
});
