// The framing of one HTTP/1.1 answer read off an upstream connection: its head (status line and
// header fields), then its body by content-length, chunked transfer coding, or the connection's
// end. Bytes go in as the socket gives them, split anywhere; the head and each piece of body come
// out through the sink, the body's pieces as views of the bytes given (the caller copies what it
// must keep). The reader stops early when the sink asks it to pause, and says how far it got.
//
// The chunks of a chunked body that one read holds go to the sink as one piece: an SSE upstream
// writes a chunk per event, and a burst of 64 events read at once cost the gateway 64 passes
// through its handler, the accounting and the translator (a copy, a decode and a parse each)
// where one does (issue 15). The chunks' data are moved together in the read's buffer, over the
// chunk-size lines already read, so no byte is copied twice.
//
// Liberal as the gateway must be (an upstream that answers is an answer): lines may end in a bare
// LF, the reason phrase may be missing, chunk extensions are skipped, interim 1xx answers are
// passed over. What cannot be framed (no status line, a bad length) throws ResponseFormatError.

export interface ResponseSink {
  /** The final answer's head (1xx answers are skipped); names are lowercase, repeated ones an array. */
  head(status: number, headers: Record<string, string | string[]>, statusText: string): void;
  /** A piece of body: a view of the bytes given to `read`, valid only during the call. */
  data(view: Buffer): void;
  /** The body ended (as framed); trailers are not kept. */
  end(): void;
  /** Checked after each piece of body: a sink that paused gets no more until read is called again. */
  readonly paused: boolean;
}

export class ResponseFormatError extends Error {
  readonly code = 'UPSTREAM_BAD_RESPONSE';
}

/** The largest answer head (status line and fields) held while it arrives. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** The largest chunk-size line (extensions included) held while it arrives. */
const MAX_LINE_BYTES = 4096;

const LF = 10;
const CR = 13;
const HEAD_END = Buffer.from('\r\n\r\n');
const HEAD_END_LF = Buffer.from('\n\n');

const enum Step {
  Head,
  Sized,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
  Done,
}

export class ResponseReader {
  private step = Step.Head;
  /** Bytes of a head or line that began in an earlier read. */
  private held: Buffer | null = null;
  private remaining = 0;
  /** HTTP/1.1 without `connection: close`, or 1.0 with `keep-alive`: the connection may serve another request. */
  keepAlive = false;
  /** The server's `keep-alive: timeout=N`, in ms (0: none given). */
  keepAliveHintMs = 0;

  /** HEAD's answers have no body, whatever their fields say. */
  private noBody = false;
  /** Chunk data of this read not yet given to the sink: buf[runStart..runEnd), moved together (see gather). */
  private runBuf: Buffer | null = null;
  private runStart = 0;
  private runEnd = 0;

  constructor(private readonly sink: ResponseSink) {}

  /** Readies the reader for the answer to a new request on the same connection. */
  start(noBody: boolean): void {
    this.step = Step.Head;
    this.held = null;
    this.remaining = 0;
    this.keepAlive = false;
    this.keepAliveHintMs = 0;
    this.noBody = noBody;
    this.runBuf = null;
  }

  /** The answer is complete (its end was passed to the sink). */
  get done(): boolean {
    return this.step === Step.Done;
  }

  /** The body runs to the connection's end, which the caller reports with `closed`. */
  get endsWithConnection(): boolean {
    return this.step === Step.UntilClose;
  }

  /**
   * Reads `buf[from..to)`. Returns where it stopped: `to`, or earlier when the answer ended
   * (bytes after it are not this answer's) or the sink paused. The bytes of `buf` before that
   * point may have been rewritten (chunks' data moved together).
   */
  read(buf: Buffer, from: number, to: number): number {
    try {
      const pos = this.walk(buf, from, to);
      this.flush();
      return pos;
    } catch (e) {
      // What came before the fault is the answer's, as it would have been chunk by chunk.
      this.flush();
      throw e;
    }
  }

  private walk(buf: Buffer, from: number, to: number): number {
    let pos = from;
    while (pos < to && this.step !== Step.Done) {
      switch (this.step) {
        case Step.Head:
          pos = this.readHead(buf, pos, to);
          break;
        case Step.Sized:
          pos += this.body(buf, pos, to);
          if (this.remaining === 0) this.finish();
          break;
        case Step.ChunkSize:
        case Step.ChunkEnd:
        case Step.Trailers:
          pos = this.readLine(buf, pos, to);
          break;
        case Step.ChunkData: {
          const n = Math.min(this.remaining, to - pos);
          this.remaining -= n;
          this.gather(buf, pos, n);
          pos += n;
          if (this.remaining === 0) this.step = Step.ChunkEnd;
          break;
        }
        case Step.UntilClose:
          this.sink.data(buf.subarray(pos, to));
          pos = to;
          break;
      }
      if (this.sink.paused) break;
    }
    return pos;
  }

  /** Passes up to `remaining` bytes of body from `buf[pos..to)` to the sink; returns how many. */
  private body(buf: Buffer, pos: number, to: number): number {
    const n = Math.min(this.remaining, to - pos);
    this.remaining -= n;
    this.sink.data(buf.subarray(pos, pos + n));
    return n;
  }

  /**
   * Chunk data `buf[pos..pos+n)` joins the run of this read's chunk data: moved down to follow
   * it, over the framing between them (bytes already read, which nothing reads again).
   */
  private gather(buf: Buffer, pos: number, n: number): void {
    if (this.runBuf === buf) {
      if (this.runEnd !== pos) buf.copyWithin(this.runEnd, pos, pos + n);
      this.runEnd += n;
      return;
    }
    this.flush();
    this.runBuf = buf;
    this.runStart = pos;
    this.runEnd = pos + n;
  }

  /** The chunk data gathered so far, to the sink in one piece. */
  private flush(): void {
    const b = this.runBuf;
    if (b === null) return;
    this.runBuf = null;
    this.sink.data(b.subarray(this.runStart, this.runEnd));
  }

  /** The connection ended: the end of a body that runs to it, else an answer cut short. */
  closed(): void {
    if (this.step === Step.UntilClose) return this.finish();
    if (this.step !== Step.Done) throw new ResponseFormatError('the upstream closed the connection before its answer ended');
  }

  private finish(): void {
    this.flush();
    this.step = Step.Done;
    this.sink.end();
  }

  /**
   * `buf[pos..to)` as one buffer starting with what an earlier read held: the bytes of a head or
   * line so far. `base` is how many of its bytes came from that earlier read.
   */
  private pending(buf: Buffer, pos: number, to: number): { view: Buffer; base: number } {
    const held = this.held;
    if (held === null) return { view: buf.subarray(pos, to), base: 0 };
    this.held = null;
    return { view: Buffer.concat([held, buf.subarray(pos, to)]), base: held.length };
  }

  /** Keeps a head or line not yet ended (a copy: the caller's buffer may be reused for the next read). */
  private hold(view: Buffer, limit: number, what: string): void {
    if (view.length > limit) throw new ResponseFormatError(`the upstream's ${what} is longer than ${limit} bytes`);
    this.held = Buffer.from(view);
  }

  private readHead(buf: Buffer, pos: number, to: number): number {
    const { view, base } = this.pending(buf, pos, to);
    // The head ends at an empty line: CRLF CRLF, or (liberal) LF LF, looked for only when the
    // first is missing or the head before it holds one (a scan of the body would be wasted).
    let end = view.indexOf(HEAD_END);
    let text = end >= 0 ? view.toString('latin1', 0, end) : '';
    let after = end + 4;
    const lf = end < 0 ? view.indexOf(HEAD_END_LF) : text.indexOf('\n\n');
    if (lf >= 0) {
      end = lf;
      after = lf + 2;
      text = view.toString('latin1', 0, end);
    }
    if (end < 0) {
      this.hold(view, MAX_HEAD_BYTES, 'answer head');
      return to;
    }
    if (end > MAX_HEAD_BYTES) throw new ResponseFormatError(`the upstream's answer head is longer than ${MAX_HEAD_BYTES} bytes`);
    this.parseHead(text);
    return pos + after - base;
  }

  /** The head's text, its lines walked in place (no array of lines, no regular expression on the common fields). */
  private parseHead(text: string): void {
    let eol = text.indexOf('\n');
    if (eol < 0) eol = text.length;
    const statusEnd = eol > 0 && text.charCodeAt(eol - 1) === CR ? eol - 1 : eol;
    const status = statusOf(text, statusEnd);
    const headers: Record<string, string | string[]> = {};
    let close = false;
    let keepAlive = false;
    let length = -1;
    let chunked = false;
    let transferCoded = false;
    for (let pos = eol + 1; pos < text.length; ) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      const next = end + 1;
      if (end > pos && text.charCodeAt(end - 1) === CR) end--;
      const colon = text.indexOf(':', pos);
      // A line without a field name (an obsolete folded continuation, noise): skipped, not fatal.
      if (colon <= pos || colon >= end) {
        pos = next;
        continue;
      }
      const name = text.slice(pos, colon).trim().toLowerCase();
      let from = colon + 1;
      let to = end;
      while (from < to && isBlank(text.charCodeAt(from))) from++;
      while (to > from && isBlank(text.charCodeAt(to - 1))) to--;
      const value = text.slice(from, to);
      pos = next;
      if (name === '__proto__') continue;
      const had = headers[name];
      if (had === undefined) headers[name] = value;
      else if (typeof had === 'string') headers[name] = [had, value];
      else had.push(value);
      switch (name) {
        case 'content-length': {
          const n = lengthOf(value);
          if (length >= 0 && n !== length) throw new ResponseFormatError('the upstream sent two different content-lengths');
          length = n;
          break;
        }
        case 'transfer-encoding':
          transferCoded = true;
          // Only the last coding frames the body.
          chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
          break;
        case 'connection':
          if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) close = true;
          if (/(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(value)) keepAlive = true;
          break;
        case 'keep-alive':
          this.keepAliveHintMs = timeoutOf(value);
          break;
      }
    }
    if (status >= 100 && status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the final one follows.
      if (status === 101) throw new ResponseFormatError('the upstream switched protocols, which a model call does not ask for');
      return;
    }
    // HTTP/1.0 keeps the connection only when asked to; 1.1 unless told to close it.
    this.keepAlive = text.charCodeAt(7) === 48 /* 0 */ ? keepAlive && !close : !close;
    this.sink.head(status, headers, reasonOf(text, statusEnd));
    if (this.noBody || status === 204 || status === 304) return this.finish();
    if (transferCoded) {
      if (chunked) this.step = Step.ChunkSize;
      else {
        // Coded but not chunked: the body runs to the connection's end, which is then spent.
        this.step = Step.UntilClose;
        this.keepAlive = false;
      }
      return;
    }
    if (length >= 0) {
      if (length === 0) return this.finish();
      this.remaining = length;
      this.step = Step.Sized;
      return;
    }
    this.step = Step.UntilClose;
    this.keepAlive = false;
  }

  /** A chunk-size line, the CRLF after a chunk's data, or a trailer line. */
  private readLine(buf: Buffer, pos: number, to: number): number {
    if (this.held === null) {
      // The common case, with no copy: the line lies whole in this read.
      if (this.step === Step.ChunkEnd && pos + 1 < to && buf[pos] === CR && buf[pos + 1] === LF) {
        this.step = Step.ChunkSize;
        return pos + 2;
      }
      const nl = buf.indexOf(LF, pos);
      if (nl >= 0 && nl < to) {
        this.line(buf, pos, nl);
        return nl + 1;
      }
    }
    const { view, base } = this.pending(buf, pos, to);
    const nl = view.indexOf(LF);
    if (nl < 0) {
      this.hold(view, MAX_LINE_BYTES, 'chunk line');
      return to;
    }
    this.line(view, 0, nl);
    return pos + nl + 1 - base;
  }

  /** The line `b[start..nl)`, nl being its LF. */
  private line(b: Buffer, start: number, nl: number): void {
    const end = nl > start && b[nl - 1] === CR ? nl - 1 : nl;
    if (end - start > MAX_LINE_BYTES) throw new ResponseFormatError(`the upstream's chunk line is longer than ${MAX_LINE_BYTES} bytes`);
    switch (this.step) {
      case Step.ChunkSize: {
        const size = chunkSize(b, start, end);
        if (size === 0) {
          // The last chunk: its data go now, so a sink that pauses on them stops the reader before the end.
          this.flush();
          this.step = Step.Trailers;
        } else {
          this.remaining = size;
          this.step = Step.ChunkData;
        }
        return;
      }
      case Step.ChunkEnd:
        if (end !== start) throw new ResponseFormatError('the upstream sent more bytes than a chunk declared');
        this.step = Step.ChunkSize;
        return;
      case Step.Trailers:
        // Trailer fields are read past; the empty line ends the answer.
        if (end === start) this.finish();
        return;
    }
  }
}

/** A chunk-size line's hex digits, up to its extensions (";name=value") or blanks. */
function chunkSize(b: Buffer, start: number, end: number): number {
  let size = 0;
  let digits = 0;
  let i = start;
  for (; i < end; i++) {
    const c = b[i]!;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) break;
    // 12 hex digits (256 TB) is past any chunk; more is a framing error, not a number to trust.
    if (++digits > 12) break;
    size = size * 16 + d;
  }
  const rest = i < end ? b[i] : -1;
  if (digits === 0 || digits > 12 || (rest !== -1 && rest !== 59 /* ; */ && rest !== 32 && rest !== 9)) {
    throw new ResponseFormatError(`the upstream sent a bad chunk size: ${JSON.stringify(b.toString('latin1', start, Math.min(end, start + 40)))}`);
  }
  return size;
}

const isBlank = (c: number): boolean => c === 32 || c === 9;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** The status code of "HTTP/1.x NNN[ reason]" in `text[0..end)`. */
function statusOf(text: string, end: number): number {
  let ok = end >= 12 && text.startsWith('HTTP/1.') && (text.charCodeAt(7) === 48 || text.charCodeAt(7) === 49) && isBlank(text.charCodeAt(8));
  let at = 9;
  while (ok && at < end && isBlank(text.charCodeAt(at))) at++;
  ok = ok && at + 3 <= end && isDigit(text.charCodeAt(at)) && isDigit(text.charCodeAt(at + 1)) && isDigit(text.charCodeAt(at + 2)) && (at + 3 === end || isBlank(text.charCodeAt(at + 3)));
  if (!ok) throw new ResponseFormatError(`the upstream did not answer in HTTP/1.1: ${JSON.stringify(text.slice(0, Math.min(end, 60)))}`);
  return (text.charCodeAt(at) - 48) * 100 + (text.charCodeAt(at + 1) - 48) * 10 + (text.charCodeAt(at + 2) - 48);
}

/** The reason phrase after the status code ('' when there is none). */
function reasonOf(text: string, end: number): string {
  let at = 9;
  while (at < end && isBlank(text.charCodeAt(at))) at++;
  at += 3;
  while (at < end && isBlank(text.charCodeAt(at))) at++;
  return at < end ? text.slice(at, end) : '';
}

/** A content-length: digits, or a list of equal ones ("5, 5" is one length). */
function lengthOf(value: string): number {
  let n = -1;
  let at = 0;
  for (;;) {
    while (at < value.length && isBlank(value.charCodeAt(at))) at++;
    let v = 0;
    let digits = 0;
    while (at < value.length && isDigit(value.charCodeAt(at))) {
      v = v * 10 + value.charCodeAt(at++) - 48;
      digits++;
    }
    while (at < value.length && isBlank(value.charCodeAt(at))) at++;
    if (digits === 0 || digits > 15 || (at < value.length && value.charCodeAt(at) !== 44 /* , */)) {
      throw new ResponseFormatError(`the upstream sent a bad content-length: ${JSON.stringify(value.slice(0, 40))}`);
    }
    if (n >= 0 && v !== n) throw new ResponseFormatError('the upstream sent two different content-lengths');
    n = v;
    if (at >= value.length) return n;
    at++;
  }
}

/** The ms of a keep-alive field's "timeout=N" (0: none). */
function timeoutOf(value: string): number {
  const at = value.toLowerCase().indexOf('timeout');
  if (at < 0) return 0;
  let i = at + 7;
  while (i < value.length && isBlank(value.charCodeAt(i))) i++;
  if (value.charCodeAt(i) !== 61 /* = */) return 0;
  i++;
  while (i < value.length && isBlank(value.charCodeAt(i))) i++;
  let n = 0;
  let digits = 0;
  while (i < value.length && isDigit(value.charCodeAt(i)) && digits < 9) {
    n = n * 10 + value.charCodeAt(i++) - 48;
    digits++;
  }
  return digits > 0 ? n * 1000 : 0;
}
