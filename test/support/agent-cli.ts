// Runs a real coding-agent CLI (Claude Code, Codex) once, as a subprocess pointed at the gateway:
// a fresh home and working directory per run, an environment built from nothing but what the CLI
// needs (no key, proxy or config of the machine leaks in), a proxy trap that writes down and
// refuses any call past 127.0.0.1, and a hard deadline that kills its whole process group and
// fails with everything it printed. The deadline is only there to fail loudly; no assertion
// depends on time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProxyTrap } from './proxy-trap';

/** The CLI's executable, as the package's `bin` field names it (the devDependencies pin the versions). */
export function agentBinary(pkg: string, bin: string): string {
  const manifest = require.resolve(`${pkg}/package.json`);
  const bins = JSON.parse(fs.readFileSync(manifest, 'utf8')).bin as Record<string, string>;
  return path.join(path.dirname(manifest), bins[bin]!);
}

export interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The run's home and working directory (removed once the run is over). */
  home: string;
  cwd: string;
  /** The calls the CLI made past 127.0.0.1, each refused by the proxy trap: `CONNECT host:443`, … */
  outbound: string[];
}

export interface AgentOptions {
  /** For messages: "Claude Code", "Codex". */
  name: string;
  command: string;
  args: string[];
  /** Added to the base environment (PATH, HOME, locale, a dumb terminal). */
  env: Record<string, string>;
  home: string;
  cwd: string;
  deadlineMs: number;
  /** Stops the run early, as the deadline does: the process group is killed and the run fails with what it printed. */
  signal?: AbortSignal;
}

/** A fresh temp folder holding a home and a working directory for one run. */
export function agentDirs(prefix: string): { root: string; home: string; cwd: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `weir-${prefix}-`));
  const home = path.join(root, 'home');
  const cwd = path.join(root, 'work');
  fs.mkdirSync(home);
  fs.mkdirSync(cwd);
  return { root, home, cwd };
}

/** What a run printed, for failure messages (the tail: the end says why it stopped). */
export function describeRun(name: string, r: { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }): string {
  const tail = (s: string) => (s.length > 6000 ? `…${s.slice(-6000)}` : s);
  return `${name} exited with ${r.signal ?? r.code}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`;
}

/**
 * Runs the CLI to its end. Resolves with what it printed, whatever its exit code (the caller
 * asserts on it); rejects if the deadline passes (or the signal aborts) first, after killing the
 * process group.
 */
export async function runAgent(o: AgentOptions): Promise<AgentRun> {
  const trap = await startProxyTrap();
  try {
    return await runWithProxy(o, trap.url, trap.hits);
  } finally {
    await trap.close();
  }
}

function runWithProxy(o: AgentOptions, proxy: string, outbound: string[]): Promise<AgentRun> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: o.home,
    USER: os.userInfo().username,
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    TMPDIR: os.tmpdir(),
    // Any call past 127.0.0.1 that the CLI's own switches miss (a new version may add one) goes
    // to the trap and is refused at once; the gateway is reached directly.
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    ALL_PROXY: proxy,
    NO_PROXY: '127.0.0.1,localhost',
    ...o.env,
  };
  return new Promise((resolve, reject) => {
    // Its own process group: the deadline kills the CLI and every child it started (Codex's
    // launcher runs a native binary, both run shells).
    const proc = spawn(o.command, o.args, { cwd: o.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let stopped: string | undefined;
    const stop = (why: string) => {
      stopped ??= why;
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => stop(`did not finish within ${o.deadlineMs} ms`), o.deadlineMs);
    const onAbort = () => stop('was stopped');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    proc.on('error', (e) => {
      done();
      reject(new Error(`${o.name} did not start (${o.command}): ${e.message}`));
    });
    // Once the CLI itself is gone, whatever it left in its group goes too, so its pipes close.
    proc.on('exit', () => {
      try {
        process.kill(-proc.pid!, 'SIGKILL');
      } catch {
        /* nothing left */
      }
    });
    proc.on('close', (code, signal) => {
      done();
      const run = { code, signal, stdout, stderr, home: o.home, cwd: o.cwd, outbound };
      if (stopped) reject(new Error(`${o.name} ${stopped} and was killed.\n${describeRun(o.name, run)}`));
      else resolve(run);
    });
  });
}
