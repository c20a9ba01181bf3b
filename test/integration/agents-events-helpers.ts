// Shared by the agent event, artifact and retention tests: a database of their own with Weir's
// schema, a subscriber that records what it got, and polling with a deadline.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { EventLog } from '../../src/agents/event-log';
import type { RunEvent } from '../../src/agents/types';
import { createPool } from '../../src/db/pool';
import { ensureSchema } from '../../src/db/schema';
import { freshDatabase } from '../support/postgres';

/** A new database with the schema; its URL and a pool (ended by `cleanups`). */
export async function agentDb(label: string, cleanups: (() => Promise<void> | void)[]): Promise<{ url: string; pool: pg.Pool }> {
  const url = await freshDatabase(label);
  const pool = createPool(url);
  cleanups.push(() => pool.end());
  await ensureSchema(pool);
  return { url, pool };
}

/** Polls until `check` returns a truthy value; throws with `what` and the last value after the deadline. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(10);
  }
}

export interface Collected {
  events: RunEvent[];
  stop(): void;
  /** Waits until an event with this seq (or a later one) arrived. */
  until(seq: number): Promise<void>;
}

export function collect(log: EventLog, runId: string, after: number): Collected {
  const events: RunEvent[] = [];
  const stop = log.subscribe(runId, after, (e) => events.push(e));
  return {
    events,
    stop,
    until: async (seq) => {
      await waitFor(`seq ${seq} of ${runId} (have ${events.length})`, () => events.length > 0 && events[events.length - 1]!.seq >= seq);
    },
  };
}

/** Asserts seqs are exactly from..to, in order. */
export function seqsOf(events: RunEvent[]): number[] {
  return events.map((e) => e.seq);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
