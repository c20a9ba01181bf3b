// How a local sandbox keeps the agent away from Weir: which isolation is in force and the command
// line that puts a process under it. Three ways, best first:
//
// - bwrap: bubblewrap gives the process its own user, pid, ipc and uts namespaces, a read-only view
//   of the host, its own /tmp (a folder of the run, so it counts against the size cap) and only its
//   own workspace and home writable; the folder holding every run is a blank tmpfs inside, so other
//   runs' workspaces are out of sight. When Weir is root, bwrap itself is started as an unprivileged
//   host user (LocalOptions.uid, `nobody` by default): bwrap started as root maps the agent's uid
//   1000 to host root, and files only root may read (/etc/shadow, /root, Weir's own config) would be
//   readable inside. The pid namespace dies with its first process, so killing bwrap kills all.
// - user: no bwrap (or it cannot make namespaces here) and Weir is root: the process runs as the
//   unprivileged host user, in its own session and process group.
// - none: Weir is not root, so the process is unprivileged already; its own session and group.
//
// Network: bwrap shares the host's network unless the run's profile has an egress allow-list; then
// (net-boundary.ts) every exec gets a network namespace of its own (`--unshare-net`: a loopback
// only), the folder of the boundary's unix sockets bound in, and net-relay.js as its first process,
// which listens on 127.0.0.1 and forwards to those sockets: Weir's gateway and egress proxy are the
// only ways out. `user` and `none` share the host's network: there the list binds only what goes
// through the egress proxy.
//
// Limits (processes, memory, file size) are set with prlimit on the agent itself, inside the
// namespaces for bwrap: RLIMIT_NPROC counts per user per user namespace, so each run gets its own
// count there (under `user` the count is shared by every process of that host user). The agent runs
// under `nice` (LocalOptions.nice), its sandbox's set-up included: dozens of bwraps making their
// namespaces at once must not take the CPU from the gateway either.
// The outermost process gets SIGKILL when Weir dies (setpriv --pdeathsig, util-linux like prlimit):
// under bwrap that takes the whole pid namespace with it, even when Weir was killed with -9 (bwrap
// started as another user is not Weir's to signal otherwise, and would run on with its agent).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LocalOptions } from './local-options';
import type { NetRelaySpec } from './net-boundary';

/** The relay a sandbox under a network boundary runs first (compiled next to this file). */
const NET_RELAY = path.join(__dirname, 'net-relay.js');

export type Mode = 'bwrap' | 'user' | 'none';

/** The uid and gid the agent has inside a bwrap sandbox. */
export const INNER_ID = 1000;

/** An executable found on PATH, or undefined. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

export interface Tools {
  bwrap?: string;
  prlimit?: string;
  nice?: string;
  setpriv?: string;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The host uid/gid a sandbox process runs as, or undefined to keep Weir's own (not root). */
export function hostIds(o: LocalOptions): { uid: number; gid: number } | undefined {
  return isRoot() ? { uid: o.uid, gid: o.gid } : undefined;
}

/** The folders a sandbox binds: everything the agent may write is one of these. */
export interface SandboxPaths {
  /** The folder holding every run (hidden inside bwrap). */
  root: string;
  workdir: string;
  home: string;
  tmp: string;
}

/**
 * What of argv lives under the host's /tmp, which the sandbox's own /tmp hides (a project checked
 * out there runs its agents' CLIs from its node_modules): those folders are bound read-only on top.
 * A path inside a node_modules folder brings the whole folder (a CLI loads its package's files).
 */
export function hiddenUnderTmp(argv: string[]): string[] {
  const out = new Set<string>();
  for (const a of argv) {
    if (!a.startsWith('/tmp/')) continue;
    const nm = a.indexOf('/node_modules/');
    out.add(nm >= 0 ? a.slice(0, nm + '/node_modules'.length) : a);
  }
  return [...out];
}

/**
 * bwrap's arguments for one exec (the warm pool's sandboxes get theirs here too). `net`: the run's
 * network boundary (its own network namespace, the boundary's sockets bound in); argv is then
 * expected to start with the relay (see inner()).
 */
export function bwrapArgs(p: SandboxPaths, cwd: string, argv: string[], net?: NetRelaySpec): string[] {
  const shown = hiddenUnderTmp(argv).flatMap((d) => ['--ro-bind', d, d]);
  const args = [
    '--unshare-user', '--uid', String(INNER_ID), '--gid', String(INNER_ID),
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--hostname', 'weir-sandbox',
    ...(net ? ['--unshare-net'] : []),
    // No --new-session: the process bwrap runs in is already a session leader with no controlling
    // terminal (the spawner starts it detached), so there is no terminal to inject input into, and
    // a session of bwrap's own would be an autogroup of its own, out of reach of the niceness the
    // spawner gives the outer session (spawn/spawner-process.ts).
    '--die-with-parent', '--cap-drop', 'ALL',
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    // /tmp first: when the runs' root is under /tmp, the binds below must land on top of it.
    '--bind', p.tmp, '/tmp',
    ...shown,
    '--tmpfs', p.root,
    // Read-only: the sandbox may connect to the sockets, never replace them.
    ...(net?.routes.length ? ['--ro-bind', net.dir, net.dir] : []),
    '--bind', p.workdir, p.workdir,
    '--bind', p.home, p.home,
    '--chdir', cwd,
    '--',
  ];
  return args;
}

function prlimitArgs(prlimit: string, o: LocalOptions): string[] {
  const both = (n: number) => `${n}:${n}`;
  return [
    prlimit,
    `--nproc=${both(o.maxProcesses)}`,
    `--as=${both(o.maxMemoryBytes)}`,
    `--fsize=${both(o.maxWorkspaceBytes)}`,
    '--core=0:0',
    '--',
  ];
}

export interface Launch {
  file: string;
  args: string[];
  uid?: number;
  gid?: number;
}

/** What runs inside bwrap: under a boundary with routes, the relay first (outside the limits). */
function inner(limited: string[], net: NetRelaySpec | undefined): string[] {
  if (!net?.routes.length) return limited;
  return [process.execPath, NET_RELAY, ...net.routes.map((r) => `${r.port}=${r.socket}`), '--', ...limited];
}

/**
 * The command line that runs argv in cwd under the mode and limits; `net` (bwrap only): the run's
 * network boundary. A boundary asked of another mode is an error, never a silent open network.
 */
export function launch(mode: Mode, tools: Tools, o: LocalOptions, p: SandboxPaths, argv: string[], cwd: string, net?: NetRelaySpec): Launch {
  if (!tools.prlimit) throw new Error('prlimit (util-linux) is not installed: the sandbox limits cannot be set');
  if (o.nice > 0 && !tools.nice) throw new Error('nice (coreutils) is not installed: set the sandbox option nice: 0 to run agents at Weir\'s priority');
  if (net && mode !== 'bwrap') throw new Error(`a network boundary needs bwrap (this sandbox runs under ${mode})`);
  const niced = o.nice > 0 ? [tools.nice!, '-n', String(o.nice)] : [];
  const limited = [...prlimitArgs(tools.prlimit, o), ...argv];
  const ids = hostIds(o);
  const within = inner(limited, net);
  const argvOut = mode === 'bwrap' ? [tools.bwrap!, ...bwrapArgs(p, cwd, within, net), ...within] : limited;
  const full = [...(tools.setpriv ? [tools.setpriv, '--pdeathsig', 'KILL', '--'] : []), ...niced, ...argvOut];
  return { file: full[0]!, args: full.slice(1), ...ids };
}

/** What a run's isolation line says once its sandbox is under a network boundary. */
export const BOUNDARY_LINE = 'network: own namespace, only Weir\'s gateway and egress proxy (egress allow-list enforced)';

/** One line for logs: the isolation and limits in force. */
export function describe(mode: Mode, o: LocalOptions): string {
  const ids = hostIds(o);
  const who =
    mode === 'bwrap'
      ? `bwrap (user, pid, ipc namespaces; read-only host; uid ${INNER_ID} inside${ids ? `, host uid ${ids.uid}` : ''}; network: the host's, or with an egress allow-list only Weir's gateway and egress proxy)`
      : mode === 'user'
        ? `user (host uid ${ids!.uid}, own process group; no namespaces; network: the host's, an egress allow-list binds only the proxy)`
        : `none (Weir's own unprivileged uid ${process.getuid?.()}, own process group; network: the host's, an egress allow-list binds only the proxy)`;
  const mb = (b: number) => Math.round(b / (1024 * 1024));
  return `${who}; limits: ${o.maxProcesses} processes, ${mb(o.maxMemoryBytes)} MB memory, ${mb(o.maxWorkspaceBytes)} MB disk; nice ${o.nice}`;
}

const probes = new Map<string, Promise<boolean>>();

/** Whether bwrap can make its namespaces here as this user (containers often forbid it). Cached. */
export function bwrapWorks(bwrap: string, o: LocalOptions): Promise<boolean> {
  const ids = hostIds(o);
  const key = `${bwrap}\0${ids?.uid ?? ''}\0${ids?.gid ?? ''}`;
  let p = probes.get(key);
  if (!p) {
    p = new Promise<boolean>((resolve) => {
      const args = ['--unshare-user', '--uid', String(INNER_ID), '--gid', String(INNER_ID), '--unshare-pid', '--die-with-parent', '--ro-bind', '/', '/', '--proc', '/proc', '--', 'true'];
      const child = spawn(bwrap, args, { stdio: 'ignore', env: {}, cwd: '/', ...ids });
      child.on('error', () => resolve(false));
      child.on('close', (code) => resolve(code === 0));
    });
    probes.set(key, p);
  }
  return p;
}

/** The mode for a requested isolation, or an error saying why it cannot be had here. */
export async function chooseMode(o: LocalOptions, tools: Tools): Promise<Mode> {
  const root = isRoot();
  const bwrapOk = tools.bwrap ? await bwrapWorks(tools.bwrap, o) : false;
  switch (o.isolation) {
    case 'auto':
      return bwrapOk ? 'bwrap' : root ? 'user' : 'none';
    case 'bwrap':
      if (!tools.bwrap) throw new Error('isolation bwrap: bubblewrap (bwrap) is not installed');
      if (!bwrapOk) throw new Error('isolation bwrap: bwrap cannot create namespaces on this host');
      return 'bwrap';
    case 'user':
      if (!root) throw new Error('isolation user: Weir must run as root to start processes as another user');
      return 'user';
    case 'none':
      // The agent would run as root: the one thing a sandbox must never allow.
      if (root) throw new Error('isolation none: Weir runs as root, and the agent must not');
      return 'none';
  }
}
