// A sandbox on a cloud machine (E2B or Daytona), the same interface as `local`: the workspace is
// `$HOME/work` of the machine's user (asked once, when the machine is made, which also proves a
// shell answers in it), every exec is one shell command line (command-line.ts) whose output
// streams back, files go through the provider's file API, and destroy kills the machine. A PTY is
// the provider's own (machine.ts), running the same kind of command line with the terminal as stdin;
// what viewers type waits until that line runs (pty-start.ts).
import path from 'node:path';
import type { ExecHandle, ExecOptions, PtyOptions, Sandbox, SandboxFile, SandboxPty } from '../types';
import { commandLine, quote, terminalLine } from './command-line';
import type { Machine } from './machine';
import { PtyStartGate } from './pty-start';

/** How the sandbox was had: made for the run, or taken from the warm pool. */
export interface StartInfo {
  kind: 'cold' | 'warm';
}

/** Makes the workspace and prints HOME: the first command every machine runs. */
export const PREPARE = 'mkdir -p "$HOME/work" "$HOME/.weir" && printf "%s" "$HOME"';

/** A short command of Weir's own: its output (stdout; stderr only where the provider merges them). */
export async function quick(machine: Machine, cmd: string): Promise<{ code: number; out: string }> {
  if (machine.runQuick) return machine.runQuick(cmd);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const code = await machine.run(cmd, (c) => out.push(c), (c) => err.push(c)).done;
  return { code, out: Buffer.concat(out).toString('utf8') || (code !== 0 ? Buffer.concat(err).toString('utf8') : '') };
}

/** Runs PREPARE; the machine's home folder. */
export async function prepare(machine: Machine): Promise<string> {
  const { code, out } = await quick(machine, PREPARE);
  const home = out.trim();
  if (code !== 0 || !home.startsWith('/') || home.includes('\n')) throw new Error(`the sandbox's shell did not answer as expected (exit ${code}): ${out.slice(0, 300)}`);
  return home;
}

export class CloudSandbox implements Sandbox {
  readonly workdir: string;
  readonly isolation: string;
  readonly agentsOnPath = true;
  private readonly running = new Set<ExecHandle>();
  private destroyed: Promise<void> | undefined;

  constructor(
    private readonly machine: Machine,
    readonly home: string,
    provider: string,
    template: string | undefined,
    readonly start: StartInfo,
    private readonly onDestroy: (machine: Machine) => Promise<void> = (m) => m.kill(),
    /** What waits for the start to be over (see Sandbox.started): a warm pool's refill. */
    private afterStart?: () => void,
  ) {
    this.workdir = path.posix.join(home, 'work');
    this.isolation = `${provider} sandbox ${machine.id}${template ? ` (template ${template})` : ''}`;
  }

  get id(): string {
    return this.machine.id;
  }

  private inside(p: string): string {
    const abs = path.posix.resolve(this.workdir, p);
    if (abs !== this.home && !abs.startsWith(this.home + '/')) throw new Error(`path outside the sandbox's home: ${JSON.stringify(p)}`);
    return abs;
  }

  exec(opts: ExecOptions): ExecHandle {
    if (this.destroyed) throw new Error('sandbox destroyed');
    const cwd = this.inside(opts.cwd ?? '.');
    const stdin = opts.stdinFile === undefined ? undefined : this.inside(opts.stdinFile);
    const line = commandLine(opts.argv, cwd, { IS_SANDBOX: '1', TERM: 'dumb', ...opts.env }, stdin);
    const r = this.machine.run(line, opts.onStdout, opts.onStderr);
    const handle: ExecHandle = { done: r.done, kill: () => r.kill() };
    this.running.add(handle);
    const forget = () => this.running.delete(handle);
    r.done.then(forget, forget);
    return handle;
  }

  async openPty(opts: PtyOptions): Promise<SandboxPty> {
    if (this.destroyed) throw new Error('sandbox destroyed');
    const cmd = terminalLine(opts.argv, this.workdir, { IS_SANDBOX: '1', ...opts.env, TERM: 'xterm-256color' });
    // Keystrokes wait until the shell has exec'd the agent (pty-start.ts).
    const gate = new PtyStartGate(opts.onData);
    const pty = await this.machine.pty({ cmd, mark: gate.mark, cols: opts.cols, rows: opts.rows, onData: gate.output });
    gate.attach((c) => pty.write(c));
    // Killed with the sandbox, as an exec is.
    const handle: ExecHandle = { done: pty.done, kill: () => pty.kill() };
    this.running.add(handle);
    const forget = () => this.running.delete(handle);
    pty.done.then(forget, forget);
    if (this.destroyed) pty.kill();
    return {
      done: pty.done,
      write: (c) => gate.input(c),
      get pendingBytes() {
        return gate.pendingBytes + pty.pendingBytes;
      },
      resize: (cols, rows) => pty.resize(cols, rows),
      kill: () => pty.kill(),
    };
  }

  writeFile(pathInWorkspace: string, data: string | Buffer): Promise<void> {
    return this.writeFiles([{ path: pathInWorkspace, data }]);
  }

  async writeFiles(files: SandboxFile[]): Promise<void> {
    if (this.destroyed) throw new Error('sandbox destroyed');
    if (!files.length) return;
    await this.machine.write(files.map((f) => ({ path: this.inside(f.path), data: typeof f.data === 'string' ? Buffer.from(f.data) : f.data })));
  }

  started(): void {
    const f = this.afterStart;
    this.afterStart = undefined;
    f?.();
  }

  /** `*` may stand for any part of a path component (the first match in name order is read). */
  async readFile(pathInSandbox: string, maxBytes: number): Promise<Buffer | null> {
    if (this.destroyed) return null;
    let p = this.inside(pathInSandbox);
    if (p.includes('*')) {
      const pattern = p.split('*').map(quote).join('*');
      const { code, out: found } = await quick(this.machine, `for f in ${pattern}; do [ -f "$f" ] && printf "%s" "$f" && break; done 2>/dev/null; true`);
      if (code !== 0 || !found) return null;
      p = this.inside(found);
    }
    const b = await this.machine.read(p, maxBytes);
    return b && b.length > maxBytes ? b.subarray(0, maxBytes) : b;
  }

  /** The machine lives this long from now (the run's timeout plus the time to collect its results). */
  extendTimeout(ms: number): Promise<void> {
    return this.machine.setLifetime(ms);
  }

  destroy(): Promise<void> {
    this.started();
    this.destroyed ??= (async () => {
      for (const h of this.running) h.kill();
      await Promise.allSettled([...this.running].map((h) => h.done));
      await this.onDestroy(this.machine);
    })();
    return this.destroyed;
  }
}
