// The statements a run makes on its way (queued, its starter read, its key recorded, its session
// looked up, moved to running, its key's spend read, moved to its final status), each batched
// across the runs that make it together (batch.ts): a fan-out of 64 runs costs a few statements per
// step, not 64, and holds one database connection per step.
import type pg from 'pg';
import { AgentApiError } from './api-error';
import { Batched } from './batch';
import { loadStarters, type Starter, type StarterAsk } from './run-key';
import { sessionsOfRuns, type SessionRow } from './session-store';
import { insertRuns, keySpends, markFinished, markRunning, setKeyTokens, type FinishMove, type NewRun, type RunningMove, type RunRow } from './store';

/** A batch whose callers are all resumed in one turn (see batch.ts). */
const ALL_AT_ONCE = Number.POSITIVE_INFINITY;

/** The master key, an open proxy and a job of no team: nobody to read, no limits of its own. */
const NOBODY: Starter = { token: null, team_id: null, user_id: null, models: [], teamModels: [], keyLeft: null, teamLeft: null };

export class RunStatements {
  /**
   * Runs POSTed together are inserted together, and other instances told once. Their callers are
   * all resumed in the turn the insert returns: what each does next is answer its 202 (a view and a
   * message to its worker), and resumed 8 per turn, the last POSTs' answers waited behind 7 turns
   * full of the claimed runs' starts and events (POST p50 531–913 ms with claims at ~300 ms), as did
   * the next batch's insert.
   */
  private readonly inserts: Batched<{ run: NewRun; now: Date }, { run: RunRow; created: boolean }>;
  /** The starters of runs POSTed together (a few statements per batch, not per run). */
  private readonly starters: Batched<StarterAsk, Starter | AgentApiError>;
  private readonly keyTokens: Batched<{ id: string; token: string }, void>;
  /** Most runs have no session. */
  private readonly sessions: Batched<string, SessionRow | null>;
  private readonly runningMoves: Batched<RunningMove, boolean>;
  private readonly spends: Batched<string, number>;
  private readonly finishes: Batched<FinishMove, RunRow | null>;

  constructor(pool: pg.Pool) {
    this.inserts = new Batched((runs) => insertRuns(pool, runs), undefined, ALL_AT_ONCE);
    this.starters = new Batched((asks) => loadStarters(pool, asks), undefined, ALL_AT_ONCE);
    this.keyTokens = new Batched(async (runs) => {
      await setKeyTokens(pool, runs);
      return runs.map((): void => undefined);
    });
    this.sessions = new Batched((ids) => sessionsOfRuns(pool, ids));
    this.runningMoves = new Batched((moves) => markRunning(pool, moves));
    this.spends = new Batched((tokens) => keySpends(pool, tokens));
    this.finishes = new Batched((moves) => markFinished(pool, moves));
  }

  /** Queues a run of no job (the API's inline runs). */
  insertQueued(run: NewRun, now: Date): Promise<{ run: RunRow; created: boolean }> {
    return this.inserts.one({ run, now });
  }

  /** Who starts a run and what they have left; a refusal is thrown in the API's dialect. */
  async starter(keyHash: string | null, teamId: string | null): Promise<Starter> {
    if (!keyHash && !teamId) return NOBODY;
    const s = await this.starters.one({ keyHash, teamId });
    if (s instanceof AgentApiError) throw s;
    return s;
  }

  /** Records a run's key on its row. */
  recordKeyToken(id: string, token: string): Promise<void> {
    return this.keyTokens.one({ id, token });
  }

  /** The session a run is a message of, if any. */
  sessionOf(runId: string): Promise<SessionRow | null> {
    return this.sessions.one(runId);
  }

  /** Moves a run from provisioning to running; false: it is no longer this instance's. */
  markRunning(move: RunningMove): Promise<boolean> {
    return this.runningMoves.one(move);
  }

  /** What a run key spent, as the spend writer committed it. */
  keySpend(token: string): Promise<number> {
    return this.spends.one(token);
  }

  /** Moves a run to its final status; null: it was not in flight any more. */
  markFinished(move: FinishMove): Promise<RunRow | null> {
    return this.finishes.one(move);
  }
}
