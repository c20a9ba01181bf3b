// Journal lines PostgreSQL cannot take, kept aside with the reason under <journal>/quarantine/
// so that they never hold back the records behind them. Each is written before the transaction
// that skips it commits (so it cannot be lost), and a round that fails and is read again from the
// committed offset does not write it twice.
import fs from 'node:fs';
import path from 'node:path';

export class SpendQuarantine {
  /**
   * Lines quarantined whose segment is not yet committed past them, by segment (the ends of the
   * lines). A line at or before a committed offset is never read again, so it is forgotten once
   * its segment commits past it (or is retired): what is held is at most what one round read, not
   * one entry per quarantined line for the life of the process.
   */
  private readonly ends = new Map<string, Set<number>>();
  /** Lines quarantined since this writer started (a flush reports its own share). */
  total = 0;

  constructor(
    private readonly journalDir: string,
    private readonly problem: (message: string) => void,
  ) {}

  /** Quarantined lines still remembered (tests bound it). */
  get held(): number {
    let n = 0;
    for (const ends of this.ends.values()) n += ends.size;
    return n;
  }

  /** Keeps one line aside (once per segment and end offset). */
  put(segment: string, end: number, line: string, reason: string): void {
    let ends = this.ends.get(segment);
    if (ends?.has(end)) return;
    if (!ends) this.ends.set(segment, (ends = new Set()));
    ends.add(end);
    this.total++;
    const dir = path.join(this.journalDir, 'quarantine');
    fs.mkdirSync(dir, { recursive: true });
    fs.appendFileSync(path.join(dir, `${segment}.bad.jsonl`), JSON.stringify({ segment, end, reason, line }) + '\n');
    this.problem(`quarantined a journal line of ${segment} at ${end}: ${reason}`);
  }

  /** The segment is committed up to `offset`: its lines before it are never read again. */
  committed(segment: string, offset: number): void {
    const ends = this.ends.get(segment);
    if (!ends) return;
    for (const end of ends) if (end <= offset) ends.delete(end);
    if (ends.size === 0) this.ends.delete(segment);
  }

  /** The segment is gone (retired, or deleted by another writer). */
  forget(segment: string): void {
    this.ends.delete(segment);
  }
}
