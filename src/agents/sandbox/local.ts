// The `local` sandbox provider: each run gets a folder under `root` holding its workspace, its
// home, its /tmp and a labels file, and its processes run unprivileged, with a clean environment
// and limits (see isolation.ts for how, local-options.ts for the settings).
//
//   <root>/<runId>/labels.json   whose run this is: what `sweep` goes by after a crash
//   <root>/<runId>/work          the workspace (the agent's cwd)
//   <root>/<runId>/home          $HOME
//   <root>/<runId>/tmp           /tmp inside bwrap, $TMPDIR otherwise
//
// Paths are the same inside and outside (bwrap binds each folder at its own path), so what the
// agent prints about its files is true on the host too. Every process starts in its own session
// (bwrap: its own pid namespace too); `kill` takes the whole tree, including what left the group.
// The execs of one sandbox run one after the other (clone, then the agent): when one ends, what
// it left running in the sandbox's folders is killed with it.
// With `warm_pool: N` a run takes a sandbox made ahead (local-pool.ts): its folder is the pooled
// one's (`<root>/warm-<hex>`), its first exec a hand-over to a process chain already started, and
// `<root>/<runId>` is a link to it, so that a sweep by the run's id (its recovery after a crash,
// or by another instance once its lease expired) finds it while the Weir that made it still lives.
import { closeSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ExecHandle, ExecOptions, NetReach, PtyOptions, Sandbox, SandboxDef, SandboxFile, SandboxProvider, SandboxPty } from '../types';
import { confine, openConfinedSync } from './confine';
import { files, watchSize } from './files';
import { BOUNDARY_LINE, chooseMode, describe, findOnPath, hiddenUnderTmp, hostIds, launch, type Mode, type SandboxPaths, type Tools } from './isolation';
import { localOptions, type LocalOptions } from './local-options';
import { countedLimits, isPoolName, LocalWarmPools, ownerLives, type Primed } from './local-pool';
import { localPty } from './local-pty';
import { NetBoundary } from './net-boundary';
import type { Forwarder } from './net-forward';
import { killGroup, killTied } from './proc-tree';
import { spawnDetached, type SpawnEvents } from '../spawn/spawner';

const LABELS = 'labels.json';
const RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/** Signal numbers for the 128 + n exit code of a killed process. */
const SIGNALS = os.constants.signals as Record<string, number>;

export interface LocalProviderOptions {
  /** The folder holding every run's folder (created if missing). */
  root: string;
  log?: (line: string) => void;
  /** Who forwards for the network boundaries (Weir: the egress proxy's thread); else this thread. */
  forwarder?: () => Forwarder;
}

interface Labels {
  run_id: string;
  labels: Record<string, string>;
  created_at: string;
  /** Weir's pid that made it (for people reading the folder). */
  pid: number;
  /** The host uid its processes run as: the only uid `sweep` kills. */
  uid: number;
  /** A pooled folder: its Weir's start time (with `pid`, who owns it; see local-pool.ts). */
  owner_start?: string | null;
}

export class LocalSandboxProvider implements SandboxProvider {
  private readonly root: string;
  private readonly tools: Tools;
  /** This instance's warm pools (see local-pool.ts). */
  readonly pools: LocalWarmPools;

  constructor(private readonly opts: LocalProviderOptions) {
    this.root = path.resolve(opts.root);
    this.tools = { bwrap: findOnPath('bwrap'), prlimit: findOnPath('prlimit'), nice: findOnPath('nice'), setpriv: findOnPath('setpriv') };
    this.pools = new LocalWarmPools({ root: this.root, tools: this.tools, bash: findOnPath('bash'), env: (mode, paths) => sandboxEnv(mode, paths, {}), log: opts.log });
  }

  private readonly heldIdle = (uid: number): number => this.pools.heldBy(uid);

  /** Keeps the pools of these definitions full (the others are emptied); called on every dispatcher round. */
  maintainPools(defs: SandboxDef[]): void {
    this.pools.maintain(defs);
  }

  private runDir(runId: string): string {
    if (!RUN_ID.test(runId)) throw new Error(`run id not usable as a folder name: ${JSON.stringify(runId)}`);
    return path.join(this.root, runId);
  }

  /** The isolation a run of this sandbox would get here (for the start line), or why it cannot run. */
  async isolationOf(def: SandboxDef): Promise<string> {
    try {
      const o = localOptions(def.options);
      return describe(await chooseMode(o, this.tools), o);
    } catch (e) {
      return `unusable: ${(e as Error).message}`;
    }
  }

  async create(def: SandboxDef, runId: string, labels: Record<string, string>): Promise<Sandbox> {
    const o = localOptions(def.options);
    if (o.warmPool === 0) return this.createCold(o, runId, labels);
    // Every start of a pooled sandbox, warm or cold, holds the pools' refill until it is over.
    const startOver = this.pools.beginStart();
    const slot = this.pools.take(def);
    if (slot) {
      // Not waited for: the start goes on while the file thread makes it (destroy waits for it).
      const link = this.runDir(runId);
      const linked = files({ op: 'link', path: link, target: slot.name }).then(
        () => link,
        (e: unknown) => {
          this.opts.log?.(`agent sandbox ${runId}: no link to its pooled folder ${slot.name} (a sweep by the run will not find it): ${(e as Error).message}`);
          return undefined;
        },
      );
      const sandbox = new LocalSandbox(slot.name, slot.runDir, slot.mode, slot.o, this.tools, slot.paths, slot.uid, this.opts.log, this.opts.forwarder, this.heldIdle, { kind: 'warm', primed: slot.primed, afterStart: startOver, linked });
      this.opts.log?.(`agent sandbox ${runId}: warm (${slot.name}): ${sandbox.isolation}`);
      return sandbox;
    }
    try {
      return await this.createCold(o, runId, labels, startOver);
    } catch (e) {
      startOver();
      throw e;
    }
  }

  private async createCold(o: LocalOptions, runId: string, labels: Record<string, string>, afterStart?: () => void): Promise<Sandbox> {
    const mode = await chooseMode(o, this.tools);
    const runDir = this.runDir(runId);
    const ids = hostIds(o);
    const uid = ids?.uid ?? process.getuid!();
    const record: Labels = { run_id: runId, labels, created_at: new Date().toISOString(), pid: process.pid, uid };
    const paths: SandboxPaths = { root: this.root, workdir: path.join(runDir, 'work'), home: path.join(runDir, 'home'), tmp: path.join(runDir, 'tmp') };
    const prepare = () =>
      files<'made' | 'exists'>({ op: 'prepare', root: this.root, runDir, labels: JSON.stringify(record) + '\n', dirs: [paths.workdir, paths.home, paths.tmp], owner: ids });
    if ((await prepare()) === 'exists') {
      // A folder left by an earlier attempt of this run goes first, with whatever still runs in it
      // (looked for only when there is one: finding them walks /proc).
      await killTied(runDir, uid);
      await files({ op: 'remove', dir: runDir });
      if ((await prepare()) === 'exists') throw new Error(`the folder of run ${runId} is being made by someone else`);
    }
    const sandbox = new LocalSandbox(runId, runDir, mode, o, this.tools, paths, uid, this.opts.log, this.opts.forwarder, this.heldIdle, { kind: 'cold', afterStart });
    this.opts.log?.(`agent sandbox ${runId}: ${sandbox.isolation}`);
    return sandbox;
  }

  /**
   * The runs that have a folder here (a sandbox not destroyed yet, or left by a process that died),
   * and the pooled folders whose Weir is gone (a live Weir's, ready or serving a run, are its own).
   */
  async leftovers(): Promise<string[]> {
    const entries = await fs.readdir(this.root, { withFileTypes: true }).catch(() => []);
    const out: string[] = [];
    for (const e of entries) {
      const n = e.name;
      // A run's link to its pooled folder: the run's, whether or not the folder is still there.
      if (e.isSymbolicLink()) {
        if (isPoolName(await fs.readlink(path.join(this.root, n)).catch(() => ''))) out.push(n);
      } else if (isPoolName(n)) {
        const labels = await fs.readFile(path.join(this.root, n, LABELS), 'utf8').then((t) => JSON.parse(t) as Labels, () => null);
        if (labels && !ownerLives(labels)) out.push(n);
      } else if (await fs.stat(path.join(this.root, n, LABELS)).then(() => true, () => false)) out.push(n);
    }
    return out;
  }

  async sweep(runIds: string[]): Promise<void> {
    for (const runId of runIds) {
      let runDir: string;
      try {
        runDir = this.runDir(runId);
      } catch {
        continue; // never a folder of ours
      }
      // A warm run's name links to its pooled folder, whose labels name that folder.
      const pooled = await fs.readlink(runDir).then((t) => (isPoolName(t) ? t : null), () => null);
      const dir = pooled ? path.join(this.root, pooled) : runDir;
      let labels: Labels | undefined;
      try {
        labels = JSON.parse(await fs.readFile(path.join(dir, LABELS), 'utf8')) as Labels;
      } catch {
        // nothing left, or not a folder this provider made
      }
      if (labels?.run_id === (pooled ?? runId)) {
        const killed = await killTied(dir, labels.uid);
        await files({ op: 'remove', dir });
        this.opts.log?.(`agent sandbox ${runId}: swept (${killed} processes killed, folder${pooled ? ` ${pooled}` : ''} removed)`);
      }
      if (pooled) await files({ op: 'remove', dir: runDir });
    }
  }
}

/** Nothing of Weir's environment: only these and what the caller gives. */
function sandboxEnv(mode: Mode, paths: SandboxPaths, extra: Record<string, string>): Record<string, string> {
  const nodeDir = path.dirname(process.execPath);
  const hostPath = process.env.PATH || '/usr/local/bin:/usr/bin:/bin';
  return {
    PATH: hostPath.split(':').includes(nodeDir) ? hostPath : `${hostPath}:${nodeDir}`,
    HOME: paths.home,
    USER: 'agent',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: mode === 'bwrap' ? '/tmp' : paths.tmp,
    // Claude Code refuses to skip permission prompts as root without it; harmless otherwise.
    IS_SANDBOX: '1',
    ...extra,
  };
}

/** How a sandbox was had: made for its run, or taken from the pool with its primed process chain. */
interface StartKind {
  kind: 'cold' | 'warm';
  primed?: Primed;
  /** Called once the run's start is over (the pools' refill waits for it). */
  afterStart?: () => void;
  /** A warm sandbox: the link `<root>/<runId>` to its folder, once made (undefined: none was). */
  linked?: Promise<string | undefined>;
}

class LocalSandbox implements Sandbox {
  readonly workdir: string;
  readonly home: string;
  isolation: string;
  readonly start: { kind: 'cold' | 'warm' };
  private readonly running = new Set<ExecHandle>();
  private destroyed: Promise<void> | undefined;
  /** The pooled chain, until an exec takes it. */
  private primed: Primed | undefined;
  private afterStart: (() => void) | undefined;
  private readonly linked: Promise<string | undefined> | undefined;
  private boundary: NetBoundary | undefined;

  constructor(
    readonly id: string,
    private readonly runDir: string,
    private readonly mode: Mode,
    private readonly o: LocalOptions,
    private readonly tools: Tools,
    private readonly paths: SandboxPaths,
    private readonly uid: number,
    private readonly log: ((line: string) => void) | undefined,
    private readonly forwarder: (() => Forwarder) | undefined,
    /** The processes the warm pools of a host uid hold idle (see local-pool.ts). */
    private readonly heldIdle: (uid: number) => number,
    how: StartKind = { kind: 'cold' },
  ) {
    this.workdir = paths.workdir;
    this.home = paths.home;
    this.isolation = describe(mode, o);
    this.start = { kind: how.kind };
    this.primed = how.primed;
    this.afterStart = how.afterStart;
    this.linked = how.linked;
  }

  started(): void {
    const f = this.afterStart;
    this.afterStart = undefined;
    f?.();
  }

  confineNetwork(): NetReach | undefined {
    if (this.mode !== 'bwrap' || this.destroyed) return undefined;
    if (!this.boundary) {
      // `n` keeps the sockets' paths short (a unix socket's path has at most 107 bytes).
      this.boundary = new NetBoundary(path.join(this.runDir, 'n'), hostIds(this.o), this.forwarder?.());
      this.isolation = `${this.isolation}; ${BOUNDARY_LINE}`;
      this.log?.(`agent sandbox ${this.id}: ${BOUNDARY_LINE}`);
    }
    return this.boundary;
  }

  private get bases(): string[] {
    return [this.paths.workdir, this.paths.home];
  }

  private env(extra: Record<string, string>): Record<string, string> {
    return sandboxEnv(this.mode, this.paths, extra);
  }

  /** A set-up exec (`opts.setup`) starts cold and leaves the pooled chain to the next: the agent's, or its PTY's. */
  exec(opts: ExecOptions): ExecHandle {
    if (this.destroyed) throw new Error('sandbox destroyed');
    if (opts.argv.length === 0) throw new Error('exec: empty argv');
    const cwd = confine(this.bases, this.workdir, opts.cwd ?? '.');
    // The pooled chain sees no folder of the host's /tmp, and was started in the host's network:
    // an argv that needs such a folder, or a sandbox whose network is confined, starts cold.
    const primed = this.primed && !opts.setup && !this.boundary && hiddenUnderTmp(opts.argv).length === 0 ? this.primed : undefined;
    const l = primed ? null : launch(this.mode, this.tools, countedLimits(this.o, this.mode, this.heldIdle(this.uid)), this.paths, opts.argv, cwd, this.boundary?.spec());
    let stopSizeWatch = () => {};
    let killed = false;
    let pgid: number | undefined;
    // Scans of /proc still going: `done` waits for them, so none outlives this exec and hits the next one.
    const scans: Promise<unknown>[] = [];
    // bwrap: nothing can leave the pid namespace, which dies with bwrap; no walk of /proc is needed
    // (with dozens of runs ending together those walks were the largest part of Weir's work).
    // A pooled chain still waiting (an exec that left it to a later one) is not this exec's.
    const sweepTied = () => {
      if (this.mode !== 'bwrap') scans.push(killTied(this.runDir, this.uid, this.primed?.waiting).catch(() => 0));
    };
    const kill = () => {
      if (killed) return;
      killed = true;
      stopSizeWatch();
      killGroup(pgid);
      // What left the group (setsid, double fork) is found by its folder.
      sweepTied();
    };
    // Opened before anything starts: a wrong stdinFile is the caller's error, thrown here. The
    // launcher of a pooled chain opens it again by its path, as the agent (it reads nothing the
    // agent could not).
    const stdinFd = opts.stdinFile === undefined ? undefined : openConfinedSync(this.bases, this.workdir, opts.stdinFile);
    const warm = primed && { primed, stdin: opts.stdinFile === undefined ? undefined : confine(this.bases, this.workdir, opts.stdinFile) };
    if (primed) this.primed = undefined;
    const done = (async (): Promise<number> => {
      try {
        const code = await this.run(l ?? warm!, cwd, opts, stdinFd, (pid) => (pgid = pid), (stop) => (stopSizeWatch = stop), kill, sweepTied, () => killed);
        stopSizeWatch();
        await Promise.all(scans);
        return code;
      } finally {
        if (stdinFd !== undefined) closeSync(stdinFd);
      }
    })();
    const handle: ExecHandle = { done, kill };
    this.running.add(handle);
    done.then(
      () => this.running.delete(handle),
      () => this.running.delete(handle),
    );
    return handle;
  }

  private run(
    l: ReturnType<typeof launch> | { primed: Primed; stdin: string | undefined },
    cwd: string,
    opts: ExecOptions,
    stdinFd: number | undefined,
    started: (pid: number) => void,
    watching: (stop: () => void) => void,
    kill: () => void,
    sweepTied: () => void,
    isKilled: () => boolean,
  ): Promise<number> {
    return new Promise<number>((resolve) => {
      const cap = this.o.maxWorkspaceBytes;
      let group: number | undefined;
      // Forked by the spawner process (see spawn/spawner.ts): Weir itself never forks.
      const nice = this.o.nice > 0 ? this.o.nice : undefined;
      const events: SpawnEvents = {
        started: (pid) => {
          group = pid;
          started(pid);
          watching(
            watchSize([this.paths.workdir, this.paths.home, this.paths.tmp], cap, this.o.sizeCheckMs, (used) => {
              const msg = `weir: the sandbox's files use ${mb(used)} MB, over its ${mb(cap)} MB cap (max_workspace_mb): killed`;
              this.log?.(`agent sandbox ${this.id}: ${msg}`);
              opts.onStderr(Buffer.from(msg + '\n'));
              kill();
            }),
          );
          // Killed before it had started: it goes now.
          if (isKilled()) killGroup(pid);
        },
        stdout: (c, at) => opts.onStdout(c, at),
        stderr: (c, at) => opts.onStderr(c, at),
        // Once the process itself is gone, what it left goes too, so the pipes close.
        exited: () => {
          killGroup(group);
          sweepTied();
        },
        closed: (code, signal) => resolve(code ?? 128 + (signal ? (SIGNALS[signal] ?? 9) : 9)),
        failed: (message) => {
          opts.onStderr(Buffer.from(`weir: the process did not start: ${message}\n`));
          resolve(127);
        },
      };
      if ('primed' in l) l.primed.handOver({ argv: opts.argv, cwd, env: this.env(opts.env), stdin: l.stdin }, events);
      else spawnDetached(l.file, l.args, { cwd, env: this.env(opts.env), stdinFd, uid: l.uid, gid: l.gid, nice }, events);
    });
  }

  openPty(opts: PtyOptions): Promise<SandboxPty> {
    if (this.destroyed) return Promise.reject(new Error('sandbox destroyed'));
    return localPty(this, opts);
  }

  writeFile(pathInWorkspace: string, data: string | Buffer): Promise<void> {
    if (this.destroyed) return Promise.reject(new Error('sandbox destroyed'));
    return files({ op: 'write', bases: this.bases, workdir: this.workdir, path: pathInWorkspace, data, owner: hostIds(this.o) });
  }

  async writeFiles(list: SandboxFile[]): Promise<void> {
    for (const f of list) await this.writeFile(f.path, f.data);
  }

  /** `*` may stand for any part of a path component (the first match in name order is read). */
  readFile(pathInSandbox: string, maxBytes: number): Promise<Buffer | null> {
    if (this.destroyed) return Promise.resolve(null);
    return files<Uint8Array | null>({ op: 'read', bases: this.bases, workdir: this.workdir, path: pathInSandbox, maxBytes }).then((b) => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : null));
  }

  destroy(): Promise<void> {
    this.started();
    this.destroyed ??= (async () => {
      // A pooled chain no exec took (the run ended before its agent started).
      const unused = this.primed;
      this.primed = undefined;
      await unused?.kill();
      for (const h of this.running) h.kill();
      await Promise.allSettled([...this.running].map((h) => h.done));
      await this.boundary?.close();
      if (this.mode !== 'bwrap') await killTied(this.runDir, this.uid);
      await files({ op: 'remove', dir: this.runDir });
      // After the folder: a crash between the two leaves a link the leftover sweep removes.
      const link = await this.linked;
      if (link) await files({ op: 'remove', dir: link });
    })();
    return this.destroyed;
  }
}

const mb = (b: number) => Math.round(b / (1024 * 1024));
