// Starts the real gateway (`node dist/src/cli.js`) as a child process on a free port, with a
// config written to a temp folder, and stops it. Tests talk to it over real HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killOnExit } from './exit-kill';

export const CLI = path.resolve(__dirname, '../../src/cli.js');

export interface GatewayOptions {
  /** YAML text of the config. */
  config: string;
  workers?: number;
  /** 'uws' or 'node' (WEIR_HTTP_ENGINE). */
  engine?: string;
  env?: Record<string, string | undefined>;
  args?: string[];
  /** Node's own flags, before the CLI (`--trace-gc-nvp`, say). */
  nodeArgs?: string[];
  /** Enables POST /__weir/crash. */
  faultInjection?: boolean;
}

export interface GatewayProcess {
  url: string;
  port: number;
  proc: ChildProcess;
  configPath: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends the signal and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function writeConfig(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-test-'));
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

/** Spawns the CLI and resolves once it printed its address (or rejects with what it printed). */
export function spawnGateway(opts: GatewayOptions): GatewayProcess & { ready: Promise<void> } {
  const configPath = writeConfig(opts.config);
  const args = [CLI, '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--num_workers', String(opts.workers ?? 2), ...(opts.args ?? [])];
  const env: NodeJS.ProcessEnv = { ...process.env, WEIR_HTTP_ENGINE: opts.engine ?? '', ...opts.env };
  if (opts.faultInjection) env.WEIR_FAULT_INJECTION = '1';
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters) w();
    }),
  );
  const waitForOutput = (re: RegExp, timeoutMs = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out.match(re);
        if (m) {
          cleanup();
          resolve(m);
        } else if (proc.exitCode !== null || proc.signalCode !== null) {
          cleanup();
          reject(new Error(`gateway exited before printing ${re}:\n${out}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out waiting for ${re}; output:\n${out}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  const gw = {
    url: '',
    port: 0,
    proc,
    configPath,
    output: () => out,
    waitForOutput,
    exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    ready: Promise.resolve(),
  };
  // The auth line is the last of the start lines: once it is out, all of them are. A gateway that
  // never gets there is killed, so the test fails instead of its file waiting on a live child.
  gw.ready = waitForOutput(/listening on http:\/\/[^:]+:(\d+)[^]*\binfo auth: /, 30_000).then(
    (m) => {
      gw.port = Number(m[1]);
      gw.url = `http://127.0.0.1:${gw.port}`;
    },
    (e: unknown) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      throw e;
    },
  );
  return gw;
}

export async function startGateway(opts: GatewayOptions): Promise<GatewayProcess> {
  const gw = spawnGateway(opts);
  await gw.ready;
  return gw;
}
