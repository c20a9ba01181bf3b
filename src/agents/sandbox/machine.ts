// The seam between a cloud sandbox as Weir uses it (cloud-sandbox.ts) and a provider's SDK
// (e2b.ts, daytona.ts): what each SDK must do, in the smallest terms both can do it in. A machine
// runs shell command lines (the sandbox side builds them), moves files, lives for a set time and
// dies; a cloud lists and kills machines by label, which is what the sweeper and the pool go by.
// Both providers' PTY APIs start the machine's interactive login shell and nothing else: a PTY's
// command line is typed into that shell, its secrets in the PTY's environment, not on the line.

/** Why a machine failed: the sandbox is gone (retried on a new one), never the agent's fault. */
export class SandboxLostError extends Error {}

export interface MachineRun {
  /** The exit code; rejects with SandboxLostError when the machine stopped answering. */
  done: Promise<number>;
  kill(): void;
}

/** A PTY on the machine, running one shell command line. */
export interface MachinePtyOptions {
  /** Run as `exec sh -c "$WEIR_PTY_CMD"` by the machine's shell; its output is the terminal's. */
  cmd: string;
  /** Printed by the shell just before it execs `cmd` (pty-start.ts). */
  mark: string;
  cols: number;
  rows: number;
  onData(c: Buffer): void;
}

export interface MachinePty {
  /** The exit code; rejects with SandboxLostError when the machine stopped answering. */
  done: Promise<number>;
  /** Keystrokes, delivered in order. */
  write(data: Buffer): void;
  /** Bytes written and not yet delivered. */
  readonly pendingBytes: number;
  /** The PTY's new size (its program gets SIGWINCH); resolves once the provider took it. */
  resize(cols: number, rows: number): Promise<void>;
  kill(): void;
}

/**
 * What is typed into a fresh PTY's shell: the command line comes from its environment (ptyEnv), and
 * the mark, printed first, says the line runs (pty-start.ts).
 */
export const PTY_LINE = ` printf '\\033]%s\\007' "$WEIR_PTY_MARK"; exec sh -c "$WEIR_PTY_CMD"\n`;

/** The PTY's environment that PTY_LINE reads. */
export function ptyEnv(o: MachinePtyOptions): Record<string, string> {
  return { WEIR_PTY_CMD: o.cmd, WEIR_PTY_MARK: o.mark };
}

export interface Machine {
  readonly id: string;
  /** Runs `cmd` with the machine's shell; stdin is whatever the command line redirects. */
  run(cmd: string, onStdout: (c: Buffer) => void, onStderr: (c: Buffer) => void): MachineRun;
  /**
   * A short command of Weir's own (the workspace, a file lookup), output collected, when the
   * provider has a cheaper way than `run` (Daytona: one call instead of a session and a socket).
   */
  runQuick?(cmd: string): Promise<{ code: number; out: string }>;
  /** Opens a PTY and starts `cmd` in it; resolves once the PTY runs. */
  pty(o: MachinePtyOptions): Promise<MachinePty>;
  /** Writes every file (absolute paths, parents made as needed) in as few calls as the SDK allows: one for both. */
  write(files: Array<{ path: string; data: Buffer }>): Promise<void>;
  /** null when the file does not exist; at most maxBytes. */
  read(path: string, maxBytes: number): Promise<Buffer | null>;
  /** The machine dies this long from now unless told again. */
  setLifetime(ms: number): Promise<void>;
  kill(): Promise<void>;
}

export interface MachineInfo {
  id: string;
  labels: Record<string, string>;
}

export interface Cloud {
  readonly kind: 'e2b' | 'daytona';
  create(labels: Record<string, string>, lifetimeMs: number): Promise<Machine>;
  /** A machine made earlier (by this instance or another), by id. */
  connect(id: string): Promise<Machine>;
  /** Machines whose labels include every one given. */
  list(labels: Record<string, string>): Promise<MachineInfo[]>;
  /** Idempotent: a machine already gone is not an error. */
  kill(id: string): Promise<void>;
}
