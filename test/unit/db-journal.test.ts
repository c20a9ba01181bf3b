// The spend journal on its own: append, read complete records only, rotation and the closed
// marker, ordering, and telling a live writer from a dead one; in both formats (binary, written
// now, and the JSON lines older versions wrote, still read after an upgrade).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { CLOSED_MARKER, JournalWriter, readSegment } from '../../src/accounting/journal';
import { listSegments, parseSegmentName, processTag, segmentWriterAlive } from '../../src/accounting/journal-segments';
import { CLOSED_V2, encodeRecord, worstSize } from '../../src/accounting/journal-binary';
import type { SpendRecord } from '../../src/accounting/spend-record';
import { rec } from '../support/journal-record';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-journal-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});


test('appended records read back in order, with end offsets, from any offset', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
  for (let i = 0; i < 5; i++) w.append(rec(i));
  const [seg] = listSegments(dir);
  assert.ok(seg);
  const all = readSegment(seg.path, 0);
  assert.deepEqual(all.records.map((r) => r.request_id), ['req-0', 'req-1', 'req-2', 'req-3', 'req-4']);
  assert.equal(all.nextOffset, fs.statSync(seg.path).size);
  assert.equal(all.closed, false);
  assert.equal(all.ends.at(-1), all.nextOffset);
  const rest = readSegment(seg.path, all.ends[1]!);
  assert.deepEqual(rest.records.map((r) => r.request_id), ['req-2', 'req-3', 'req-4']);
  assert.deepEqual(readSegment(seg.path, all.nextOffset).records, []);
});

test('with a sink, each record goes to it as it is decoded, with its end, and none is kept; the limit counts them (both formats)', () => {
  for (const format of [1, 2] as const) {
    const dir = tmp();
    const w = new JournalWriter(dir, 'w1', { format });
    for (let i = 0; i < 5; i++) w.append(rec(i));
    const seg = listSegments(dir)[0]!;
    const kept = readSegment(seg.path, 0);
    const seen: [string, number][] = [];
    const r = readSegment(seg.path, 0, 4 * 1024 * 1024, 3, (raw, end) => seen.push([raw.request_id, end]));
    assert.deepEqual(seen, kept.records.slice(0, 3).map((x, i) => [x.request_id, kept.ends[i]]));
    assert.deepEqual([r.records, r.ends, r.count, r.nextOffset, r.more], [[], [], 3, kept.ends[2], true]);
    assert.equal(kept.count, 5);
  }
});

test('reads share one buffer, yet a sink that reads again meanwhile leaves both reads whole', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
  for (let i = 0; i < 4; i++) w.append(rec(i));
  const seg = listSegments(dir)[0]!;
  // Another segment, other records: read into the same buffer, they would overwrite the outer's.
  const otherDir = tmp();
  const other = new JournalWriter(otherDir, 'w2');
  for (let i = 100; i < 103; i++) other.append(rec(i));
  const otherSeg = listSegments(otherDir)[0]!;
  const outer: string[] = [];
  const inner: string[][] = [];
  readSegment(seg.path, 0, 4 * 1024 * 1024, Infinity, (r) => {
    outer.push(r.request_id);
    inner.push(readSegment(otherSeg.path, 0).records.map((x) => x.request_id));
  });
  const all = ['req-0', 'req-1', 'req-2', 'req-3'];
  const others = ['req-100', 'req-101', 'req-102'];
  assert.deepEqual(outer, all);
  assert.deepEqual(inner, [others, others, others, others]);
  // And the next read, into the kept buffer, sees the file as it is now.
  w.append(rec(4));
  assert.deepEqual(readSegment(seg.path, 0).records.map((x) => x.request_id), [...all, 'req-4']);
});

test('a torn last line is not consumed until it is completed (JSON lines)', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1', { format: 1 });
  w.append(rec(1));
  const seg = listSegments(dir)[0]!;
  const whole = JSON.stringify(rec(2)) + '\n';
  fs.appendFileSync(seg.path, whole.slice(0, 40)); // half a line, as a reader may see mid-write
  const r1 = readSegment(seg.path, 0);
  assert.equal(r1.records.length, 1);
  assert.equal(r1.bad.length, 0);
  assert.ok(r1.nextOffset < r1.size);
  const again = readSegment(seg.path, r1.nextOffset);
  assert.equal(again.records.length, 0);
  assert.equal(again.nextOffset, r1.nextOffset, 'a torn line does not move the offset');
  fs.appendFileSync(seg.path, whole.slice(40));
  const r2 = readSegment(seg.path, r1.nextOffset);
  assert.deepEqual(r2.records.map((r) => r.request_id), ['req-2']);
  assert.equal(r2.nextOffset, r2.size);
});

for (const format of [1, 2] as const) {
  test(`rotation closes a segment with the marker; the next append opens a new one (format ${format})`, () => {
    const dir = tmp();
    const w = new JournalWriter(dir, 'worker-1', { maxBytes: 2000, format });
    for (let i = 0; i < 20; i++) w.append(rec(i));
    const segs = listSegments(dir);
    assert.ok(segs.length > 2, `expected several segments, got ${segs.length}`);
    const marker = format === 1 ? Buffer.from(CLOSED_MARKER + '\n') : CLOSED_V2;
    for (const s of segs.slice(0, -1)) {
      assert.equal(s.format, format);
      const bytes = fs.readFileSync(s.path);
      assert.ok(bytes.subarray(bytes.length - marker.length).equals(marker));
      assert.ok(bytes.length <= 2000 + marker.length);
      assert.equal(readSegment(s.path, 0).closed, true);
    }
    assert.equal(readSegment(segs.at(-1)!.path, 0).closed, false);
    const ids = segs.flatMap((s) => readSegment(s.path, 0).records.map((r) => r.request_id));
    assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => `req-${i}`), 'segments sort in write order');
    // A closed segment read from its end still says closed.
    const first = segs[0]!;
    assert.equal(readSegment(first.path, fs.statSync(first.path).size).closed, true);
    w.close();
    assert.equal(readSegment(listSegments(dir).at(-1)!.path, 0).closed, true);
    assert.throws(() => w.append(rec(99)), /closed/);
  });
}

test('age rotation happens on the first append after maxAgeMs', async () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w', { maxAgeMs: 30 });
  w.append(rec(1));
  await new Promise((r) => setTimeout(r, 50));
  w.append(rec(2));
  assert.equal(listSegments(dir).length, 2);
  w.rotate();
  w.rotate(); // nothing open: no empty segment
  assert.equal(listSegments(dir).length, 2);
});

test('segment names carry the writer, pid and process tag; unrelated files are ignored', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'we/ird name');
  w.append(rec(1));
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
  fs.mkdirSync(path.join(dir, 'quarantine'));
  const segs = listSegments(dir);
  assert.equal(segs.length, 1);
  const s = segs[0]!;
  assert.equal(s.writer, 'we_ird_name');
  assert.equal(s.pid, process.pid);
  assert.equal(s.processTag, processTag());
  assert.deepEqual(parseSegmentName(dir, s.file), s);
  assert.equal(listSegments(path.join(dir, 'missing')).length, 0);
});

test('a writer is alive only while its process (same pid AND same start) lives', () => {
  assert.equal(segmentWriterAlive({ pid: process.pid, processTag: processTag() }), true);
  // Our pid with another start: a previous process whose pid was reused (pid 1 in containers).
  assert.equal(segmentWriterAlive({ pid: process.pid, processTag: 'zzz0000' }), false);
  assert.equal(segmentWriterAlive({ pid: 2 ** 22 + 12345, processTag: 'abc' }), false);
});

test('a complete line that is not a record is reported, not returned and not retried (JSON lines)', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w', { format: 1 });
  w.append(rec(1));
  const seg = listSegments(dir)[0]!;
  fs.appendFileSync(seg.path, '{not json\n[1,2]\n');
  w.append(rec(2));
  const r = readSegment(seg.path, 0);
  assert.deepEqual(r.records.map((x) => x.request_id), ['req-1', 'req-2']);
  assert.equal(r.bad.length, 2);
  assert.equal(r.nextOffset, r.size);
});

test('maxBytes bounds a read (but never stalls on one long line)', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w');
  for (let i = 0; i < 50; i++) w.append(rec(i));
  const seg = listSegments(dir)[0]!;
  let off = 0;
  let n = 0;
  let reads = 0;
  for (;;) {
    const r = readSegment(seg.path, off, 1000);
    n += r.records.length;
    off = r.nextOffset;
    reads++;
    if (!r.more) break;
  }
  assert.equal(n, 50);
  assert.ok(reads > 5);
  const tiny = readSegment(seg.path, 0, 10);
  assert.equal(tiny.records.length, 1, 'a line longer than maxBytes is still read whole');
});

for (const format of [1, 2] as const) {
  test(`maxRecords stops a read at that many records: none decoded past them, the rest read next time (format ${format})`, () => {
    const dir = tmp();
    const w = new JournalWriter(dir, 'w', { format });
    for (let i = 0; i < 30; i++) w.append(rec(i));
    w.rotate();
    const seg = listSegments(dir)[0]!;
    const ids: string[] = [];
    let off = 0;
    let reads = 0;
    for (;;) {
      const r = readSegment(seg.path, off, 4 * 1024 * 1024, 10);
      assert.ok(r.records.length <= 10);
      if (reads < 2) assert.equal(r.nextOffset, r.ends.at(-1), 'a read cut at the limit ends after its last record');
      ids.push(...r.records.map((x) => x.request_id));
      off = r.nextOffset;
      reads++;
      if (!r.more) break;
    }
    assert.deepEqual(ids, Array.from({ length: 30 }, (_, i) => `req-${i}`));
    assert.equal(reads, 3, 'the closed marker after the last record is taken with it: no read for the marker alone');
    assert.equal(off, fs.statSync(seg.path).size);
  });
}

test('an append the disk refuses leaves no partial line behind', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w');
  w.append(rec(1));
  const seg = listSegments(dir)[0]!;
  const size = fs.statSync(seg.path).size;
  const real = fs.writeSync;
  let calls = 0;
  (fs as { writeSync: unknown }).writeSync = (fd: number, buf: Buffer, off: number, len: number) => {
    if (calls++ === 0) return real(fd, buf, off, Math.min(len, 17)); // part of the line goes out…
    const e = new Error('ENOSPC: no space left on device') as NodeJS.ErrnoException;
    e.code = 'ENOSPC'; // …then the disk is full
    throw e;
  };
  try {
    assert.throws(() => w.append(rec(2)), /ENOSPC/);
  } finally {
    (fs as { writeSync: unknown }).writeSync = real;
  }
  assert.equal(fs.statSync(seg.path).size, size);
  w.append(rec(3));
  assert.deepEqual(readSegment(seg.path, 0).records.map((r) => r.request_id), ['req-1', 'req-3']);
});

/** One record as format 2 encodes it. */
function binary(r: SpendRecord): Buffer {
  const buf = Buffer.alloc(worstSize(r));
  return buf.subarray(0, encodeRecord(r, buf, 0));
}

test('binary records: every field comes back as written, odd values included', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w');
  const odd = rec(1, {
    call_id: 'call-1',
    upstream_request_id: 'up-1',
    call_type: 'pass_through_endpoint',
    status: 'failure',
    error: { status: 429, message: 'rate limited: “quota” ✓ 𝄞', type: 'rate_limit_error' },
    team_id: 'team-ü',
    organization_id: '',
    end_user: 'end\u0000user',
    key_alias: 'alias\n"quoted"',
    team_alias: null,
    request_tags: ['a', 'tag, with comma', 'ünï'],
    requester_ip_address: '127.0.0.1',
    spend_logs_metadata: { nested: { list: [1, 'two', null] }, emoji: '🙂' },
    spend_nanos: 2 ** 53 - 1,
    overhead_ms: 0.123,
    attempted_retries: 3,
  });
  const plain = rec(2);
  delete (plain as Partial<SpendRecord>).call_id;
  w.append(odd);
  w.append(plain);
  const seg = listSegments(dir)[0]!;
  assert.equal(seg.format, 2);
  assert.ok(seg.file.endsWith('.wj2'));
  const r = readSegment(seg.path, 0);
  assert.equal(r.bad.length, 0);
  assert.deepEqual(r.records, [odd, plain]);
  assert.equal('call_id' in r.records[1]!, false, 'an absent field stays absent');
  assert.equal(r.nextOffset, r.size);
});

test('a torn last binary record is never read, whatever byte it was cut at; once whole it is', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
  w.append(rec(1));
  const seg = listSegments(dir)[0]!;
  const before = fs.statSync(seg.path).size;
  const whole = binary(rec(2, { key_alias: 'ünïcode' }));
  // Every cut a crash can leave: inside the header, the fields, just before the trailer.
  for (let cut = 1; cut < whole.length; cut++) {
    fs.truncateSync(seg.path, before);
    fs.appendFileSync(seg.path, whole.subarray(0, cut));
    const r = readSegment(seg.path, 0);
    assert.deepEqual(r.records.map((x) => x.request_id), ['req-1'], `cut at ${cut}`);
    assert.equal(r.bad.length, 0, `cut at ${cut}: torn is not bad`);
    assert.equal(r.nextOffset, before, `cut at ${cut}: the offset stays before it`);
    assert.equal(r.closed, false);
  }
  fs.appendFileSync(seg.path, whole.subarray(whole.length - 1));
  const r = readSegment(seg.path, before);
  assert.deepEqual(r.records.map((x) => x.request_id), ['req-2']);
  assert.equal(r.nextOffset, r.size);
});

test('a damaged binary record is reported by its length and skipped; the records after it are read', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w');
  w.append(rec(1));
  const seg = listSegments(dir)[0]!;
  const bad = binary(rec(2));
  bad[bad.length - 1] = 0x00; // its trailer is wrong
  fs.appendFileSync(seg.path, bad);
  const short = binary(rec(3));
  short.writeUInt32LE(20, 1); // a length too short for its fields, trailer byte in place
  short[19] = 0x0a;
  fs.appendFileSync(seg.path, short.subarray(0, 20));
  w.append(rec(4));
  const r = readSegment(seg.path, 0);
  assert.deepEqual(r.records.map((x) => x.request_id), ['req-1', 'req-4']);
  assert.equal(r.bad.length, 2);
  assert.ok(r.bad.every((b) => b.line.startsWith('base64:')));
  assert.equal(r.nextOffset, r.size);
  // Bytes that are no record at all: reported up to what was read, never a stall.
  fs.appendFileSync(seg.path, Buffer.from('garbage'));
  const g = readSegment(seg.path, r.nextOffset);
  assert.equal(g.records.length, 0);
  assert.equal(g.bad.length, 1);
  assert.equal(g.nextOffset, g.size);
});

test('old JSON segments and new binary ones in one folder: both read, in order', () => {
  const dir = tmp();
  const old = new JournalWriter(dir, 'w1', { format: 1 });
  old.append(rec(1));
  old.append(rec(2));
  old.close();
  const now = new JournalWriter(dir, 'w1');
  now.append(rec(3));
  // Both opened in the same millisecond here: which sorts first is the random part of the name.
  const segs = listSegments(dir).sort((a, b) => a.format - b.format);
  assert.deepEqual(segs.map((s) => s.format), [1, 2]);
  assert.ok(segs[0]!.file.endsWith('.jsonl'));
  assert.ok(segs[1]!.file.endsWith('.wj2'));
  assert.equal(readSegment(segs[0]!.path, 0).closed, true);
  assert.equal(readSegment(segs[1]!.path, 0).closed, false);
  assert.deepEqual(segs.flatMap((s) => readSegment(s.path, 0).records), [rec(1), rec(2), rec(3)]);
});

test('a binary record longer than maxBytes is still read whole', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w');
  w.append(rec(1, { spend_logs_metadata: { big: 'x'.repeat(5000) } }));
  w.append(rec(2));
  const seg = listSegments(dir)[0]!;
  const r = readSegment(seg.path, 0, 100);
  assert.equal(r.records[0]?.request_id, 'req-1');
  assert.equal(r.records[0]?.spend_logs_metadata?.['big'], 'x'.repeat(5000));
  assert.equal(r.bad.length, 0);
  const rest = readSegment(seg.path, r.nextOffset, 100);
  assert.deepEqual([...r.records, ...rest.records].map((x) => x.request_id), ['req-1', 'req-2']);
  assert.equal(rest.nextOffset, rest.size);
});
