// Starts and stops the processes the bench measures (mock upstream, Weir, the minimal proxy, and
// any comparator), each bound to 127.0.0.1, optionally pinned with taskset. Every child is kept in
// one registry so that all of them die with the bench: on a normal end, on an error, on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import type { GcTrace } from './gc-trace';

/** Repository root (dist/native-bench/processes.js → ../..). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const DIST = path.join(ROOT, 'dist');

export interface Child {
  name: string;
  pid: number;
  proc: ChildProcess;
  exited: boolean;
  /** Last lines the child wrote (stdout and stderr), for error messages. */
  tail(): string;
  /** SIGTERM (to the process group when `group`), then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();

/** SIGKILLs every child still alive, synchronously (safe in an 'exit' handler). */
export function killAllNow(): void {
  for (const c of children) {
    if (c.exited) continue;
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

/** Stops every child gracefully (in reverse start order), then forgets them. */
export async function stopAll(graceMs = 3000): Promise<void> {
  const list = [...children].reverse();
  for (const c of list) await c.stop(graceMs);
}

let installed = false;

/**
 * Kills every child when the bench exits, however it exits. Ctrl-C / SIGTERM stop them and exit
 * with 130 / 143; an uncaught error is printed, children are killed, exit 1.
 */
export function installCleanup(onSignal?: () => void): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  let signalled = false;
  const onSig = (sig: NodeJS.Signals, code: number) => () => {
    if (signalled) {
      killAllNow();
      process.exit(code);
    }
    signalled = true;
    onSignal?.();
    process.stderr.write(`\nbench: ${sig}: stopping every process it started…\n`);
    const hard = setTimeout(() => process.exit(code), 5000);
    hard.unref();
    stopAll(1500).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSig('SIGINT', 130));
  process.on('SIGTERM', onSig('SIGTERM', 143));
  process.on('SIGHUP', onSig('SIGHUP', 129));
}

export interface SpawnOptions {
  /** taskset CPU list (e.g. "1" or "2,3"); unpinned when undefined. */
  cpus?: string;
  env?: NodeJS.ProcessEnv;
  /** Ready once a stdout line matches (the match is returned), or once this check resolves. */
  ready: RegExp | (() => Promise<void>);
  timeoutMs?: number;
  /** stdin stays an open pipe: children that exit when it closes also die if the bench is killed. */
  stdinPipe?: boolean;
  /** Everything the child writes on stdout, from its first byte (a GC trace). */
  onStdout?: (d: Buffer) => void;
}

/** Spawns `cmd args` in its own process group and waits for its ready line. */
export function spawnReady(name: string, cmd: string, args: string[], o: SpawnOptions): Promise<{ child: Child; match: RegExpExecArray | null }> {
  const [file, argv] = o.cpus !== undefined ? ['taskset', ['-c', o.cpus, cmd, ...args]] : [cmd, args];
  const proc = spawn(file, argv, {
    cwd: ROOT,
    env: o.env ?? process.env,
    stdio: [o.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true, // own process group: Ctrl-C reaches the bench only, which stops children in order
  });
  const lines: string[] = [];
  const keep = (d: Buffer) => {
    for (const l of d.toString('utf8').split('\n')) if (l.trim()) lines.push(l);
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  let exitResolve: () => void = () => {};
  const exitedP = new Promise<void>((r) => (exitResolve = r));
  const child: Child = {
    name,
    pid: proc.pid ?? -1,
    proc,
    exited: false,
    tail: () => lines.slice(-15).join('\n'),
    async stop(graceMs = 3000) {
      if (!child.exited) {
        try {
          process.kill(child.pid, 'SIGTERM');
        } catch {
          /* gone */
        }
        const t = setTimeout(() => {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, graceMs);
        await exitedP;
        clearTimeout(t);
      }
      // Whatever the leader left behind in its group (nginx workers, a shell's children).
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* none */
      }
      children.delete(child);
    },
  };
  proc.once('exit', () => {
    child.exited = true;
    exitResolve();
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const timer = setTimeout(() => finish(new Error(`${name} not ready after ${o.timeoutMs ?? 15000} ms`)), o.timeoutMs ?? 15000);
    const finish = (err: Error | null, match: RegExpExecArray | null = null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        void child.stop(500);
        reject(new Error(`${err.message}\n--- ${name} output ---\n${child.tail()}`));
      } else resolve({ child, match });
    };
    const ready = o.ready;
    if (o.onStdout) proc.stdout!.on('data', o.onStdout);
    proc.stdout!.on('data', (d: Buffer) => {
      keep(d);
      if (done || typeof ready === 'function') return;
      buf += d.toString('utf8');
      const m = ready.exec(buf);
      if (m) finish(null, m);
      else if (buf.length > 65536) buf = buf.slice(-4096);
    });
    if (typeof ready === 'function') ready().then(() => finish(null), (e: Error) => finish(e));
    proc.stderr!.on('data', keep);
    proc.once('error', (e) => finish(e));
    proc.once('exit', (code, sig) => finish(new Error(`${name} exited during start (${sig ?? `code ${code}`})`)));
  });
}

/** A port that was free a moment ago on 127.0.0.1 (for servers that cannot be asked for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once a TCP connection to host:port succeeds, or rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- the bench's own processes -------------------------------------------------------------

export interface Server {
  child: Child;
  url: string;
  port: number;
}

export async function startMock(o: { deltas: number; port: number; cpus?: string }): Promise<Server> {
  const main = path.join(DIST, 'test', 'support', 'mock-upstream-main.js');
  const args = [main, '--port', String(o.port), '--host', '127.0.0.1', '--no-record', '--deltas', String(o.deltas), '--exit-on-stdin-close'];
  const { child, match } = await spawnReady('mock upstream', process.execPath, args, { cpus: o.cpus, ready: /MOCK_READY (\{.*\})/, stdinPipe: true });
  const info = JSON.parse(match![1]!) as { url: string; port: number };
  return { child, url: info.url, port: info.port };
}

export interface GatewayOptions {
  configPath: string;
  workers: number;
  cpus?: string;
  /** Directory for `node --cpu-prof` output; no profiling when undefined. */
  profileDir?: string;
  /** Added to the environment (e.g. WEIR_JOURNAL_DIR). */
  env?: NodeJS.ProcessEnv;
  /** Name in error messages (default "weir"). */
  name?: string;
  /** Run under `node --trace-gc-nvp` and feed its stdout to this trace (the tail scenario). */
  gcTrace?: GcTrace;
}

/**
 * Weir as a user runs it, on a port chosen here (so the URL is known before the start line, and
 * builds before 9978db3, where --port 0 with several workers could not start, still work).
 */
export async function startGateway(o: GatewayOptions): Promise<Server & { engine: string }> {
  const cli = path.join(DIST, 'src', 'cli.js');
  let lastErr: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const nodeArgs = [...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : []), ...(o.gcTrace ? ['--trace-gc-nvp'] : [])];
    const args = [...nodeArgs, cli, '--config', o.configPath, '--port', String(port), '--host', '127.0.0.1', '--num_workers', String(o.workers)];
    try {
      const { child, match } = await spawnReady(o.name ?? 'weir', process.execPath, args, {
        cpus: o.cpus,
        // The engine line follows the "listening on" line; waiting for it lets the report name the engine.
        ready: /listening on http:\/\/[^:\s]+:\d+[^\n]*\n(?:[^\n]*\n)*?[^\n]*http engine: ([^\n]+)\n/,
        env: { ...process.env, WEIR_SHUTDOWN_GRACE_MS: '2000', ...o.env },
        // With a database the control thread reads (and may create) the schema first.
        timeoutMs: o.env ? 60_000 : undefined,
        // From the first byte: the control thread's early GCs are what tells it from the workers.
        onStdout: o.gcTrace ? (d) => o.gcTrace!.push(d.toString('utf8')) : undefined,
      });
      return { child, url: `http://127.0.0.1:${port}`, port, engine: match![1]!.split(',')[0]!.trim() };
    } catch (e) {
      lastErr = e as Error; // most likely the port was taken between freePort() and bind: retry
    }
  }
  throw lastErr!;
}

export async function startMinimalProxy(o: { upstream: string; workers: number; cpus?: string }): Promise<Server> {
  const main = path.join(DIST, 'native-bench', 'minimal-proxy.js');
  let lastErr: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = [main, '--upstream', o.upstream, '--port', String(port), '--host', '127.0.0.1', '--workers', String(o.workers)];
    try {
      const { child, match } = await spawnReady('minimal proxy', process.execPath, args, { cpus: o.cpus, ready: /MINIMAL_READY (\{.*\})/, stdinPipe: true });
      const info = JSON.parse(match![1]!) as { url: string; port: number };
      return { child, url: info.url, port: info.port };
    } catch (e) {
      lastErr = e as Error;
    }
  }
  throw lastErr!;
}
