// The framing of one HTTP/1.1 answer read off an upstream connection: its head (status line and
// header fields), then its body by content-length, chunked transfer coding, or the connection's
// end. Bytes go in as the socket gives them, split anywhere; the head and each piece of body come
// out through the sink, the body's pieces as views of the bytes given (the caller copies what it
// must keep). The reader stops early when the sink asks it to pause, and says how far it got.
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

  constructor(private readonly sink: ResponseSink) {}

  /** Readies the reader for the answer to a new request on the same connection. */
  start(noBody: boolean): void {
    this.step = Step.Head;
    this.held = null;
    this.remaining = 0;
    this.keepAlive = false;
    this.keepAliveHintMs = 0;
    this.noBody = noBody;
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
   * (bytes after it are not this answer's) or the sink paused.
   */
  read(buf: Buffer, from: number, to: number): number {
    let pos = from;
    while (pos < to && this.step !== Step.Done) {
      switch (this.step) {
        case Step.Head:
          pos = this.readHead(buf, pos, to);
          break;
        case Step.Sized: {
          const n = Math.min(this.remaining, to - pos);
          this.remaining -= n;
          this.sink.data(buf.subarray(pos, pos + n));
          pos += n;
          if (this.remaining === 0) this.finish();
          break;
        }
        case Step.ChunkSize:
        case Step.ChunkEnd:
        case Step.Trailers:
          pos = this.readLine(buf, pos, to);
          break;
        case Step.ChunkData: {
          const n = Math.min(this.remaining, to - pos);
          this.remaining -= n;
          this.sink.data(buf.subarray(pos, pos + n));
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

  /** The connection ended: the end of a body that runs to it, else an answer cut short. */
  closed(): void {
    if (this.step === Step.UntilClose) return this.finish();
    if (this.step !== Step.Done) throw new ResponseFormatError('the upstream closed the connection before its answer ended');
  }

  private finish(): void {
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

  private parseHead(text: string): void {
    const lines = text.split('\n');
    const status = statusOf(lines[0]!);
    const headers: Record<string, string | string[]> = {};
    let connection = '';
    let length = -1;
    let chunked = false;
    let transferCoded = false;
    for (let i = 1; i < lines.length; i++) {
      let line = lines[i]!;
      if (line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1);
      const colon = line.indexOf(':');
      // A line without a field name (an obsolete folded continuation, noise): skipped, not fatal.
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
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
          connection += `${value.toLowerCase()},`;
          break;
        case 'keep-alive': {
          const m = /timeout\s*=\s*(\d+)/i.exec(value);
          if (m) this.keepAliveHintMs = Number(m[1]) * 1000;
          break;
        }
      }
    }
    if (status >= 100 && status < 200) {
      // An interim answer (100 Continue, 103 Early Hints): the final one follows.
      if (status === 101) throw new ResponseFormatError('the upstream switched protocols, which a model call does not ask for');
      return;
    }
    const http10 = lines[0]!.startsWith('HTTP/1.0');
    this.keepAlive = http10 ? /(?:^|[\s,])keep-alive,/.test(connection) : !/(?:^|[\s,])close,/.test(connection);
    this.sink.head(status, headers, reasonOf(lines[0]!));
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
        if (size === 0) this.step = Step.Trailers;
        else {
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

function statusOf(line: string): number {
  const m = /^HTTP\/1\.[01]\s+(\d{3})(?:\s|$)/.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!m) throw new ResponseFormatError(`the upstream did not answer in HTTP/1.1: ${JSON.stringify(line.slice(0, 60))}`);
  return Number(m[1]);
}

function reasonOf(line: string): string {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const sp = text.indexOf(' ', 9);
  return sp < 0 ? '' : text.slice(sp + 1);
}

function lengthOf(value: string): number {
  // "5, 5" (a list of equal lengths) is one length.
  const parts = value.split(',');
  let n = -1;
  for (const p of parts) {
    const t = p.trim();
    if (!/^\d{1,15}$/.test(t)) throw new ResponseFormatError(`the upstream sent a bad content-length: ${JSON.stringify(value.slice(0, 40))}`);
    const v = Number(t);
    if (n >= 0 && v !== n) throw new ResponseFormatError('the upstream sent two different content-lengths');
    n = v;
  }
  return n;
}
