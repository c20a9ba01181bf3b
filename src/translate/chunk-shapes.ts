// The chunks of OpenAI chat streams, read without JSON.parse once a worker has seen their shape.
//
// Why: a deployment's streams are made of a few kinds of chunk (the role chunk, text chunks, the
// finish chunk, the usage chunk) whose bytes repeat from stream to stream but for a few values: the
// stream's id and `created`, the text, OpenAI's `obfuscation` padding and the usage counts. Each
// stream parsed its first chunks, and learnt its text template, again: in a worker, between a
// 150 KB request and the next, those few parses cost several times what they cost in a loop
// (PERF.md, 2026-12-07). Here a worker keeps each kind's shape once: its bytes with holes where
// those values go, and the object JSON.parse made of it. A chunk that is a shape's bytes with
// tokens of the holes' kinds in the holes is that object with those values in place.
//
// Exact by construction: a shape is kept only when the chunk with a probe string in each hole
// parses to the same object with the probes at the holes' places. JSON is context-free, so any
// string token in a string hole, and any number token (JSON's grammar, json-tokens.ts) in a number
// hole, gives that object with that value there; anything else in a hole, or other bytes around
// them, is left to the full parse. Only values the translator reads as they come get holes, and
// only chunks whose delta holds nothing but a role and a content are kept: tool calls, reasoning
// and refusals vary in ways a shape would not repeat, and are parsed.
//
// The object is the shape's own and is handed to the translator with the holes' values written
// in: the translator reads a chunk and keeps none of it (strings and numbers only), so one object
// serves every chunk of the shape. Bounds: MAX_SHAPES per worker (module state is per thread), the
// oldest let go first; a stream tries to learn at most LEARN_TRIES chunks.
import { lastStringEscaped, numberEnd, stringEnd } from './json-tokens';
import { ChunkTemplate } from './chunk-template';
import { isObj, type Obj } from './shape';

export const MAX_SHAPES = 8;
export const LEARN_TRIES = 3;
/** Holes a shape may have (a usage object with its details has about ten). */
const MAX_HOLES = 32;

const STRING = 0;
const NUMBER = 1;

/** A hole: the kind of token it takes and where its value goes in the shape's object. */
interface Hole {
  kind: number;
  holder: Obj;
  key: string;
}

export class ChunkShape {
  constructor(
    /** The bytes between the holes: one more than there are holes. */
    private readonly lits: readonly string[],
    private readonly holes: readonly Hole[],
    /** What JSON.parse made of the chunk the shape was learnt from: the holes' values are written in. */
    readonly chunk: Obj,
    /** The content's hole when the chunk's only effect is a text delta (a text chunk), else -1. */
    private readonly text: number,
    /** No chunk of this shape is shorter: its bytes and a character a hole. */
    private readonly least: number,
  ) {}

  /** Whether `data` is this shape's bytes with a token of the right kind in each hole; their spans go to `spans`. */
  matches(data: string): boolean {
    if (data.length < this.least) return false;
    const lits = this.lits;
    let pos = 0;
    for (let i = 0; i < this.holes.length; i++) {
      const lit = lits[i]!;
      // Compared as slices: V8's string equality is a memcmp, startsWith a slower walk.
      if (data.slice(pos, pos + lit.length) !== lit) return false;
      pos += lit.length;
      const end = this.holes[i]!.kind === STRING ? stringEnd(data, pos) : numberEnd(data, pos);
      if (end < 0) return false;
      spans[2 * i] = pos;
      spans[2 * i + 1] = end;
      escapes[i] = this.holes[i]!.kind === STRING && lastStringEscaped();
      pos = end;
    }
    const last = lits[this.holes.length]!;
    return data.length - pos === last.length && data.slice(pos) === last;
  }

  /**
   * The chunk `data` is, after matches(data): the shape's object with the holes' values written
   * in; null when a string hole holds an escape JSON does not have (the full parse says so).
   */
  fill(data: string): Obj | null {
    const n = this.holes.length;
    for (let i = 0; i < n; i++) {
      const s = spans[2 * i]!;
      const e = spans[2 * i + 1]!;
      if (this.holes[i]!.kind === NUMBER) values[i] = Number(data.slice(s, e));
      else if (!escapes[i]) values[i] = data.slice(s + 1, e - 1);
      else {
        try {
          values[i] = JSON.parse(data.slice(s, e)) as unknown;
        } catch {
          values.fill(undefined, 0, i); // the strings read so far: nothing reads them now
          return null;
        }
      }
    }
    for (let i = 0; i < n; i++) {
      const h = this.holes[i]!;
      h.holder[h.key] = values[i];
    }
    return this.chunk;
  }

  /**
   * Lets go of the strings fill() wrote in, once the chunk was read: each may be V8's view into
   * the whole upstream read it came in, which the shape would otherwise keep until its next chunk.
   */
  clear(): void {
    for (let i = 0; i < this.holes.length; i++) {
      const h = this.holes[i]!;
      if (h.kind === STRING) h.holder[h.key] = '';
      values[i] = undefined;
    }
  }

  /**
   * For a text shape, after matches(data): the stream's text template, the bytes before the
   * content as this chunk has them (its id, its created). Null when the holes after the content
   * are not the one string the template can step over (OpenAI's `obfuscation`).
   */
  template(data: string): ChunkTemplate | null {
    const c = this.text;
    if (c < 0) return null;
    const after = this.holes.length - c - 1;
    if (after > 1 || (after === 1 && this.holes[c + 1]!.kind !== STRING)) return null;
    const prefix = data.slice(0, spans[2 * c]!);
    return after === 0 ? new ChunkTemplate(prefix, null, this.lits[c + 1]!) : new ChunkTemplate(prefix, this.lits[c + 1]!, this.lits[c + 2]!);
  }

  get isText(): boolean {
    return this.text >= 0;
  }
}

/** The spans of the holes matches() last found, whether each string held an escape, and their values. */
const spans = new Int32Array(2 * MAX_HOLES);
const escapes: boolean[] = new Array<boolean>(MAX_HOLES).fill(false);
const values: unknown[] = [];

/** This worker's shapes, the oldest first. */
const shapes: ChunkShape[] = [];
/** Where shapeOf last found one. */
let foundAt = 0;

/**
 * The shape `data` has (its spans then set for fill), or null. The search starts at `from` and
 * wraps around: a stream's chunks come in the order their shapes were learnt (role, text, finish,
 * usage), so a stream that starts each search after the shape it found last finds each at once.
 */
export function shapeOf(data: string, from = 0): ChunkShape | null {
  const n = shapes.length;
  for (let k = 0; k < n; k++) {
    const i = (from + k) % n;
    if (shapes[i]!.matches(data)) {
      foundAt = i;
      return shapes[i]!;
    }
  }
  return null;
}

/** The index of the shape shapeOf last found. */
export function shapeFoundAt(): number {
  return foundAt;
}

/** Forgets the worker's shapes (tests). */
export function forgetShapes(): void {
  shapes.length = 0;
}

/** How many shapes the worker keeps (tests). */
export function shapesKept(): number {
  return shapes.length;
}

/** Where a hole's value is, as found walking the parsed chunk in its bytes' order. */
interface Found {
  path: (string | number)[];
  kind: number;
  key: string;
}

/**
 * The holes of `chunk`, in the order of its bytes (an object's keys come in the order its text
 * has them); null when it is not a chunk kept as a shape.
 */
function holesOf(chunk: Obj): Found[] | null {
  if (chunk.error !== undefined && chunk.error !== null) return null;
  const found: Found[] = [];
  for (const k in chunk) {
    const v = chunk[k];
    if ((k === 'id' || k === 'obfuscation') && typeof v === 'string') found.push({ path: [k], kind: STRING, key: k });
    else if (k === 'created' && typeof v === 'number') found.push({ path: [k], kind: NUMBER, key: k });
    else if (k === 'choices') {
      if (!Array.isArray(v) || v.length > 1) return null;
      if (v.length === 1 && !choiceHoles(v[0], found)) return null;
    } else if (k === 'usage' && isObj(v)) usageHoles(v, ['usage'], found, 0);
  }
  return found;
}

/** The content of the one choice; false when its delta holds more than a role and a content. */
function choiceHoles(choice: unknown, found: Found[]): boolean {
  if (!isObj(choice)) return false;
  if (!('delta' in choice)) return true;
  const delta = choice.delta;
  if (!isObj(delta)) return false;
  for (const d in delta) {
    if (d === 'content' && typeof delta.content === 'string') found.push({ path: ['choices', 0, 'delta', 'content'], kind: STRING, key: d });
    else if (d !== 'role' && d !== 'content') return false;
  }
  return true;
}

/** Every number of the usage object, and of the objects in it (token details), as a hole. */
function usageHoles(u: Obj, path: string[], found: Found[], depth: number): void {
  for (const k in u) {
    const v = u[k];
    if (typeof v === 'number') found.push({ path: [...path, k], kind: NUMBER, key: k });
    else if (isObj(v) && depth < 2) usageHoles(v, [...path, k], found, depth + 1);
  }
}

/** Whether `chunk` is a text chunk: its only effect on the translator is its content as a text delta. */
function isTextChunk(chunk: Obj): boolean {
  if (isObj(chunk.usage)) return false;
  const choices = chunk.choices as unknown[];
  if (!Array.isArray(choices) || choices.length !== 1) return false;
  const choice = choices[0] as Obj;
  if (choice.finish_reason !== undefined && choice.finish_reason !== null) return false;
  const delta = choice.delta;
  if (!isObj(delta)) return false;
  const keys = Object.keys(delta);
  return keys.length === 1 && keys[0] === 'content';
}

function at(o: unknown, path: readonly (string | number)[]): unknown {
  let v = o;
  for (const p of path) v = (v as Record<string | number, unknown>)[p];
  return v;
}

const PROBE = '\u0000weir-hole-';

/**
 * A string of its own. A slice of the event's text may be V8's view into the whole upstream read
 * it came in (up to the SSE parser's 16 MB), which a shape kept for the worker's life would keep.
 */
function ownCopy(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * Learns the shape of `chunk`, parsed from `data`, and keeps it: true. False when its holes
 * cannot be placed in its bytes; null, at no cost worth counting, when it is not a chunk a shape
 * is kept of (see the file's comment).
 */
export function learnShape(data: string, chunk: Obj): boolean | null {
  const found = holesOf(chunk);
  if (found === null || found.length > MAX_HOLES) return null;
  // Each value's token after its key, in order: compact JSON, as every known upstream writes it.
  const lits: string[] = [];
  let from = 0;
  let cursor = 0;
  for (const f of found) {
    const needle = `${JSON.stringify(f.key)}:`;
    const k = data.indexOf(needle, cursor);
    if (k < 0) return false;
    const start = k + needle.length;
    const end = f.kind === STRING ? stringEnd(data, start) : numberEnd(data, start);
    if (end < 0) return false;
    lits.push(data.slice(from, start));
    from = cursor = end;
  }
  lits.push(data.slice(from));
  // The probe: a string in every hole must come back at the hole's place, the rest unchanged.
  let probed = lits[0]!;
  for (let i = 0; i < found.length; i++) probed += JSON.stringify(PROBE + i) + lits[i + 1]!;
  let back: unknown;
  try {
    back = JSON.parse(probed);
  } catch {
    return false;
  }
  for (let i = 0; i < found.length; i++) {
    const path = found[i]!.path;
    const holder = at(back, path.slice(0, -1));
    if (!isObj(holder) || holder[path[path.length - 1] as string] !== PROBE + i) return false;
    holder[path[path.length - 1] as string] = at(chunk, path);
  }
  if (JSON.stringify(back) !== JSON.stringify(chunk)) return false;
  const holes: Hole[] = found.map((f) => ({ kind: f.kind, holder: at(chunk, f.path.slice(0, -1)) as Obj, key: f.key }));
  const text = isTextChunk(chunk) ? found.findIndex((f) => f.path.length === 4) : -1;
  const least = lits.reduce((n, l) => n + l.length, 0) + found.length;
  const shape = new ChunkShape(lits.map(ownCopy), holes, chunk, text, least);
  shape.clear(); // the learnt chunk's own values (a long text, say) are not kept either
  shapes.push(shape);
  if (shapes.length > MAX_SHAPES) shapes.shift();
  return true;
}
