// One statement whose parameters are already in PostgreSQL's wire format (pg-array.ts), sent as
// the five extended-protocol messages pg's own Query sends (Parse, Bind, Describe, Execute, Sync)
// written into ONE buffer that the thread keeps for its next statement.
//
// Why not pg's Query: pg serializes a Bind into a writer that starts at 256 bytes and grows by
// half again each time it is short, then starts over at 256 for the next message. A spend
// statement of 1,000 rows (~0.5 MB of column arrays) thus left about 2 MB of dead buffers behind
// it, which the control thread frees only at its next GC, seconds apart under load (issue 15:
// with the arrays' own growth, 4 KB a row; the governed bench's malloc peak fell by 6 MB without
// it). Here the request is sized exactly before it is written, into memory used again.
//
// pg runs this through its documented Submittable interface: it calls submit() when the
// connection is free and hands it the answer's messages; errors, a dropped connection and the
// query queue are pg's as for any query.
import type pg from 'pg';
import { KeptBuffer } from '../kept-buffer';

export type WireParam = Buffer | string | null;

/** The buffer kept between statements (tests read its counts); statements over 8 MB get their own. */
export const requestBuffer = new KeptBuffer(8 * 1024 * 1024, 64 * 1024);

const textBytes = (p: string): number => Buffer.byteLength(p, 'utf8');

/** A message's type byte and length (the length counts itself, not the type); returns where its body starts. */
function head(buf: Buffer, at: number, type: number, size: number): number {
  buf[at] = type;
  buf.writeInt32BE(size - 1, at + 1);
  return at + 5;
}

/**
 * The whole request (Parse, Bind, Describe portal, Execute, Sync) for `text` and `params`, the
 * bytes pg's serializer writes for the same query: in the kept buffer when it is free and large
 * enough. `buf` is the whole buffer, to give back; the request is its first `length` bytes.
 */
export function writeRequest(text: string, params: readonly WireParam[]): { buf: Buffer; length: number } {
  const n = params.length;
  let paramBytes = 0;
  for (const p of params) paramBytes += 4 + (p === null ? 0 : typeof p === 'string' ? textBytes(p) : p.length);
  const textLen = textBytes(text);
  const parse = 1 + 4 + 1 + textLen + 1 + 2;
  const bind = 1 + 4 + 1 + 1 + 2 + 2 * n + 2 + paramBytes + 4;
  const describe = 1 + 4 + 1 + 1;
  const execute = 1 + 4 + 1 + 4;
  const sync = 1 + 4;
  const length = parse + bind + describe + execute + sync;
  const buf = requestBuffer.take(length);
  // Parse: unnamed statement, the text, no parameter types (the statement casts each).
  let at = head(buf, 0, 0x50, parse);
  buf[at] = 0;
  at += 1 + buf.write(text, at + 1, 'utf8');
  buf[at] = 0;
  buf.writeInt16BE(0, at + 1);
  // Bind: unnamed portal and statement, one format per parameter (1 binary, 0 text), the values.
  at = head(buf, at + 3, 0x42, bind);
  buf[at] = 0;
  buf[at + 1] = 0;
  buf.writeInt16BE(n, at + 2);
  at += 4;
  for (const p of params) {
    buf.writeInt16BE(Buffer.isBuffer(p) ? 1 : 0, at);
    at += 2;
  }
  buf.writeInt16BE(n, at);
  at += 2;
  for (const p of params) {
    if (p === null) {
      buf.writeInt32BE(-1, at);
      at += 4;
    } else if (typeof p === 'string') {
      const len = buf.write(p, at + 4, 'utf8');
      buf.writeInt32BE(len, at);
      at += 4 + len;
    } else {
      buf.writeInt32BE(p.length, at);
      p.copy(buf, at + 4);
      at += 4 + p.length;
    }
  }
  // One result format code for every column: text.
  buf.writeInt16BE(1, at);
  buf.writeInt16BE(0, at + 2);
  // Describe the portal (its RowDescription), Execute it with no row limit, Sync.
  at = head(buf, at + 4, 0x44, describe);
  buf[at] = 0x50;
  buf[at + 1] = 0;
  at = head(buf, at + 2, 0x45, execute);
  buf[at] = 0;
  buf.writeInt32BE(0, at + 1);
  at = head(buf, at + 5, 0x53, sync);
  if (at !== length) throw new Error(`bound statement: wrote ${at} bytes of ${length}`);
  return { buf, length };
}

/** What pg calls on the active query, as pg's own Query has them. */
class BoundQuery implements pg.Submittable {
  private readonly rows: (string | null)[][] = [];
  private failed: Error | null = null;

  constructor(
    /** The statement's text: also what a test recording a connection's statements reads. */
    readonly text: string,
    private readonly params: readonly WireParam[],
    private readonly settle: (err: Error | null, rows: (string | null)[][]) => void,
  ) {}

  submit(connection: pg.Connection): Error | undefined {
    const stream = connection.stream;
    if (!stream.writable) return new Error('Connection is not writable');
    let request: { buf: Buffer; length: number };
    try {
      request = writeRequest(this.text, this.params);
    } catch (e) {
      // Returned, not thrown: pg then fails this query and frees the connection for the next.
      return e as Error;
    }
    const { buf, length } = request;
    // The socket may hold the bytes until the kernel takes them: the buffer is used again only
    // after the write's callback (an error or a destroyed socket calls it too).
    stream.write(buf.subarray(0, length), () => requestBuffer.giveBack(buf));
    return undefined;
  }

  handleRowDescription(): void {}

  handleDataRow(msg: { fields: (string | null)[] }): void {
    this.rows.push(msg.fields);
  }

  handleCommandComplete(): void {}

  handleEmptyQuery(): void {}

  handlePortalSuspended(): void {}

  handleCopyInResponse(connection: { sendCopyFail(msg: string): void }): void {
    connection.sendCopyFail('No source stream defined');
  }

  handleCopyData(): void {}

  /** pg's last word on a query that failed (the server's error, a dropped connection): no ReadyForQuery follows for it. */
  handleError(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.settle(err, this.rows);
  }

  handleReadyForQuery(): void {
    if (this.failed) return;
    this.settle(null, this.rows);
  }
}

/** Runs `text` with wire-format parameters on `client`; resolves to the rows' text fields. */
export function queryBound(client: pg.ClientBase, text: string, params: readonly WireParam[]): Promise<(string | null)[][]> {
  return new Promise((resolve, reject) => {
    client.query(new BoundQuery(text, params, (err, rows) => (err ? reject(err) : resolve(rows))));
  });
}
