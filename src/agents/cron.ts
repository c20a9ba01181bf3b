// Scheduled jobs. The next fire time of every scheduled job is a row of Weir_AgentSchedule, and a
// tick is claimed by moving that row forward with a conditional UPDATE (… WHERE next_run_at = the
// value read): of any number of instances on one database, exactly one wins each tick and fires it.
// Nothing here keeps time in memory; the clock is injected, so tests drive ticks without timers.
//
// Missed ticks (Weir was down, or stalled): the tick read from the row is *missed* when it is late
// by more than MISSED_GRACE_MS, or when a later tick of the pattern is already due too. A job's
// `schedule.missed` then says what happens: `skip` (default) starts no run and moves to the next
// tick after now; `run_once` starts one run for all of them (its tickAt is the latest missed tick)
// and moves on the same way. A tick that is due and not missed fires with tickAt = that tick.
import { Cron } from 'croner';
import type pg from 'pg';
import { weirTypes } from '../db/pool';
import type { JobDef } from './types';

/** How late a tick may fire and still count as on time. */
export const MISSED_GRACE_MS = 60_000;
/** The timer is re-armed at least this often, so a clock change (or another instance's sync) is
 *  noticed within this long. */
export const MAX_ARM_MS = 30_000;
/** The most fire times nextRuns() lists. */
export const MAX_NEXT_RUNS = 100;

export interface CronSchedulerOptions {
  pool: pg.Pool;
  now: () => Date;
  fire: (job: JobDef, tickAt: Date) => Promise<void>;
  log?: (line: string) => void;
}

interface Scheduled {
  job: JobDef;
  pattern: string;
  timezone: string | null;
  cron: Cron;
}

interface ScheduleRow {
  job_name: string;
  pattern: string;
  timezone: string | null;
  next_run_at: Date | null;
}

/** A paused Cron used only to compute times (no callback: it never arms a timer of its own). */
function cronOf(pattern: string, timezone: string | null | undefined): Cron {
  return new Cron(pattern, { timezone: timezone ?? undefined, paused: true });
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export class CronScheduler {
  private readonly pool: pg.Pool;
  private readonly now: () => Date;
  private readonly fire: CronSchedulerOptions['fire'];
  private readonly log: (line: string) => void;
  private scheduled = new Map<string, Scheduled>();
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private ticking = false;

  constructor(opts: CronSchedulerOptions) {
    this.pool = opts.pool;
    this.now = opts.now;
    this.fire = opts.fire;
    this.log = opts.log ?? (() => {});
  }

  /**
   * Makes the schedule rows match `jobs` (every definition, config and API): a row for each enabled
   * job with a schedule (a changed pattern or timezone starts over from now), none for the others.
   */
  async sync(jobs: JobDef[]): Promise<void> {
    const next = new Map<string, Scheduled>();
    for (const job of jobs) {
      if (!job.enabled || !job.schedule) continue;
      const timezone = job.schedule.timezone ?? null;
      try {
        next.set(job.name, { job, pattern: job.schedule.cron, timezone, cron: cronOf(job.schedule.cron, timezone) });
      } catch (e) {
        // The config and the API check patterns first; a definition that still fails is left out.
        this.log(`agents: job "${job.name}" is not scheduled: bad cron pattern or timezone: ${(e as Error).message}`);
      }
    }
    const now = this.now();
    const rows = await this.pool.query<ScheduleRow>({ text: `SELECT job_name, pattern, timezone FROM "Weir_AgentSchedule"`, types: weirTypes });
    const have = new Map(rows.rows.map((r) => [r.job_name, r]));
    for (const s of next.values()) {
      const row = have.get(s.job.name);
      const first = iso(s.cron.nextRun(now));
      if (!row) {
        // Another instance may insert the same row at the same moment: its row stands.
        await this.pool.query(
          `INSERT INTO "Weir_AgentSchedule" (job_name, pattern, timezone, next_run_at, updated_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (job_name) DO NOTHING`,
          [s.job.name, s.pattern, s.timezone, first, now.toISOString()],
        );
      } else if (row.pattern !== s.pattern || row.timezone !== s.timezone) {
        await this.pool.query(
          `UPDATE "Weir_AgentSchedule" SET pattern = $2, timezone = $3, next_run_at = $4, updated_at = $5
           WHERE job_name = $1 AND pattern = $6 AND timezone IS NOT DISTINCT FROM $7`,
          [s.job.name, s.pattern, s.timezone, first, now.toISOString(), row.pattern, row.timezone],
        );
      }
    }
    await this.pool.query(`DELETE FROM "Weir_AgentSchedule" WHERE NOT (job_name = ANY($1::text[]))`, [[...next.keys()]]);
    this.scheduled = next;
    if (this.started) void this.arm();
  }

  /**
   * Fires every due tick this instance wins; how many runs it fired. Rows of jobs this instance
   * does not know (or knows with another pattern: a config being rolled out) are left to the
   * instances that do.
   */
  async tick(): Promise<number> {
    const now = this.now();
    const due = await this.pool.query<ScheduleRow>({
      text: `SELECT job_name, pattern, timezone, next_run_at FROM "Weir_AgentSchedule" WHERE next_run_at <= $1 ORDER BY next_run_at`,
      values: [now.toISOString()],
      types: weirTypes,
    });
    let fired = 0;
    for (const row of due.rows) {
      const s = this.scheduled.get(row.job_name);
      if (!s || s.pattern !== row.pattern || s.timezone !== row.timezone || !row.next_run_at) continue;
      const dueAt = row.next_run_at;
      const later = s.cron.nextRun(dueAt);
      const missed = now.getTime() - dueAt.getTime() > MISSED_GRACE_MS || (later !== null && later.getTime() <= now.getTime());
      const runOnce = s.job.schedule?.missed === 'run_once';
      const fires = !missed || runOnce;
      const claim = await this.pool.query(
        `UPDATE "Weir_AgentSchedule" SET next_run_at = $2, updated_at = $3, last_fired_at = CASE WHEN $4 THEN $3::timestamp(3) ELSE last_fired_at END
         WHERE job_name = $1 AND next_run_at = $5`,
        [row.job_name, iso(s.cron.nextRun(now)), now.toISOString(), fires, dueAt.toISOString()],
      );
      if (claim.rowCount !== 1) continue; // another instance won this tick
      if (!fires) {
        this.log(`agents: job "${s.job.name}" missed its tick of ${dueAt.toISOString()}${later && later <= now ? ' and later ones' : ''}; skipped (schedule.missed: skip)`);
        continue;
      }
      // run_once stands for every missed tick: it carries the latest of them.
      const tickAt = missed ? (s.cron.previousRuns(1, new Date(now.getTime() + 1))[0] ?? dueAt) : dueAt;
      if (missed) this.log(`agents: job "${s.job.name}" missed ticks from ${dueAt.toISOString()}; one run for them (schedule.missed: run_once)`);
      try {
        await this.fire(s.job, tickAt);
        fired++;
      } catch (e) {
        this.log(`agents: job "${s.job.name}": the run for the tick of ${tickAt.toISOString()} was not started: ${(e as Error).message}`);
      }
    }
    return fired;
  }

  /** The next `n` fire times of a job (at most MAX_NEXT_RUNS), after `from` (default now). */
  nextRuns(job: JobDef, n: number, from?: Date): Date[] {
    if (!job.schedule) return [];
    const count = Math.max(0, Math.min(MAX_NEXT_RUNS, Math.floor(n)));
    if (count === 0) return [];
    return cronOf(job.schedule.cron, job.schedule.timezone).nextRuns(count, from ?? this.now());
  }

  /** Ticks on a timer from now on: at the earliest next_run_at, and at least every MAX_ARM_MS. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.arm();
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async arm(): Promise<void> {
    let delay = MAX_ARM_MS;
    try {
      const r = await this.pool.query<{ at: Date | null }>({
        text: `SELECT MIN(next_run_at) AS at FROM "Weir_AgentSchedule" WHERE job_name = ANY($1::text[])`,
        values: [[...this.scheduled.keys()]],
        types: weirTypes,
      });
      const at = r.rows[0]?.at;
      if (at) delay = Math.max(0, Math.min(MAX_ARM_MS, at.getTime() - this.now().getTime()));
    } catch (e) {
      this.log(`agents: the schedule could not be read (trying again in ${MAX_ARM_MS / 1000} s): ${(e as Error).message}`);
    }
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.onTimer(), delay);
    this.timer.unref();
  }

  private async onTimer(): Promise<void> {
    this.timer = null;
    // A timer armed by sync() while a tick runs: the running tick re-arms when it ends.
    if (this.ticking || !this.started) return;
    this.ticking = true;
    try {
      await this.tick();
    } catch (e) {
      this.log(`agents: schedule tick failed: ${(e as Error).message}`);
    } finally {
      this.ticking = false;
    }
    if (this.started) await this.arm();
  }
}
