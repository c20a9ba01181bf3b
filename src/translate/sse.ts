// An incremental server-sent-events parser. Bytes go in as they arrive from the upstream, in any
// chunking; complete events come out through the handler. Only the unfinished last line of a
// chunk is kept between calls, and a chunk is scanned once: nothing already seen is re-split.
// Lines end in \n, \r\n or \r (also when the \r and the \n arrive in different chunks); lines
// starting with ':' are comments (heartbeats); `id` and `retry` fields are ignored.

/** Called once per complete event; `event` is '' when the event had no `event:` field. */
export type SseHandler = (event: string, data: string) => void;

import { StringDecoder } from 'node:string_decoder';
import { scanSteps } from '../scan-steps';

const LF = 10;

/**
 * The largest event (its unfinished line plus its data so far, in characters) the parser holds.
 * Translated streams need whole events, so they are held; an upstream that sends one without end
 * (a line with no newline, a data field that never closes) fails the stream at this size instead
 * of growing memory. Real events are a few KB; a whole tool input arrives in one at most.
 */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;

export class SseParser {
  private tail = '';
  private event = '';
  private data = '';
  private hasData = false;
  private skipLF = false;
  private decoder: StringDecoder | undefined;

  constructor(private readonly onEvent: SseHandler) {}

  /** Feeds bytes (UTF-8, split anywhere — even inside a character) or text. */
  push(chunk: Uint8Array | string): void {
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else text = (this.decoder ??= new StringDecoder('utf8')).write(chunk);
    const len = text.length;
    // The decode, and each line's copy and reading; the searches are added as they go.
    let steps = chunk.length + 2 * len;
    if (len === 0) {
      scanSteps.n += steps;
      return;
    }
    let pos = 0;
    if (this.skipLF) {
      this.skipLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    let nl = text.indexOf('\n', pos);
    let cr = text.indexOf('\r', pos);
    steps += (nl < 0 ? len : nl) - pos + (cr < 0 ? len : cr) - pos;
    while (pos < len) {
      if (nl !== -1 && nl < pos) {
        nl = text.indexOf('\n', pos);
        steps += (nl < 0 ? len : nl) - pos;
      }
      if (cr !== -1 && cr < pos) {
        cr = text.indexOf('\r', pos);
        steps += (cr < 0 ? len : cr) - pos;
      }
      let end: number;
      let next: number;
      if (cr === -1 || (nl !== -1 && nl < cr)) {
        if (nl === -1) break;
        end = nl;
        next = nl + 1;
      } else {
        end = cr;
        if (cr + 1 < len) next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
        else {
          next = cr + 1;
          this.skipLF = true; // a \n opening the next chunk ends this same line
        }
      }
      if (this.tail.length > 0) {
        steps += this.tail.length;
        const line = this.tail + text.slice(pos, end);
        this.tail = '';
        this.line(line, 0, line.length);
      } else this.line(text, pos, end); // read in place: no string made for the line itself
      pos = next;
    }
    if (pos < len) this.tail = this.tail.length > 0 ? this.tail + text.slice(pos) : text.slice(pos);
    scanSteps.n += steps;
    if (this.tail.length + this.data.length > MAX_EVENT_CHARS) {
      this.tail = '';
      this.data = '';
      this.hasData = false;
      throw new Error(`an upstream event is larger than ${MAX_EVENT_CHARS / (1024 * 1024)} MB`);
    }
  }

  /** The input ended: an unterminated last line and an event without its blank line still count. */
  end(): void {
    if (this.decoder !== undefined) {
      const rest = this.decoder.end();
      if (rest.length > 0) this.push(rest);
    }
    if (this.tail.length > 0) {
      const line = this.tail;
      this.tail = '';
      scanSteps.n += line.length;
      this.line(line, 0, line.length);
    }
    this.dispatch();
  }

  /** The line text[start, end). */
  private line(text: string, start: number, end: number): void {
    const n = end - start;
    if (n === 0) {
      this.dispatch();
      return;
    }
    const c0 = text.charCodeAt(start);
    if (c0 === 0x3a /* : */) return;
    if (c0 === 0x64 /* d */ && n >= 4 && text.startsWith('data', start)) {
      let value: string;
      if (n === 4) value = '';
      else if (text.charCodeAt(start + 4) !== 0x3a) return; // a field that merely starts with "data"
      else value = text.slice(n > 5 && text.charCodeAt(start + 5) === 0x20 ? start + 6 : start + 5, end);
      if (this.hasData) this.data += '\n' + value;
      else {
        this.data = value;
        this.hasData = true;
      }
      return;
    }
    if (c0 === 0x65 /* e */ && n >= 5 && text.startsWith('event', start)) {
      if (n === 5) this.event = '';
      else if (text.charCodeAt(start + 5) === 0x3a) this.event = text.slice(n > 6 && text.charCodeAt(start + 6) === 0x20 ? start + 7 : start + 6, end);
    }
  }

  private dispatch(): void {
    if (this.hasData) {
      const event = this.event;
      const data = this.data;
      this.event = '';
      this.data = '';
      this.hasData = false;
      this.onEvent(event, data);
    } else this.event = '';
  }
}

/** Stands for a `[DONE]` line found by parseEventData's line-by-line retry. */
export const DONE: Record<string, unknown> = Object.freeze({});

/**
 * JSON of one event's data. A data field that fails to parse but holds several lines is retried
 * line by line (servers that forget the blank line between events); `each` gets every object.
 */
export function parseEventData(data: string, each: (v: Record<string, unknown>) => void): void {
  let v: unknown;
  scanSteps.n += data.length;
  try {
    v = JSON.parse(data);
  } catch {
    scanSteps.n += 2 * data.length; // the search for a line break, then the lines one by one
    if (data.indexOf('\n') === -1) return;
    for (const line of data.split('\n')) {
      const l = line.startsWith('data:') ? line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5) : line;
      if (l.length === 0) continue;
      if (l === '[DONE]') {
        each(DONE);
        continue;
      }
      try {
        const o: unknown = JSON.parse(l);
        if (typeof o === 'object' && o !== null && !Array.isArray(o)) each(o as Record<string, unknown>);
      } catch {
        // not JSON: skipped
      }
    }
    return;
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) each(v as Record<string, unknown>);
}
