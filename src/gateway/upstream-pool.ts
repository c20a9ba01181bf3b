// One undici pool per upstream origin per worker, kept alive across requests. undici sets
// TCP_NODELAY on its sockets; connections are reused until the upstream closes them.
//
// Weir asks upstreams for identity encoding; one that compresses anyway (a CDN, a misconfigured
// server) is decoded on the way in (undici's decompress interceptor, error bodies included), so
// the client gets readable bytes and the usage in them is charged.
import { interceptors, Pool, type Dispatcher } from 'undici';

const pools = new Map<string, { pool: Pool; dispatcher: Dispatcher }>();

/**
 * undici marks the interceptor experimental and says so on stderr when it is made; it is made once
 * here, with that one notice kept out of the gateway's output (its interface is pinned by the
 * lockfile and covered by the gateway's tests).
 */
const decompress = ((): Dispatcher.DispatcherComposeInterceptor => {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return interceptors.decompress({ skipErrorResponses: false });
  } finally {
    process.emitWarning = emit;
  }
})();

export function poolFor(origin: string): Dispatcher {
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
    entry = { pool, dispatcher: pool.compose(decompress) };
    pools.set(origin, entry);
  }
  return entry.dispatcher;
}

export async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.allSettled(all.map((e) => e.pool.close()));
}
