// Which end users hold an entity record. Any client can send any `user` value, so the end users a
// gateway sees are unbounded; only those with something to enforce take a record (a budget or
// limits on their row, or the config's default end-user budget), and at most `bound` of them at
// once. Past the bound, an end user that spent something since the last sync ("wanted") takes the
// place of the least recently used one that is quiet (no request holds its record and its spend is
// all committed); the evicted one stays in the database and comes back when it is active again.
//
// The order of `resident` is the recency order: a Map iterates in insertion order, and a touch
// deletes and re-inserts, so the first entries are the least recently used. Every operation here
// is O(1) or linear in what it is given.

/** Ids remembered between two syncs as active but not resident; more wait for their next call. */
const MAX_WANTED = 4_096;
/** How many of the least recently used a sync looks at to find a quiet one to evict. */
const EVICTION_PROBES = 64;

export class EndUserSlots {
  /** end user id → record, least recently used first. */
  readonly resident = new Map<string, number>();
  private readonly wanted = new Set<string>();
  /**
   * Admitted during the sync under way: never evicted by it, or one delta would both add and
   * remove an end user (workers apply removals first and would keep it).
   */
  private readonly admitted = new Set<string>();

  constructor(readonly bound: number) {}

  /** Spend of this end user was just committed: it is in use. */
  touch(id: string): void {
    const rec = this.resident.get(id);
    if (rec !== undefined) {
      this.resident.delete(id);
      this.resident.set(id, rec);
    } else if (this.wanted.size < MAX_WANTED) {
      this.wanted.add(id);
    }
  }

  isWanted(id: string): boolean {
    return this.wanted.has(id);
  }

  /** Ids a table read must include besides rows with a budget of their own: residents and wanted ones. */
  idsToRead(): string[] {
    return [...this.resident.keys(), ...this.wanted];
  }

  admit(id: string, rec: number): void {
    this.resident.set(id, rec);
    this.admitted.add(id);
  }

  /** The sync is over: what was wanted has been admitted or waits for its next activity. */
  endSync(): void {
    this.wanted.clear();
    this.admitted.clear();
  }

  /**
   * The least recently used resident for which `quiet` holds, among the first few, not admitted by
   * this sync; null if none.
   */
  evictionCandidate(quiet: (rec: number) => boolean): [string, number] | null {
    let probes = 0;
    for (const entry of this.resident) {
      if (!this.admitted.has(entry[0]) && quiet(entry[1])) return entry;
      if (++probes >= EVICTION_PROBES) break;
    }
    return null;
  }
}
