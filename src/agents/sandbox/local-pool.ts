// Warm pools of local sandboxes (`warm_pool: N` on a `local` sandbox): N sandboxes made ahead on
// this host, so that a start is a hand-over, not a fork of the isolation's processes on cores the
// running agents share. A pooled sandbox has its folders made and its whole process chain already
// started, exactly as a cold exec starts it (setpriv's parent-death signal, nice and the session's
// autogroup, bwrap's namespaces, prlimit's limits), but with a launcher at its end instead of the
// agent: a bash that prints READY, then reads the agent's command from its stdin (a pipe the
// spawner process holds), goes to its cwd, drops its own environment for the agent's, points its
// stdin at the agent's input and execs the agent. The agent is then the process a cold exec would
// have run, with the same environment (nothing of Weir's, the run key only there), limits,
// niceness and process group; the key never reaches a command line.
//
// A pooled sandbox serves one run (its first exec the launcher can run: one whose argv needs no
// folder of the host's /tmp bound in) and dies with it, like a cold one; its later execs are cold.
// Pools are per instance: the processes live on this host and in this Weir's spawner, so the pool
// is kept in this process's memory, not in the cloud pools' table (Weir_AgentSandboxPool), and two
// Weirs on one host each keep their own N. A pooled folder (`warm-<hex>` under the runs' root)
// names the Weir that made it (pid and start time) in its labels: the leftover sweep skips it
// while that Weir lives and removes it once it is gone (its processes died with it).
//
// RLIMIT_NPROC counts every process of a host user outside a user namespace: under `user` and
// `none` the idle chains of every pool of that user count against each run's `max_processes`. An
// idle chain is one process under `user` and `none` (setpriv, nice and prlimit each exec the next;
// the launcher's bash is what waits) and three under bwrap (its two processes outside and the
// launcher, all the host user's), so a run's limit there is raised by what the pools of its host
// user hold idle (`heldBy`): the run may start its `max_processes` whatever waits beside it. A run
// under bwrap counts in its own user namespace, and nothing is added to its limit.
//
// Refills are paced: a pool is refilled one sandbox at a time, each once the one before has its
// launcher ready, and only while no run of a pooled sandbox is in its start, so a fan-out's refill
// never takes the CPU from the starts it follows.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxDef } from '../types';
import { spawnDetached, writeInput, type SpawnEvents } from '../spawn/spawner';
import { files } from './files';
import { chooseMode, hostIds, launch, type Mode, type SandboxPaths, type Tools } from './isolation';
import { localOptions, type LocalOptions } from './local-options';
import { killGroup } from './proc-tree';

/** Folder names of pooled sandboxes start with this (run ids never do: see POOL_NAME). */
export const POOL_PREFIX = 'warm-';
const POOL_NAME = /^warm-[0-9a-f]{16}$/;
export const POOL_LABEL = 'weir_pool';
const READY = 'weir-launcher-ready\n';
/**
 * The host user's processes an idle chain holds: its launcher alone (the tools before it exec,
 * never fork), and under bwrap its two processes outside the namespaces too. A pool whose mode is
 * not known yet (no slot made) is counted at the larger.
 */
export const idleChainProcesses = (mode: Mode | undefined): number => (mode === 'bwrap' || mode === undefined ? 3 : 1);

/**
 * The launcher, run by bash as the last process of the chain. Its input: cwd, the stdin file
 * ('' for /dev/null), the number of environment entries, the entries, then argv, each ended by a
 * NUL. Its own environment is unset before the exec; SHLVL is made an array, which bash's `exec`
 * cannot export (it would otherwise add SHLVL=0), so the agent's environment is exactly what was sent.
 */
export const LAUNCHER = [
  `printf '${READY.trimEnd()}\\n'`,
  `IFS= read -r -d '' cwd && IFS= read -r -d '' input && IFS= read -r -d '' n || exit 125`,
  `env=(); for ((i = 0; i < n; i++)); do IFS= read -r -d '' e || exit 125; env+=("$e"); done`,
  `argv=(); while IFS= read -r -d '' a; do argv+=("$a"); done`,
  `cd -- "$cwd" || exit 125`,
  `for v in $(compgen -e); do unset "$v"; done; declare -a SHLVL`,
  `for e in "\${env[@]}"; do export -- "$e"; done`,
  `exec -- "\${argv[@]}" <"\${input:-/dev/null}"`,
].join('\n');

export interface Command {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  /** A path the agent may read, for its stdin (undefined: /dev/null). */
  stdin?: string;
}

/** The launcher's input for a command. */
export function encodeCommand(c: Command): Buffer {
  const env = Object.entries(c.env).map(([k, v]) => `${k}=${v}`);
  const fields = [c.cwd, c.stdin ?? '', String(env.length), ...env, ...c.argv];
  if (fields.some((f) => f.includes('\0'))) throw new Error('exec: a NUL byte in argv, env or a path');
  return Buffer.from(fields.map((f) => f + '\0').join(''));
}

/** A started process chain whose launcher waits for its command. */
export class Primed {
  private state: 'starting' | 'ready' | 'handed' | 'dead' = 'starting';
  private target: SpawnEvents | null = null;
  private pid: number | undefined;
  private seen = '';
  private readonly id: number;
  /** true once the launcher is ready, false if the chain ended (or never started) first. */
  readonly ready: Promise<boolean>;
  /** Every process of the chain is gone (its pipes closed), or it never started. */
  private readonly ended: Promise<void>;

  constructor(file: string, args: string[], opts: { cwd: string; env: Record<string, string>; uid?: number; gid?: number; nice?: number }, private readonly onDead: (why: string) => void) {
    let settle!: (ok: boolean) => void;
    this.ready = new Promise((r) => (settle = r));
    let end!: () => void;
    this.ended = new Promise((r) => (end = r));
    const dead = (why: string) => {
      if (this.state === 'dead') return;
      this.state = 'dead';
      killGroup(this.pid);
      settle(false);
      this.onDead(why);
    };
    this.id = spawnDetached(file, args, { ...opts, stdinPipe: true }, {
      started: (pid) => (this.pid = pid),
      stdout: (c, at) => {
        if (this.target) return this.target.stdout(c, at);
        if (this.state !== 'starting') return;
        this.seen += c.toString('utf8');
        if (this.seen.includes(READY)) {
          this.state = 'ready';
          settle(true);
        } else if (this.seen.length > 4096) dead(`its launcher printed ${JSON.stringify(this.seen.slice(0, 200))}`);
      },
      stderr: (c, at) => {
        if (this.target) return this.target.stderr(c, at);
        if (this.seen.length < 4096) this.seen += c.toString('utf8');
      },
      exited: () => (this.target ? this.target.exited() : dead(`it ended before its hand-over: ${this.seen.slice(0, 300)}`)),
      closed: (code, signal) => {
        end();
        if (this.target) this.target.closed(code, signal);
        else dead(`it ended before its hand-over (${signal ?? `exit ${code}`}): ${this.seen.slice(0, 300)}`);
      },
      failed: (message) => {
        end();
        if (this.target) this.target.failed(message);
        else dead(message);
      },
    });
  }

  /** The chain's process group (its first process's pid), while it waits: what an exec's sweep leaves alone. */
  get waiting(): number | undefined {
    return this.state === 'starting' || this.state === 'ready' ? this.pid : undefined;
  }

  /** Ready and not handed over yet. */
  get usable(): boolean {
    return this.state === 'ready';
  }

  /** Gives the command to the launcher; from now on the chain's events are `events`' (started first). */
  handOver(cmd: Command, events: SpawnEvents): void {
    let input: Buffer;
    try {
      if (this.state !== 'ready') throw new Error(`the pooled sandbox's process chain was ${this.state} at its hand-over`);
      input = encodeCommand(cmd);
    } catch (e) {
      // As a cold start that did not start: the exec ends with 127 and the reason on its stderr.
      void this.kill();
      queueMicrotask(() => events.failed((e as Error).message));
      return;
    }
    this.state = 'handed';
    this.target = events;
    const pid = this.pid!;
    // Asynchronous, as a cold start's is.
    queueMicrotask(() => events.started(pid));
    writeInput(this.id, input);
  }

  /** The chain is killed (an unused slot, or its sandbox destroyed before the hand-over); resolves once it is gone. */
  kill(): Promise<void> {
    if (this.state === 'handed') return Promise.resolve();
    killGroup(this.pid);
    return this.ended;
  }
}

/** One sandbox made ahead: its folder (named POOL_PREFIX…) and its primed process chain. */
export interface Slot {
  name: string;
  runDir: string;
  paths: SandboxPaths;
  mode: Mode;
  o: LocalOptions;
  uid: number;
  primed: Primed;
}

/** What the provider lends the pool to make a slot the way it makes a cold sandbox. */
export interface SlotMaker {
  root: string;
  tools: Tools;
  /** bash, which runs the launcher (undefined: not installed, no pool can be made). */
  bash: string | undefined;
  /** The environment a sandbox's processes start with (nothing of Weir's). */
  env(mode: Mode, paths: SandboxPaths): Record<string, string>;
  log?: (line: string) => void;
}

/** This process's start time (field 22 of /proc/<pid>/stat): a pid with another start time is another process. */
export function startTimeOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (a Weir killed with -9 whose parent has not reaped it: under an init that does not
    // reap, it stays one) runs no more: its pool is not its own any longer.
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

const SELF_START = startTimeOf(process.pid);

/** Whether a pooled folder's labels name a Weir that still runs (its slots are its own). */
export function ownerLives(labels: { pid?: number; owner_start?: string | null }): boolean {
  if (typeof labels.pid !== 'number') return false;
  return labels.pid === process.pid ? labels.owner_start === SELF_START : startTimeOf(labels.pid) === labels.owner_start;
}

export function isPoolName(name: string): boolean {
  return POOL_NAME.test(name);
}

/** The limits a process under `mode` is started with: `max_processes` plus what the pools of its host user hold idle. */
export function countedLimits(o: LocalOptions, mode: Mode, heldIdle: number): LocalOptions {
  return mode === 'bwrap' || heldIdle === 0 ? o : { ...o, maxProcesses: o.maxProcesses + heldIdle };
}

/** The host uid a sandbox of these options runs as. */
function hostUid(o: LocalOptions): number {
  return hostIds(o)?.uid ?? process.getuid!();
}

/** Makes a slot's folders and starts its chain; null (logged) if it could not be made or did not get ready. */
async function makeSlot(m: SlotMaker, def: SandboxDef, o: LocalOptions, heldBy: (uid: number) => number, onDead: (slot: Slot) => void): Promise<Slot | null> {
  const name = `${POOL_PREFIX}${randomBytes(8).toString('hex')}`;
  const runDir = path.join(m.root, name);
  const paths: SandboxPaths = { root: m.root, workdir: path.join(runDir, 'work'), home: path.join(runDir, 'home'), tmp: path.join(runDir, 'tmp') };
  try {
    const mode = await chooseMode(o, m.tools);
    if (!m.bash) throw new Error('bash is not installed: the warm launcher needs it');
    const ids = hostIds(o);
    const uid = hostUid(o);
    const labels = { run_id: name, labels: { [POOL_LABEL]: def.name }, created_at: new Date().toISOString(), pid: process.pid, owner_start: SELF_START, uid };
    const made = await files<'made' | 'exists'>({ op: 'prepare', root: m.root, runDir, labels: JSON.stringify(labels) + '\n', dirs: [paths.workdir, paths.home, paths.tmp], owner: ids });
    if (made === 'exists') throw new Error(`the folder ${name} exists already`);
    const l = launch(mode, m.tools, countedLimits(o, mode, heldBy(uid)), paths, [m.bash, '-c', LAUNCHER, 'weir-launcher'], paths.workdir);
    let slot: Slot | undefined;
    let why = '';
    const primed = new Primed(l.file, l.args, { cwd: paths.workdir, env: m.env(mode, paths), uid: l.uid, gid: l.gid, nice: o.nice > 0 ? o.nice : undefined }, (w) => {
      why = w;
      if (slot) onDead(slot);
    });
    slot = { name, runDir, paths, mode, o, uid, primed };
    if (!(await primed.ready)) throw new Error(why);
    return slot;
  } catch (e) {
    m.log?.(`warm pool ${def.name}: could not make a sandbox: ${(e as Error).message}`);
    await files({ op: 'remove', dir: runDir }).catch(() => {});
    return null;
  }
}

interface Pool {
  def: SandboxDef;
  o: LocalOptions;
  /** The definition's options as JSON: changed options empty the pool and fill it anew. */
  key: string;
  ready: Slot[];
  filling: boolean;
  /** The isolation its slots got (known once one was made). */
  mode?: Mode;
}

export class LocalWarmPools {
  private readonly pools = new Map<string, Pool>();
  /** Runs of pooled sandboxes in their start (created, not yet running or given up). */
  private starting = 0;

  constructor(private readonly m: SlotMaker) {}

  /** A ready slot of this definition's pool, or null (the run starts cold). Taken: it is the run's. */
  take(def: SandboxDef): Slot | null {
    const p = this.pools.get(def.name);
    if (!p || p.key !== JSON.stringify(def.options)) return null;
    while (p.ready.length) {
      const slot = p.ready.shift()!;
      if (slot.primed.usable) return slot;
    }
    return null;
  }

  /** A run of a pooled sandbox begins its start; the function returned ends it (idempotent). */
  beginStart(): () => void {
    this.starting++;
    let over = false;
    return () => {
      if (over) return;
      over = true;
      if (--this.starting === 0) for (const p of this.pools.values()) void this.fill(p);
    };
  }

  /** The pools of these definitions are kept at their size; the others are emptied. */
  maintain(defs: SandboxDef[]): void {
    const want = new Map<string, { def: SandboxDef; o: LocalOptions }>();
    for (const def of defs) {
      if (def.provider !== 'local') continue;
      let o: LocalOptions;
      try {
        o = localOptions(def.options);
      } catch {
        continue; // its runs fail with the option's error; nothing to keep ready
      }
      if (o.warmPool > 0) want.set(def.name, { def, o });
    }
    for (const [name, p] of this.pools) {
      const w = want.get(name);
      if (!w || JSON.stringify(w.def.options) !== p.key) this.drain(name);
    }
    for (const [name, w] of want) {
      let p = this.pools.get(name);
      if (!p) {
        p = { def: w.def, o: w.o, key: JSON.stringify(w.def.options), ready: [], filling: false };
        this.pools.set(name, p);
      }
      void this.fill(p);
    }
  }

  /**
   * The processes the pools of this host uid may hold idle (the pools' sizes, not what is ready
   * now: a limit is set once per process, and a pool refills behind the runs it served).
   */
  heldBy(uid: number): number {
    let n = 0;
    for (const p of this.pools.values()) if (hostUid(p.o) === uid) n += p.o.warmPool * idleChainProcesses(p.mode);
    return n;
  }

  /** Ready slots of a definition (tests, the start line). */
  readyCount(name: string): number {
    return this.pools.get(name)?.ready.filter((s) => s.primed.usable).length ?? 0;
  }

  /** Ready slots of every pool, by sandbox name (GET /v1/agent/stats). */
  readyCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of this.pools.keys()) out[name] = this.readyCount(name);
    return out;
  }

  /** The pool's slots are killed and removed (a definition gone, or changed). */
  drain(name: string): void {
    const p = this.pools.get(name);
    if (!p) return;
    this.pools.delete(name);
    for (const slot of p.ready.splice(0)) void discard(slot);
  }

  private async fill(p: Pool): Promise<void> {
    if (p.filling) return;
    p.filling = true;
    try {
      // Known before the first slot is made, so that its limits count this pool as the later ones' do.
      p.mode ??= await chooseMode(p.o, this.m.tools).catch(() => undefined);
      while (this.starting === 0 && this.pools.get(p.def.name) === p && p.ready.length < p.o.warmPool) {
        const slot = await makeSlot(this.m, p.def, p.o, (uid) => this.heldBy(uid), (dead) => {
          // Only a slot still waiting: a taken one is its sandbox's (destroyed with it).
          const i = p.ready.indexOf(dead);
          if (i < 0) return;
          p.ready.splice(i, 1);
          void discard(dead);
        });
        if (!slot) break; // logged; tried again at the next maintenance
        if (this.pools.get(p.def.name) !== p) {
          void discard(slot);
          break;
        }
        p.ready.push(slot);
      }
    } finally {
      p.filling = false;
    }
  }
}

async function discard(slot: Slot): Promise<void> {
  await slot.primed.kill();
  await files({ op: 'remove', dir: slot.runDir }).catch(() => {});
}
