// The spend journal on its own: append, read complete lines only, rotation and the closed
// marker, ordering, and telling a live writer from a dead one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import {
  CLOSED_MARKER,
  JournalWriter,
  listSegments,
  parseSegmentName,
  processTag,
  readSegment,
  segmentWriterAlive,
} from '../../src/accounting/journal';
import type { SpendRecord } from '../../src/accounting/spend-record';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-journal-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function rec(i: number, over: Partial<SpendRecord> = {}): SpendRecord {
  return {
    request_id: `req-${i}`,
    call_type: 'acompletion',
    api_key: 'k'.repeat(64),
    spend_nanos: 1000 + i,
    prompt_tokens: 10,
    completion_tokens: 5,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    start_ms: 1_750_000_000_000,
    end_ms: 1_750_000_000_100,
    completion_start_ms: 1_750_000_000_050,
    model: 'gpt-4o',
    model_id: 'dep-1',
    model_group: 'gpt-4o',
    custom_llm_provider: 'openai',
    api_base: 'https://api.openai.com',
    user_id: '',
    team_id: null,
    organization_id: null,
    end_user: null,
    key_alias: null,
    team_alias: null,
    request_tags: [],
    session_id: 's',
    status: 'success',
    requester_ip_address: null,
    spend_logs_metadata: null,
    overhead_ms: 0.2,
    attempted_retries: 0,
    ...over,
  };
}

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

test('a torn last line is not consumed until it is completed', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w1');
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

test('rotation closes a segment with the marker; the next append opens a new one', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'worker-1', { maxBytes: 2000 });
  for (let i = 0; i < 20; i++) w.append(rec(i));
  const segs = listSegments(dir);
  assert.ok(segs.length > 2, `expected several segments, got ${segs.length}`);
  for (const s of segs.slice(0, -1)) {
    assert.ok(fs.readFileSync(s.path, 'utf8').endsWith(CLOSED_MARKER + '\n'));
    assert.ok(fs.statSync(s.path).size <= 2000 + CLOSED_MARKER.length + 1);
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

test('a complete line that is not a record is reported, not returned and not retried', () => {
  const dir = tmp();
  const w = new JournalWriter(dir, 'w');
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
