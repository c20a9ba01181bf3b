// Shared by the sandbox and harness tests: a LocalSandboxProvider over a fresh temp root, the
// isolation modes this host can run (bwrap and user as root, none otherwise; bwrap only where it
// can make namespaces), and an exec that collects what the process printed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalSandboxProvider } from '../../src/agents/sandbox/local';
import { bwrapWorks, findOnPath, isRoot } from '../../src/agents/sandbox/isolation';
import { localOptions } from '../../src/agents/sandbox/local-options';
import { ensureBubblewrap } from './bubblewrap';
import type { Sandbox, SandboxDef } from '../../src/agents/types';

export interface Rig {
  root: string;
  provider: LocalSandboxProvider;
  log: string[];
  close(): void;
}

export function sandboxRig(): Rig {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'weir-sbx-')), 'runs');
  // mkdtemp makes 0700 folders: the sandbox user must be able to pass through to its own.
  fs.chmodSync(path.dirname(root), 0o755);
  const log: string[] = [];
  const provider = new LocalSandboxProvider({ root, log: (l) => log.push(l) });
  return { root, provider, log, close: () => fs.rmSync(path.dirname(root), { recursive: true, force: true }) };
}

export function sandboxDef(options: Record<string, unknown> = {}): SandboxDef {
  return { id: 'sbx-test', name: 'test', provider: 'local', options, source: 'config' };
}

/** The isolations this host can run, each with whether it can be tested here. */
export async function modes(): Promise<{ mode: 'bwrap' | 'user' | 'none'; skip: string | false }[]> {
  const missing = ensureBubblewrap();
  const bwrap = findOnPath('bwrap');
  const bwrapOk = bwrap ? await bwrapWorks(bwrap, localOptions({})) : false;
  return [
    { mode: 'bwrap', skip: bwrapOk ? false : (missing ?? 'bwrap is installed but cannot make user namespaces on this kernel') },
    isRoot() ? { mode: 'user', skip: false } : { mode: 'none', skip: false },
  ];
}

/** The host uid a sandbox's processes run as (what /proc shows). */
export function sandboxUid(options: Record<string, unknown> = {}): number {
  return isRoot() ? localOptions(options).uid : process.getuid!();
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv to its end, collecting its output. */
export async function run(sb: Sandbox, argv: string[], extra: { env?: Record<string, string>; stdinFile?: string; cwd?: string; setup?: boolean } = {}): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const h = sb.exec({ argv, env: extra.env ?? {}, stdinFile: extra.stdinFile, cwd: extra.cwd, setup: extra.setup, onStdout: (c) => (stdout += c), onStderr: (c) => (stderr += c) });
  const code = await h.done;
  return { code, stdout, stderr };
}

/** Polls `check` until it returns a value other than undefined; fails after the deadline. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, deadlineMs = 30_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
