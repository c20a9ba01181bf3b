// The spend journal: the durable hand-off between the threads that serve requests and the
// control thread's spend writer. A worker journals one JSON line per request BEFORE the client
// gets the end of its answer; the spend writer reads complete lines from each segment and commits
// them to Postgres together with the offset it reached, so a record is written exactly once
// whatever dies when (see src/db/spend-writer.ts).
//
// One write per event-loop turn: the records of every answer that ends in a turn are staged, and
// one synchronous write takes them all in the loop's check phase (setImmediate), right after the
// poll phase in which uWS and the upstream sockets delivered those ends; only then does each answer
// get its last bytes (JournalWaiter). No timer and no wait beyond the turn, and a kill -9 between
// the write and the ends loses nothing a client saw finish.
//
// No fsync: the line is in the kernel's page cache once writeSync returns, and a kill -9 of the
// process cannot lose it (only a power cut can, which is the same bargain Postgres' own
// synchronous_commit=off makes). This file is loaded by worker threads: it must not import pg.
//
// Segment names and what they tell (the writing process, whether it lives, the record format) are
// in journal-segments.ts. A segment that is rotated or closed gets a final marker; after it,
// nothing is appended.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { segmentName, type JournalFormat } from './journal-segments';
import type { SpendRecord } from './spend-record';
import { BadRecord, CLOSED_V2, decodeRecord, encodeRecord, RECORD_TAG, TRAILER, worstSize } from './journal-binary';
import { indexOfByte } from '../byte-index';
import { KeptBuffer } from '../kept-buffer';

/** The last line of a closed segment. Exactly this text, so it can never be a SpendRecord. */
export const CLOSED_MARKER = '{"weir_journal":"closed"}';
const CLOSED_LINE = Buffer.from(CLOSED_MARKER + '\n');

export const DEFAULT_SEGMENT_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_SEGMENT_MAX_AGE_MS = 60_000;
/** A turn's lines are encoded into one reused buffer of this size (grown for a burst). */
const TURN_BUFFER_BYTES = 64 * 1024;
const MAX_KEPT_TURN_BUFFER = 1024 * 1024;

export interface JournalOptions {
  /** Rotate before a segment would pass this size (default 8 MB). */
  maxBytes?: number;
  /** Rotate on the first append after a segment is this old (default 60 s). */
  maxAgeMs?: number;
  /** Record format of new segments (default 2; 1 writes what older versions wrote, for tests of upgrades). */
  format?: JournalFormat;
}

/** What waits for a staged record to reach the file: the last bytes of its answer. */
export interface JournalWaiter {
  /** The record is written (or the disk refused it, already logged): the answer may end now. */
  journaled(): void;
}

/** Told when a turn's write fails: the records are lost, the answers still end. */
export type JournalFailure = (records: number, err: Error) => void;

/** Appends spend records to segment files; one instance per thread (it is not shared). */
export class JournalWriter {
  private readonly dir: string;
  private readonly writer: string;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly format: JournalFormat;
  private readonly closedBytes: Buffer;
  private readonly rand = crypto.randomBytes(4).toString('hex');
  private seq = 0;
  private fd: number | null = null;
  private size = 0;
  private openedAt = 0;
  private current: string | null = null;
  private closedForGood = false;
  /** This turn's lines, encoded in place into one reused buffer, and the answers that wait for them. */
  private turnBuf = Buffer.allocUnsafe(TURN_BUFFER_BYTES);
  private turnUsed = 0;
  private waiters: JournalWaiter[] = [];
  private flushScheduled = false;
  /** Writes made (a turn's lines go in one): tests count them. */
  writes = 0;
  onFailure: JournalFailure | null = null;

  constructor(dir: string, name: string, opts: JournalOptions = {}) {
    this.dir = path.resolve(dir);
    this.writer = name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 32);
    this.maxBytes = opts.maxBytes ?? DEFAULT_SEGMENT_MAX_BYTES;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_SEGMENT_MAX_AGE_MS;
    this.format = opts.format ?? 2;
    this.closedBytes = this.format === 2 ? CLOSED_V2 : CLOSED_LINE;
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** Path of the segment being written, if one is open. */
  get currentSegment(): string | null {
    return this.current;
  }

  /**
   * Appends one record as one line with one write. Throws when the disk refuses (the caller
   * decides what the request then gets); a failed append leaves no partial line behind.
   */
  append(rec: SpendRecord): void {
    if (this.closedForGood) throw new Error('spend journal is closed');
    if (this.waiters.length) this.flush(); // staged records go first: the file keeps call order
    this.encode(rec);
    const used = this.turnUsed;
    this.turnUsed = 0;
    this.writeLines(this.turnBuf.subarray(0, used));
  }

  /**
   * Stages one record for this turn's write; `waiter.journaled()` is called once it is in the file
   * (in this turn's check phase), and only then may the answer end.
   */
  stage(rec: SpendRecord, waiter: JournalWaiter): void {
    if (this.closedForGood) throw new Error('spend journal is closed');
    this.encode(rec);
    this.waiters.push(waiter);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushTurn);
    }
  }

  /** Writes what this turn staged with one write, then lets each waiting answer end. */
  flush(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    const used = this.turnUsed;
    this.waiters = [];
    this.turnUsed = 0;
    try {
      this.writeLines(this.turnBuf.subarray(0, used));
    } catch (e) {
      // The disk refused (full, gone): no partial line is left; the answers are not held hostage.
      if (this.onFailure) this.onFailure(waiters.length, e as Error);
    }
    // A burst grew the buffer: give the memory back rather than keep the peak.
    if (this.turnBuf.length > MAX_KEPT_TURN_BUFFER) this.turnBuf = Buffer.allocUnsafe(TURN_BUFFER_BYTES);
    for (let i = 0; i < waiters.length; i++) {
      try {
        waiters[i]!.journaled();
      } catch {
        /* one answer's end must not keep the others from theirs */
      }
    }
  }

  /** Encodes a record at the end of the turn buffer, grown first if the worst case would not fit. */
  private encode(rec: SpendRecord): void {
    const text = this.format === 1 ? JSON.stringify(rec) : null;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for the worst case, then the exact write.
    const worst = this.turnUsed + (text !== null ? text.length * 3 + 1 : worstSize(rec));
    if (worst > this.turnBuf.length) {
      const grown = Buffer.allocUnsafe(Math.max(worst, this.turnBuf.length * 2));
      this.turnBuf.copy(grown, 0, 0, this.turnUsed);
      this.turnBuf = grown;
    }
    if (text === null) {
      this.turnUsed = encodeRecord(rec, this.turnBuf, this.turnUsed);
      return;
    }
    this.turnUsed += this.turnBuf.write(text, this.turnUsed, 'utf8');
    this.turnBuf[this.turnUsed++] = 0x0a;
  }

  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /** Lines of one turn into the current segment (rotated first when they would not fit). */
  private writeLines(lines: Buffer): void {
    if (this.fd !== null && (this.size + lines.length > this.maxBytes || Date.now() - this.openedAt >= this.maxAgeMs)) this.rotate();
    if (this.fd === null) this.open();
    this.writeAll(lines);
    this.writes++;
  }

  /** Closes the current segment with its marker; the next append opens a new one. */
  rotate(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    try {
      this.writeAll(this.closedBytes);
    } finally {
      this.fd = null;
      this.current = null;
      fs.closeSync(fd);
    }
  }

  /** Writes what is staged and closes the current segment; further appends throw. */
  close(): void {
    this.flush();
    this.rotate();
    this.closedForGood = true;
  }

  private open(): void {
    const ts = String(Date.now()).padStart(13, '0');
    const seq = String(this.seq++ % 1_000_000).padStart(6, '0');
    const file = segmentName(ts, seq, this.rand, this.writer, this.format);
    const p = path.join(this.dir, file);
    // 'ax': the name is unique by construction; refuse rather than append to someone else's file.
    this.fd = fs.openSync(p, 'ax', 0o600);
    this.size = 0;
    this.openedAt = Date.now();
    this.current = p;
  }

  private writeAll(buf: Buffer): void {
    const fd = this.fd!;
    const before = this.size;
    let off = 0;
    try {
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      // Disk full mid-line: cut the fragment off so the next line starts clean.
      try {
        fs.ftruncateSync(fd, before);
      } catch {
        /* the reader skips a line it cannot parse */
      }
      throw e;
    }
    this.size = before + buf.length;
  }
}

export interface SegmentRead {
  /** Parsed records, in file order (empty when they went to a RecordSink instead). */
  records: SpendRecord[];
  /** Byte offset just after each record's line (same order as records). */
  ends: number[];
  /** Records read (kept above or given to the sink). */
  count: number;
  /** Offset after the last complete line read: where the next read starts. */
  nextOffset: number;
  /** The segment ends with the closed marker: nothing more will be appended. */
  closed: boolean;
  /** File size when read. */
  size: number;
  /** More complete lines exist past nextOffset (the read stopped at maxBytes). */
  more: boolean;
  /** Complete lines (or binary records) that were no valid record, with their end offsets (never retried). */
  bad: { line: string; end: number }[];
}

function endsWithMarker(fd: number, size: number, format: JournalFormat): boolean {
  const marker = format === 2 ? CLOSED_V2 : CLOSED_LINE;
  if (size < marker.length) return false;
  const tail = Buffer.alloc(marker.length);
  fs.readSync(fd, tail, 0, tail.length, size - tail.length);
  if (!tail.equals(marker)) return false;
  // A binary record cannot end with the marker's bytes (see journal-binary.ts); a JSON line ends in '\n'.
  if (format === 2 || size === marker.length) return true;
  const prev = Buffer.alloc(1);
  fs.readSync(fd, prev, 0, 1, size - tail.length - 1);
  return prev[0] === 0x0a;
}

/** A segment's format from its name: `.wj2` binary, anything else JSON lines. */
function formatOf(file: string): JournalFormat {
  return file.endsWith('.wj2') ? 2 : 1;
}

/** Takes each record as it is decoded, with the offset just after it, instead of `records`. */
export type RecordSink = (rec: SpendRecord, end: number) => void;

/**
 * Reads the complete records of a segment from `fromOffset`. A last record not yet whole (a JSON
 * line without its '\n', a binary record shorter than its length) is still being written, or was
 * torn: it is not consumed, and nextOffset stays before it. At most `maxBytes` are read (more only
 * for one record longer than that) and at most `maxRecords` records decoded: the spend writer's
 * transaction takes no more, and a read past them would only be decoded to be dropped. With a
 * `sink`, each record goes to it as soon as it is decoded and none is kept: a reader that folds
 * them as they come holds no record across the next one.
 */
export function readSegment(file: string, fromOffset: number, maxBytes = 4 * 1024 * 1024, maxRecords = Infinity, sink?: RecordSink): SegmentRead {
  const format = formatOf(file);
  const fd = fs.openSync(file, 'r');
  // Lent for this read: a sink that reads again while it runs gets a buffer of its own.
  let whole: Buffer | null = null;
  try {
    const size = fs.fstatSync(fd).size;
    const closed = endsWithMarker(fd, size, format);
    const out: SegmentRead = { records: [], ends: [], count: 0, nextOffset: fromOffset, closed, size, more: false, bad: [] };
    if (fromOffset >= size) return out;
    const avail = size - fromOffset;
    let want = Math.min(avail, Math.max(1, maxBytes));
    for (;;) {
      if (whole !== null) readBuffer.giveBack(whole);
      whole = readBuffer.take(want);
      const buf = whole.subarray(0, fs.readSync(fd, whole, 0, want, fromOffset));
      const limit = Math.max(1, maxRecords);
      const take = sink ?? keep(out);
      const used = format === 2 ? readBinary(buf, fromOffset, out, limit, take) : readLines(buf, fromOffset, out, limit, take);
      // One record longer than maxBytes: read further rather than stall on it.
      if (used === 0 && out.bad.length === 0 && want < avail) {
        want = Math.min(avail, want * 2);
        continue;
      }
      out.nextOffset = fromOffset + used;
      // Stopped short of the end: there may be more complete records (a later read will tell).
      out.more = used > 0 && fromOffset + used < size && (out.count >= limit || fromOffset + buf.length < size);
      return out;
    }
  } finally {
    if (whole !== null) readBuffer.giveBack(whole);
    fs.closeSync(fd);
  }
}

/**
 * The buffer a read goes into, kept for the thread's next read: the spend writer reads up to 1 MB
 * a transaction, and a fresh 1 MB buffer each time grew the control thread's malloc heap
 * (kept-buffer.ts). Nothing read is kept: every record and bad line is decoded into strings of its
 * own. Only the bytes read are looked at: it is never zeroed. A read larger than 4 MB (a record
 * longer than a transaction's bytes) gets a buffer that is not kept.
 */
const readBuffer = new KeptBuffer(4 * 1024 * 1024, 64 * 1024);

/** The sink that keeps the records in the read's own arrays. */
function keep(out: SegmentRead): RecordSink {
  return (rec, end) => {
    out.records.push(rec);
    out.ends.push(end);
  };
}

/** The whole JSON lines of `buf` to `take`, up to `limit` records; returns the bytes consumed. */
function readLines(buf: Buffer, base: number, out: SegmentRead, limit: number, take: RecordSink): number {
  const lastNl = buf.lastIndexOf(0x0a);
  if (lastNl < 0) return 0;
  let start = 0;
  while (start <= lastNl) {
    const nl = indexOfByte(buf, 0x0a, start);
    const end = base + nl + 1;
    const text = buf.toString('utf8', start, nl);
    const lineStart = start;
    start = nl + 1;
    if (text === CLOSED_MARKER || text === '') continue;
    // The limit counts records: a closed marker right after the last one is still taken.
    if (out.count >= limit) return lineStart;
    let rec: unknown;
    try {
      rec = JSON.parse(text);
    } catch {
      rec = undefined;
    }
    if (rec && typeof rec === 'object' && !Array.isArray(rec)) {
      out.count++;
      take(rec as SpendRecord, end);
    } else {
      out.bad.push({ line: text, end });
    }
  }
  return lastNl + 1;
}

/** The smallest a binary record can be: its header and trailer. */
const MIN_RECORD = 6;

/**
 * The whole binary records of `buf` to `take`, up to `limit` records; returns the bytes consumed.
 * A damaged record (its trailer or fields wrong) is reported and skipped by its length; bytes that
 * are no record at all (the file was damaged outside Weir) are reported up to the end of what was
 * read.
 */
function readBinary(buf: Buffer, base: number, out: SegmentRead, limit: number, take: RecordSink): number {
  let pos = 0;
  while (pos < buf.length) {
    const tag = buf[pos]!;
    if (tag === CLOSED_V2[0]) {
      if (pos + CLOSED_V2.length > buf.length) return pos; // the marker is being written
      if (buf.compare(CLOSED_V2, 0, CLOSED_V2.length, pos, pos + CLOSED_V2.length) === 0) {
        pos += CLOSED_V2.length;
        continue;
      }
    }
    // The limit counts records: a closed marker right after the last one is still taken.
    if (out.count >= limit) return pos;
    if (tag !== RECORD_TAG) {
      out.bad.push({ line: binaryLine(buf, pos, buf.length), end: base + buf.length });
      return buf.length;
    }
    if (pos + 5 > buf.length) return pos; // the header is being written
    const len = buf.readUInt32LE(pos + 1);
    if (len < MIN_RECORD) {
      out.bad.push({ line: binaryLine(buf, pos, buf.length), end: base + buf.length });
      return buf.length;
    }
    const end = pos + len;
    if (end > buf.length) return pos; // being written, or torn
    let rec: SpendRecord | null = null;
    if (buf[end - 1] === TRAILER) {
      try {
        rec = decodeRecord(buf, pos, end);
      } catch (e) {
        if (!(e instanceof BadRecord) && !(e instanceof RangeError)) throw e;
      }
    }
    if (rec) {
      out.count++;
      take(rec, base + end);
    } else {
      out.bad.push({ line: binaryLine(buf, pos, end), end: base + end });
    }
    pos = end;
  }
  return pos;
}

/** Bytes that are no record, kept for the quarantine as text. */
function binaryLine(buf: Buffer, from: number, to: number): string {
  return `base64:${buf.toString('base64', from, Math.min(to, from + 64 * 1024))}`;
}
