// One undici pool per upstream origin per worker, kept alive across requests. undici sets
// TCP_NODELAY on its sockets; connections are reused until the upstream closes them.
//
// The calls' handlers decode a compressed answer themselves, decided per answer (upstream-answer.ts);
// a caller of undici's own request API (the token count) goes through the pool with undici's
// decompress interceptor, which wraps every request it sends.
import { Pool, type Dispatcher } from 'undici';
import { decompress } from './upstream-answer';

const pools = new Map<string, { pool: Pool; decoding: Dispatcher | null }>();

function entryFor(origin: string): { pool: Pool; decoding: Dispatcher | null } {
  let entry = pools.get(origin);
  if (!entry) {
    const pool = new Pool(origin, {
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      // The gateway enforces its own timeouts per deployment; undici's must not fire first.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { noDelay: true, keepAlive: true },
    });
    entry = { pool, decoding: null };
    pools.set(origin, entry);
  }
  return entry;
}

/** The pool, for handlers that extend UpstreamAnswer (they decode what comes compressed). */
export function poolFor(origin: string): Dispatcher {
  return entryFor(origin).pool;
}

/** The same pool behind undici's decompress interceptor, for `request()` and other handlers of undici's. */
export function decodingPoolFor(origin: string): Dispatcher {
  const entry = entryFor(origin);
  return (entry.decoding ??= entry.pool.compose(decompress));
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((e) => e.pool.close()));
}
