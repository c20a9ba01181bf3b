// Shared by the agent event, artifact and retention tests: a database of their own with Weir's
// schema, a subscriber that records what it got, and polling with a deadline.
import type pg from 'pg';
import type { EventLog } from '../../src/agents/event-log';
import type { RunEvent } from '../../src/agents/types';
import { createPool } from '../../src/db/pool';
import { ensureSchema } from '../../src/db/schema';
import { freshDatabase } from '../support/postgres';
import { waitFor as pollFor } from './governance-helpers';

/** A new database with the schema; its URL and a pool (ended by `cleanups`). */
export async function agentDb(label: string, cleanups: (() => Promise<void> | void)[]): Promise<{ url: string; pool: pg.Pool }> {
  const url = await freshDatabase(label);
  const pool = createPool(url);
  cleanups.push(() => pool.end());
  await ensureSchema(pool);
  return { url, pool };
}

/** Polls until `check` returns a truthy value (every 10 ms, 30 s at most). */
export function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  return pollFor(what, check, timeoutMs, 10);
}

/** A new database with the schema and two pools on it: two instances, as far as the database can tell. */
export async function twoPools(label: string, cleanups: (() => Promise<void> | void)[]): Promise<{ a: pg.Pool; b: pg.Pool }> {
  const { url, pool: a } = await agentDb(label, cleanups);
  const b = createPool(url);
  cleanups.push(() => b.end());
  return { a, b };
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
