// The live terminal of a session (`weir attach`, the WebSocket at /v1/agent/sessions/{id}/attach):
// the agent's interactive CLI in a PTY in a sandbox of its own, which the control thread owns.
// Viewers come and go (detach leaves the terminal running; attaching again replays what it printed
// last, up to SCROLLBACK bytes, then goes on live); the terminal ends when its agent exits, when the
// session ends (DELETE) or when the reaper finds the session idle, and then its key is blocked and
// its sandbox destroyed.
//
// The PTY is the sandbox's own (`Sandbox.openPty`): on `local`, util-linux's `script` with a FIFO
// for its input (sandbox/local-pty.ts); on E2B and Daytona, the provider's PTY API through its SDK
// (sandbox/e2b.ts, sandbox/daytona.ts). What it prints is relayed to every viewer; what viewers type
// goes to it in order. The agent calls models with a key minted for the terminal, as a run's is
// (LLM routes only), and blocked when the terminal ends. The terminal has one size, the last one a
// viewer gave (at attach or in a resize: terminal-size.ts), whichever viewer gave it; viewers
// whose windows differ see the program drawn for the last one. A profile with an egress allow-list
// fences the terminal as it fences a run (sandbox/net-confine.ts: on a local bwrap sandbox a network
// namespace whose only ways out are the gateway and the egress proxy), and the vault gives it what
// it gives a run (secrets as stubs, the proxy), released when the terminal ends.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { StreamSink } from '../server/worker-protocol';
import type { AgentSetup } from './agent-setup';
import { confineNetwork } from './sandbox/net-confine';
import { mintRunKey, revokeRunKey, type RunKeys } from './run-key';
import { restoreInto } from './session-state';
import type { SessionRow } from './session-store';
import { EarlyInput } from './terminal-input';
import type { TerminalSize } from './terminal-size';
import type { Harness, HarnessInput, Sandbox, SandboxDef, SandboxProvider, SandboxPty } from './types';

/** What a viewer that attaches gets replayed first: the end of what the terminal printed. */
const SCROLLBACK = 64 * 1024;
/**
 * Input bytes kept for a PTY not open yet, or buffered toward one whose agent does not read; past
 * this, input is dropped and the viewer who typed it is told.
 */
const INPUT_MAX_BUFFERED = 256 * 1024;
/**
 * A cloud terminal's sandbox lives this long (plus the provider's slack) and is told so again every
 * RENEW_MS while the terminal runs: within every plan's cap on a sandbox's life (E2B's is 1 h on
 * its smallest), and one a crash left dies soon after.
 */
const LIFETIME_MS = 30 * 60_000;
const RENEW_MS = 10 * 60_000;
/** The terminal's size until a viewer says its own: a common full-screen window. */
const DEFAULT_SIZE: TerminalSize = { cols: 120, rows: 40 };
const PROMPT_FILE = '.weir/prompt.txt';

export interface TerminalDeps {
  pool: pg.Pool;
  keys: RunKeys;
  sandboxDef(name: string): Promise<SandboxDef | null>;
  provider(kind: SandboxDef['provider']): SandboxProvider;
  harness(kind: SessionRow['profile']['agent']): Harness;
  /** What the vault adds to the agent (its secrets' stubs, the egress proxy), as for a run. */
  prepare(session: SessionRow, sandbox: Sandbox, input: HarnessInput): Promise<AgentSetup>;
  baseUrl(): string;
  /** How long a terminal's key lives at most (the session's idle timeout). */
  keyLifeMs(): number;
  log(line: string): void;
}

export type ViewerHandle = (() => void) & { input(chunk: string): void; resize(size: TerminalSize): void };

/** A terminal's sandbox id: its session's id and a suffix of its own. */
const SANDBOX_ID = /^(.+)-t[0-9a-f]{8}$/;

/** The session a sandbox id is the terminal of, or null for a run's sandbox. */
export function terminalSession(sandboxId: string): string | null {
  return SANDBOX_ID.exec(sandboxId)?.[1] ?? null;
}

class Terminal {
  readonly viewers = new Set<StreamSink>();
  private scrollback: Buffer[] = [];
  private scrollBytes = 0;
  private sandbox: Sandbox | null = null;
  private pty: SandboxPty | null = null;
  private renew: NodeJS.Timeout | null = null;
  private keyToken: string | null = null;
  /** The vault's setup for the agent (its proxy registration goes when the terminal ends). */
  private setup: AgentSetup = {};
  /** The size the terminal is to have: the last one a viewer gave. */
  private size: TerminalSize;
  /** The size the PTY was last given (null until it opens), and whether a resize is under way. */
  private applied: TerminalSize | null = null;
  private sizing = false;
  /** What viewers typed before the PTY opened, typed into it when it does. */
  private readonly early = new EarlyInput(INPUT_MAX_BUFFERED);
  /** The viewers told their input was dropped (each once, until input is taken again). */
  private told = new WeakSet<StreamSink>();
  private anyTold = false;
  private ended = false;
  /** Why it ended, for a viewer that arrives too late to be told live. */
  private why = '';
  /** Resolves once the agent runs (or failed to start). */
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    readonly session: SessionRow,
    readonly sandboxId: string,
    private readonly d: TerminalDeps,
    private readonly gone: () => void,
    size: TerminalSize,
  ) {
    this.size = size;
    this.done = new Promise((r) => (this.finish = r));
    this.ready = this.start().catch((e: unknown) => this.end(`the terminal could not start: ${(e as Error).message}`));
  }

  private async start(): Promise<void> {
    const { d, session } = this;
    const profile = session.profile;
    const def = await d.sandboxDef(profile.sandbox);
    if (!def) throw new Error(`unknown sandbox "${profile.sandbox}"`);
    const sandbox = await d.provider(def.provider).create(def, this.sandboxId, { weir_session_id: session.id }, { timeoutMs: LIFETIME_MS });
    this.sandbox = sandbox;
    if (this.ended) return;
    if (sandbox.extendTimeout) {
      const extend = sandbox.extendTimeout.bind(sandbox);
      this.renew = setInterval(() => void extend(LIFETIME_MS).catch((e: unknown) => d.log(`terminal of ${session.id}: extending its sandbox's life: ${(e as Error).message}`)), RENEW_MS);
      this.renew.unref();
    }
    await restoreInto(d.pool, session, sandbox);
    const key = await mintRunKey(d.keys, {
      id: this.sandboxId, attempt: 1, job_name: session.job_name, team_id: session.team_id, user_id: session.user_id,
      max_budget: session.max_budget, model: profile.model, timeoutMs: d.keyLifeMs(),
    });
    this.keyToken = key.token;
    if (this.ended) return;
    const harness = d.harness(profile.agent);
    const input: HarnessInput = {
      profile, baseUrl: d.baseUrl(), apiKey: key.key, runId: this.sandboxId, jobName: session.job_name,
      promptFile: `${sandbox.home}/${PROMPT_FILE}`, sandbox, resume: session.agent_session_id ?? undefined,
    };
    // Before the vault's setup: under the boundary the proxy, as the gateway, is reached through it.
    if (profile.egress?.allow) await confineNetwork(sandbox, input);
    this.setup = await d.prepare(session, sandbox, input);
    if (this.ended) return this.setup.release?.();
    await sandbox.writeFiles([{ path: input.promptFile, data: '' }, ...(this.setup.files ?? [])]);
    const { argv, env } = interactive(harness, input);
    const size = this.size;
    const pty = await sandbox.openPty({ argv, env: this.setup.env ? { ...env, ...this.setup.env } : env, cols: size.cols, rows: size.rows, onData: (c) => this.output(c) });
    // What was typed while it opened goes first; later keystrokes follow it (written in order).
    for (const c of this.early.take()) pty.write(c);
    this.pty = pty;
    this.applied = size;
    sandbox.started?.();
    if (this.ended) pty.kill();
    else void this.follow(); // a viewer's resize while it opened
    void pty.done.then(
      (code) => this.end(`the agent exited (${code})`),
      (e: unknown) => this.end(`the sandbox stopped: ${(e as Error).message}`),
    );
  }

  private output(c: Buffer): void {
    this.scrollback.push(c);
    this.scrollBytes += c.length;
    while (this.scrollBytes - this.scrollback[0]!.length >= SCROLLBACK) this.scrollBytes -= this.scrollback.shift()!.length;
    const b64 = c.toString('base64');
    for (const v of this.viewers) v.data(b64);
  }

  /** A new viewer gets the scrollback first; one that comes after the end is told why and closed. */
  join(v: StreamSink): void {
    if (this.scrollBytes) v.data(Buffer.concat(this.scrollback).toString('base64'));
    if (!this.ended) return void this.viewers.add(v);
    v.data(Buffer.from(`\r\n[weir: ${this.why}]\r\n`).toString('base64'));
    v.end();
  }

  /** A viewer's window size: the terminal's from now on (the last one given wins). */
  resize(size: TerminalSize): void {
    if (this.ended) return;
    this.size = size;
    void this.follow();
  }

  /**
   * Brings the PTY to the size asked for, one resize at a time: those asked while one is under way
   * (a window being dragged) collapse into the last.
   */
  private async follow(): Promise<void> {
    if (this.sizing || !this.pty) return;
    this.sizing = true;
    try {
      while (!this.ended && (this.size.cols !== this.applied!.cols || this.size.rows !== this.applied!.rows)) {
        const want = (this.applied = this.size);
        await this.pty.resize(want.cols, want.rows).catch((e: unknown) => this.d.log(`terminal of ${this.session.id}: resizing it to ${want.cols}x${want.rows}: ${(e as Error).message}`));
      }
    } finally {
      this.sizing = false;
    }
  }

  /** A viewer's keystrokes (`from`: that viewer, told if they are dropped). */
  write(chunk: Buffer, from: StreamSink): void {
    if (this.ended) return;
    if (!this.pty) {
      if (this.early.keep(chunk)) return this.taken();
      return this.dropped(from, `the agent is still starting and at most ${INPUT_MAX_BUFFERED / 1024} KB typed ahead are kept`);
    }
    if (this.pty.pendingBytes > INPUT_MAX_BUFFERED) return this.dropped(from, `the agent has not read the last ${INPUT_MAX_BUFFERED / 1024} KB typed`);
    this.taken();
    this.pty.write(chunk);
  }

  private taken(): void {
    if (!this.anyTold) return;
    this.anyTold = false;
    this.told = new WeakSet();
  }

  /** Input dropped: the viewer who typed it is told, once until input is taken again. */
  private dropped(from: StreamSink, why: string): void {
    if (this.told.has(from)) return;
    this.told.add(from);
    this.anyTold = true;
    this.d.log(`terminal of ${this.session.id}: input dropped (${why})`);
    from.data(Buffer.from(`\r\n[weir: input dropped: ${why}]\r\n`).toString('base64'));
  }

  /** Ends the terminal (idempotent): viewers told, agent killed, key blocked, sandbox destroyed. */
  end(why: string): Promise<void> {
    if (this.ended) return this.done;
    this.ended = true;
    this.why = why;
    this.gone();
    this.d.log(`terminal of ${this.session.id}: ${why}`);
    for (const v of this.viewers) {
      v.data(Buffer.from(`\r\n[weir: ${why}]\r\n`).toString('base64'));
      v.end();
    }
    this.viewers.clear();
    this.pty?.kill();
    this.setup.release?.();
    if (this.renew) clearInterval(this.renew);
    void (async () => {
      if (this.keyToken) await revokeRunKey(this.d.keys, this.keyToken).catch((e: unknown) => this.d.log(`terminal of ${this.session.id}: blocking its key failed: ${(e as Error).message}`));
      await this.sandbox?.destroy().catch(() => {});
    })().finally(() => this.finish());
    return this.done;
  }
}

/** Every live terminal of this instance, one per session. */
export class Terminals {
  private readonly live = new Map<string, Terminal>();

  constructor(private readonly d: TerminalDeps) {}

  /** Attaches a viewer to the session's terminal, starting it if none runs; `size`: its window's, if it said. */
  attach(session: SessionRow, sink: StreamSink, size: TerminalSize | null = null): ViewerHandle {
    let t = this.live.get(session.id);
    if (!t) {
      const made: Terminal = new Terminal(session, `${session.id}-t${randomBytes(4).toString('hex')}`, this.d, () => {
        if (this.live.get(session.id) === made) this.live.delete(session.id);
      }, size ?? DEFAULT_SIZE);
      this.live.set(session.id, made);
      t = made;
    } else if (size) t.resize(size);
    const term = t;
    sink.head(200, []);
    let attached = true;
    void term.ready.then(() => {
      if (!attached) return;
      term.join(sink);
    });
    const detach = () => {
      attached = false;
      term.viewers.delete(sink);
    };
    return Object.assign(detach, {
      input: (chunk: string) => {
        if (attached) term.write(Buffer.from(chunk, 'base64'), sink);
      },
      resize: (s: TerminalSize) => {
        if (attached) term.resize(s);
      },
    });
  }

  /** Whether this sandbox id is a live terminal's (the leftover sweep keeps it). */
  holds(sandboxId: string): boolean {
    for (const t of this.live.values()) if (t.sandboxId === sandboxId) return true;
    return false;
  }

  close(sessionId: string, why: string): Promise<void> {
    return this.live.get(sessionId)?.end(why) ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.live.values()].map((t) => t.end('Weir is stopping')));
  }
}

/** The agent's interactive command line: its print-mode one without what makes it print-mode. */
function interactive(harness: Harness, input: HarnessInput): { argv: string[]; env: Record<string, string> } {
  const { argv, env } = harness.command(input);
  if (harness.kind === 'claude-code') {
    const out: string[] = [];
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === '-p' || argv[i] === '--verbose') continue;
      if (argv[i] === '--output-format') {
        i++;
        continue;
      }
      out.push(argv[i]!);
    }
    return { argv: out, env };
  }
  if (harness.kind === 'codex') {
    // `codex [options] [resume ID]`: the TUI instead of `exec --json … -`.
    const drop = new Set(['exec', '--json', '--skip-git-repo-check']);
    const out = argv.filter((a, i) => !(drop.has(a) && i < 5) && !(a === '-' && i === argv.length - 1));
    return { argv: out, env };
  }
  return { argv, env };
}
