// What the fake E2B and Daytona servers share: "machines" that are folders on this host (a home
// per machine, made with it, removed when it is killed) whose commands are real local processes,
// each in its own process group so a kill takes what it started. Run as root, the processes run as
// `nobody` (cloud sandboxes run their agent as an unprivileged user too). The agent CLIs installed
// with Weir are on their PATH, as a template that installs them would put them. A PTY is a real one
// on this host, made by util-linux's `script` (as the local sandbox makes its own), its input a
// pipe: what the provider's API is sent goes in, what the terminal shows comes out. A provider's
// daemon resizes its PTY with an ioctl on the master, which `script` keeps to itself: here a loop
// started inside the terminal reads "COLS ROWS" lines from a third pipe (the child's fd 3, which
// `script` passes on) and runs `stty` on the terminal, the same TIOCSWINSZ and SIGWINCH.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { kill, killOnExit } from './exit-kill';

const NOBODY = 65534;
const REPO_BIN = path.resolve(__dirname, '../../../node_modules/.bin');

export interface FakeMachine {
  id: string;
  home: string;
  labels: Record<string, string>;
  env: Record<string, string>;
  template: string;
  createdAt: Date;
  /** Milliseconds of life asked for (as the provider's API was told). */
  lifetimeMs: number;
  procs: Set<ChildProcess>;
  /** Set when the machine died: its streams end with an error, its API answers 404. */
  gone: boolean;
}

/** A PTY on a fake machine: its process (stdin: keystrokes, stdout: the screen) and its size. */
export interface FakePty {
  child: ChildProcess;
  cols: number;
  rows: number;
  /** What the daemon's resize does: the PTY's new size, SIGWINCH to its program. */
  resize(cols: number, rows: number): void;
}

/** Epoch milliseconds, sub-millisecond (the bench compares them with Weir's event times). */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export class FakeMachines {
  readonly root: string;
  readonly all = new Map<string, FakeMachine>();
  /** Per machine, when the fake was busy answering a call about it: the provider's share of a start. */
  readonly spans = new Map<string, Array<[number, number]>>();
  private n = 0;

  constructor(prefix: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), `weir-fake-${prefix}-`));
    fs.chmodSync(this.root, 0o755);
  }

  make(idPrefix: string, template: string, labels: Record<string, string>, env: Record<string, string>, lifetimeMs: number): FakeMachine {
    const id = `${idPrefix}${(++this.n).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const home = path.join(this.root, id, 'home');
    fs.mkdirSync(home, { recursive: true });
    if (process.getuid?.() === 0) {
      fs.chownSync(path.dirname(home), NOBODY, NOBODY);
      fs.chownSync(home, NOBODY, NOBODY);
    }
    const m: FakeMachine = { id, home, labels, env, template, createdAt: new Date(), lifetimeMs, procs: new Set(), gone: false };
    this.all.set(id, m);
    return m;
  }

  span(id: string, from: number, to: number): void {
    let list = this.spans.get(id);
    if (!list) this.spans.set(id, (list = []));
    // Bounded: a long run's calls are not all needed, the last ones are.
    if (list.length >= 1000) list.shift();
    list.push([from, to]);
  }

  live(): FakeMachine[] {
    return [...this.all.values()].filter((m) => !m.gone);
  }

  get(id: string | undefined): FakeMachine | undefined {
    const m = id ? this.all.get(id) : undefined;
    return m && !m.gone ? m : undefined;
  }

  /** A shell command in the machine, with its own environment only (nothing of the test process). */
  spawn(m: FakeMachine, cmd: string, cwd: string | undefined, env: Record<string, string> = {}, stdin: 'ignore' | 'pipe' = 'ignore', extraPipes = 0): ChildProcess {
    const nodeDir = path.dirname(process.execPath);
    const root = process.getuid?.() === 0;
    const child = spawn('/bin/bash', ['-c', cmd], {
      cwd: cwd || m.home,
      env: { PATH: `${REPO_BIN}:${nodeDir}:/usr/local/bin:/usr/bin:/bin`, HOME: m.home, USER: 'user', LANG: 'C.UTF-8', ...m.env, ...env },
      detached: true,
      stdio: [stdin, 'pipe', 'pipe', ...Array<'pipe'>(extraPipes).fill('pipe')],
      uid: root ? NOBODY : undefined,
      gid: root ? NOBODY : undefined,
    });
    m.procs.add(child);
    killOnExit(child, true);
    child.on('close', () => m.procs.delete(child));
    child.on('error', () => m.procs.delete(child));
    return child;
  }

  /**
   * `argv` in a PTY of `cols` × `rows` (the providers start the machine's interactive login shell):
   * write keystrokes to the child's stdin; its stdout is the terminal's output.
   */
  spawnPty(m: FakeMachine, argv: string[], cwd: string | undefined, env: Record<string, string>, cols: number, rows: number): FakePty {
    const follow = `while read -r c r; do stty cols "$c" rows "$r" </dev/tty; done <&3 >/dev/null 2>&1 &`;
    const inner = `stty cols ${cols} rows ${rows} 2>/dev/null; ${follow} exec ${argv.map(shq).join(' ')} 3<&-`;
    const child = this.spawn(m, `exec script -qfec ${shq(inner)} /dev/null`, cwd, { TERM: 'xterm-256color', ...env }, 'pipe', 1);
    const sizes = child.stdio[3] as Writable;
    sizes.on('error', () => {});
    // The loop holds the pipe's other end until the terminal hangs up: let go once the PTY is gone.
    child.on('exit', () => sizes.destroy());
    const pty: FakePty = {
      child,
      cols,
      rows,
      resize: (c, r) => {
        pty.cols = c;
        pty.rows = r;
        sizes.write(`${c} ${r}\n`);
      },
    };
    return pty;
  }

  /** The machine dies: its processes are killed, its folder removed. */
  kill(m: FakeMachine): void {
    m.gone = true;
    for (const p of m.procs) killGroup(p);
    fs.rmSync(path.join(this.root, m.id), { recursive: true, force: true });
  }

  /** A path inside the machine, or null if it leaves the machine's folder. */
  inside(m: FakeMachine, p: string): string | null {
    const abs = path.resolve(m.home, p);
    return abs.startsWith(path.join(this.root, m.id) + path.sep) ? abs : null;
  }

  writeFile(m: FakeMachine, abs: string, data: Buffer): void {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, data);
    if (process.getuid?.() === 0) {
      // Parent folders the write made belong to the sandbox user too, as they would in a real one.
      for (let d = path.dirname(abs); d.startsWith(m.home); d = path.dirname(d)) fs.chownSync(d, NOBODY, NOBODY);
      fs.chownSync(abs, NOBODY, NOBODY);
    }
  }

  close(): void {
    for (const m of this.live()) this.kill(m);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function killGroup(p: ChildProcess): void {
  kill(p, true);
}

/** Shared fault switches: the next control-plane calls fail with a status, or never answer. */
export class Faults {
  failures: number[] = [];
  hang = false;
  /** Answers the next `n` control-plane calls with `status`. */
  failNext(n: number, status: number): void {
    for (let i = 0; i < n; i++) this.failures.push(status);
  }
  reset(): void {
    this.failures = [];
    this.hang = false;
  }
}
