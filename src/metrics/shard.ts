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
const READ_TRIES = 64;

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

  /** Copies `length` cells from `at` into `out` (at `outAt`) consistently with sequence word `word`. */
  private copy(word: number, at: number, length: number, out: Float64Array, outAt: number): void {
    for (let i = 0; i < READ_TRIES; i++) {
      const before = Atomics.load(this.seq, word);
      if (before & 1) continue;
      out.set(this.cells.subarray(at, at + length), outAt);
      if (Atomics.load(this.seq, word) === before) return;
    }
    // A row rewritten on every try (tens of thousands of calls a second on one label set): the
    // last copy is off by at most the calls that landed while it was read.
    out.set(this.cells.subarray(at, at + length), outAt);
  }

  readRow(row: number, out: Float64Array): void {
    this.copy(row, this.rowAt(row), ROW_CELLS, out, 0);
  }

  /** Head cells then deployment cells. */
  readMisc(out: Float64Array): void {
    this.copy(this.miscSeq, 0, HEAD_CELLS, out, 0);
    this.copy(this.miscSeq, this.deploymentsAt, this.deployments * DEPLOYMENT_CELLS, out, HEAD_CELLS);
  }
}

/** Label sets admitted so far across all workers, per capped dimension: the caps are global. */
export const ADMITTED_KEYS = 0;
export const ADMITTED_END_USERS = 1;
export const ADMITTED_MODELS = 2;

export function allocateAdmissions(): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * 4);
}
