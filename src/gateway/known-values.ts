// Top-level values of request bodies a worker has crossed before, kept with their bytes, so that a
// body resending them is checked by a compare of those bytes instead of walked again.
//
// Why: Claude Code resends its `tools` (~70 KB), its `system` (~15 KB) and its whole history on
// every call of a session. The scan (body-scan.ts) crosses a value string by string, a call of
// Buffer#indexOf each (json-skip.ts): ~2,200 strings in a 148 KB body, 50–110 µs on the call's
// path, most of what Weir added over the minimal proxy on such a body (PERF.md, issue 15). A
// compare of the same bytes is one memcmp: ~10 µs.
//
// What is known of a value: that the scan crossed it and it was well-formed, its nesting depth, and
// for an array where each of its elements ends; for a `messages` walked for a translated model
// (messages-walk.ts), each message's start and role too, the layout the translation cache reads.
//  - A value whose bytes are a known value's bytes is that value: it ends at the same length, at
//    the same depth.
//  - An array whose bytes begin with a known array's first elements, byte for byte, holds those
//    elements: the walk goes on from the end of the last one, inside the array, in the state
//    skipValue (json-skip.ts) would be in after crossing those same bytes. Claude Code's history
//    is such an array: the last call's messages, the last of them without the cache_control
//    breakpoint it had (Claude Code moves it to the new last message), then a turn more.
// So the scan's result is the same with this cache or without it (test/unit/known-values.test.ts).
//
// Found by: the caller's scope (its virtual key, or the master key: one key's values are never
// compared with another's, so how long a call takes tells nothing of what another key sent) and
// the value's first PROBE bytes; up to BUCKET values under one such key, the one used last first.
// An array found in part is replaced by the longer one (a session keeps one entry, its latest
// history); any other value crossed anew is kept as a new one.
//
// A kept `messages` array carries a version, a number given anew whenever its bytes change, and
// the scan tells what it found (MessagesLayout.history): the version whose first messages the body
// repeats, and the version the body's array is kept under now. The translation cache keeps what it
// made of a version and takes the repeated messages' translation from it without comparing their
// bytes a second time (translation-cache.ts).
//
// Bounds: per worker (module state). Values of MIN_VALUE to MAX_VALUE bytes; at most MAX_BYTES of
// them, the least recently used key let go first. A scan compares at most twice its body's length
// in all (KnownScan's budget), so it stays linear whatever the cache holds.
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';
import { skippedDepth, skipSpace, skipValue } from './json-skip';
import { walked, walkMessages, walkMessagesFrom, type HistorySeen, type MessagesLayout } from './messages-walk';

/** Smaller values are crossed in less time than it takes to find them here. */
export const MIN_VALUE = 4096;
/** Larger values are crossed but not kept: one would push out most of the rest. */
export const MAX_VALUE = 2 * 1024 * 1024;
/** What a worker keeps at most, bytes of values. */
export const MAX_BYTES = 8 * 1024 * 1024;
/** Bytes of a value's beginning that, with the scope, find its candidates. */
const PROBE = 64;
/** Values kept under one scope and probe (sessions of one key whose histories begin alike). */
const BUCKET = 8;
/** The least room an array is kept with for what a session adds to it (a quarter of it when more). */
const ROOM = 16 * 1024;

interface Known {
  /**
   * The value's bytes, a copy (the body's buffer is used again for the next request), at the start
   * of a buffer with room to spare for an array: a longer one is written over it in place.
   */
  buf: Buffer;
  length: number;
  /** Its nesting depth, as skippedDepth gives it. */
  depth: number;
  /** For an array: where each element ends (the offset just past it), and the depth the array reached up to there; else empty. */
  ends: number[];
  depths: number[];
  /**
   * For a `messages` walked with its layout (messages-walk.ts): where each message starts, and its
   * role; else null. A value is found again only by the walk that kept it: walkMessages and
   * skipValue cross some malformed values differently (a literal with a quote in it).
   */
  starts: number[] | null;
  roles: number[] | null;
  /** Given anew whenever the bytes change (MessagesLayout.history); no two contents ever share one. */
  version: number;
}

/** The last version given. */
let versions = 0;

/** What a walk leaves to keep of a value besides its bytes and depth. */
type Kept = Pick<Known, 'ends' | 'depths' | 'starts' | 'roles'>;
const NOTHING: Kept = { ends: [], depths: [], starts: null, roles: null };

/** Values by scope and probe, each list the one used last first; the Map's order is its keys' use, the oldest first. */
const buckets = new Map<string, Known[]>();

/** Counts for the tests and the bench: values found whole, arrays found in part, values of MIN_VALUE or more crossed anew; what is kept (`bytes` is what MAX_BYTES bounds). */
export const knownValueStats = { whole: 0, extended: 0, crossed: 0, bytes: 0, values: 0 };

/** Lets every kept value go and starts the counts again (tests). */
export function forgetKnownValues(): void {
  buckets.clear();
  Object.assign(knownValueStats, { whole: 0, extended: 0, crossed: 0, bytes: 0, values: 0 });
}

/**
 * What is wrong with a kept value, or null when every one is what it says (tests): its bytes one
 * value, of its depth, its ends where a fresh walk puts them.
 */
export function knownValuesWrong(): string | null {
  for (const [key, bucket] of buckets) {
    for (const v of bucket) {
      const bytes = v.buf.subarray(0, v.length);
      const ends: number[] = [];
      const depths: number[] = [];
      const name = JSON.stringify(key.slice(0, 40));
      if (v.roles !== null) {
        const end = walkMessages(bytes, 0, depths);
        const l = walked.layout;
        if (end !== v.length || walked.depth !== v.depth) return `${name}: messages of ${v.length} bytes, depth ${v.depth}, walk to ${end}, depth ${walked.depth}`;
        if (l === null || l.starts.join() !== v.starts!.join() || l.ends.join() !== v.ends.join() || l.roles.join() !== v.roles.join() || depths.join() !== v.depths.join()) return `${name}: a messages layout its walk does not give`;
        continue;
      }
      const end = bytes[0] === Byte.LBRACKET ? skipElements(bytes, 0, 1, 1, ends, depths) : skipValue(bytes, 0);
      const depth = bytes[0] === Byte.LBRACKET ? elementsDepth : skippedDepth();
      if (end !== v.length || depth !== v.depth) return `${name}: a value of ${v.length} bytes, depth ${v.depth}, walks to ${end}, depth ${depth}`;
      if (v.ends.length > 0 && (ends.join() !== v.ends.join() || depths.join() !== v.depths.join())) return `${name}: ends ${v.ends.join()} for ${ends.join()}`;
    }
  }
  return null;
}

/** One body's scan: skips its top-level values through the cache, within its compare budget. */
export class KnownScan {
  /** The depth of the value skip last crossed (skippedDepth's, for a value found here). */
  depth = 0;
  /**
   * Bytes this scan may still compare: twice its body's length (an array's elements may be
   * compared a second time, one by one), so the scan stays linear.
   */
  private budget: number;

  constructor(
    private readonly scope: string,
    length: number,
  ) {
    this.budget = 2 * length;
  }

  /** What the last walk recorded, for keeping the value it crossed; null: not to be kept. */
  private record: Kept | null = NOTHING;

  /** Index just past the value starting at b[i], or -1 when it is malformed: skipValue's answer. */
  skip(b: Buffer, i: number): number {
    return this.cross(b, i, false);
  }

  /**
   * walkMessages' answer for the top-level `messages` array at b[i], `walked` set as it sets it:
   * the messages a kept history shares with this one are taken from it, with their layout.
   */
  walkMessages(b: Buffer, i: number): number {
    return this.cross(b, i, true);
  }

  private cross(b: Buffer, i: number, messages: boolean): number {
    const c = b[i];
    if (b.length - i < MIN_VALUE || (c !== Byte.LBRACKET && c !== Byte.LBRACE && c !== Byte.QUOTE)) return this.walk(b, i, messages, null, 0);
    const key = `${this.scope}\n${b.toString('latin1', i, i + PROBE)}`;
    const bucket = buckets.get(key);
    if (bucket !== undefined) {
      for (let k = 0; k < bucket.length; k++) {
        const v = bucket[k]!;
        if (messages !== (v.roles !== null)) continue; // kept by the other walk
        const n = v.ends.length;
        const m = n === 0 ? 0 : this.repeated(b, i, v);
        if (m === n && this.equal(b, i, v, n === 0 ? 0 : v.ends[n - 1]!, v.length)) {
          knownValueStats.whole++;
          touch(key, bucket, k);
          this.depth = v.depth;
          if (messages) {
            walked.depth = v.depth;
            walked.layout = layoutOf(v, i, n, i + v.length);
            walked.layout.history = { before: v.version, shared: n, after: v.version };
          }
          return i + v.length;
        }
        if (m === 0) continue;
        // Its first m elements, then others: the walk goes on inside the array, past those m.
        knownValueStats.extended++;
        const same = v.ends[m - 1]!;
        const seen: HistorySeen = { before: v.version, shared: m, after: -1 };
        const end = this.walk(b, i, messages, v, m);
        // (A walk that failed left `walked` as it was: another scan's layout, not to be touched.)
        if (messages && end >= 0 && walked.layout !== null) walked.layout.history = seen;
        if (end < 0 || end - i > MAX_VALUE || this.record === null) return end;
        // The longer array takes the place of the one it extends (a session keeps one entry):
        // written over it from where they differ when it fits, else kept anew.
        if (end - i <= v.buf.length) {
          b.copy(v.buf, same, i + same, end);
          scanSteps.n += end - i - same;
          Object.assign(v, { length: end - i, depth: this.depth, version: ++versions }, this.record);
          touch(key, bucket, k);
          seen.after = v.version;
        } else {
          bucket.splice(k, 1);
          forget(v);
          seen.after = keep(key, bucket, b, i, end, this.depth, this.record);
        }
        return end;
      }
    }
    const end = this.walk(b, i, messages, null, 0);
    const seen: HistorySeen = { before: -1, shared: 0, after: -1 };
    if (messages && end >= 0 && walked.layout !== null) walked.layout.history = seen;
    if (end - i >= MIN_VALUE) {
      knownValueStats.crossed++;
      if (end - i <= MAX_VALUE && this.record !== null) seen.after = keep(key, bucket ?? [], b, i, end, this.depth, this.record);
    }
    return end;
  }

  /**
   * Crosses the value at b[i] as skipValue does (walkMessages for `messages`), from past the first
   * m elements of the kept array v (from its start without one): sets depth and record.
   */
  private walk(b: Buffer, i: number, messages: boolean, v: Known | null, m: number): number {
    const ends = v === null ? [] : v.ends.slice(0, m);
    const depths = v === null ? [] : v.depths.slice(0, m);
    const deepest = m > 0 ? depths[m - 1]! : 1;
    let end: number;
    if (messages) {
      end = walkMessagesFrom(b, v === null ? layoutOf(null, i, 0, 0) : layoutOf(v, i, m, 0), deepest, depths);
      this.depth = walked.depth;
      // Kept only with its layout, all that a walk of messages finds it again for.
      const l = end < 0 ? null : walked.layout;
      this.record = l === null ? null : { ends: relative(l.ends, i), depths, starts: relative(l.starts, i), roles: l.roles };
    } else if (b[i] === Byte.LBRACKET) {
      end = skipElements(b, i, i + (m > 0 ? ends[m - 1]! : 1), deepest, ends, depths);
      this.depth = elementsDepth;
      this.record = { ends, depths, starts: null, roles: null };
    } else {
      end = skipValue(b, i);
      this.depth = skippedDepth();
      this.record = NOTHING;
    }
    return end;
  }

  /**
   * How many of the array v's first elements b repeats at i (all n of them at most). First all but
   * the last, then the last: Claude Code's history is the last call's, whose last message has lost
   * its cache_control breakpoint to the new last one, then one turn more. Failing that, one by one.
   */
  private repeated(b: Buffer, i: number, v: Known): number {
    const ends = v.ends;
    const n = ends.length;
    if (n >= 2 && this.equal(b, i, v, 0, ends[n - 2]!)) return this.equal(b, i, v, ends[n - 2]!, ends[n - 1]!) ? n : n - 1;
    let m = 0;
    for (let from = 0; m < n && this.equal(b, i, v, from, ends[m]!); m++) from = ends[m]!;
    return m;
  }

  /** Whether b at i + from holds v's bytes [from, to), when the budget allows the compare. */
  private equal(b: Buffer, i: number, v: Known, from: number, to: number): boolean {
    if (to > b.length - i || to - from > this.budget) return false;
    this.budget -= to - from;
    scanSteps.n += to - from;
    return b.compare(v.buf, from, to, i + from, i + to) === 0;
  }
}

/** The depth of the array skipElements last crossed. */
let elementsDepth = 0;

/**
 * From b[j], inside the array that starts at b[start], just past its opening bracket or past an
 * element, with `deepest` reached so far: the index just past the array's end, or -1, as
 * skipValue(b, start) answers; each element's end (relative to start) and the depth reached up to
 * it are pushed to ends and depths. An element is crossed by skipValue, as skipValue crosses it
 * inside the array. Anything this does not expect (no comma, an empty element, a number or a
 * literal, a malformed element) is left to skipValue(b, start), and the ends are dropped: the
 * value is then found whole only.
 */
function skipElements(b: Buffer, start: number, j: number, deepest: number, ends: number[], depths: number[]): number {
  let after = j > start + 1;
  for (;;) {
    j = skipSpace(b, j);
    const c = b[j];
    if (c === Byte.RBRACKET) {
      elementsDepth = deepest;
      return j + 1;
    }
    if (after) {
      if (c !== Byte.COMMA) break;
      j = skipSpace(b, j + 1);
    }
    // An object, an array or a string. Not a number or a literal: skipValue runs one to the next
    // separator, over any quote or bracket in it, which the walk of the whole array would not.
    const e = b[j];
    const end = e === Byte.LBRACE || e === Byte.LBRACKET || e === Byte.QUOTE ? skipValue(b, j) : -1;
    if (end < 0) break;
    const d = skippedDepth() + 1;
    if (d > deepest) deepest = d;
    ends.push(end - start);
    depths.push(deepest);
    j = end;
    after = true;
  }
  // The whole array again, as the plain scan crosses it: rare (a malformed body, an array of numbers), and once.
  ends.length = 0;
  depths.length = 0;
  scanSteps.n += b.length - start;
  const end = skipValue(b, start);
  elementsDepth = skippedDepth();
  return end;
}

/** Marks bucket[k] and its key as used last. */
function touch(key: string, bucket: Known[], k: number): void {
  if (k > 0) bucket.unshift(bucket.splice(k, 1)[0]!);
  buckets.delete(key);
  buckets.set(key, bucket);
}

/** Keeps a copy of b[start, end) under `key`, first in its bucket; lets the oldest go past the bounds. Returns its version. */
function keep(key: string, bucket: Known[], b: Buffer, start: number, end: number, depth: number, record: Kept): number {
  const length = end - start;
  // An array has room for the turns a session adds to it before it needs a buffer of its own again.
  const buf = Buffer.allocUnsafeSlow(record.ends.length > 0 ? Math.min(MAX_VALUE, length + Math.max(length >> 2, ROOM)) : length);
  b.copy(buf, 0, start, end);
  scanSteps.n += length;
  const version = ++versions;
  bucket.unshift({ buf, length, depth, ...record, version });
  knownValueStats.bytes += buf.length;
  knownValueStats.values++;
  if (bucket.length > BUCKET) forget(bucket.pop()!);
  buckets.delete(key);
  buckets.set(key, bucket);
  for (const [k, oldest] of buckets) {
    if (knownValueStats.bytes <= MAX_BYTES) break;
    while (oldest.length > 0 && knownValueStats.bytes > MAX_BYTES) forget(oldest.pop()!);
    if (oldest.length === 0) buckets.delete(k);
  }
  return version;
}

function forget(v: Known): void {
  knownValueStats.bytes -= v.buf.length;
  knownValueStats.values--;
}

/** The messages layout of v's first m elements at i (none of them for v null), the array ending at arrEnd (0: not known yet). */
function layoutOf(v: Known | null, i: number, m: number, arrEnd: number): MessagesLayout {
  if (v === null) return { arrStart: i, arrEnd, starts: [], ends: [], roles: [] };
  return { arrStart: i, arrEnd, starts: absolute(v.starts!, i, m), ends: absolute(v.ends, i, m), roles: v.roles!.slice(0, m) };
}

function absolute(offsets: number[], i: number, m: number): number[] {
  const out = new Array<number>(m);
  for (let k = 0; k < m; k++) out[k] = offsets[k]! + i;
  return out;
}

function relative(positions: number[], i: number): number[] {
  return positions.map((x) => x - i);
}
