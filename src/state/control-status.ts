// Facts the control thread publishes for workers to read without asking: one Int32 word each.
const DB = 0;
const REDIS = 1; // the shared Redis of a scale-out setup: none (not configured), up or down

const DB_STATES = ['none', 'up', 'down'] as const;
export type DbState = (typeof DB_STATES)[number];

export class ControlStatus {
  readonly words: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.words = new Int32Array(buffer);
  }

  static allocate(): ControlStatus {
    return new ControlStatus(new SharedArrayBuffer(16));
  }

  db(): DbState {
    return DB_STATES[Atomics.load(this.words, DB)] ?? 'none';
  }

  setDb(state: DbState): void {
    Atomics.store(this.words, DB, DB_STATES.indexOf(state));
  }

  redis(): DbState {
    return DB_STATES[Atomics.load(this.words, REDIS)] ?? 'none';
  }

  setRedis(state: DbState): void {
    Atomics.store(this.words, REDIS, DB_STATES.indexOf(state));
  }
}
