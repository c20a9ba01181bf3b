// The virtual key a run calls models with, minted and blocked with /key/generate's and /key/block's
// rows (so the shared state knows it before the agent's first call), and the checks that keep a run
// inside what its starter may do: its models a subset of the starter's (and the team's), its budget
// reserved from what the starter and the team have left. Runs starting (or ending) together share
// one transaction for their keys (batch.ts): a fan-out of 64 runs is a few statements, not 64
// transactions queued on the database pool.
import type pg from 'pg';
import { AgentApiError } from './api-error';
import { Batched } from './batch';
import type { Queryable } from './store';

/** The management side: many keys minted or blocked in one transaction, in the shared state on return. */
export interface RunKeyStore {
  mint(bodies: unknown[], changedBy: string): Promise<MintedKey[]>;
  block(tokens: string[], changedBy: string): Promise<void>;
}

const CHANGED_BY = 'weir-agent-runs';

/** Mints and blocks run keys, batching the calls that arrive together. */
export class RunKeys {
  private readonly minting: Batched<unknown, MintedKey>;
  private readonly blocking: Batched<string, void>;

  constructor(store: RunKeyStore) {
    this.minting = new Batched((bodies) => store.mint(bodies, CHANGED_BY));
    this.blocking = new Batched<string, void>(async (tokens) => {
      await store.block(tokens, CHANGED_BY);
      return tokens.map((): void => undefined);
    });
  }

  mint(body: unknown): Promise<MintedKey> {
    return this.minting.one(body);
  }

  block(token: string): Promise<void> {
    return this.blocking.one(token);
  }
}

/** Minutes of life a run key has past its run's timeout (the run is ended by then). */
const KEY_GRACE_MS = 5 * 60_000;

export interface Starter {
  /** Token hash of the starting key; null for the master key, config jobs and an open proxy. */
  token: string | null;
  team_id: string | null;
  user_id: string | null;
  /** The starter's model list ([] = every model). */
  models: string[];
  teamModels: string[];
  /** USD the starter may still spend (after runs in flight reserved theirs); null = no limit. */
  keyLeft: number | null;
  teamLeft: number | null;
}

interface KeyRow {
  token: string;
  team_id: string | null;
  user_id: string | null;
  models: string[] | null;
  max_budget: number | null;
  spend: number;
  blocked: boolean | null;
}

/**
 * What starters' runs count against their own budget: every run's spend (the run keys are separate
 * keys, so the starter's row never sees it) plus what runs in flight still hold (budget − spent).
 * The team needs only the second part: run keys belong to the team, whose spend already has theirs.
 * One statement for every starter (or team) asked about.
 */
async function heldBy(db: Queryable, column: 'starter_token' | 'team_id', values: string[]): Promise<Map<string, number>> {
  if (!values.length) return new Map();
  const spent = column === 'starter_token' ? 'COALESCE(k.spend, 0)' : '0';
  const r = await db.query<{ v: string; held: number | null }>(
    `SELECT r.${column} AS v, sum(${spent} + CASE WHEN r.status IN ('queued','provisioning','running')
                 THEN GREATEST(COALESCE(r.max_budget, 0) - COALESCE(k.spend, 0), 0) ELSE 0 END) AS held
       FROM "Weir_AgentRun" r LEFT JOIN "LiteLLM_VerificationToken" k ON k.token = r.key_token
      WHERE r.${column} = ANY($1) GROUP BY r.${column}`,
    [values],
  );
  return new Map(r.rows.map((x) => [x.v, Number(x.held ?? 0)]));
}

/** Who starts a run: a virtual key (by hash), or the system (master key / config job of a team). */
export interface StarterAsk {
  keyHash: string | null;
  teamId: string | null;
}

/** Reads who starts a run; throws the refusal (unknown or blocked key, unknown or blocked team). */
export async function loadStarter(db: Queryable, keyHash: string | null, teamId: string | null): Promise<Starter> {
  const [s] = await loadStarters(db, [{ keyHash, teamId }]);
  if (s instanceof AgentApiError) throw s;
  return s!;
}

/**
 * Reads the starters of runs POSTed together: their keys, their teams and what their runs hold, a
 * statement each for the whole batch (at most four), not per run. Each answer is the starter or
 * its own refusal. Starters in one batch see the same reservations, as runs POSTed at the same
 * moment each did with a read of their own.
 */
export async function loadStarters(db: Queryable, asks: StarterAsk[]): Promise<(Starter | AgentApiError)[]> {
  const hashes = [...new Set(asks.map((a) => a.keyHash).filter((h): h is string => !!h))];
  const keys = new Map<string, KeyRow>();
  if (hashes.length) {
    const r = await db.query<KeyRow>(`SELECT token, team_id, user_id, models, max_budget, spend, blocked FROM "LiteLLM_VerificationToken" WHERE token = ANY($1)`, [hashes]);
    for (const k of r.rows) keys.set(k.token, k);
  }
  const teamOf = (a: StarterAsk): string | null => (a.keyHash ? (keys.get(a.keyHash)?.team_id ?? null) : a.teamId);
  const teamIds = [...new Set(asks.map(teamOf).filter((t): t is string => !!t))];
  const teams = new Map<string, TeamRow>();
  if (teamIds.length) {
    const t = await db.query<TeamRow>(`SELECT team_id, models, max_budget, spend, blocked FROM "LiteLLM_TeamTable" WHERE team_id = ANY($1)`, [teamIds]);
    for (const row of t.rows) teams.set(row.team_id, row);
  }
  // Only what a limit needs: a team or key without max_budget holds nothing back.
  const teamHeld = await heldBy(db, 'team_id', teamIds.filter((id) => teams.get(id)?.max_budget != null));
  const keyHeld = await heldBy(db, 'starter_token', hashes.filter((h) => keys.get(h)?.max_budget != null));
  return asks.map((a): Starter | AgentApiError => {
    const key = a.keyHash ? (keys.get(a.keyHash) ?? null) : null;
    if (a.keyHash && !key) return new AgentApiError(401, 'the calling key is not known to the database');
    if (key?.blocked) return new AgentApiError(403, 'the calling key is blocked');
    const team = teamOf(a);
    let teamModels: string[] = [];
    let teamLeft: number | null = null;
    if (team) {
      const row = teams.get(team);
      if (!row) return new AgentApiError(400, `unknown team "${team}"`, 'team');
      if (row.blocked) return new AgentApiError(403, `team "${team}" is blocked`);
      teamModels = row.models ?? [];
      if (row.max_budget !== null) teamLeft = row.max_budget - row.spend - (teamHeld.get(team) ?? 0);
    }
    const keyLeft = key && key.max_budget !== null ? key.max_budget - key.spend - (keyHeld.get(key.token) ?? 0) : null;
    return { token: key?.token ?? null, team_id: team ?? null, user_id: key?.user_id ?? null, models: key?.models ?? [], teamModels, keyLeft, teamLeft };
  });
}

interface TeamRow {
  team_id: string;
  models: string[] | null;
  max_budget: number | null;
  spend: number;
  blocked: boolean;
}

const ALL = new Set(['all-proxy-models', 'all-team-models', '*']);

function allows(list: string[], model: string): boolean {
  if (list.length === 0 || list.some((m) => ALL.has(m))) return true;
  return list.some((m) => m === model || (m.endsWith('*') && model.startsWith(m.slice(0, -1))));
}

/** The run's model must be one its starter (and the starter's team) may call. */
export function checkModel(s: Starter, model: string | undefined): void {
  if (!model) return;
  if (!allows(s.models, model)) throw new AgentApiError(403, `the calling key may not use model "${model}" (its models: ${s.models.join(', ')})`, 'model');
  if (!allows(s.teamModels, model)) throw new AgentApiError(403, `team "${s.team_id}" may not use model "${model}"`, 'model');
}

/**
 * The budget the run's key gets: what was asked (or the profile's), never above what the starter and
 * its team have left; when nothing was asked and the starter is limited, what it has left.
 */
export function runBudget(s: Starter, asked: number | undefined): number | null {
  const left = [s.keyLeft, s.teamLeft].filter((x): x is number => x !== null);
  const limit = left.length ? Math.min(...left) : null;
  if (limit !== null && limit <= 0) throw new AgentApiError(400, 'no budget left: the calling key (or its team) has spent or reserved its max_budget', 'max_budget');
  if (asked === undefined) return limit;
  if (limit !== null && asked > limit + 1e-12) {
    throw new AgentApiError(400, `max_budget ${asked} is above what the calling key and its team have left (${limit.toFixed(6)} USD)`, 'max_budget');
  }
  return asked;
}

export interface MintedKey {
  key: string;
  token: string;
}

export function runKeyAlias(runId: string, attempt: number): string {
  return attempt > 1 ? `weir-run-${runId}-${attempt}` : `weir-run-${runId}`;
}

export async function mintRunKey(
  keys: RunKeys,
  run: { id: string; attempt: number; job_name: string | null; team_id: string | null; user_id: string | null; max_budget: number | null; model: string | undefined; timeoutMs: number },
): Promise<MintedKey> {
  const seconds = Math.ceil((run.timeoutMs + KEY_GRACE_MS) / 1000);
  return keys.mint({
    // A retried attempt gets a key of its own (the first one is blocked, kept for its spend).
    key_alias: runKeyAlias(run.id, run.attempt),
    models: run.model ? [run.model] : [],
    max_budget: run.max_budget ?? undefined,
    team_id: run.team_id ?? undefined,
    user_id: run.user_id ?? undefined,
    duration: `${seconds}s`,
    // LLM routes and /mcp only: never /v1/agent/* or the management API.
    key_type: 'llm_api',
    metadata: { weir_run_id: run.id, weir_job: run.job_name },
  });
}

/** Blocks the key: it is kept (its spend is the run's history), it calls nothing more. */
export function revokeRunKey(keys: RunKeys, token: string): Promise<void> {
  return keys.block(token);
}

/** What the run's key spent, as the spend writer committed it. */
export async function keySpend(db: pg.Pool, token: string): Promise<number> {
  const r = await db.query<{ spend: number }>(`SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1`, [token]);
  return Number(r.rows[0]?.spend ?? 0);
}
