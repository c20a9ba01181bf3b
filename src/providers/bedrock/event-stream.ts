// AWS event-stream framing (application/vnd.amazon.eventstream), as Bedrock streams its answers:
// each message is a 12-byte prelude (total length, headers length, CRC32 of those 8 bytes), the
// headers, the payload, and a CRC32 of everything before it. Headers are name (1-byte length),
// type (1 byte) and a typed value; Bedrock uses strings (`:event-type`, `:message-type`,
// `:content-type`, `:exception-type`), and the other types are skipped by their size.
//
// The decoder takes chunks cut anywhere (inside the prelude, a header, the payload or the CRC):
// whole messages are read from the chunk where they lie, and only a message split across chunks
// is gathered, once, as its pieces arrive. Every byte is looked at a constant number of times.
import { crc32 } from 'node:zlib';
import { scanSteps } from '../../scan-steps';

export interface EventMessage {
  headers: Record<string, string>;
  payload: Buffer;
}

/** A frame that cannot be read: the stream is corrupt and must end. */
export class EventStreamError extends Error {}

const PRELUDE = 12;
/** Bedrock's messages are a few KB; anything past this is corruption, not an answer. */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** Sizes of the fixed-size header value types (0, 1: booleans with no value bytes). */
const FIXED: Record<number, number> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 };

function readHeaders(b: Buffer, start: number, end: number): Record<string, string> {
  const out: Record<string, string> = {};
  let i = start;
  while (i < end) {
    const nameLen = b[i]!;
    const name = b.toString('latin1', i + 1, i + 1 + nameLen);
    i += 1 + nameLen;
    const type = b[i++];
    if (type === 6 || type === 7) {
      const len = b.readUInt16BE(i);
      if (type === 7) out[name] = b.toString('utf8', i + 2, i + 2 + len);
      i += 2 + len;
    } else if (type !== undefined && type in FIXED) {
      i += FIXED[type]!;
    } else throw new EventStreamError(`unknown header value type ${type}`);
  }
  if (i !== end) throw new EventStreamError('headers overrun their length');
  return out;
}

/** Reads the one message that b holds whole (b is exactly its bytes). */
function readMessage(b: Buffer): EventMessage {
  const total = b.readUInt32BE(0);
  const headersLen = b.readUInt32BE(4);
  if (crc32(b.subarray(0, total - 4)) !== b.readUInt32BE(total - 4)) throw new EventStreamError('message CRC mismatch');
  scanSteps.n += 2 * total;
  let headers: Record<string, string>;
  try {
    headers = readHeaders(b, PRELUDE, PRELUDE + headersLen);
  } catch (e) {
    // A header whose length runs past the message (its CRC held: the sender wrote it so).
    throw e instanceof EventStreamError ? e : new EventStreamError(`bad headers: ${(e as Error).message}`);
  }
  return { headers, payload: b.subarray(PRELUDE + headersLen, total - 4) };
}

/** The prelude at b[i…i+12) is checked as soon as it is there: a corrupt length must not make the decoder wait for bytes that never come. */
function checkPrelude(b: Buffer, i: number): number {
  if (crc32(b.subarray(i, i + 8)) !== b.readUInt32BE(i + 8)) throw new EventStreamError('prelude CRC mismatch');
  const total = b.readUInt32BE(i);
  const headersLen = b.readUInt32BE(i + 4);
  if (total < PRELUDE + 4 || total > MAX_MESSAGE || headersLen > total - PRELUDE - 4) throw new EventStreamError(`bad message length ${total} (headers ${headersLen})`);
  return total;
}

export class EventStreamDecoder {
  /** The start of a message split across chunks, gathered until it is whole. */
  private held: Buffer | null = null;
  private heldLen = 0;

  /** The messages `chunk` completes, in order. Throws EventStreamError on a corrupt frame. */
  push(chunk: Buffer): EventMessage[] {
    const out: EventMessage[] = [];
    let i = 0;
    if (this.held) {
      // Fill the prelude first (its length says how much more the message needs).
      if (this.heldLen < PRELUDE) {
        const take = Math.min(PRELUDE - this.heldLen, chunk.length);
        chunk.copy(this.held, this.heldLen, 0, take);
        scanSteps.n += take;
        this.heldLen += take;
        i = take;
        if (this.heldLen < PRELUDE) return out;
        const total = checkPrelude(this.held, 0);
        const grown = Buffer.allocUnsafe(total);
        this.held.copy(grown, 0, 0, PRELUDE);
        this.held = grown;
      }
      const need = this.held.length - this.heldLen;
      const take = Math.min(need, chunk.length - i);
      chunk.copy(this.held, this.heldLen, i, i + take);
      scanSteps.n += take;
      this.heldLen += take;
      i += take;
      if (this.heldLen < this.held.length) return out;
      out.push(readMessage(this.held));
      this.held = null;
      this.heldLen = 0;
    }
    while (chunk.length - i >= PRELUDE) {
      const total = checkPrelude(chunk, i);
      if (chunk.length - i < total) break;
      out.push(readMessage(chunk.subarray(i, i + total)));
      i += total;
    }
    if (i < chunk.length) {
      // The start of the next message: kept (a prelude's worth, grown once its length is known).
      const rest = chunk.length - i;
      if (rest >= PRELUDE) {
        this.held = Buffer.allocUnsafe(chunk.readUInt32BE(i));
      } else this.held = Buffer.allocUnsafe(PRELUDE);
      chunk.copy(this.held, 0, i);
      scanSteps.n += rest;
      this.heldLen = rest;
    }
    return out;
  }

  /** Whether the stream stopped inside a message. */
  get partial(): boolean {
    return this.held !== null;
  }
}
