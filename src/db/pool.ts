// The pg connection pool of the control thread, and how Weir reads two of Postgres' types.
import pg from 'pg';

export interface PoolOptions {
  /** Connections at most (LiteLLM's `database_connection_pool_limit`, default 10). */
  max?: number;
  /** Give up connecting after this long (default 5 s: a flush retries on its own schedule). */
  connectionTimeoutMs?: number;
  /** Close idle connections after this long (default 30 s). */
  idleTimeoutMs?: number;
  /** Server-side statement timeout, 0 = none (default 0). */
  statementTimeoutMs?: number;
}

// LiteLLM's columns are TIMESTAMP(3) *without* time zone holding UTC. pg's default parser reads
// them as local time, which is wrong on any machine whose TZ is not UTC: read them as UTC.
function parseUtcTimestamp(v: string): Date {
  const iso = v.replace(' ', 'T');
  // Infinity and BC dates are not something LiteLLM writes; keep them out of Date arithmetic.
  const d = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(iso.slice(10)) ? iso : `${iso}Z`);
  return d;
}

// BIGINT columns hold limits and token counters, far below 2^53: numbers, not strings.
function parseInt8(v: string): number {
  return Number(v);
}

const TIMESTAMP_OID = 1114;
const INT8_OID = 20;

/**
 * Type parsers for every query Weir runs. Passed per query too (see queries.ts), so a pool not
 * made by createPool still reads timestamps right.
 */
export const weirTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) => {
    if (format !== 'binary') {
      if (oid === TIMESTAMP_OID) return parseUtcTimestamp;
      if (oid === INT8_OID) return parseInt8;
    }
    return pg.types.getTypeParser(oid, format as 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

// LiteLLM's tables (and Weir's) keep UTC wall times in `TIMESTAMP` columns, as Prisma writes them,
// and parseUtcTimestamp reads them so. pg would send a Date parameter as the process's local time
// with its offset, which a `TIMESTAMP` column keeps as that local wall time: on a host outside UTC
// every lease, expiry and run time would be off by the zone's hours. pg has no per-pool setting.
pg.defaults.parseInputDatesAsUTC = true;

export function createPool(url: string, opts: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    application_name: 'weir',
    // CURRENT_TIMESTAMP and now()::timestamp are the session's wall time: UTC, whatever the
    // database's or server's own time zone, for the same reason.
    options: '-c TimeZone=UTC',
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? 5_000,
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    keepAlive: true,
    types: weirTypes,
    ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
  });
  // An idle connection that the server drops (restart, outage) emits 'error' on the pool; without
  // a listener that would crash the process. The next query simply gets a new connection.
  pool.on('error', () => {});
  return pool;
}

/** One round trip; false on any failure (unreachable, auth, timeout). */
export async function dbReachable(pool: pg.Pool, timeoutMs = 3_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const q = pool.query('SELECT 1');
    const t = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
    });
    await Promise.race([q, t]);
    return true;
  } catch {
    return false;
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** Errors that mean "the database is not there right now", as opposed to "this query is wrong". */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  if (!err) return false;
  const code = err.code ?? '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(code)) return true;
  // 08: connection exception; 57P01-03: admin/crash shutdown, cannot connect now; 53300: too many connections.
  if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  const msg = err.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Connection ended/i.test(msg);
}
