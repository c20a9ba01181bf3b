// Anthropic → OpenAI request translation that does not redo a conversation's history.
//
// Why: Claude Code resends the same `system`, `tools` and earlier turns on every call of a session
// (~150 KB, growing), and each call translated all of it again (≈ 1 ms of CPU, PERF.md scenario 7),
// though only the last turns are new. Here each call translates only what this worker has not
// seen: the rest comes from a cache of earlier translations, found by a hash of the bytes and
// kept with those bytes, which must match exactly (a compare costs a twentieth of a SHA-256).
//
// How: the body is cut into parts whose translations are independent of one another:
//  - the head: every top-level member but `messages` (system, tools, max_tokens, tool_choice…),
//    translated as a body whose `messages` is `[]`;
//  - the units of `messages`: each assistant turn with the user turn after it (the first unit is
//    what comes before the first assistant turn). Every unit but the last ends with a user turn,
//    where the translator carries nothing to the next turn (no tool call waits for its result, no
//    system message is held back): so a unit translates the same whatever came before it, once
//    its message indices (in paths of notices) are the same.
// A unit is found by the entry of the unit before it (its parent: the first unit's is the root of
// the options), its length and a hash of a sample of its bytes, and taken only when all its bytes
// are those kept with it. So a key names that unit at that place of that conversation: a session
// is a chain of units, each found again on the next call, and a conversation that differs from
// an earlier one from some unit on shares the units before it. The head is found the same way by
// the options and the body outside `messages`. A miss translates that part alone
// (translation-parts.ts), the way raw-translation.ts translates a whole body (its long strings
// spliced in as bytes), and keeps it.
// The upstream body is the head's JSON with the units' JSON spliced into its `messages`: the same
// bytes as the whole body's translation, since JSON.stringify writes an array's elements one after
// another. It goes upstream as those pieces (one writev), never copied into one buffer: the copy
// of ~150 KB was most of what a cached call cost its worker. What each part left out (`Dropped`),
// the tool names it shortened and its share of the stream's input token estimate are kept with it
// and added up in the whole body's order.
//
// Equivalence with anthropicToOpenAIChatRaw (the uncached translation) is the contract, proved by
// a property test (test/unit/translation-cache.test.ts): anything this does not handle as that
// does returns null, and the caller translates the uncached way — a body under MIN_BODY, not valid
// UTF-8 (checked in the parts translated, see cached), with a raw control byte, without a long
// string at all, with a duplicate `messages`, a key or a role written with escapes, or a
// translation error (whose message the uncached path gives).
//
// A history the scan found kept (known-values.ts) is not looked up unit by unit: the scan compared
// its bytes already and names the version of the kept history whose first messages the body
// repeats (MessagesLayout.history). The units this cache made of that version's messages are
// taken as they are for the messages repeated, with no key, no lookup and no second compare; a
// call's work then follows what it adds, not the history's length (scenario 12, issue 15).
//
// Bounds: per worker (each thread has its own module state), at most MAX_BYTES kept (each part's
// bytes and its translation) and MAX_ENTRIES entries, the least recently used let go first (by a
// second chance: see TranslationCache.entries); a part larger than an eighth of MAX_BYTES is
// translated but not kept. The units of MAX_CHAINS versions' messages, at most MAX_BYTES of them,
// are held apart (most are the cache's own parts too).
import { isUtf8 } from 'node:buffer';
import { scanSteps } from '../scan-steps';
import type { ToAnthropicContext } from '../translate/context';
import { Dropped } from '../translate/dropped';
import type { AnthropicToOpenAIOptions } from '../translate/request-anthropic-to-openai';
import type { BodyScan } from './body-scan';
import type { HistorySeen } from './messages-walk';
import { MAX_JSON_DEPTH } from './json-depth';
import { fingerprints, keyOf, sameOptions, sampleHash, type KnownOptions, KNOWN_OPTIONS } from './translation-keys';
import { layout, unitStarts } from './translation-layout';
import { newId, replay, translateHead, translateUnit, type Head, type Unit } from './translation-parts';
import { anthropicToOpenAIChatRaw, hasControlByte, MIN_BODY, TOO_DEEP, type RawTranslation } from './raw-translation';

/** Kept translations per worker, bytes (their JSON, plus a rough count for the rest). */
export const MAX_BYTES = 16 * 1024 * 1024;
export const MAX_ENTRIES = 4096;
/** Parts kept under one key (same length and sampled bytes, other bytes). */
const BUCKET = 4;

/**
 * A translation, its body whole or in pieces: the cache's kept parts in order, to be sent as they
 * are. The pieces are the cache's own, never written to (a part let go is only unreferenced).
 */
export type CachedTranslation = Omit<RawTranslation, 'body'> & { body: Buffer | readonly Buffer[] };

/** Versions of kept histories whose units are held (about one per session a worker serves). */
export const MAX_CHAINS = 64;

/** The units one version of a kept history was translated to, and the message each ends before. */
interface Chain {
  units: Unit[];
  tos: number[];
  bytes: number;
}

/** The root of each options' chains: the parent of first units. Options come from the config: few. */
const MAX_ROOTS = 256;

export interface TranslationCacheStats {
  entries: number;
  bytes: number;
  /** Parts found, and translated (kept or not), since the cache was made. */
  hits: number;
  misses: number;
  /** Of the parts found, units taken from a kept history's chain, neither looked up nor compared. */
  chained: number;
}

/** The parts kept under one key, the one used last first; `used`: found since it was last passed over for eviction. */
interface Bucket {
  parts: (Unit | Head)[];
  used: boolean;
}

/** Translations kept by key, the least recently used let go first, within a byte and an entry bound. */
export class TranslationCache {
  /**
   * Buckets by key, oldest first. A key may name parts whose bytes differ (the same length and
   * sample, e.g. two system prompts that differ by a date): up to BUCKET of them live under it.
   * A hit only marks its bucket used. Moving it to the back on every hit (a delete and a set,
   * some 50 a call) made the map rehash into fresh memory every few calls; instead, eviction
   * gives a used bucket at the front a second chance (moves it to the back, unmarked) and lets go
   * of the first unused one: least recently used first, to within one pass (CLOCK).
   */
  private readonly entries = new Map<number, Bucket>();
  private count = 0;
  private readonly roots = new Map<string, number>();
  private readonly known: KnownOptions[] = [];
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private chained = 0;
  /** By version of a kept history, oldest first; chainBytes is the sum of their units' sizes. */
  private readonly chains = new Map<number, Chain>();
  private chainBytes = 0;

  constructor(
    readonly maxBytes = MAX_BYTES,
    readonly maxEntries = MAX_ENTRIES,
  ) {}

  get stats(): TranslationCacheStats {
    return { entries: this.count, bytes: this.bytes, hits: this.hits, misses: this.misses, chained: this.chained };
  }

  /**
   * What anthropicToOpenAIChatRaw(raw, opts) gives, from kept parts where it can: the same body
   * bytes, context, notices and model. `scan` is what scanBody(raw) recorded: the body's top-level
   * member spans and its messages.
   */
  translate(raw: Buffer, opts: AnthropicToOpenAIOptions, scan: Pick<BodyScan, 'members' | 'messages'>): CachedTranslation | null | typeof TOO_DEEP {
    if (opts.stringLength === undefined && opts.messages === undefined && opts.dropped === undefined) {
      const cached = this.cached(raw, opts, scan);
      if (cached !== null) return cached;
    }
    return anthropicToOpenAIChatRaw(raw, opts, MAX_JSON_DEPTH);
  }

  /**
   * The unit of `key` whose parent is `parent` and whose bytes are raw[start..end), made most
   * recently used. Compared in place (`Buffer#compare` with offsets): a view of the span and
   * `Buffer#equals` cost a typed array and two byte-length calls a unit, some 25 units a call.
   */
  private findUnit(key: number, parent: number, raw: Buffer, start: number, end: number): Unit | undefined {
    const bucket = this.entries.get(key);
    if (bucket === undefined) return undefined;
    const list = bucket.parts;
    for (let i = 0; i < list.length; i++) {
      const e = list[i] as Unit;
      if (e.parent !== parent || e.raw.length !== end - start) continue;
      scanSteps.n += end - start;
      if (raw.compare(e.raw, 0, e.raw.length, start, end) !== 0) continue;
      this.hit(bucket, i);
      return e;
    }
    return undefined;
  }

  /** The head of `key` for these options whose bytes are the body's outside raw[arrStart..arrEnd), made most recently used. */
  private findHead(key: number, options: number, raw: Buffer, arrStart: number, arrEnd: number): Head | undefined {
    const bucket = this.entries.get(key);
    if (bucket === undefined) return undefined;
    const list = bucket.parts;
    const after = raw.length - arrEnd;
    for (let i = 0; i < list.length; i++) {
      const e = list[i] as Head;
      if (e.options !== options || e.before !== arrStart || e.raw.length !== arrStart + after) continue;
      scanSteps.n += arrStart + after;
      if (e.raw.compare(raw, 0, arrStart, 0, arrStart) !== 0 || e.raw.compare(raw, arrEnd, raw.length, arrStart, e.raw.length) !== 0) continue;
      this.hit(bucket, i);
      return e;
    }
    return undefined;
  }

  /** Part i of the bucket was found: first in its bucket, and the bucket marked used. */
  private hit(bucket: Bucket, i: number): void {
    this.hits++;
    if (i > 0) {
      const e = bucket.parts[i]!;
      bucket.parts.splice(i, 1);
      bucket.parts.unshift(e);
    }
    bucket.used = true;
  }

  /** The ids of the roots of `opts`' chains: its head's and its first units' parent. */
  private optionIds(opts: AnthropicToOpenAIOptions): KnownOptions {
    for (const k of this.known) if (sameOptions(k.opts, opts)) return k;
    const fp = fingerprints(opts);
    const k: KnownOptions = { opts: { ...opts }, head: this.root(fp.head), units: this.root(fp.units) };
    if (this.known.length >= KNOWN_OPTIONS) this.known.shift();
    this.known.push(k);
    return k;
  }

  private root(fp: string): number {
    let id = this.roots.get(fp);
    if (id === undefined) {
      if (this.roots.size >= MAX_ROOTS) this.roots.clear();
      id = newId();
      this.roots.set(fp, id);
    }
    return id;
  }

  private keep(key: number, e: Unit | Head): void {
    this.misses++;
    if (e.size > this.maxBytes / 8) return;
    let bucket = this.entries.get(key);
    if (bucket === undefined) {
      // Marked used: a part just translated outlives the parts not found since the last pass.
      bucket = { parts: [], used: true };
      this.entries.set(key, bucket);
    } else bucket.used = true;
    const list = bucket.parts;
    list.unshift(e);
    this.count++;
    this.bytes += e.size;
    if (list.length > BUCKET) {
      this.count--;
      this.bytes -= list.pop()!.size;
    }
    while ((this.bytes > this.maxBytes || this.count > this.maxEntries) && this.entries.size > 0) {
      const [oldest, old] = this.entries.entries().next().value as [number, Bucket];
      this.entries.delete(oldest);
      if (old.used) {
        old.used = false;
        this.entries.set(oldest, old); // a second chance, at the back
        continue;
      }
      this.count -= old.parts.length;
      for (const o of old.parts) this.bytes -= o.size;
    }
  }

  /**
   * Holds the units of the version `seen.after` (this body's messages) for the call that repeats
   * them; the version it followed will not be seen again (its history's bytes changed).
   */
  private chain(seen: HistorySeen, units: Unit[], tos: number[]): void {
    this.unchain(seen.before);
    this.unchain(seen.after);
    let bytes = 0;
    for (const u of units) bytes += u.size;
    if (bytes > this.maxBytes / 2) return;
    this.chains.set(seen.after, { units, tos, bytes });
    this.chainBytes += bytes;
    for (const v of this.chains.keys()) {
      if (this.chains.size <= MAX_CHAINS && this.chainBytes <= this.maxBytes) break;
      this.unchain(v);
    }
  }

  private unchain(version: number): void {
    const c = this.chains.get(version);
    if (c === undefined) return;
    this.chains.delete(version);
    this.chainBytes -= c.bytes;
  }

  private cached(raw: Buffer, opts: AnthropicToOpenAIOptions, scan: Pick<BodyScan, 'members' | 'messages'>): CachedTranslation | null {
    if (raw.length < MIN_BODY) return null;
    // UTF-8 is checked part by part, only where a part is translated: a part found has the bytes
    // of one checked when it was kept, and every cut between parts lies at an ASCII byte of the
    // JSON ('[', ']', a message's '}'), where no character can straddle it.
    const l = layout(raw, scan);
    if (l === null) return null;
    const ids = this.optionIds(opts);

    // The head: the body outside `messages`, compared whole.
    const after = raw.length - l.arrEnd;
    const headKey = keyOf(ids.head, l.arrStart, after, sampleHash(raw, 0, l.arrStart), sampleHash(raw, l.arrEnd, raw.length));
    let head = this.findHead(headKey, ids.head, raw, l.arrStart, l.arrEnd);
    if (head === undefined) {
      scanSteps.n += l.arrStart + after;
      if (!isUtf8(raw.subarray(0, l.arrStart)) || !isUtf8(raw.subarray(l.arrEnd))) return null;
      const h = translateHead(raw, l, opts, ids.head);
      if (h === null) return null;
      this.keep(headKey, h);
      head = h;
    }

    // The units, each by its parent, its length and a sample, its bytes compared whole; but those
    // of messages the scan found in a kept history are that version's, in the same place of the
    // same chain, for the same bytes (see above).
    const seen = l.history;
    const prior = seen !== undefined && seen.shared > 0 ? this.chains.get(seen.before) : undefined;
    const starts = unitStarts(l.roles);
    const n = l.roles.length;
    const units: Unit[] = [];
    const tos: number[] = [];
    let parent = ids.units;
    let hashedTo = l.arrStart;
    for (let u = 0; u < starts.length; u++) {
      const from = starts[u]!;
      const to = u + 1 < starts.length ? starts[u + 1]! : n;
      if (to <= from) continue;
      const end = l.ends[to - 1]!;
      const k = units.length;
      let unit: Unit | undefined;
      let key = 0; // set wherever a unit may be missing
      if (prior !== undefined && to <= seen!.shared && prior.tos[k] === to && prior.units[k]!.parent === parent && prior.units[k]!.raw.length === end - hashedTo) {
        unit = prior.units[k]!;
        this.hits++;
        this.chained++;
      } else {
        key = keyOf(parent, end - hashedTo, sampleHash(raw, hashedTo, end));
        unit = this.findUnit(key, parent, raw, hashedTo, end);
      }
      if (unit === undefined) {
        // Its bytes from the end of the unit before (the separator and spaces too) are checked here once.
        const span = raw.subarray(hashedTo, end);
        scanSteps.n += 2 * span.length;
        if (hasControlByte(span) || !isUtf8(span)) return null;
        const t = translateUnit(raw, span, l.starts[from]!, end, from, to, opts, parent);
        if (t === null) return null;
        this.keep(key, t);
        unit = t;
      }
      units.push(unit);
      tos.push(to);
      parent = unit.id;
      hashedTo = end;
    }
    // After the last message: JSON blanks and the `]` (the scan let nothing else through there).
    scanSteps.n += l.arrEnd - hashedTo;
    if (hasControlByte(raw.subarray(hashedTo, l.arrEnd))) return null;

    // The whole: the head's JSON with the units' spliced into its `messages`.
    const parts: Buffer[] = [head.pre];
    let any = head.hasSystem;
    let marks = head.marks;
    let chars = head.chars;
    let tokens = head.tokens;
    let named = head.namesBefore.length + head.namesAfter.length;
    for (const unit of units) {
      marks += unit.marks;
      chars += unit.chars;
      tokens += unit.tokens;
      named += unit.names.length;
      if (unit.out.length === 0) continue;
      parts.push(any ? unit.out : unit.out.subarray(1));
      any = true;
    }
    // No long string anywhere: the uncached path translates such a body the ordinary way.
    if (marks === 0) return null;
    parts.push(head.post);
    scanSteps.n += parts.length;

    const dropped = new Dropped();
    replay(dropped, head.noticesBefore);
    for (const unit of units) replay(dropped, unit.notices);
    replay(dropped, head.noticesAfter);
    const ctx: ToAnthropicContext = { model: head.ctxModel };
    if (named > 0) {
      // In the order the translator names them: tools, messages, tool_choice.
      const map = new Map<string, string>(head.namesBefore);
      for (const unit of units) for (const [k, v] of unit.names) map.set(k, v);
      for (const [k, v] of head.namesAfter) map.set(k, v);
      ctx.toolNames = map;
    }
    if (head.stopSequences !== undefined) ctx.stopSequences = head.stopSequences;
    if (head.stream) ctx.estimatedInputTokens = Math.ceil(chars / 4) + tokens;
    if (seen !== undefined && seen.after >= 0) this.chain(seen, units, tos);
    return dropped.empty ? { body: parts, ctx, model: head.model } : { body: parts, ctx, model: head.model, dropped };
  }
}

/** This worker's cache (module state is per thread). */
export const workerTranslationCache = new TranslationCache();
