// Shared helpers of the governance-*.test.ts files: the real gateway CLI (2 workers) on a config
// file the test writes itself (so a restart can reuse the same file and journal), a real
// PostgreSQL database, the mock upstream, HTTP calls on fresh connections, and polling with
// deadlines. Everything opened here is closed by the caller's `after` hooks.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { killOnExit } from '../support/exit-kill';
import { CLI } from '../support/gateway-process';
import { callFresh, type FreshAnswer, type FreshCallOptions } from '../support/http';
import { startMockUpstream, type MockUpstream } from '../support/mock-upstream';
import { freshDatabase, stopTestPostgres } from '../support/postgres';
import { assertSpendLedger } from './spend-ledger';

export const MASTER_KEY = 'sk-master-governance-5e1f0c';
export const UPSTREAM_KEY = 'sk-upstream-governance-77aa';

/** USD per output token of the `gpt` group; inputs are free, so a call's cost is exact. */
export const OUT_PRICE = 0.001;
/** Completion tokens of the mock's non-stream answer ("Hello from mock" = 15 bytes → 4 tokens). */
export const MOCK_COMPLETION_TOKENS = 4;
/**
 * Cost of one non-stream `gpt` call made with max_tokens = MOCK_COMPLETION_TOKENS: the worst case
 * the gateway reserves (body bytes × input rate 0 + max_tokens × output rate) equals what the
 * call really costs (prompt × 0 + 4 completion tokens × output rate).
 */
export const CALL_COST = OUT_PRICE * MOCK_COMPLETION_TOKENS;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- config --------------------------------------------------------------------------------------

/**
 * A config with:
 *  - `gpt`: OpenAI dialect on the mock, unknown to the price table, priced by overrides (input 0,
 *    output OUT_PRICE per token) so reservations equal costs;
 *  - `gpt-4o-mini`: priced by the built-in table;
 *  - `claude`: Anthropic dialect on the mock, priced by overrides;
 *  - `secret-model`: in access group `vip`;
 *  - `slow`: same mock, used with delays.
 */
export function governanceConfig(mockUrl: string, dbUrl: string, extra: { general?: string; litellm?: string } = {}): string {
  return `model_list:
  - model_name: gpt
    litellm_params:
      model: openai/weir-budget-model
      api_base: ${mockUrl}/v1
      api_key: ${UPSTREAM_KEY}
      input_cost_per_token: 0
      output_cost_per_token: ${OUT_PRICE}
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${mockUrl}/v1
      api_key: ${UPSTREAM_KEY}
  - model_name: claude
    litellm_params:
      model: anthropic/weir-claude-model
      api_base: ${mockUrl}
      api_key: ${UPSTREAM_KEY}
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000005
  - model_name: secret-model
    litellm_params:
      model: openai/weir-secret-model
      api_base: ${mockUrl}/v1
      api_key: ${UPSTREAM_KEY}
      input_cost_per_token: 0
      output_cost_per_token: ${OUT_PRICE}
    model_info:
      access_groups: ["vip"]
  - model_name: other-model
    litellm_params:
      model: openai/weir-other-model
      api_base: ${mockUrl}/v1
      api_key: ${UPSTREAM_KEY}
      input_cost_per_token: 0
      output_cost_per_token: ${OUT_PRICE}
router_settings:
  num_retries: 0
general_settings:
  master_key: ${MASTER_KEY}
  database_url: ${dbUrl}
  proxy_batch_write_at: 1
${extra.general ?? ''}
litellm_settings:
  request_timeout: 30
${extra.litellm ?? ''}
`;
}

/** Temp folders made here (config, and the .weir/journal beside it): removed when the process exits. */
const tempDirs: string[] = [];
process.once('exit', () => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

export function writeConfigFile(yaml: string, dir?: string): string {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'weir-gov-'));
  if (!dir) tempDirs.push(d);
  const file = path.join(d, 'config.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

// ---- the gateway process -------------------------------------------------------------------------

export interface Weir {
  url: string;
  port: number;
  proc: ChildProcess;
  configPath: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (or the given signal) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `node dist/src/cli.js --config <configPath>` with 2 workers and waits for its start lines. */
export async function startWeirOn(configPath: string, opts: { workers?: number; env?: Record<string, string>; args?: string[] } = {}): Promise<Weir> {
  const args = [CLI, '--config', configPath, '--port', '0', '--host', '127.0.0.1', '--num_workers', String(opts.workers ?? 2), ...(opts.args ?? [])];
  const env: NodeJS.ProcessEnv = { ...process.env, LITELLM_LOCAL_MODEL_COST_MAP: 'True', ...opts.env };
  const proc = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Killed with this file's process if a test leaves it running (support/exit-kill.ts).
  killOnExit(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const w: Weir = {
    url: '',
    port: 0,
    proc,
    configPath,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const m = out.match(/listening on http:\/\/[^:]+:(\d+)[^]*\binfo auth: /);
    if (m) {
      w.port = Number(m[1]);
      w.url = `http://127.0.0.1:${w.port}`;
      return w;
    }
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`gateway exited before it was ready:\n${out}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`gateway not ready after 20 s:\n${out}`);
    }
    await sleep(20);
  }
}

// ---- HTTP ----------------------------------------------------------------------------------------

export type Answer = FreshAnswer;
export type CallOptions = Partial<FreshCallOptions>;

/** One HTTP call on a fresh connection (no agent, `connection: close`), 15 s timeout by default. */
export function call(base: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  return callFresh(base, path, { timeoutMs: 15_000, ...opts });
}

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

/** A chat call on `gpt` costing exactly CALL_COST (non-stream, max_tokens = 4). */
export const chatBody = (model = 'gpt', extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'hello' }],
  max_tokens: MOCK_COMPLETION_TOKENS,
  ...extra,
});

export function chat(base: string, key: string, model = 'gpt', extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  return call(base, '/v1/chat/completions', { headers: { ...bearer(key), ...headers }, body: chatBody(model, extra) });
}

export function messages(base: string, key: string, model = 'claude', extra: Record<string, unknown> = {}): Promise<Answer> {
  return call(base, '/v1/messages', {
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    body: { model, max_tokens: 16, messages: [{ role: 'user', content: 'hello' }], ...extra },
  });
}

/** Admin call with the master key; asserts nothing. */
export function admin(base: string, p: string, body?: unknown, method?: string): Promise<Answer> {
  return call(base, p, { headers: bearer(MASTER_KEY), body, method });
}

/** Admin call that must answer 200; returns the JSON body. */
export async function adminOk(base: string, p: string, body?: unknown, method?: string): Promise<any> {
  const r = await admin(base, p, body, method);
  if (r.status !== 200) throw new Error(`${p} → ${r.status} ${r.text}`);
  return r.json;
}

/** Runs all the calls at once; transport errors are returned as status -1 with the message. */
export async function burst(n: number, one: (i: number) => Promise<Answer>): Promise<Answer[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      one(i).catch((e: Error): Answer => ({ status: -1, headers: {}, text: e.message, json: undefined, chunks: [] })),
    ),
  );
}

export function tally(rs: Answer[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

// ---- polling -------------------------------------------------------------------------------------

/** Polls until `check` returns a truthy value; throws with `what` and the last value after the deadline. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 8_000, intervalMs = 50): Promise<NonNullable<T>> {
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
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await sleep(intervalMs);
  }
}

// ---- database ------------------------------------------------------------------------------------

export function dbPool(url: string): Pool {
  const p = new Pool({ connectionString: url, max: 3 });
  p.on('error', () => {}); // outage tests stop the server under idle clients
  return p;
}

export async function rows(pool: Pool, sql: string, values: unknown[] = []): Promise<any[]> {
  return (await pool.query(sql, values)).rows;
}

export async function one(pool: Pool, sql: string, values: unknown[] = []): Promise<any> {
  return (await pool.query(sql, values)).rows[0];
}

export async function countLogs(pool: Pool, where = 'TRUE', values: unknown[] = []): Promise<number> {
  return (await one(pool, `SELECT count(*)::int AS n FROM "LiteLLM_SpendLogs" WHERE ${where}`, values)).n as number;
}

/** Waits until the number of SpendLogs rows matching `where` reaches `n` (then checks it stays). */
export async function waitForLogs(pool: Pool, n: number, where = 'TRUE', values: unknown[] = [], timeoutMs = 10_000): Promise<void> {
  await waitFor(`${n} SpendLogs rows where ${where}`, async () => (await countLogs(pool, where, values)) >= n, timeoutMs, 100);
}

// ---- the spend ledger check ---------------------------------------------------------------------

const ledgers: string[] = [];
/** Entity ids (key hashes, team ids…) whose spend a test set by hand: left out of the check. */
export const handEditedSpend: string[] = [];

/** A fresh database whose spend ledger is checked when the file closes (closeAndCheckLedgers). */
export async function ledgerDatabase(label: string): Promise<string> {
  const url = await freshDatabase(label);
  ledgers.push(url);
  return url;
}

/**
 * The `after` of a governance test file: closes what it opened (the gateways first, so every
 * pending spend is written), then checks that entity spend equals the sum of SpendLogs rows in
 * each database of the file, then stops the test PostgreSQL.
 */
export async function closeAndCheckLedgers(...fns: Array<(() => Promise<unknown>) | undefined>): Promise<void> {
  try {
    await closeAll(...fns);
  } finally {
    try {
      for (const url of ledgers.splice(0)) await assertSpendLedger(url, { except: handEditedSpend });
    } finally {
      await stopTestPostgres();
    }
  }
}

export async function startMock(): Promise<MockUpstream> {
  return startMockUpstream();
}

/** Runs every closer, whichever fail; then throws the first failure, so an after() hook's check is not lost. */
export const closeAll = async (...fns: Array<(() => Promise<unknown>) | undefined>): Promise<void> => {
  const failed: unknown[] = [];
  for (const f of fns) {
    try {
      await f?.();
    } catch (e) {
      failed.push(e); // and keep closing the rest
    }
  }
  if (failed.length) throw failed[0];
};

// ---- a TCP proxy in front of PostgreSQL that records what the gateway sends --------------------

export interface PgTap {
  /** database URL that goes through the proxy */
  url: string;
  /** How many times `needle` appeared in the bytes the gateway sent to Postgres so far. */
  count(needle: string): number;
  /**
   * How many times `needle` appeared in the parameters of statements whose SQL matches `sql`:
   * one kind of query told from the others that carry the same value (a key's lookup from the
   * spend rows that name the key).
   */
  countIn(needle: string, sql: RegExp): number;
  close(): Promise<void>;
}

/**
 * Forwards every connection to the database of `dbUrl` and keeps the client→server bytes, so a
 * test can count the queries that carried a given bind value (node-postgres sends parameters as
 * text in the Bind message).
 */
export async function pgTap(dbUrl: string): Promise<PgTap> {
  const target = new URL(dbUrl);
  /** What each connection sent, in order (the protocol is read per connection). */
  const streams: Buffer[][] = [];
  const sockets = new Set<import('node:net').Socket>();
  const net = await import('node:net');
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const mine: Buffer[] = [];
    streams.push(mine);
    client.on('data', (d: Buffer) => {
      mine.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const u = new URL(dbUrl);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return {
    url: u.toString(),
    count(needle: string) {
      let n = 0;
      for (const chunks of streams) n += occurrences(Buffer.concat(chunks).toString('latin1'), needle);
      return n;
    },
    countIn(needle: string, sql: RegExp) {
      let n = 0;
      for (const chunks of streams) for (const m of statementsOf(Buffer.concat(chunks))) if (sql.test(m.sql)) n += occurrences(m.params, needle);
      return n;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * The statements one connection sent, each with its parameters' bytes: a simple query ('Q') is its
 * own SQL; an extended one pairs a Bind ('B') with the SQL its statement was parsed from ('P').
 * The first message (the startup) has no type byte.
 */
function statementsOf(bytes: Buffer): { sql: string; params: string }[] {
  const out: { sql: string; params: string }[] = [];
  const parsed = new Map<string, string>();
  let at = bytes.length >= 4 ? bytes.readInt32BE(0) : bytes.length;
  while (at + 5 <= bytes.length) {
    const type = String.fromCharCode(bytes[at]!);
    const end = at + 1 + bytes.readInt32BE(at + 1);
    if (end > bytes.length) break;
    const body = bytes.subarray(at + 5, end);
    const cstr = (from: number): [string, number] => {
      const z = body.indexOf(0, from);
      return [body.toString('utf8', from, z), z + 1];
    };
    if (type === 'Q') out.push({ sql: cstr(0)[0], params: '' });
    else if (type === 'P') {
      const [name, next] = cstr(0);
      parsed.set(name, cstr(next)[0]);
    } else if (type === 'B') {
      const [, next] = cstr(0);
      const [statement, rest] = cstr(next);
      out.push({ sql: parsed.get(statement) ?? '', params: body.toString('latin1', rest) });
    }
    at = end;
  }
  return out;
}

// ---- streams -------------------------------------------------------------------------------------

export interface StreamAnswer extends Omit<Answer, 'chunks'> {
  /** Whether the client hung up (abortAfter reached). */
  aborted: boolean;
}

/**
 * A streaming call on a fresh connection. With `abortAfter`, the client destroys its socket once
 * the received text matched the regexp that many times (a client that goes away mid-stream).
 */
export function streamCall(base: string, p: string, headers: Record<string, string>, body: unknown, abortAfter?: { re: RegExp; times: number }): Promise<StreamAnswer> {
  const data = JSON.stringify(body);
  const url = new URL(p, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        agent: false,
        headers: { connection: 'close', 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers },
        timeout: 15_000,
      },
      (res) => {
        let text = '';
        let done = false;
        const finish = (aborted: boolean) => {
          if (done) return;
          done = true;
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, aborted });
        };
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
          if (abortAfter && (text.match(new RegExp(abortAfter.re.source, 'g'))?.length ?? 0) >= abortAfter.times) {
            req.destroy();
            finish(true);
          }
        });
        res.on('error', () => finish(true));
        res.on('aborted', () => finish(true));
        res.on('end', () => finish(false));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`)));
    req.on('error', (e) => (abortAfter ? undefined : reject(e)));
    req.end(data);
  });
}

/** `data:` payloads of an SSE text, parsed (the [DONE] marker and non-JSON lines left out). */
export function sseJson(text: string): any[] {
  const out: any[] = [];
  for (const block of text.split('\n\n')) {
    for (const line of block.split('\n')) {
      if (!line.startsWith('data: ')) continue;
      const d = line.slice(6);
      if (d === '[DONE]') continue;
      try {
        out.push(JSON.parse(d));
      } catch {
        /* partial last line of a cut stream */
      }
    }
  }
  return out;
}
