// The embedded PostgreSQL of `database_url: embedded`: data that survives restarts, a server
// orphaned by a kill -9 of the previous run, stale postmaster.pid files, and folders it must not touch.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded';

const asRoot = process.getuid?.() === 0;
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function base(label: string, mode = 0o711): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `weir-emb-${label}-`));
  fs.chmodSync(d, mode);
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function started(dataDir: string, port?: number): Promise<EmbeddedPostgres> {
  const h = await startEmbeddedPostgres(port ? { dataDir, port } : { dataDir });
  cleanups.push(() => h.stop());
  return h;
}

async function sql<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

function alive(pid: number): boolean {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(st);
  } catch {
    return false;
  }
}

test('a fresh folder becomes a running server with a `weir` database; its data survives a restart', async () => {
  const dataDir = path.join(base('fresh'), '.weir', 'pgdata');
  const h = await started(dataDir);
  assert.match(h.url, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/weir$/);
  assert.equal(h.dataDir, dataDir);
  assert.ok(fs.existsSync(path.join(dataDir, 'PG_VERSION')));
  if (asRoot) assert.notEqual(fs.statSync(dataDir).uid, 0, 'PostgreSQL runs as another user than root');
  await sql(h.url, `CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('still here')`);
  // The package's signal hooks would turn SIGHUP (config reload) into an exit: they are gone.
  assert.equal(process.listenerCount('SIGHUP'), 0);
  assert.equal(process.listenerCount('SIGTERM'), 0);
  await h.stop();
  await h.stop(); // twice is harmless
  const again = await started(dataDir);
  assert.deepEqual(await sql(again.url, `SELECT v FROM kept`), [{ v: 'still here' }]);
  await again.stop();
  const fixed = await started(dataDir, h.port);
  assert.equal(fixed.port, h.port, 'a given port is used');
  assert.deepEqual(await sql(fixed.url, `SELECT v FROM kept`), [{ v: 'still here' }]);
  await fixed.stop();
});

test('after a kill -9 of the previous run, its orphaned server is shut down and ours starts on the same data', async () => {
  const dataDir = path.join(base('kill9'), 'pgdata');
  const mod = path.resolve(__dirname, '../../src/db/embedded.js');
  const code = `require(${JSON.stringify(mod)}).startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} })
    .then((h) => { process.stdout.write(h.url + '\\n'); setInterval(() => {}, 1000); }, (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /postgres:\/\/\S+/.exec(out);
      if (m) resolve(m[0]);
    });
    child.on('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
  await sql(url, `CREATE TABLE t (v INT); INSERT INTO t VALUES (42)`);
  const orphan = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(alive(orphan), 'the old PostgreSQL outlives the process that started it');
  cleanups.push(() => {
    if (alive(orphan)) process.kill(orphan, 'SIGKILL');
  });

  const h = await started(dataDir);
  assert.ok(!alive(orphan), 'the orphan was shut down');
  assert.deepEqual(await sql(h.url, `SELECT v FROM t`), [{ v: 42 }]);
  await h.stop();
});

test('a stale postmaster.pid (dead pid, or a pid now used by another program) does not block the start', async () => {
  const dataDir = path.join(base('stale'), 'pgdata');
  const h = await started(dataDir);
  await sql(h.url, `CREATE TABLE s (v INT)`);
  await h.stop();
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const fake = (pid: number) => fs.writeFileSync(pidFile, `${pid}\n${dataDir}\n1700000000\n5432\n\n127.0.0.1\n  5432001         0\nready   \n`);
  fake(2 ** 22 + 777); // no such process
  const h2 = await started(dataDir);
  await sql(h2.url, `SELECT 1 FROM s`);
  await h2.stop();
  fake(process.pid); // alive, but not a PostgreSQL (pid reuse after a reboot)
  const h3 = await started(dataDir);
  await sql(h3.url, `SELECT 1 FROM s`);
  await h3.stop();
});

test('a folder that is neither empty nor a PostgreSQL data folder is refused untouched', async () => {
  const dataDir = path.join(base('foreign'), 'pgdata');
  fs.mkdirSync(dataDir);
  fs.writeFileSync(path.join(dataDir, 'precious.txt'), 'do not delete');
  await assert.rejects(startEmbeddedPostgres({ dataDir }), /neither empty nor a PostgreSQL data folder/);
  assert.deepEqual(fs.readdirSync(dataDir), ['precious.txt']);
});

test('as root, an ancestor the postgres user cannot traverse is named in the error', { skip: !asRoot && 'only as root' }, async () => {
  const closed = base('closed', 0o700);
  await assert.rejects(startEmbeddedPostgres({ dataDir: path.join(closed, 'sub', 'pgdata') }), (e: Error) => e.message.includes(closed) && /chmod o\+x/.test(e.message));
});
