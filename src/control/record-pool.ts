// Entity records handed out and taken back, so capacity is about what is live, not about every key
// or end user there ever was. A retired record (deleted key, evicted end user) is handed out again
// only once
//  - every worker has applied the delta that removed it (each delta carries a sequence number the
//    worker acknowledges): no worker can still look it up through a stale key profile or end-user
//    entry, and
//  - no request holds it (no rate-limit slot, no reservation): a request settling on a record that
//    already belongs to someone else would charge them.
// Until then it waits in quarantine; the check runs at each sync and is linear in what waits.
import type { EntityTable } from '../state/entity-table';

export class RecordPool {
  private next = 0;
  private readonly free: number[] = [];
  /** Retired records and the sequence number of the delta that removed them, oldest first. */
  private quarantine: Array<{ rec: number; seq: number }> = [];

  constructor(private readonly table: EntityTable) {}

  /** A record for a new entity, or -1 when every record is live or still in quarantine. */
  take(): number {
    const rec = this.free.pop();
    if (rec !== undefined) return rec;
    return this.next < this.table.capacity ? this.next++ : -1;
  }

  /** The entity is gone as of the delta numbered `seq`: lookups through the record fail from now on. */
  retire(rec: number, seq: number): void {
    this.table.retire(rec);
    this.quarantine.push({ rec, seq });
  }

  /** Every worker has applied the deltas up to `appliedSeq`: records they removed and nobody holds are free. */
  reclaim(appliedSeq: number): void {
    if (this.quarantine.length === 0) return;
    const waiting: Array<{ rec: number; seq: number }> = [];
    for (const q of this.quarantine) {
      if (q.seq <= appliedSeq && this.table.unheld(q.rec)) {
        this.table.reset(q.rec);
        this.free.push(q.rec);
      } else {
        waiting.push(q);
      }
    }
    this.quarantine = waiting;
  }

  /** Records that are live or in quarantine (not reusable yet). */
  get inUse(): number {
    return this.next - this.free.length;
  }

  get quarantined(): number {
    return this.quarantine.length;
  }
}
