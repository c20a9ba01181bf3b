// The worker's upstream clients, one per origin, kept alive across requests: the gateway's own
// HTTP/1.1 client (src/upstream/h1-pool.ts) for every call. WEIR_UPSTREAM_CLIENT=undici sends
// them through undici's pools instead: the way back should the gateway's client ever misread an
// upstream. Either way the calls' handlers decode a compressed answer themselves, decided per
// answer (upstream-answer.ts).
import type { Dispatcher, Pool } from 'undici';
import { H1Pool, type H1DispatchOptions } from '../upstream/h1-pool';
import { undici } from '../upstream/undici-lib';

const pools = new Map<string, Pool>();

function undiciPoolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new (undici().Pool)(origin, {
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      // The gateway enforces its own timeouts per deployment; undici's must not fire first.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { noDelay: true, keepAlive: true },
    });
    pools.set(origin, pool);
  }
  return pool;
}

/** Sends a call's request: a path, headers and a body (whole, in pieces, or lent). */
export interface CallPool {
  dispatch(opts: H1DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
}

const callPools = new Map<string, H1Pool>();
const callsThroughUndici = process.env.WEIR_UPSTREAM_CLIENT === 'undici';

/** The client for a call's request to `origin` (its handler an UpstreamAnswer, which decodes what comes compressed). */
export function callPoolFor(origin: string): CallPool {
  if (callsThroughUndici) return undiciPoolFor(origin) as unknown as CallPool;
  let p = callPools.get(origin);
  if (!p) callPools.set(origin, (p = new H1Pool(origin)));
  return p;
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  const calls = [...callPools.values()];
  pools.clear();
  callPools.clear();
  await Promise.allSettled([...all.map((p) => p.close()), ...calls.map((p) => p.close())]);
}
