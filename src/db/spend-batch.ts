// One spend transaction's records, folded as the journal is read: the SpendLogs column arrays,
// each entity's total (this process's records apart from those an earlier process journaled),
// the Daily* increments, and the failed records for ErrorLogs. No other record is kept: a
// thousand decoded records held across the transaction's round trips outlived the control
// thread's scavenges (1.3 KB a request promoted or copied, by a sampling heap profile) and grew
// its young generation to 32 MB under governed load.
import type { SpendRecord } from '../accounting/spend-record';
import { addToTotals, DailyFold, emptyTotals, sumTotals, type AggregateOptions, type EntityTotals } from './spend-aggregate';
import { SpendLogRows } from './spend-log-columns';

/** The records of one side of a batch: how many, and what they charge each entity. */
export interface BatchSide {
  totals: EntityTotals;
  records: number;
}

export const emptySide = (): BatchSide => ({ totals: emptyTotals(), records: 0 });

export interface BatchOptions extends AggregateOptions {
  /** `disable_spend_logs`: no SpendLogs columns are built. */
  disableSpendLogs?: boolean;
}

export class SpendBatch {
  /** null under disable_spend_logs. */
  readonly logs: SpendLogRows | null;
  /** The failed requests' records (few), for their ErrorLogs rows. */
  readonly failed: SpendRecord[] = [];
  readonly daily = new DailyFold();
  /** Records this process journaled (their Δ is in its "pending"). */
  readonly own = emptySide();
  /** Records an earlier process journaled. */
  readonly foreign = emptySide();

  constructor(private readonly opts: BatchOptions) {
    this.logs = opts.disableSpendLogs ? null : new SpendLogRows();
  }

  get records(): number {
    return this.own.records + this.foreign.records;
  }

  add(r: SpendRecord, own: boolean): void {
    this.logs?.add(r);
    if (r.status === 'failure') this.failed.push(r);
    const side = own ? this.own : this.foreign;
    addToTotals(side.totals, r, this.opts);
    side.records++;
    this.daily.add(r);
  }

  /** What the whole batch charges each entity. */
  totals(): EntityTotals {
    return sumTotals(this.own.totals, this.foreign.totals);
  }
}
