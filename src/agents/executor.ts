// One run, from claimed to finished: mint its key, make its sandbox, clone its repository, start the
// agent with the prompt from a file, turn every line it prints into an event, stop it at its timeout
// or on cancel, keep its result, transcript and diff, then block the key, read the run's cost from
// the spend ledger, destroy the sandbox and record the end. Whatever fails, the run ends with a
// status, its key blocked and its sandbox gone; nothing here throws to the caller.
import type pg from 'pg';
import { mintRunKey, revokeRunKey, type RunKeys } from './run-key';
import type { Gate } from './gate';
import { SessionError, type SessionCarry } from './session-state';
import { moveRun, type FinishMove, type RunningMove, type RunRow } from './store';
import { SetupError, type AgentSetup } from './agent-setup';
import { SandboxLostError } from './sandbox/machine';
import { confineNetwork } from './sandbox/net-confine';
import type { ErrorKind, Harness, HarnessInput, RunEvent, RunStatus, Sandbox, SandboxDef, SandboxProvider, RepoSpec } from './types';

export interface EventSink {
  open(runId: string, lastSeq?: number): void;
  /** `at`: when the agent printed it (ms since the epoch); without it, now. */
  append(runId: string, type: string, payload: unknown, at?: number): RunEvent;
  close(runId: string): Promise<void>;
}

export interface LineSplitterLike {
  push(chunk: Buffer, onLine: (line: string) => void): void;
  end(onLine: (line: string) => void): void;
}

export interface ExecutorDeps {
  pool: pg.Pool;
  keys: RunKeys;
  /** Moves the run from provisioning to running (batched with the runs starting together); false:
   *  it is no longer this instance's to start. */
  markRunning(move: RunningMove): Promise<boolean>;
  /** Moves the run to its final status (batched with the runs ending together); null: it was not
   *  in flight any more. */
  markFinished(move: FinishMove): Promise<RunRow | null>;
  /** What the run's key spent, as the spend writer committed it (batched likewise). */
  keySpend(token: string): Promise<number>;
  /** Records a run's key on its row (before the agent may use it, so a recovery can block it). */
  recordKeyToken(runId: string, token: string): Promise<void>;
  /** Writes what the workers journaled, so the run key's spend is in the database. */
  flushSpend(): Promise<void>;
  events: EventSink;
  sandboxDef(name: string): Promise<SandboxDef | null>;
  provider(kind: SandboxDef['provider']): SandboxProvider;
  harness(kind: RunRow['profile']['agent']): Harness;
  lineSplitter(): LineSplitterLike;
  cloneRepo(sandbox: Sandbox, repo: RepoSpec, token: string | undefined): Promise<void>;
  saveArtifact(runId: string, name: string, kind: string, content: Buffer): Promise<void>;
  /** The gateway's URL as a sandbox reaches it. */
  baseUrl(): string;
  /** Resolves `os.environ/NAME` (a repository token). */
  secret(ref: string | undefined): string | undefined;
  /** Before the agent starts: what the run's memory and vault add to it (see agent-setup.ts). */
  prepareAgent?(run: RunRow, sandbox: Sandbox, input: HarnessInput): Promise<AgentSetup>;
  /** Called once the run has ended (notify, dispatcher bookkeeping). */
  ended(run: RunRow): void;
  /** Sandbox errors are retried this many times in all. */
  maxAttempts: number;
  /** Runs in their start (claimed → running) at once. Each step of a start is batched with the
   *  runs starting together (the key mint, the sandbox file thread, the session lookup, the move
   *  to running); the gate keeps a fan-out's starts from all sharing the control thread with the
   *  POSTs still arriving (measured: without it a 64-run fan-out's POST p50 went 70 → 300 ms and
   *  its start p50 500–700 → 580–990 ms, though its p99 fell). */
  starts: Gate;
  /** Runs in their end (agent exited → final) at once. */
  ends: Gate;
  log(line: string): void;
  /** A session's message: its session looked up at the start, its state restored into the sandbox
   *  by the function returned before the agent starts (see session-state.ts); null for other runs. */
  sessionRestorer?(run: RunRow): (sandbox: Sandbox, harness: Harness) => Promise<SessionCarry | null>;
}

/** Bytes of the transcript and of the diff kept per file (the per-run cap applies on top). */
const ARTIFACT_READ_MAX = 8 * 1024 * 1024;
/** Events kept in memory for the harness to judge the outcome from (the log keeps all of them). */
const OUTCOME_WINDOW = 256;
const PROMPT_FILE = '.weir/prompt.txt';
/** The start of every budget refusal the gateway answers (LiteLLM's wording). */
const BUDGET_REFUSAL = 'Budget has been exceeded';

class SandboxError extends Error {}

export class RunExecution {
  private handle: { kill(): void } | null = null;
  private sandbox: Sandbox | null = null;
  private startInfo: { sandbox_start: 'cold' | 'warm'; sandbox_start_ms: number } | null = null;
  private stopReason: 'canceled' | 'timed_out' | 'lost' | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The agent printed the gateway's budget refusal (its key's, or its team's budget is spent). */
  private refusedForBudget = false;
  private setup: AgentSetup = {};
  readonly done: Promise<void>;

  constructor(
    private run: RunRow,
    private readonly deps: ExecutorDeps,
  ) {
    this.done = this.execute().catch((e: unknown) => deps.log(`run ${run.id}: ${(e as Error).stack ?? e}`));
  }

  get id(): string {
    return this.run.id;
  }

  /** Stops the run (cancel by API, or cancel_running of a newer run). */
  cancel(): void {
    this.stop('canceled');
  }

  /** This instance lost the run (its lease was taken over) or is stopping: stop without recording anything more. */
  abandon(): void {
    this.stop('lost');
  }

  private stop(reason: 'canceled' | 'timed_out' | 'lost'): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.handle?.kill();
  }

  private event(type: string, payload: unknown, at?: number): void {
    this.deps.events.append(this.run.id, type, payload, at);
  }

  private async execute(): Promise<void> {
    const { deps } = this;
    const run = this.run;
    // A first attempt has no events yet (nothing is written before a run is claimed); a retried one
    // goes on from its last.
    const lastSeq = run.attempt > 1 ? await deps.pool.query<{ n: number | null }>(`SELECT max(seq) AS n FROM "Weir_AgentRunEvent" WHERE run_id = $1`, [run.id]) : null;
    deps.events.open(run.id, Number(lastSeq?.rows[0]?.n ?? 0));
    let ended: (() => void) | null = null;
    this.event('status', { status: 'provisioning', attempt: run.attempt });
    let keyToken: string | null = null;
    let recording: Promise<void> | null = null;
    let leaveStart = (): void => {};
    let final: { status: RunStatus; kind: ErrorKind | null; message: string | null } = { status: 'failed', kind: 'internal', message: 'the run ended without an outcome' };
    let extra: FinishMove['agent'] = null;
    try {
      const profile = run.profile;
      const def = await deps.sandboxDef(profile.sandbox);
      if (!def) throw new SandboxError(`unknown sandbox "${profile.sandbox}"`);
      this.timer = setTimeout(() => this.stop('timed_out'), profile.timeout_ms);
      this.timer.unref();
      // The key and the sandbox do not wait for each other: a run starts after the slower of the two.
      const minting = mintRunKey(deps.keys, {
        id: run.id,
        attempt: run.attempt,
        job_name: run.job_name,
        team_id: run.team_id,
        user_id: run.user_id,
        max_budget: run.max_budget,
        model: profile.model,
        timeoutMs: profile.timeout_ms,
      }).then((key) => {
        keyToken = key.token;
        // On the row at once, so that a recovery after a crash blocks it; the start does not wait
        // for this: the move to running below sets it too, before the agent can use the key.
        recording = deps.recordKeyToken(run.id, key.token).catch((e: unknown) => deps.log(`run ${run.id}: recording its key: ${(e as Error).message}`));
        return key;
      });
      // Whether the run is a session's message is asked meanwhile too.
      const restore = deps.sessionRestorer?.(run);
      // The keys of runs claimed together are minted together (one batch), and their sandboxes'
      // folders made together (one message to the file thread), a gate's worth at a time.
      leaveStart = await deps.starts.enter();
      const [key, sandbox] = await Promise.all([minting, this.provision(def).catch(async (e: unknown) => {
        await minting.catch(() => {});
        throw e;
      })]);
      const harness = deps.harness(profile.agent);
      const session = restore ? await restore(sandbox, harness) : null;
      if (session) this.event('session', { id: session.sessionId, resume: session.resume ?? null });
      const input: HarnessInput = { profile, baseUrl: deps.baseUrl(), apiKey: key.key, runId: run.id, jobName: run.job_name, promptFile: `${sandbox.home}/${PROMPT_FILE}`, sandbox, resume: session?.resume };
      // An egress allow-list on a sandbox that can make it hard: from here on (after the clone,
      // before the agent) its only ways out are the gateway and the egress proxy.
      if (profile.egress?.allow) await confineNetwork(sandbox, input);
      if (deps.prepareAgent) {
        this.setup = await deps.prepareAgent(run, sandbox, input);
        input.mcp = this.setup.mcp;
      }
      if (this.stopReason) throw new Error('stopped before the agent started');
      // The prompt and every file of the setup in one write, and the row moved to running (with
      // the key) meanwhile: neither waits for the other; the agent starts once both are done.
      const [written, moving] = await Promise.allSettled([
        sandbox.writeFiles([{ path: input.promptFile, data: run.prompt }, ...(this.setup.files ?? [])]),
        deps.markRunning({ id: run.id, started_at: new Date(), sandbox_id: sandbox.id, sandbox_start: this.startInfo?.sandbox_start ?? null, sandbox_start_ms: this.startInfo?.sandbox_start_ms ?? null, key_token: key.token }),
      ]);
      if (written.status === 'rejected') throw written.reason;
      if (moving.status === 'rejected') throw moving.reason;
      if (!moving.value) throw new Error('the run was taken from this instance');
      this.event('status', { status: 'running', sandbox: sandbox.id, isolation: sandbox.isolation });
      leaveStart();
      sandbox.started?.();

      const { exit, seen } = await this.runAgent(harness, input);
      // Runs ending together go through their end (artifacts, key, spend, sandbox) a few at a time.
      ended = await deps.ends.enter();
      const outcome = harness.outcome(seen, exit);
      extra = { exit_code: exit, result: outcome.result ?? null, num_turns: outcome.numTurns ?? null, session_id: outcome.sessionId ?? null };
      if (this.stopReason !== 'lost') {
        // The session's state first: the diff below may initialise a repository in the workspace.
        await session?.keep(outcome.sessionId).catch((e: unknown) => this.event('session', { id: session.sessionId, error: (e as Error).message }));
        await this.collect(sandbox, harness, outcome.sessionId, outcome.result);
      }
      if (this.stopReason === 'timed_out') final = { status: 'timed_out', kind: null, message: `the run passed its timeout of ${profile.timeout_ms / 1000} s` };
      else if (this.stopReason === 'canceled') final = { status: 'canceled', kind: null, message: 'canceled' };
      else if (outcome.ok) final = { status: 'succeeded', kind: null, message: null };
      else final = { status: 'failed', kind: outcome.errorKind ?? 'agent_error', message: outcome.message ?? `the agent exited with code ${exit}` };
    } catch (e) {
      const msg = (e as Error).message;
      if (this.stopReason === 'canceled') final = { status: 'canceled', kind: null, message: 'canceled' };
      else if (this.stopReason === 'timed_out') final = { status: 'timed_out', kind: null, message: `the run passed its timeout of ${run.profile.timeout_ms / 1000} s` };
      else if (e instanceof SandboxError || e instanceof SandboxLostError) final = { status: 'failed', kind: 'sandbox_error', message: msg };
      else if (e instanceof SessionError) final = { status: 'failed', kind: 'session_error', message: msg };
      else if (e instanceof SetupError) final = { status: 'failed', kind: 'config_error', message: msg };
      else final = { status: 'failed', kind: 'internal', message: msg };
    } finally {
      if (this.timer) clearTimeout(this.timer);
      leaveStart();
    }
    // Before the end's row updates (a retry clears the key from the row).
    await recording;
    ended ??= await deps.ends.enter();
    try {
      await this.finish(keyToken, final, extra);
    } finally {
      ended();
    }
  }

  /** The sandbox and, when the profile names one, the repository in it. */
  private async provision(def: SandboxDef): Promise<Sandbox> {
    const { deps, run } = this;
    let sandbox: Sandbox;
    const t0 = performance.now();
    try {
      sandbox = await deps.provider(def.provider).create(def, run.id, { weir_run_id: run.id, weir_job: run.job_name ?? '' }, { timeoutMs: run.profile.timeout_ms });
    } catch (e) {
      throw new SandboxError(`sandbox "${def.name}" could not be created: ${(e as Error).message}`);
    }
    this.sandbox = sandbox;
    // Cold or warm start, and how long the sandbox took: an event, and fields of the run.
    this.startInfo = { sandbox_start: sandbox.start?.kind ?? 'cold', sandbox_start_ms: Math.round(performance.now() - t0) };
    this.event('sandbox', { id: sandbox.id, provider: def.provider, isolation: sandbox.isolation, workdir: sandbox.workdir, start: this.startInfo.sandbox_start, start_ms: this.startInfo.sandbox_start_ms });
    const repo = run.profile.repo;
    if (!repo) return sandbox;
    try {
      await deps.cloneRepo(sandbox, repo, deps.secret(repo.token));
    } catch (e) {
      throw new SandboxError(`could not clone ${redactUrl(repo.url)}: ${(e as Error).message}`);
    }
    return sandbox;
  }

  /** A command in the sandbox (ours, not the agent's), failing on a non-zero exit with its output. */
  private async shell(sandbox: Sandbox, script: string, maxOut = 64 * 1024): Promise<Buffer> {
    const out: Buffer[] = [];
    let size = 0;
    const take = (c: Buffer) => {
      if (size < maxOut) out.push(c.subarray(0, maxOut - size));
      size += c.length;
    };
    const h = sandbox.exec({ argv: ['sh', '-c', script], env: GIT_ENV, onStdout: take, onStderr: take, setup: true });
    this.handle = h;
    const code = await h.done;
    this.handle = null;
    const text = Buffer.concat(out);
    if (code !== 0) throw new Error(`exit ${code}: ${text.toString('utf8').slice(0, 500)}`);
    return text;
  }

  private async runAgent(harness: Harness, input: Parameters<Harness['command']>[0]): Promise<{ exit: number; seen: { type: string; payload: unknown }[] }> {
    const { argv, env: own } = harness.command(input);
    const env = this.setup.env ? { ...own, ...this.setup.env } : own;
    const scrub = this.setup.scrub;
    const seen: { type: string; payload: unknown }[] = [];
    // When the chunk that ended the line was read (the spawner's stamp): an event's ts is when the
    // agent printed it, not when this thread got to it. The line a stream's end completes: now.
    let readAt: number | undefined;
    const onLine = (raw: string) => {
      if (!raw) return;
      const line = scrub ? scrub(raw) : raw;
      if (!this.refusedForBudget && line.includes(BUDGET_REFUSAL)) this.refusedForBudget = true;
      const e = harness.parseLine(line);
      this.event(e.type, e.payload, readAt);
      seen.push(e);
      if (seen.length > OUTCOME_WINDOW * 2) seen.splice(0, seen.length - OUTCOME_WINDOW);
    };
    const onErr = (raw: string) => {
      if (!raw) return;
      const line = scrub ? scrub(raw) : raw;
      if (!this.refusedForBudget && line.includes(BUDGET_REFUSAL)) this.refusedForBudget = true;
      this.event('stderr', { text: line }, readAt);
    };
    const out = this.deps.lineSplitter();
    const err = this.deps.lineSplitter();
    const take = (lines: LineSplitterLike, c: Buffer, at: number | undefined, each: (line: string) => void) => {
      readAt = at;
      lines.push(c, each);
      readAt = undefined;
    };
    const h = input.sandbox.exec({ argv, env, stdinFile: input.promptFile, onStdout: (c, at) => take(out, c, at, onLine), onStderr: (c, at) => take(err, c, at, onErr) });
    this.handle = h;
    if (this.stopReason) h.kill();
    const exit = await h.done;
    this.handle = null;
    out.end(onLine);
    err.end(onErr);
    return { exit, seen };
  }

  /** The result, the transcript and the diff, kept in the database (each bounded). */
  private async collect(sandbox: Sandbox, harness: Harness, sessionId: string | undefined, result: string | undefined): Promise<void> {
    const save = async (name: string, kind: string, content: Buffer | null) => {
      if (!content || content.length === 0) return;
      await this.deps.saveArtifact(this.run.id, name, kind, content).catch((e: unknown) => this.deps.log(`run ${this.run.id}: artifact ${name}: ${(e as Error).message}`));
    };
    await save('result.txt', 'result', result === undefined ? null : Buffer.from(result));
    for (const p of harness.transcriptPaths(sandbox, sessionId)) {
      const read = await sandbox.readFile(p, ARTIFACT_READ_MAX).catch(() => null);
      const data = read && this.setup.scrub ? Buffer.from(this.setup.scrub(read.toString('utf8'))) : read;
      await save(p.endsWith('.jsonl') ? 'transcript.jsonl' : `transcript-${p.split('/').pop()}`, 'transcript', data);
    }
    // Against the cloned commit; a workspace that started empty has no repository yet, and all it
    // holds is the agent's: every file shows as new (intent-to-add). The prompt lives in HOME.
    const diff = await this.shell(sandbox, '[ -e .git ] || git init -q .; git add -A -N . >/dev/null 2>&1; git diff --no-color --no-ext-diff', ARTIFACT_READ_MAX).catch(() => null);
    await save('diff.patch', 'diff', diff && this.setup.scrub ? Buffer.from(this.setup.scrub(diff.toString('utf8'))) : diff);
  }

  private async finish(keyToken: string | null, final: { status: RunStatus; kind: ErrorKind | null; message: string | null }, agent: FinishMove['agent']): Promise<void> {
    const { deps, run } = this;
    this.setup.release?.();
    if (this.stopReason === 'lost') {
      await this.sandbox?.destroy().catch(() => {});
      this.deps.log(`run ${run.id}: taken over by another instance; stopped here`);
      return;
    }
    let cost: number | null = null;
    if (keyToken) {
      await revokeRunKey(deps.keys, keyToken).catch((e: unknown) => deps.log(`run ${run.id}: blocking its key failed: ${(e as Error).message}`));
      await deps.flushSpend().catch(() => {});
      cost = await deps.keySpend(keyToken).catch(() => null);
    }
    // The gateway refused the agent's calls for budget (it printed the refusal), or the key spent it
    // all: the run was cut short by its budget, whatever the agent made of that.
    const spentAll = cost !== null && run.max_budget !== null && cost >= run.max_budget * 0.999;
    if ((this.refusedForBudget || spentAll) && (final.status === 'failed' || final.status === 'succeeded')) {
      final = { status: 'failed', kind: 'budget_exceeded', message: `the run reached its budget (${run.max_budget ?? 'its team\'s'} USD; spent ${cost ?? 0})` };
    }
    await this.sandbox?.destroy().catch((e: unknown) => deps.log(`run ${run.id}: destroying the sandbox failed: ${(e as Error).message}`));
    const retry = final.kind === 'sandbox_error' && run.attempt < deps.maxAttempts && !this.stopReason;
    if (retry) {
      const back = await moveRun(deps.pool, run.id, ['provisioning', 'running'], 'queued', {
        attempt: run.attempt + 1, key_token: null, instance_id: null, lease_until: null, error_kind: final.kind, error_message: final.message,
      });
      this.event('status', { status: 'queued', retry: run.attempt + 1, error: { kind: final.kind, message: final.message } });
      await deps.events.close(run.id);
      if (back) deps.ended(back);
      return;
    }
    // The final event is written before the row says final: a watcher that sees the row ended
    // (on any instance) finds the event in the database.
    this.event('status', { status: final.status, ...(final.kind || final.message ? { error: { kind: final.kind, message: final.message } } : {}), cost });
    await deps.events.close(run.id);
    const row = await deps.markFinished({ id: run.id, status: final.status, agent, cost, error_kind: final.kind, error_message: final.message, finished_at: new Date() });
    if (row) deps.ended(row);
  }
}

/** Git inside the sandbox: an identity for the baseline commit, no prompts, no system config. */
const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: 'weir', GIT_AUTHOR_EMAIL: 'weir@localhost', GIT_COMMITTER_NAME: 'weir', GIT_COMMITTER_EMAIL: 'weir@localhost',
  GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1',
};

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(repository url)';
  }
}
