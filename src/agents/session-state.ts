// What carries a session from one run to the next, whatever sandbox each one gets: after a run, the
// agent's own session files (Claude Code's transcript under ~/.claude/projects, Codex's under
// ~/.codex/sessions: the harness names them) and the whole workspace are archived in the sandbox
// and kept as two artifacts of that run; before the next run they are unpacked into its fresh
// sandbox and the agent is started with its CLI's resume flag on the session id it reported.
//
// Claude Code files a transcript under a folder named after the working directory; its `--resume
// ID` finds the session whichever folder holds it (checked with 2.1.332), so a sandbox whose
// workspace path differs from the last one's resumes too.
//
// A session whose kept state is gone (its artifacts deleted, or cut at artifact_max_mb) cannot be
// resumed: its next run fails with `session_error` saying so, before the agent starts.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { saveArtifact } from './artifacts';
import { recordState, sessionOfRun, type SessionRow } from './session-store';
import type { RunRow } from './store';
import type { Harness, Sandbox } from './types';

export const WORKSPACE_ARCHIVE = 'session-workspace.tar.gz';
export const AGENT_ARCHIVE = 'session-agent.tar.gz';
const ARTIFACT_KIND = 'session';
/** Where the archives are made and unpacked, in the sandbox's HOME (never the workspace). */
const STAGE = '.weir/session';

/** A session's run could not be resumed (its state is gone, or the session ended). */
export class SessionError extends Error {}

/** What a run that is a session's message carries through the executor. */
export interface SessionCarry {
  readonly sessionId: string;
  /** The agent's own session id to resume, unset for the session's first run. */
  readonly resume?: string;
  /** After the agent ended: keeps its state and the workspace for the next message. */
  keep(agentSessionId: string | undefined): Promise<void>;
}

export interface SessionStateDeps {
  pool: pg.Pool;
  /** The per-run artifact cap (artifact_max_mb). */
  maxBytes(): number;
  now(): Date;
  /** The run's session; by default one query of its own (the runtime batches the runs starting together). */
  sessionOf?(runId: string): Promise<SessionRow | null>;
}

/**
 * The run's session (if it is a session's message), looked up at once: the lookup needs no
 * sandbox, so it goes on beside the run's key and sandbox. The function returned restores the
 * session into the sandbox before the agent starts; null for a run that is not a session's.
 */
export function sessionRestorer(d: SessionStateDeps, run: RunRow): (sandbox: Sandbox, harness: Harness) => Promise<SessionCarry | null> {
  const found = d.sessionOf ? d.sessionOf(run.id) : sessionOfRun(d.pool, run.id);
  // A start that fails before it restores never awaits the lookup: its failure is not unhandled.
  found.catch(() => {});
  return async (sandbox, harness) => {
    const session = await found;
    if (!session) return null;
    if (session.status === 'ended') throw new SessionError(`session ${session.id} has ended; its messages are not run`);
    if (session.state_error) throw new SessionError(`session ${session.id} cannot be resumed: ${session.state_error}`);
    const resume = session.agent_session_id ?? undefined;
    await restoreInto(d.pool, session, sandbox);
    return {
      sessionId: session.id,
      resume,
      keep: (agentSessionId) => keepSession(d, run, session.id, sandbox, harness, agentSessionId),
    };
  };
}

/** The session's kept state (if it has any yet) unpacked into the sandbox: its workspace and HOME. */
export async function restoreInto(pool: pg.Pool, session: SessionRow, sandbox: Sandbox): Promise<void> {
  if (!session.state_run_id) return;
  const kept = await keptArchives(pool, session.state_run_id);
  const missing = [WORKSPACE_ARCHIVE, AGENT_ARCHIVE].filter((n) => !kept.has(n));
  if (missing.length) {
    throw new SessionError(
      `the saved state of session ${session.id} (kept by run ${session.state_run_id}) was deleted (${missing.join(', ')} missing): it cannot be resumed; end it and start a new session`,
    );
  }
  const stage = `${sandbox.home}/${STAGE}`;
  await sandbox.writeFile(`${stage}/${WORKSPACE_ARCHIVE}`, kept.get(WORKSPACE_ARCHIVE)!);
  await sandbox.writeFile(`${stage}/${AGENT_ARCHIVE}`, kept.get(AGENT_ARCHIVE)!);
  // The workspace becomes exactly what the last run left (a repository cloned for this run
  // included: the session's own copy of it wins).
  const script = `set -e; find "$WEIR_WORKDIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +; tar -xzf "$S/${WORKSPACE_ARCHIVE}" -C "$WEIR_WORKDIR"; tar -xzf "$S/${AGENT_ARCHIVE}" -C "$HOME"; rm -f "$S"/*.tar.gz`;
  await shell(sandbox, script, { WEIR_WORKDIR: sandbox.workdir, S: stage }).catch((e: unknown) => {
    throw new SessionError(`the saved state of session ${session.id} could not be restored: ${(e as Error).message}`);
  });
}

async function keepSession(d: SessionStateDeps, run: RunRow, sessionId: string, sandbox: Sandbox, harness: Harness, agentSessionId: string | undefined): Promise<void> {
  const stage = `${sandbox.home}/${STAGE}`;
  const dirs = (harness.sessionState ?? []).map((p) => `"${p}"`).join(' ');
  // Only the folders that exist go in (an agent that never started has none); an empty list still
  // makes a valid archive.
  await shell(
    sandbox,
    `set -e; mkdir -p "$S"; tar -czf "$S/${WORKSPACE_ARCHIVE}" -C "$WEIR_WORKDIR" .; cd "$HOME"; : > "$S/list"; for d in ${dirs}; do [ -e "$d" ] && printf '%s\\n' "$d" >> "$S/list"; done; tar -czf "$S/${AGENT_ARCHIVE}" -T "$S/list"`,
    { WEIR_WORKDIR: sandbox.workdir, S: stage },
  );
  const cap = d.maxBytes();
  let error: string | null = null;
  for (const name of [WORKSPACE_ARCHIVE, AGENT_ARCHIVE]) {
    const data = await sandbox.readFile(`${stage}/${name}`, cap + 1);
    if (!data) {
      error = `run ${run.id} left no ${name}`;
      break;
    }
    const saved = await saveArtifact(d.pool, run.id, name, ARTIFACT_KIND, data, cap);
    if (saved.truncated || data.length > cap) {
      error = `its state after run ${run.id} (${name}) is larger than what a run may keep (artifact_max_mb)`;
      break;
    }
  }
  await recordState(d.pool, sessionId, { agent_session_id: agentSessionId ?? null, state_run_id: error ? null : run.id, state_error: error }, d.now());
  if (error) throw new SessionError(error);
}

/** The session archives a run kept, complete ones only. */
async function keptArchives(pool: pg.Pool, runId: string): Promise<Map<string, Buffer>> {
  const r = await pool.query<{ name: string; content: Buffer; truncated: boolean; sha256: string }>(
    `SELECT name, content, truncated, sha256 FROM "Weir_AgentArtifact" WHERE run_id = $1 AND name = ANY($2)`,
    [runId, [WORKSPACE_ARCHIVE, AGENT_ARCHIVE]],
  );
  const out = new Map<string, Buffer>();
  for (const row of r.rows) {
    if (row.truncated || createHash('sha256').update(row.content).digest('hex') !== row.sha256) continue;
    out.set(row.name, row.content);
  }
  return out;
}

/** Our own command in the sandbox; fails with its output on a non-zero exit. */
async function shell(sandbox: Sandbox, script: string, env: Record<string, string>): Promise<void> {
  const out: Buffer[] = [];
  let size = 0;
  const take = (c: Buffer) => {
    if (size < 4096) out.push(c.subarray(0, 4096 - size));
    size += c.length;
  };
  const code = await sandbox.exec({ argv: ['sh', '-c', script], env, onStdout: take, onStderr: take, setup: true }).done;
  if (code !== 0) throw new Error(`exit ${code}: ${Buffer.concat(out).toString('utf8').slice(0, 500)}`);
}
