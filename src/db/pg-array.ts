// A column of a batch as ONE PostgreSQL array parameter in the binary wire format (array_recv),
// so a batch of rows travels as one parameter per column (`unnest($1::text[], …)`) instead of one
// bind parameter per value. pg sends a Buffer parameter as binary: each element goes straight
// into the buffer (a length, then its UTF-8 bytes or its big-endian number), with no escaping, no
// string per element and no text to parse on the server.
//
//   int32 ndim = 1 | int32 has-nulls flag | uint32 element type oid | int32 length | int32 lower bound = 1
//   then per element: int32 byte length (-1: NULL) | bytes

export const OID = { text: 25, int8: 20, float8: 701, jsonb: 3802 } as const;
export type ElementType = keyof typeof OID;

const HEADER = 20;
/** What an array starts with when it is given no memory: it doubles from there. */
export const COLUMN_START_BYTES = HEADER + 4096;
const JSONB_VERSION = 1;

export class ArrayParam {
  private buf: Buffer;
  private at = HEADER;
  private count = 0;
  private nulls = false;

  /** `memory`: where to write (a buffer kept from an earlier batch); grown when short. */
  constructor(
    readonly type: ElementType,
    memory?: Buffer,
  ) {
    this.buf = memory && memory.length >= HEADER + 64 ? memory : Buffer.allocUnsafe(COLUMN_START_BYTES);
  }

  /** The whole buffer the elements are in (grown or not), to be used again once the parameter is sent. */
  get memory(): Buffer {
    return this.buf;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.at + n, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  null(): void {
    this.room(4);
    this.buf.writeInt32BE(-1, this.at);
    this.at += 4;
    this.nulls = true;
    this.count++;
  }

  /** A text element (or, for a jsonb array, the element's JSON text); null → NULL. */
  text(s: string | null | undefined): void {
    if (s === null || s === undefined) return this.null();
    const prefix = this.type === 'jsonb' ? 1 : 0;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.room(4 + prefix + s.length * 3);
    const start = this.at + 4;
    let p = start;
    if (prefix) this.buf[p++] = JSONB_VERSION;
    const len = s.length;
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      this.buf[p + i] = c;
    }
    p += i === len ? len : i + this.buf.write(s.slice(i), p + i, 'utf8');
    this.buf.writeInt32BE(p - start, this.at);
    this.at = p;
    this.count++;
  }

  /** A number element of an int8 (an integer) or float8 array. */
  number(n: number): void {
    this.room(12);
    this.buf.writeInt32BE(8, this.at);
    if (this.type === 'int8') {
      // Two 32-bit halves: exact for every integer a double holds, and no BigInt per element.
      const hi = Math.floor(n / 0x1_0000_0000);
      this.buf.writeInt32BE(hi, this.at + 4);
      this.buf.writeUInt32BE(n - hi * 0x1_0000_0000, this.at + 8);
    } else this.buf.writeDoubleBE(n, this.at + 4);
    this.at += 12;
    this.count++;
  }

  /** The parameter: the header written, the elements as they are. */
  finish(): Buffer {
    const b = this.buf;
    b.writeInt32BE(1, 0);
    b.writeInt32BE(this.nulls ? 1 : 0, 4);
    b.writeUInt32BE(OID[this.type], 8);
    b.writeInt32BE(this.count, 12);
    b.writeInt32BE(1, 16);
    return b.subarray(0, this.at);
  }
}

/**
 * A numeric[] parameter as text (`{1,0.3,5e+21}`): numbers need no quotes, and numeric reads JS's
 * shortest decimal exactly as it reads a JSON text's number (float8 would depend on the server's
 * extra_float_digits).
 */
export function numericLiteral(ns: readonly number[]): string {
  let out = '{';
  for (let i = 0; i < ns.length; i++) {
    const n = ns[i]!;
    out += (i ? ',' : '') + (Number.isFinite(n) ? String(n) : 'NULL');
  }
  return out + '}';
}
