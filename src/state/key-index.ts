// sha256(virtual key) → entity record, shared by every worker: an open-addressing hash table in a
// SharedArrayBuffer. One writer (the control thread) inserts and deletes; workers only read, with
// no lock: a slot's hash words are written before its record word is published with
// Atomics.store, and a reader that sees the record word sees the hash. Deleted slots become
// tombstones and are never reused for another hash while the table lives, so a reader can never
// match a slot that is being rewritten.

const SLOT_WORDS = 9; // [record+1 | 0 empty | -1 tombstone, hash words 0..7]
const EMPTY = 0;
const TOMBSTONE = -1;

export class KeyIndex {
  readonly words: Int32Array;
  readonly slots: number;
  private readonly mask: number;
  /** Control thread only: occupied + tombstone slots, to know when the table must be rebuilt. */
  private used = 0;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
    this.slots = this.words.length / SLOT_WORDS;
    this.mask = this.slots - 1;
  }

  /** `slots` is rounded up to a power of two. */
  static allocate(slots: number): KeyIndex {
    let n = 1024;
    while (n < slots) n *= 2;
    return new KeyIndex(new SharedArrayBuffer(n * SLOT_WORDS * 4));
  }

  /** Record of the key whose 32-byte sha256 is `hash`, or -1. */
  find(hash: Uint8Array): number {
    const h0 = readWord(hash, 0);
    let s = h0 & this.mask;
    for (let probes = 0; probes < this.slots; probes++) {
      const base = s * SLOT_WORDS;
      const rec = Atomics.load(this.words, base);
      if (rec === EMPTY) return -1;
      if (rec > 0 && this.matches(base, hash)) return rec - 1;
      s = (s + 1) & this.mask;
    }
    return -1;
  }

  private matches(base: number, hash: Uint8Array): boolean {
    for (let w = 0; w < 8; w++) if (Atomics.load(this.words, base + 1 + w) !== readWord(hash, w * 4)) return false;
    return true;
  }

  /** Inserts or updates (control thread). False when the table is too full: rebuild bigger. */
  set(hash: Uint8Array, record: number): boolean {
    const h0 = readWord(hash, 0);
    let s = h0 & this.mask;
    let free = -1;
    for (let probes = 0; probes < this.slots; probes++) {
      const base = s * SLOT_WORDS;
      const rec = Atomics.load(this.words, base);
      if (rec === EMPTY) {
        if (free < 0) free = s;
        break;
      }
      if (rec > 0 && this.matches(base, hash)) {
        Atomics.store(this.words, base, record + 1);
        return true;
      }
      s = (s + 1) & this.mask;
    }
    // New hashes go to empty slots only (never a tombstone): see the header comment.
    if (free < 0 || (this.used + 1) * 4 > this.slots * 3) return false;
    const base = free * SLOT_WORDS;
    for (let w = 0; w < 8; w++) Atomics.store(this.words, base + 1 + w, readWord(hash, w * 4));
    Atomics.store(this.words, base, record + 1);
    this.used++;
    return true;
  }

  /** Removes a key (control thread): later lookups miss. */
  delete(hash: Uint8Array): void {
    let s = readWord(hash, 0) & this.mask;
    for (let probes = 0; probes < this.slots; probes++) {
      const base = s * SLOT_WORDS;
      const rec = Atomics.load(this.words, base);
      if (rec === EMPTY) return;
      if (rec > 0 && this.matches(base, hash)) {
        Atomics.store(this.words, base, TOMBSTONE);
        return;
      }
      s = (s + 1) & this.mask;
    }
  }
}

function readWord(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) | 0;
}
