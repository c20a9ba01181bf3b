// The spend writer (control thread): every `proxy_batch_write_at` seconds it takes the complete
// lines the workers appended to the spend journal and, in ONE transaction, writes their
// `LiteLLM_SpendLogs` rows, adds their cost to every entity's `spend`, upserts the Daily* rows and
// moves each segment's committed offset in `Weir_SpendJournal`. The offsets commit with the rows,
// so a record is written exactly once whatever dies when; the journal row of a segment is locked
// for the transaction, so two writers (a restarted process, another instance) never both take it.
// While Postgres is away nothing is lost: records wait in the journal and go in when it returns.
import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import { readSegment, type RecordSink, type SegmentRead } from '../accounting/journal';
import { listSegments, ownSegment, segmentWriterAlive, type SegmentInfo } from '../accounting/journal-segments';
import type { SpendRecord } from '../accounting/spend-record';
import { emptySide, SpendBatch, type BatchSide } from './spend-batch';
import { forgetSchema } from './introspect';
import { dbReachable, isConnectionError } from './pool';
import { addToTotals, type EntityTotals } from './spend-aggregate';
import { SpendQuarantine } from './spend-quarantine';
import { normalizeRecord } from './spend-rows';
import { applyEntityTotals, insertErrorLogs, insertSpendLogRows, upsertDaily, type SqlContext } from './spend-sql';

export interface CommittedTotals extends EntityTotals {
  /**
   * Records of THIS process's journal now committed: their Δ (the maps above, nanos) moves from
   * "pending" to "base". Reported once each, also when a COMMIT's reply was lost and the commit
   * is only discovered by the next flush.
   */
  records: number;
  /**
   * Records an earlier process journaled (written now, at start or after a crash): they are in
   * no in-memory "pending" of this process; their Δ only adds to "base".
   */
  recovered: EntityTotals & { records: number };
}

export interface SpendWriterOptions {
  /** `proxy_batch_write_at` × 1000 (default 10 s). */
  batchIntervalMs?: number;
  /** `disable_spend_logs`: no SpendLogs rows; entity spend and Daily* still move. */
  disableSpendLogs?: boolean;
  /** `disable_error_logs`: no ErrorLogs rows for failed requests. */
  disableErrorLogs?: boolean;
  /** User row charged with every request for the global proxy budget (`litellm-proxy-budget`). */
  proxyBudgetUserId?: string;
  /** Budget of end users created by their first spend (`max_end_user_budget_id`). */
  endUserBudgetId?: string;
  /** Longest wait between retries while Postgres is away (default max(60 s, interval)). */
  maxBackoffMs?: number;
  /** Journal bytes taken into one transaction (default 1 MB). */
  maxBytesPerTransaction?: number;
  /**
   * Records taken into one transaction (default 1000: one SpendLogs statement). When a
   * transaction's records were held, decoded, across its round trips, 5,000 of them outlived the
   * control thread's scavenges and were promoted, and a flush of 10,000 rows cost 12-15 % more
   * CPU and 9 MB more heap than in transactions of 1,000 (spend-writer-cpu.js, 2026-12-05). At
   * 500 the per-transaction round trips cost more than that saves. (The records are now folded
   * as they are read, see spend-batch.ts.)
   */
  maxRecordsPerTransaction?: number;
  /** Per-entity Δ (nanos) of each committed transaction: move them from "pending" to "base". */
  onCommitted?(totals: CommittedTotals): void;
  /** Told about failed flushes and quarantined lines (for the log). */
  onProblem?(message: string): void;
}

export interface FlushResult {
  /** Everything pending was taken (false: the database refused, records wait in the journal). */
  ok: boolean;
  /** Records committed by this flush. */
  records: number;
  transactions: number;
  segmentsDeleted: number;
  /** Lines that could not be written and were moved to the quarantine folder. */
  quarantined: number;
  error?: string;
}

interface Taken {
  seg: SegmentInfo;
  /** Written by this process (its records are in this process's "pending"). */
  own: boolean;
  /** The committed offset the read started from. */
  from: number;
  /** What was read (its records went to the batch, not into `read.records`). */
  read: SegmentRead;
  /** The segment will get nothing more and is fully committed after this transaction. */
  finished: boolean;
}

interface Round {
  records: number;
  more: boolean;
  deleted: number;
  transaction: boolean;
}

const NOTHING: Round = { records: 0, more: false, deleted: 0, transaction: false };

/** Journal folder → segment → offset known committed (see SpendWriter.known). */
const KNOWN = new Map<string, Map<string, number>>();

export class SpendWriter {
  private readonly dir: string;
  private readonly intervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxBytes: number;
  private readonly maxRecords: number;
  /**
   * Per segment, the offset up to which the records are known committed (and told to
   * onCommitted). Shared by every SpendWriter of this process on the same journal, so a writer
   * that replaces another (after a reload) does not report its predecessor's commits again.
   * One writer per journal at a time: two running at once could each report the other's commits.
   */
  private readonly known: Map<string, number>;
  private readonly quarantine: SpendQuarantine;

  /** Quarantined lines still remembered (tests bound it). */
  get quarantineHeld(): number {
    return this.quarantine.held;
  }
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private failures = 0;
  private up = false;

  constructor(
    private readonly pool: pg.Pool,
    journalDir: string,
    private readonly opts: SpendWriterOptions = {},
  ) {
    this.dir = path.resolve(journalDir);
    this.known = KNOWN.get(this.dir) ?? new Map();
    KNOWN.set(this.dir, this.known);
    this.intervalMs = opts.batchIntervalMs ?? 10_000;
    this.maxBackoffMs = opts.maxBackoffMs ?? Math.max(60_000, this.intervalMs);
    this.maxBytes = opts.maxBytesPerTransaction ?? 1024 * 1024;
    this.maxRecords = opts.maxRecordsPerTransaction ?? 1_000;
    this.quarantine = new SpendQuarantine(this.dir, (m) => this.problem(m));
  }

  /** Whether the last attempt to reach Postgres worked. */
  get dbUp(): boolean {
    return this.up;
  }

  /** Flushes at once (whatever an earlier run left in the journal), then every interval. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the timer and makes a last flush; what Postgres does not take stays in the journal. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushNow();
  }

  /** One flush now, after any flush in progress (flushes never overlap). */
  flushNow(): Promise<FlushResult> {
    const p = this.chain.then(() => this.flushAll());
    this.chain = p.catch(() => {});
    return p;
  }

  private schedule(delay: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flushNow().then((r) => {
        this.failures = r.ok ? 0 : this.failures + 1;
        const backoff = Math.min(this.maxBackoffMs, this.intervalMs * 2 ** Math.min(this.failures - 1, 16));
        this.schedule(r.ok ? this.intervalMs : backoff);
      });
    }, delay);
    // The writer alone must not keep a process alive; stop() is how it ends.
    this.timer.unref();
  }

  private problem(msg: string): void {
    try {
      this.opts.onProblem?.(msg);
    } catch {
      /* a logging hook must not stop the writer */
    }
  }

  private async flushAll(): Promise<FlushResult> {
    const res: FlushResult = { ok: true, records: 0, transactions: 0, segmentsDeleted: 0, quarantined: 0 };
    const q0 = this.quarantine.total;
    const add = (r: Round) => {
      res.records += r.records;
      res.segmentsDeleted += r.deleted;
      if (r.transaction) res.transactions++;
      res.quarantined = this.quarantine.total - q0;
    };
    let dataErrors = 0;
    let conflicts = 0;
    for (let guard = 0; guard < 100_000; guard++) {
      try {
        // After a statement failed twice on its data, go one record at a time to find the one
        // Postgres refuses, and quarantine it rather than hold everything behind it.
        const r = dataErrors >= 2 ? await this.round(1, true) : await this.round(this.maxRecords, false);
        add(r);
        if (dataErrors >= 2 && r.transaction) dataErrors = 0;
        if (!r.more) return res;
      } catch (e) {
        const err = e as Error;
        if (isConnectionError(e)) {
          this.up = false;
          this.problem(`database unreachable, records wait in the journal (${err.message})`);
          return { ...res, ok: false, error: err.message, quarantined: this.quarantine.total - q0 };
        }
        // Deadlock or serialization failure against another writer (LiteLLM's too): just retry.
        const code = (e as { code?: string }).code ?? '';
        if ((code === '40P01' || code === '40001') && ++conflicts <= 5) continue;
        dataErrors++;
        this.problem(`flush failed (${(e as { code?: string }).code ?? ''} ${err.message})`);
        // The schema may have changed under us (a LiteLLM migration ran): look again.
        forgetSchema(this.pool);
        if (dataErrors > 3) return { ...res, ok: false, error: err.message, quarantined: this.quarantine.total - q0 };
      }
    }
    return res;
  }

  /** Segments with nothing new and nothing to retire need no trip to the database. */
  private idle(segs: SegmentInfo[]): boolean {
    for (const s of segs) {
      const k = this.known.get(s.file);
      if (k === undefined) return false;
      let size: number;
      try {
        size = fs.statSync(s.path).size;
      } catch {
        continue;
      }
      if (size !== k) return false;
      let closed: boolean;
      try {
        closed = readSegment(s.path, k).closed;
      } catch (e) {
        // Another writer (a restart overlapping, another instance) deleted it meanwhile.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if (closed || !segmentWriterAlive(s)) return false;
    }
    return true;
  }

  /**
   * One transaction over up to `maxRecords` records. With `quarantineOnFailure`, a record whose
   * statements fail is moved to the quarantine folder (its offset still advances).
   */
  private async round(maxRecords: number, quarantineOnFailure: boolean): Promise<Round> {
    const segs = listSegments(this.dir);
    if (segs.length === 0 || this.idle(segs)) {
      if (!this.up) this.up = await dbReachable(this.pool);
      return NOTHING;
    }
    const client = await this.pool.connect();
    this.up = true;
    let broken = false;
    try {
      await client.query('BEGIN');
      const names = segs.map((s) => s.file);
      await client.query(`INSERT INTO "Weir_SpendJournal" ("segment") SELECT unnest($1::text[]) ON CONFLICT ("segment") DO NOTHING`, [names]);
      const { rows } = await client.query<{ segment: string; committed_offset: string | number }>(
        `SELECT "segment", "committed_offset" FROM "Weir_SpendJournal" WHERE "segment" = ANY($1::text[]) ORDER BY "segment" FOR UPDATE`,
        [names],
      );
      const offsets = new Map(rows.map((r) => [r.segment, Number(r.committed_offset)]));
      this.reportLateCommits(segs, offsets);

      const batch = new SpendBatch(this.opts);
      const taken: Taken[] = [];
      const vanished: string[] = [];
      let bytes = this.maxBytes;
      let left = maxRecords;
      let more = false;
      for (const seg of segs) {
        if (bytes <= 0 || left <= 0) {
          more = true;
          break;
        }
        const from = offsets.get(seg.file) ?? 0;
        const own = ownSegment(seg);
        let read: SegmentRead;
        try {
          // Only what this transaction takes is read and decoded: `left` records, `bytes` bytes,
          // each folded into the batch as soon as it is decoded.
          read = readSegment(seg.path, from, bytes, left, (raw, end) => batch.add(normalizeRecord(raw, seg.file, end), own));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
            vanished.push(seg.file); // retired by another writer since we listed it
            continue;
          }
          throw e;
        }
        bytes -= read.nextOffset - from;
        left -= read.count;
        if (read.more) more = true;
        // A closed segment is done once its marker is committed; an open one whose writer died
        // is done at its last complete line (a torn tail can never be completed).
        const finished = !read.more && (read.closed ? read.nextOffset >= read.size : !segmentWriterAlive(seg));
        if (read.nextOffset !== from || finished) taken.push({ seg, own, from, read, finished });
      }
      if (taken.length === 0 && vanished.length === 0) {
        await client.query('ROLLBACK');
        // Other processes' segments: remember where they stand so idle flushes skip the database.
        for (const s of segs) if (!ownSegment(s) && offsets.has(s.file)) this.known.set(s.file, offsets.get(s.file)!);
        return { ...NOTHING, more };
      }
      for (const t of taken) {
        if (t.finished && t.read.nextOffset < t.read.size) {
          this.problem(`${t.seg.file}: its writer died mid-line; ${t.read.size - t.read.nextOffset} bytes of an incomplete record dropped`);
        }
      }

      for (const t of taken) for (const b of t.read.bad) this.quarantine.put(t.seg.file, b.end, b.line, 'not a record');

      const ctx: SqlContext = { owner: this.pool, client };
      let records = batch.records;
      if (records) {
        await client.query('SAVEPOINT records');
        try {
          await this.apply(ctx, batch, taken);
        } catch (e) {
          if (!quarantineOnFailure || isConnectionError(e)) throw e;
          // One record (this mode takes one) that Postgres refuses: keep it aside, move on.
          await client.query('ROLLBACK TO SAVEPOINT records');
          for (const t of taken) reread(t, (raw, end) => this.quarantine.put(t.seg.file, end, JSON.stringify(raw), (e as Error).message));
          records = 0;
        }
      }

      await client.query(
        `UPDATE "Weir_SpendJournal" AS j SET "committed_offset" = d.off, "closed" = d.closed, "updated_at" = CURRENT_TIMESTAMP
           FROM unnest($1::text[], $2::bigint[], $3::bool[]) AS d(segment, off, closed) WHERE j."segment" = d.segment`,
        [taken.map((t) => t.seg.file), taken.map((t) => t.read.nextOffset), taken.map((t) => t.finished)],
      );
      if (vanished.length) await client.query(`DELETE FROM "Weir_SpendJournal" WHERE "segment" = ANY($1::text[])`, [vanished]);
      await client.query('COMMIT');

      for (const t of taken) {
        this.known.set(t.seg.file, t.read.nextOffset);
        this.quarantine.committed(t.seg.file, t.read.nextOffset);
      }
      for (const f of vanished) this.quarantine.forget(f);
      if (records) this.report(batch.own, batch.foreign);
      const deleted = await this.retire(taken.filter((t) => t.finished).map((t) => t.seg));
      return { records, more, deleted, transaction: true };
    } catch (e) {
      broken = isConnectionError(e);
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release(broken);
    }
  }

  /**
   * This process's segments whose committed offset is past what we saw committed: an attempt of
   * ours committed but its reply was lost (connection dropped during COMMIT). Those records are
   * in the database; tell the caller now, or their Δ would stay "pending" forever. Runs under the
   * journal row locks, so the offsets cannot move meanwhile.
   */
  private reportLateCommits(segs: SegmentInfo[], offsets: Map<string, number>): void {
    const late = emptySide();
    for (const seg of segs) {
      if (!ownSegment(seg)) continue;
      const db = offsets.get(seg.file) ?? 0;
      const seen = this.known.get(seg.file) ?? 0;
      if (db <= seen) continue;
      try {
        readSegment(seg.path, seen, db - seen, Infinity, (raw, end) => {
          if (end > db) return;
          addToTotals(late.totals, normalizeRecord(raw, seg.file, end), this.opts);
          late.records++;
        });
      } catch (e) {
        // Fully committed and deleted by another writer meanwhile.
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      this.known.set(seg.file, db);
    }
    this.report(late, emptySide());
  }

  private report(own: BatchSide, foreign: BatchSide): void {
    if (!this.opts.onCommitted || own.records + foreign.records === 0) return;
    try {
      this.opts.onCommitted({ ...own.totals, records: own.records, recovered: { ...foreign.totals, records: foreign.records } });
    } catch {
      /* the caller's bookkeeping must not undo a commit */
    }
  }

  private async apply(ctx: SqlContext, batch: SpendBatch, taken: Taken[]): Promise<void> {
    if (batch.logs) await insertSpendLogRows(ctx, batch.logs, () => recordsAgain(taken));
    if (!this.opts.disableErrorLogs) await insertErrorLogs(ctx, batch.failed);
    await applyEntityTotals(ctx, batch.totals(), { ...(this.opts.endUserBudgetId !== undefined ? { endUserBudgetId: this.opts.endUserBudgetId } : {}) });
    for (const [table, items] of batch.daily.items()) await upsertDaily(ctx, table, items);
  }

  /** Deletes fully committed segments, then their journal rows (a leftover row is harmless). */
  private async retire(segs: SegmentInfo[]): Promise<number> {
    if (segs.length === 0) return 0;
    for (const s of segs) {
      try {
        fs.unlinkSync(s.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      this.known.delete(s.file);
      this.quarantine.forget(s.file);
    }
    await this.pool.query(`DELETE FROM "Weir_SpendJournal" WHERE "segment" = ANY($1::text[])`, [segs.map((s) => s.file)]).catch(() => {});
    return segs.length;
  }
}

/** The records a transaction took from one segment, read again (the same bytes, the same count). */
function reread(t: Taken, sink: RecordSink): void {
  if (t.read.count > 0) readSegment(t.seg.path, t.from, t.read.nextOffset - t.from, t.read.count, sink);
}

/** The batch's records in the order it took them: only for the rare rows whose id was taken. */
function recordsAgain(taken: Taken[]): SpendRecord[] {
  const out: SpendRecord[] = [];
  for (const t of taken) reread(t, (raw, end) => out.push(normalizeRecord(raw, t.seg.file, end)));
  return out;
}
