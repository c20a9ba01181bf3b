// Shared helpers of the lifecycle-*.test.ts files: start the real gateway on a free port with a
// mock upstream, make HTTP calls on fresh connections, poll with deadlines, and run the CLI for
// its exit code. Everything a helper opens is registered with the test's `after` so it is closed.
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { freePort } from '../../src/net/free-port';
import { CLI, spawnGateway, type GatewayOptions, type GatewayProcess } from '../support/gateway-process';
import { killOnExit } from '../support/exit-kill';
import { callFresh, type FreshAnswer, type FreshCallOptions } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';

export const MASTER_KEY = 'sk-master-lifecycle-7f3a9c2e51';
export const DEPLOY_KEY = 'sk-deploy-lifecycle-b81d44e0aa';
export const CLIENT_BAD_KEY = 'sk-client-wrong-0c9e77d1f3';

export { freePort };

/** Kills the process if it is still alive and waits for its exit (used in `after`). */
export async function kill(gw: { proc: GatewayProcess['proc']; exited: GatewayProcess['exited'] }): Promise<void> {
  if (gw.proc.exitCode === null && gw.proc.signalCode === null) gw.proc.kill('SIGKILL');
  await gw.exited;
}

/**
 * Starts the gateway through the shared helper, on a concrete free port (so the test knows it before
 * the start line; `--port 0` with several uWS workers did not work until 9978db3). The gateway is
 * killed after the test whatever happens.
 */
export async function startWeir(t: TestContext, opts: GatewayOptions): Promise<GatewayProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const gw = spawnGateway({ ...opts, args: ['--port', String(port), ...(opts.args ?? [])] });
    t.after(() => kill(gw));
    try {
      await gw.ready;
      return gw;
    } catch (e) {
      lastError = e;
      // Another process took the port between freePort() and the bind: try another one.
      if (!/cannot listen|EADDRINUSE/.test(gw.output())) throw e;
      await kill(gw);
    }
  }
  throw lastError;
}

export async function startMock(t: TestContext): Promise<MockUpstream> {
  const m = await startMockUpstream();
  t.after(() => m.close());
  return m;
}

/** YAML of a config with OpenAI-dialect deployments on the mock: `{name: api_base}`. */
export function config(models: Record<string, string>, extra = ''): string {
  const list = Object.entries(models)
    .map(([name, base]) => `  - model_name: ${name}\n    litellm_params:\n      model: openai/${name}-upstream\n      api_base: ${base}\n      api_key: ${DEPLOY_KEY}\n`)
    .join('');
  return `model_list:\n${list}${extra}`;
}

export const auth = (key = MASTER_KEY): Record<string, string> => ({ authorization: `Bearer ${key}` });

export type Answer = FreshAnswer;
export type CallOptions = Partial<FreshCallOptions>;

/** One HTTP call on a fresh connection (no agent, `connection: close`), 8 s timeout by default. */
export function call(base: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  return callFresh(base, path, { timeoutMs: 8_000, ...opts });
}

export const chatBody = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'hello' }],
  ...extra,
});

export function chat(base: string, model: string, opts: { key?: string | null; extra?: Record<string, unknown>; timeoutMs?: number } = {}): Promise<Answer> {
  return call(base, '/v1/chat/completions', {
    headers: opts.key === null ? {} : auth(opts.key ?? MASTER_KEY),
    body: chatBody(model, opts.extra),
    timeoutMs: opts.timeoutMs,
  });
}

/** Polls `check` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 5_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : String(last)})`);
    await sleep(intervalMs);
  }
}

/** Waits until the process printed a line matching `re`; the error shows everything it printed. */
export async function waitForLog(gw: { output(): string }, re: RegExp, timeoutMs = 5_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = gw.output().match(re);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${re} in the log:\n${gw.output()}`);
    await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves 'refused' when a TCP connect to the port is refused, 'open' when it connects. */
export function probe(port: number): Promise<'refused' | 'open' | 'error'> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setTimeout(1_000);
    s.once('connect', () => {
      s.destroy();
      resolve('open');
    });
    s.once('timeout', () => {
      s.destroy();
      resolve('error');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'error'));
  });
}

export function countMatches(text: string, re: RegExp): number {
  return [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))].length;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its exit (killed after `timeoutMs`), with the environment given (merged). */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 10_000): Promise<CliResult> {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export interface RawProcess {
  proc: GatewayProcess['proc'];
  exited: GatewayProcess['exited'];
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Spawns the CLI with exactly these args and env (for start-up from the environment). */
export function spawnRaw(t: TestContext, args: string[], env: Record<string, string | undefined>): RawProcess {
  const e: NodeJS.ProcessEnv = { ...process.env, WEIR_HTTP_ENGINE: '', ...env };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  const proc = spawn(process.execPath, [CLI, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const raw: RawProcess = {
    proc,
    exited,
    output: () => out,
    waitForOutput: async (re, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`exited before printing ${re}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; output:\n${out}`);
        await sleep(25);
      }
    },
  };
  t.after(() => kill(raw));
  return raw;
}
