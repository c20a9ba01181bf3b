// undici, loaded the first time something needs it. A worker's model calls, signed wires,
// pass-through routes and token counts go through the gateway's own HTTP/1.1 client (h1-pool.ts);
// undici serves only an answer that arrives compressed (its decoder, src/gateway/upstream-answer.ts)
// and WEIR_UPSTREAM_CLIENT=undici. Loaded with the worker, it cost every thread 4.2 MB of heap
// (110 modules) and 160 ms of its start for calls that never use it (PERF.md, issue 15).
type Undici = typeof import('undici');

let lib: Undici | null = null;

export function undici(): Undici {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (lib ??= require('undici') as Undici);
}
