// The vocabulary of agent runs, shared by every part of src/agents: what a sandbox, a profile and a
// job are once the config or the API defined them, what a run and its events look like, and the two
// seams a new sandbox provider or a new agent CLI plugs into (Sandbox, Harness).
//
// Everything here runs on the control thread; nothing a worker loads imports this folder.

/** Where a definition came from: config ones are read-only through the API. */
export type Source = 'config' | 'api';

export interface SandboxDef {
  id: string;
  name: string;
  provider: 'local' | 'e2b' | 'daytona';
  /** Provider settings as written (limits for local; template, api_url … for the cloud ones). */
  options: Record<string, unknown>;
  source: Source;
}

export type AgentKind = 'claude-code' | 'codex' | 'command';

export interface RepoSpec {
  url: string;
  ref?: string;
  /** `os.environ/NAME`, resolved when the run starts; used for the clone only. */
  token?: string;
}

export interface ProfileDef {
  id: string;
  name: string;
  agent: AgentKind;
  /** A SandboxDef name. */
  sandbox: string;
  /** A model group of this gateway (any dialect). */
  model?: string;
  max_turns?: number;
  /** Milliseconds. */
  timeout_ms: number;
  /** USD; the run's virtual key gets exactly this max_budget. */
  max_budget?: number;
  allowed_tools?: string[];
  permission_mode?: string;
  append_system_prompt?: string;
  /** `command` harness: the program and its arguments (the prompt file path is in $WEIR_PROMPT_FILE). */
  command?: string[];
  extra_args?: string[];
  /** Non-secret variables for the agent. */
  env?: Record<string, string>;
  repo?: RepoSpec;
  /** The memory MCP server for the run, and the notes pinned into the agent's memory file. */
  memory?: { enabled: boolean; pin_tags: string[] };
  /** Vault secret names: the agent's environment gets a stub of each (see vault/run-vault.ts). */
  secrets?: string[];
  /** Hosts the run may reach through the egress proxy besides its secrets' (none given: any). */
  egress?: { allow: string[] };
  source: Source;
}

export type OnConflict = 'queue' | 'skip' | 'cancel_running';

export interface WebhookSpec {
  verify: 'github' | 'standard' | 'hmac' | 'none';
  /** The resolved secret (never shown by the API). */
  secret?: string;
  /** For `hmac`: the header carrying the hex HMAC-SHA256 of the body (default x-signature). */
  header?: string;
  /** GitHub style `event.action` names (`issues.opened`, or `push` for every action); empty = all. */
  events?: string[];
}

export interface JobDef {
  id: string;
  name: string;
  profile: string;
  /** Mustache-like template: `{{payload.issue.number}}`, `{{input.x}}`; never executes code. */
  prompt: string;
  team_id?: string;
  schedule?: { cron: string; timezone?: string; missed?: 'skip' | 'run_once' };
  webhook?: WebhookSpec;
  concurrency: { limit: number; on_conflict: OnConflict };
  /** Milliseconds a run may wait in the queue before it ends as `expired` (none when unset). */
  ttl_ms?: number;
  notify?: { url: string; secret?: string };
  /** A template like the prompt's (`{{payload.pull_request.number}}`): the job keeps one session per
   *  value, and each run continues that session (see session-store.ts). */
  session_key?: string;
  enabled: boolean;
  source: Source;
}

export interface AgentSettings {
  /** What sandboxes use to reach Weir (the agent's base URL). */
  public_url?: string;
  /** Runs in provisioning/running at once, over every job (per instance). */
  max_concurrent_runs: number;
  /** Days events and artifacts are kept. */
  retention_days: number;
  /** Bytes of artifacts kept per run. */
  artifact_max_bytes: number;
  /** Milliseconds a session may sit idle before it is reaped (its state is kept). */
  session_idle_ms: number;
  sandboxes: SandboxDef[];
  profiles: ProfileDef[];
  jobs: JobDef[];
}

export const RUN_STATUSES = ['queued', 'provisioning', 'running', 'succeeded', 'failed', 'timed_out', 'canceled', 'expired', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'timed_out', 'canceled', 'expired', 'skipped']);

export type ErrorKind = 'agent_error' | 'max_turns' | 'budget_exceeded' | 'sandbox_error' | 'session_error' | 'config_error' | 'internal';

/** One line the agent printed (or a status change of ours), as stored and streamed. */
export interface RunEvent {
  seq: number;
  /** ISO time. */
  ts: string;
  /** The line's own `type` (assistant, user, result, item.completed …), `stdout`/`stderr` for plain
   *  text, or `status` for our own state changes. */
  type: string;
  payload: unknown;
}

// ---- the two seams -----------------------------------------------------------------------------

export interface ExecOptions {
  argv: string[];
  /** Relative to the workspace. */
  cwd?: string;
  env: Record<string, string>;
  /** A workspace file fed to the process as its standard input (the prompt: never through a shell). */
  stdinFile?: string;
  /**
   * Weir's own command before the agent's (a clone, a session's restore, a PTY's FIFOs): a warm
   * sandbox keeps its pooled process chain for the agent's exec, which it is there for.
   */
  setup?: boolean;
  /** `at`: when the chunk was read from the process (ms since the epoch), where the sandbox knows
   *  it (the local one's spawner process); the agent's events are stamped with it. */
  onStdout(chunk: Buffer, at?: number): void;
  onStderr(chunk: Buffer, at?: number): void;
}

export interface ExecHandle {
  /** Resolves with the exit code (128 + signal number when killed by a signal). */
  done: Promise<number>;
  /** Kills the whole process tree; idempotent. */
  kill(): void;
}

/** A program in a pseudo-terminal of the sandbox (a session's live terminal). */
export interface PtyOptions {
  argv: string[];
  env: Record<string, string>;
  /** The terminal's size when it starts. */
  cols: number;
  rows: number;
  /** What the terminal prints (the program's output and the echo of what it is sent). */
  onData(chunk: Buffer): void;
}

export interface SandboxPty {
  /** The program's exit code; rejects when the sandbox stopped answering under it. */
  done: Promise<number>;
  /** Keystrokes, in order. */
  write(chunk: Buffer): void;
  /** Bytes written and not yet taken by the sandbox (the caller bounds it). */
  readonly pendingBytes: number;
  /**
   * The terminal's new size (the program gets SIGWINCH); resolves once the sandbox took it. The
   * caller sends one at a time. Not ordered with the keystrokes written around it.
   */
  resize(cols: number, rows: number): Promise<void>;
  /** Kills the program; idempotent. */
  kill(): void;
}

/** One sandbox, created for one run. */
export interface Sandbox {
  readonly id: string;
  /** The workspace path as the agent sees it. */
  readonly workdir: string;
  /** The home folder as the agent sees it. */
  readonly home: string;
  /** One line for logs and the run's first event: which isolation is in force. */
  readonly isolation: string;
  exec(opts: ExecOptions): ExecHandle;
  /** Starts `argv` in a PTY (cwd: the workspace); resolves once it runs. */
  openPty(opts: PtyOptions): Promise<SandboxPty>;
  writeFile(pathInWorkspace: string, data: string | Buffer): Promise<void>;
  /** Several files at once: one call to a cloud provider's file API instead of one per file. */
  writeFiles(files: SandboxFile[]): Promise<void>;
  /** null when the file does not exist. */
  readFile(pathInSandbox: string, maxBytes: number): Promise<Buffer | null>;
  /** Kills every process and deletes the workspace; idempotent. */
  destroy(): Promise<void>;
  /**
   * Local bwrap sandboxes: from now on every exec runs in a network namespace of its own whose only
   * ways out are the host addresses given to the answer's `reach` (the run's egress allow-list made
   * a hard boundary: net-boundary.ts). Undefined where the sandbox cannot (no bwrap): there the list
   * binds what goes through the egress proxy, and cloud providers enforce it themselves.
   */
  confineNetwork?(): NetReach | undefined;
  /** The agent CLIs are on the sandbox's PATH (a cloud template installs them), not Weir's own copies. */
  readonly agentsOnPath?: boolean;
  /** Cloud sandboxes: the machine lives this long from now (it dies on its own after). */
  extendTimeout?(ms: number): Promise<void>;
  /** Cloud sandboxes: made for the run (cold) or taken from a warm pool (warm). */
  readonly start?: { kind: 'cold' | 'warm' };
  /**
   * The caller's start is over (its agent or terminal runs, or it gave up): work that would have
   * competed with the start for the event loop and the database goes now (a warm sandbox's pool
   * is refilled). Idempotent; destroy implies it.
   */
  started?(): void;
}

/** A file for Sandbox.writeFiles: its path (relative to the workspace, or absolute inside the sandbox). */
export interface SandboxFile {
  path: string;
  data: string | Buffer;
}

export interface SandboxProvider {
  /** `timeoutMs`: the run's timeout (a cloud sandbox lives that long plus slack). */
  create(def: SandboxDef, runId: string, labels: Record<string, string>, opts?: { timeoutMs?: number }): Promise<Sandbox>;
  /** After a crash: kill what a dead instance left for these runs (by label / folder; `def`: the runs' sandbox). */
  sweep(runIds: string[], def?: SandboxDef): Promise<void>;
}

/** A sandbox's way out through its network boundary. */
export interface NetReach {
  /** The address inside the sandbox that reaches this host address. */
  reach(host: string, port: number): Promise<{ host: string; port: number }>;
}

/** What a harness needs to build the command line. */
export interface HarnessInput {
  profile: ProfileDef;
  /** The gateway URL as the sandbox reaches it. */
  baseUrl: string;
  /** The run's virtual key (raw). */
  apiKey: string;
  runId: string;
  jobName: string | null;
  /** Path of the prompt file inside the workspace. */
  promptFile: string;
  sandbox: Sandbox;
  /** The agent's own session id to resume (a session's later message); unset for a fresh start. */
  resume?: string;
  /** The memory MCP server (its URL, and the MCP config file written in the sandbox's home). */
  mcp?: { url: string; configFile: string };
  /** The sandbox's network boundary, when the run has one (baseUrl is then its inside address). */
  net?: NetReach;
}

/** What the agent said at the end, read from its own result line. */
export interface HarnessOutcome {
  ok: boolean;
  /** Set when ok is false and the agent said why. */
  errorKind?: ErrorKind;
  message?: string;
  result?: string;
  numTurns?: number;
  sessionId?: string;
  agentCostUsd?: number;
}

export interface Harness {
  readonly kind: AgentKind;
  /** argv and environment for the agent process. */
  command(input: HarnessInput): { argv: string[]; env: Record<string, string> };
  /** One output line → an event type and payload; unknown lines and fields are kept as they are. */
  parseLine(line: string): { type: string; payload: unknown };
  /** The run's outcome from the events seen and the exit code. */
  outcome(events: readonly { type: string; payload: unknown }[], exitCode: number): HarnessOutcome;
  /** Files worth keeping (the agent's transcript), as sandbox paths; may be empty. */
  transcriptPaths(sandbox: Sandbox, sessionId: string | undefined): string[];
  /** Folders under HOME holding the agent's session state, kept between a session's runs. */
  readonly sessionState?: readonly string[];
}
