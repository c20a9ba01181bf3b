// The admin page's Spend view over a month of traffic (issue 14: "a month of traffic draws in well
// under a second"):
//   node dist/native-bench/spend-page.js [--keys 200] [--models 8] [--days 30] [--rounds 5]
// One Weir (1 worker) on an embedded PostgreSQL whose Daily* tables hold `days` days of traffic of
// `keys` keys (each its own user; 10 teams, 50 end users) on `models` models, every combination
// present every day: keys × models × days rows per table. It prints, as medians over `rounds`:
// the breakdown call the page makes (GET /global/spend/breakdown, last 30 days) for each grouping,
// and the page itself in Debian's Chromium: from the navigation to #/spend until both charts have
// drawn and the table has its rows.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { freePort } from '../src/net/free-port';
import { launchBrowser, newPage } from '../test/support/browser';
import { CLI } from '../test/support/gateway-process';
import { startPostgres } from '../test/support/postgres';

const MASTER = 'sk-bench-spend-master';
const GROUPS = ['model', 'api_key', 'team', 'user', 'end_user'] as const;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`${name} needs a positive whole number`);
  return v;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (v: number): string => `${v.toFixed(1)} ms`;

/** keys × models × days rows in each Daily table, in one statement per table (generate_series). */
async function fill(db: pg.Pool, keys: number, models: number, days: number): Promise<number> {
  const grid = `
    FROM generate_series(0, ${days - 1}) d, generate_series(0, ${keys - 1}) k, generate_series(0, ${models - 1}) m`;
  const insert = (table: string, entityCol: string) => `
    INSERT INTO "${table}" (id, ${entityCol}, date, api_key, model, model_group, custom_llm_provider,
      prompt_tokens, completion_tokens, spend, api_requests, successful_requests, failed_requests, updated_at)`;
  const select = (entityExpr: string) => `
    SELECT md5(d || '/' || k || '/' || m), ${entityExpr}, to_char(current_date - d, 'YYYY-MM-DD'), md5('key' || k), 'model-' || m, 'group-' || m, 'openai',
      1000 + k, 200 + m, 0.001 * (1 + (k % 7) + m), 10, 9, 1, now() ${grid}`;
  const tables: [string, string, string][] = [
    ['LiteLLM_DailyUserSpend', 'user_id', `'user-' || k`],
    ['LiteLLM_DailyTeamSpend', 'team_id', `'team-' || (k % 10)`],
    ['LiteLLM_DailyEndUserSpend', 'end_user_id', `'end-user-' || (k % 50)`],
  ];
  for (const [table, col, expr] of tables) {
    await db.query(`${insert(table, col)} ${select(expr)}`);
  }
  await db.query('ANALYZE');
  return keys * models * days;
}

async function waitReady(url: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`Weir exited (${proc.exitCode})`);
    const r = await fetch(`${url}/health/readiness`).catch(() => null);
    if (r?.status === 200) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('Weir was not ready within 60 s');
}

async function main(): Promise<void> {
  const keys = arg('--keys', 200);
  const models = arg('--models', 8);
  const days = arg('--days', 30);
  const rounds = arg('--rounds', 5);
  const server = await startPostgres();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-bench-spend-'));
  let weir: ChildProcess | null = null;
  const browser = await launchBrowser();
  try {
    const port = await freePort();
    const config = path.join(dir, 'config.yaml');
    fs.writeFileSync(config, `model_list:\n  - model_name: m\n    litellm_params: { model: mock/m }\ngeneral_settings:\n  master_key: ${MASTER}\n  database_url: ${server.url}\n`);
    weir = spawn(process.execPath, [CLI, '--config', config, '--port', String(port), '--host', '127.0.0.1', '--num_workers', '1'], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, weir);
    const db = new pg.Pool({ connectionString: server.url, max: 2 });
    const rows = await fill(db, keys, models, days);
    await db.end();
    console.log(`Spend page bench: ${rows.toLocaleString('en')} rows in each of LiteLLM_DailyUserSpend, LiteLLM_DailyTeamSpend and LiteLLM_DailyEndUserSpend (${days} days × ${keys} keys × ${models} models); medians of ${rounds} rounds`);

    const end = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.now() - 29 * 86_400_000).toISOString().slice(0, 10);
    for (const g of GROUPS) {
      const times: number[] = [];
      for (let r = 0; r < rounds + 1; r++) {
        const t0 = performance.now();
        const res = await fetch(`${url}/global/spend/breakdown?start_date=${start}&end_date=${end}&group_by=${g}&limit=10`, { headers: { authorization: `Bearer ${MASTER}` } });
        await res.text();
        if (res.status !== 200) throw new Error(`breakdown by ${g}: ${res.status}`);
        if (r > 0) times.push(performance.now() - t0); // the first round warms the connection and the plan
      }
      console.log(`  GET /global/spend/breakdown group_by=${g.padEnd(8)} ${ms(median(times))} (max ${ms(Math.max(...times))})`);
    }

    const { page } = await newPage(browser, url);
    await page.goto('/ui/#/spend');
    await page.locator('input[name=username]').fill('admin');
    await page.locator('input[name=password]').fill(MASTER);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('who').waitFor();
    const drawn = async () => {
      await page.getByTestId('spend-daily-chart').locator('canvas').waitFor();
      await page.getByTestId('spend-group-chart').locator('canvas').waitFor();
      // The page opens grouped by model: one row per model (at most the top 10).
      await page.getByTestId('spend-groups').locator('tbody tr').nth(Math.min(models, 10) - 1).waitFor();
    };
    await drawn();
    const times: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await page.reload();
      await drawn();
      times.push(performance.now() - t0);
    }
    console.log(`  the Spend page in Chromium, reload until both charts and the table are drawn: ${ms(median(times))} (max ${ms(Math.max(...times))})`);
  } finally {
    await browser.close().catch(() => undefined);
    weir?.kill('SIGTERM');
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
