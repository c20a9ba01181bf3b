// The spend journal's binary record (format 2, segments named *.wj2): what a worker writes per
// call, read back by the control thread without JSON. Fields go in a fixed order, so nothing of a
// record names its fields; numbers are float64 (every journal number is an integer below 2^53 or
// a float), strings are their UTF-8 bytes after a uint32 length (NULL_LEN: null).
//
//   0xB2 | uint32 LE record length L (tag and trailer included) | fields … | 0x0A
//
// The tag, the length and the trailer let a reader tell a whole record from a torn one (the file
// ends before L bytes, or byte L−1 is not the trailer) and skip a damaged one without resyncing
// on content. A closed segment ends with CLOSED_V2, which no record's last bytes can equal: a
// record ends with its retries (uint16, kept below MAX_RETRIES) before the trailer, and 'E','D'
// as a uint16 is 17,477. This file is loaded by worker threads: it must not import pg.
import type { CallType, SpendRecord } from './spend-record';

export const RECORD_TAG = 0xb2;
export const TRAILER = 0x0a;
/** The last bytes of a closed format-2 segment. */
export const CLOSED_V2 = Buffer.from('\xc3WEIR-CLOSED\n', 'latin1');
const NULL_LEN = 0xffffffff;
const MAX_RETRIES = 1000;
const HEADER = 5;
/** The fixed part: header, 9 numbers, the flags byte, the retries and the trailer. */
const FIXED = HEADER + 9 * 8 + 1 + 2 + 1;

const CALL_TYPES: readonly CallType[] = ['acompletion', 'anthropic_messages', 'aresponses', 'aembedding', 'pass_through_endpoint'];
const CALL_TYPE_INDEX = new Map<string, number>(CALL_TYPES.map((c, i) => [c, i]));

/** Bytes a record can take at most: the caller makes room for this before encode(). */
export function worstSize(r: SpendRecord): number {
  let n = FIXED + 4 * 17;
  n += r.request_id.length + (r.call_id?.length ?? 0) + (r.upstream_request_id?.length ?? 0) + r.api_key.length;
  n += r.model.length + r.model_id.length + r.model_group.length + r.custom_llm_provider.length + r.api_base.length + r.user_id.length;
  n += (r.team_id?.length ?? 0) + (r.organization_id?.length ?? 0) + (r.end_user?.length ?? 0) + (r.key_alias?.length ?? 0) + (r.team_alias?.length ?? 0);
  n += r.session_id.length + (r.requester_ip_address?.length ?? 0);
  for (const t of r.request_tags) n += 4 + t.length;
  if (r.spend_logs_metadata) n += JSON.stringify(r.spend_logs_metadata).length;
  if (r.error) n += 8 + 8 + r.error.message.length + r.error.type.length;
  // UTF-8 takes at most 3 bytes per UTF-16 unit.
  return n * 3;
}

/** Writes `s` (or null) at `at`: its length, then its bytes; ASCII is copied in a loop, no native call. */
function putString(buf: Buffer, at: number, s: string | null | undefined): number {
  if (s === null || s === undefined) {
    buf.writeUInt32LE(NULL_LEN, at);
    return at + 4;
  }
  const len = s.length;
  const start = at + 4;
  let i = 0;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    buf[start + i] = c;
  }
  const n = i === len ? len : i + buf.write(s.slice(i), start + i, 'utf8');
  buf.writeUInt32LE(n, at);
  return start + n;
}

/**
 * Encodes `r` at `at` in `buf`, which has worstSize(r) bytes free there; returns the end. Optional
 * fields absent from `r` come back absent, nulls as null.
 */
export function encodeRecord(r: SpendRecord, buf: Buffer, at: number): number {
  const start = at;
  buf[at] = RECORD_TAG;
  at += HEADER;
  at = buf.writeDoubleLE(r.spend_nanos, at);
  at = buf.writeDoubleLE(r.prompt_tokens, at);
  at = buf.writeDoubleLE(r.completion_tokens, at);
  at = buf.writeDoubleLE(r.cache_read_input_tokens, at);
  at = buf.writeDoubleLE(r.cache_creation_input_tokens, at);
  at = buf.writeDoubleLE(r.start_ms, at);
  at = buf.writeDoubleLE(r.end_ms, at);
  at = buf.writeDoubleLE(r.completion_start_ms, at);
  at = buf.writeDoubleLE(r.overhead_ms, at);
  // Flags: call type (3 bits), failure, has call_id, has upstream_request_id, has error.
  buf[at++] = (CALL_TYPE_INDEX.get(r.call_type) ?? 0) | (r.status === 'failure' ? 8 : 0) | (r.call_id !== undefined ? 16 : 0) | (r.upstream_request_id !== undefined ? 32 : 0) | (r.error ? 64 : 0);
  at = putString(buf, at, r.request_id);
  if (r.call_id !== undefined) at = putString(buf, at, r.call_id);
  if (r.upstream_request_id !== undefined) at = putString(buf, at, r.upstream_request_id);
  at = putString(buf, at, r.api_key);
  at = putString(buf, at, r.model);
  at = putString(buf, at, r.model_id);
  at = putString(buf, at, r.model_group);
  at = putString(buf, at, r.custom_llm_provider);
  at = putString(buf, at, r.api_base);
  at = putString(buf, at, r.user_id);
  at = putString(buf, at, r.team_id);
  at = putString(buf, at, r.organization_id);
  at = putString(buf, at, r.end_user);
  at = putString(buf, at, r.key_alias);
  at = putString(buf, at, r.team_alias);
  at = putString(buf, at, r.session_id);
  at = putString(buf, at, r.requester_ip_address);
  at = buf.writeUInt32LE(r.request_tags.length, at);
  for (const t of r.request_tags) at = putString(buf, at, t);
  // Caller-shaped metadata is rare and free-form: it stays JSON text inside the record.
  at = putString(buf, at, r.spend_logs_metadata ? JSON.stringify(r.spend_logs_metadata) : null);
  if (r.error) {
    at = buf.writeDoubleLE(r.error.status, at);
    at = putString(buf, at, r.error.message);
    at = putString(buf, at, r.error.type);
  }
  at = buf.writeUInt16LE(Math.min(Math.max(0, r.attempted_retries | 0), MAX_RETRIES), at);
  buf[at++] = TRAILER;
  buf.writeUInt32LE(at - start, start + 1);
  return at;
}

/** A record whose bytes do not hold what its length says (damaged, not torn). */
export class BadRecord extends Error {}

/** Reads fields off one whole record; every read is bounds-checked against the record's end. */
class Cursor {
  constructor(
    private readonly buf: Buffer,
    public at: number,
    private readonly end: number,
  ) {}

  private need(n: number): void {
    if (this.at + n > this.end) throw new BadRecord('record shorter than its fields');
  }

  num(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  str(): string | null {
    this.need(4);
    const n = this.buf.readUInt32LE(this.at);
    this.at += 4;
    if (n === NULL_LEN) return null;
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  text(): string {
    return this.str() ?? '';
  }
}

/** Decodes the whole record at buf[at, end) (tag, length and trailer already checked by the caller). */
export function decodeRecord(buf: Buffer, at: number, end: number): SpendRecord {
  const c = new Cursor(buf, at + HEADER, end - 1);
  const spend_nanos = c.num();
  const prompt_tokens = c.num();
  const completion_tokens = c.num();
  const cache_read_input_tokens = c.num();
  const cache_creation_input_tokens = c.num();
  const start_ms = c.num();
  const end_ms = c.num();
  const completion_start_ms = c.num();
  const overhead_ms = c.num();
  if (c.at >= end - 1) throw new BadRecord('record shorter than its fields');
  const flags = buf[c.at++]!;
  const request_id = c.text();
  const call_id = flags & 16 ? c.text() : undefined;
  const upstream_request_id = flags & 32 ? c.text() : undefined;
  const rec: SpendRecord = {
    request_id,
    call_type: CALL_TYPES[flags & 7] ?? 'acompletion',
    api_key: c.text(),
    spend_nanos,
    prompt_tokens,
    completion_tokens,
    cache_read_input_tokens,
    cache_creation_input_tokens,
    start_ms,
    end_ms,
    completion_start_ms,
    model: c.text(),
    model_id: c.text(),
    model_group: c.text(),
    custom_llm_provider: c.text(),
    api_base: c.text(),
    user_id: c.text(),
    team_id: c.str(),
    organization_id: c.str(),
    end_user: c.str(),
    key_alias: c.str(),
    team_alias: c.str(),
    request_tags: [],
    session_id: c.text(),
    status: flags & 8 ? 'failure' : 'success',
    requester_ip_address: c.str(),
    spend_logs_metadata: null,
    overhead_ms,
    attempted_retries: 0,
  };
  if (call_id !== undefined) rec.call_id = call_id;
  if (upstream_request_id !== undefined) rec.upstream_request_id = upstream_request_id;
  const tags = readCount(buf, c, end);
  for (let i = 0; i < tags; i++) rec.request_tags.push(c.text());
  const meta = c.str();
  if (meta !== null) {
    try {
      const v = JSON.parse(meta) as unknown;
      rec.spend_logs_metadata = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    } catch {
      rec.spend_logs_metadata = null;
    }
  }
  if (flags & 64) rec.error = { status: c.num(), message: c.text(), type: c.text() };
  if (c.at + 2 !== end - 1) throw new BadRecord('record length does not match its fields');
  rec.attempted_retries = buf.readUInt16LE(c.at);
  return rec;
}

function readCount(buf: Buffer, c: Cursor, end: number): number {
  if (c.at + 4 > end - 1) throw new BadRecord('record shorter than its fields');
  const n = buf.readUInt32LE(c.at);
  c.at += 4;
  // Each tag takes at least its 4-byte length: a count past that is damage, not a record.
  if (n * 4 > end - c.at) throw new BadRecord('tag count past the record');
  return n;
}
