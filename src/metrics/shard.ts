// One worker's metrics in shared memory. Each worker writes only its own shard, so a count is a
// plain addition with no contention; the control thread sums the shards when it renders. Every
// row carries a sequence word (a seqlock): the writer makes it odd while it updates the row and
// even after, and a reader copies the row again when the word changed under it. A scrape
// therefore never blocks a worker, and never sees a histogram whose buckets disagree with its sum.
import { DEPLOYMENT_CELLS, HEAD_CELLS, ROW_CELLS } from './layout';

export interface ShardBuffers {
  /** Sequence words: one per row, then one for the head and deployment cells. */
  seq: SharedArrayBuffer;
  cells: SharedArrayBuffer;
  rows: number;
  deployments: number;
}

/** How many times a reader retries a row a writer keeps changing before it takes the copy it has. */
const READ_TRIES = 1000;

export class MetricsShard {
  readonly seq: Int32Array;
  readonly cells: Float64Array;
  readonly rows: number;
  readonly deployments: number;
  private readonly miscSeq: number;
  private readonly deploymentsAt: number;

  constructor(readonly buffers: ShardBuffers) {
    this.seq = new Int32Array(buffers.seq);
    this.cells = new Float64Array(buffers.cells);
    this.rows = buffers.rows;
    this.deployments = buffers.deployments;
    this.miscSeq = buffers.rows;
    this.deploymentsAt = HEAD_CELLS + buffers.rows * ROW_CELLS;
  }

  static allocate(rows: number, deployments: number): MetricsShard {
    return new MetricsShard({
      seq: new SharedArrayBuffer((rows + 1) * 4),
      cells: new SharedArrayBuffer((HEAD_CELLS + rows * ROW_CELLS + deployments * DEPLOYMENT_CELLS) * 8),
      rows,
      deployments,
    });
  }

  /** Offset of a row's first cell. */
  rowAt(row: number): number {
    return HEAD_CELLS + row * ROW_CELLS;
  }

  // ---- writer (the worker that owns the shard) ------------------------------------------------

  open(row: number): void {
    Atomics.add(this.seq, row, 1);
  }

  close(row: number): void {
    Atomics.add(this.seq, row, 1);
  }

  /** Head (worker gauges) and deployment cells share one sequence word. */
  openMisc(): void {
    Atomics.add(this.seq, this.miscSeq, 1);
  }

  closeMisc(): void {
    Atomics.add(this.seq, this.miscSeq, 1);
  }

  deploymentAt(slot: number): number {
    return this.deploymentsAt + slot * DEPLOYMENT_CELLS;
  }

  // ---- reader (the control thread) ------------------------------------------------------------

  /**
   * Copies `length` cells from `at` into `out` (at `outAt`) consistently with sequence word `word`.
   * False when a writer changed them on every try (a row written back to back without pause,
   * which no request rate reaches): the copy is then off by at most the writes it overlapped.
   */
  private copy(word: number, at: number, length: number, out: Float64Array, outAt: number): boolean {
    for (let i = 0; i < READ_TRIES; i++) {
      const before = Atomics.load(this.seq, word);
      if (before & 1) continue;
      out.set(this.cells.subarray(at, at + length), outAt);
      if (Atomics.load(this.seq, word) === before) return true;
    }
    out.set(this.cells.subarray(at, at + length), outAt);
    return false;
  }

  readRow(row: number, out: Float64Array): boolean {
    return this.copy(row, this.rowAt(row), ROW_CELLS, out, 0);
  }

  /** Head cells then deployment cells. */
  readMisc(out: Float64Array): void {
    this.copy(this.miscSeq, 0, HEAD_CELLS, out, 0);
    this.copy(this.miscSeq, this.deploymentsAt, this.deployments * DEPLOYMENT_CELLS, out, HEAD_CELLS);
  }
}

/**
 * The label values (keys, end users, requested models) that have their own series, shared by all
 * workers so that the caps are global and exact: a value is admitted once, whichever worker meets
 * it first, and every worker then finds it. One open-addressing table of 32-bit fingerprints per
 * kind, twice the cap in size (so it never fills), with a count; slots are only ever filled, by
 * compare-and-swap, never emptied. Workers consult it only the first time they meet a value.
 */
export class Admissions {
  private readonly words: Int32Array;
  private readonly tables: { at: number; mask: number; cap: number; countAt: number }[] = [];

  constructor(
    readonly buffer: SharedArrayBuffer,
    caps: readonly number[],
  ) {
    this.words = new Int32Array(buffer);
    let at = 0;
    for (const cap of caps) {
      const size = Admissions.size(cap);
      this.tables.push({ at: at + 1, mask: size - 1, cap, countAt: at });
      at += 1 + size;
    }
  }

  private static size(cap: number): number {
    let n = 2;
    while (n < cap * 2) n *= 2;
    return n;
  }

  static allocate(caps: readonly number[]): SharedArrayBuffer {
    return new SharedArrayBuffer(caps.reduce((n, c) => n + 1 + Admissions.size(c), 0) * 4);
  }

  /** Whether `value` has (or now gets) its own series among the values of kind `which`. */
  admit(which: number, value: string): boolean {
    const t = this.tables[which]!;
    const w = this.words;
    const fp = fingerprint(value);
    let i = fp & t.mask;
    for (let probes = 0; probes <= t.mask; probes++) {
      const v = Atomics.load(w, t.at + i);
      if (v === fp) return true;
      if (v === 0) {
        // Not admitted (a value is always found before the first empty slot of its chain).
        if (Atomics.add(w, t.countAt, 1) >= t.cap) {
          Atomics.sub(w, t.countAt, 1);
          return false;
        }
        const prev = Atomics.compareExchange(w, t.at + i, 0, fp);
        if (prev === 0) return true;
        Atomics.sub(w, t.countAt, 1);
        if (prev === fp) return true;
      }
      i = (i + 1) & t.mask;
    }
    return false;
  }

  admitted(which: number): number {
    return Atomics.load(this.words, this.tables[which]!.countAt);
  }
}

/** FNV-1a over the UTF-16 units, never 0 (0 marks an empty slot). */
function fingerprint(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h === 0 ? 1 : h;
}

export const ADMITTED_KEYS = 0;
export const ADMITTED_END_USERS = 1;
export const ADMITTED_MODELS = 2;
