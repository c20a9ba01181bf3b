// The worker's upstream clients, one per origin, kept alive across requests: the gateway's own
// HTTP/1.1 client (src/upstream/h1-pool.ts) for model calls, signed provider wires and
// pass-through routes; undici for token counts, which use its request API.
// WEIR_UPSTREAM_CLIENT=undici sends everything through undici: the way back should the gateway's
// client ever misread an upstream.
//
// The calls' handlers decode a compressed answer themselves, decided per answer (upstream-answer.ts);
// a caller of undici's own request API (the token count) goes through the pool with undici's
// decompress interceptor, which wraps every request it sends.
import { Pool, type Dispatcher } from 'undici';
import { decompress } from './upstream-answer';
import { H1Pool, type H1DispatchOptions } from '../upstream/h1-pool';

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

/** Sends a call's request: a path, headers and a body (whole, in pieces, or lent). */
export interface CallPool {
  dispatch(opts: H1DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
}

const callPools = new Map<string, H1Pool>();
const callsThroughUndici = process.env.WEIR_UPSTREAM_CLIENT === 'undici';

/** The client for a call's request to `origin` (its handler an UpstreamAnswer, which decodes what comes compressed). */
export function callPoolFor(origin: string): CallPool {
  if (callsThroughUndici) return entryFor(origin).pool as unknown as CallPool;
  let p = callPools.get(origin);
  if (!p) callPools.set(origin, (p = new H1Pool(origin)));
  return p;
}

/** The same pool behind undici's decompress interceptor, for `request()` and other handlers of undici's. */
export function decodingPoolFor(origin: string): Dispatcher {
  const entry = entryFor(origin);
  return (entry.decoding ??= entry.pool.compose(decompress));
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  const calls = [...callPools.values()];
  pools.clear();
  callPools.clear();
  await Promise.allSettled([...all.map((e) => e.pool.close()), ...calls.map((p) => p.close())]);
}
