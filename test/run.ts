// `npm test`: starts one PostgreSQL for the whole run (a database per test file), then runs
// node's test runner over the compiled tests, and stops the server whatever the outcome.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startPostgres } from './support/postgres';

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

async function main(): Promise<number> {
  const pg = await startPostgres();
  try {
    // Two test files at a time (Node 20 runs one on a 2-core machine): most of a file's time is spent
    // waiting on the gateways, databases and CLIs it starts, not on the CPU. WEIR_TEST_CONCURRENCY sets another.
    const concurrency = process.argv.some((a) => a.startsWith('--test-concurrency')) ? [] : [`--test-concurrency=${process.env.WEIR_TEST_CONCURRENCY || 2}`];
    // A file ends once its tests are done, whatever it left running (a test that failed before its
    // stop: support/exit-kill.ts kills what it started), and a test that hangs fails after 10
    // minutes: either would otherwise hold the whole run until CI's own limit.
    // Each file's verdicts reach this process whole despite the forced exit (support/blocking-stdout.ts).
    const preload = ['--require', path.join(__dirname, 'support', 'blocking-stdout.js')];
    const args = [...preload, '--test', '--test-reporter=spec', '--test-force-exit', '--test-timeout=600000', ...concurrency, ...process.argv.slice(2)];
    // Node 20 runs every .js file of a directory given to --test, helpers included: name the tests.
    if (!process.argv.slice(2).some((a) => !a.startsWith('-'))) args.push(...testFiles(__dirname));
    const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, WEIR_TEST_PG_URL: pg.url } });
    const stop = () => child.kill('SIGTERM');
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return await new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    await pg.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`test runner: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
