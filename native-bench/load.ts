// Load generators: a closed loop at concurrency 1 (latency), an open loop at a fixed rate that
// counts from the planned send time (see schedule.ts), and autocannon (as a library) for the most
// a target can serve.
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool, type Dispatcher } from 'undici';
import { runOpenLoop, type OpenLoopOutcome } from './schedule';
import { SseChecker } from './streams';
import { succeeded, timedRequest, type RequestSpec } from './timed-request';

export interface ClosedLoopSamples {
  /** Request start to end of the response, ms. */
  total: Float64Array;
  /** Request start to first body byte, ms. */
  firstByte: Float64Array;
  /** Request start to the first content delta (streams only), ms. */
  firstToken: Float64Array;
  errors: number;
  firstError: string | null;
}

/** Reads a whole answer once it has ended: null when it is right, else what is wrong with it. */
export type AnswerCheck = (body: string) => string | null;

/**
 * `n` requests one after another on `d` (one keep-alive connection for a Client). With `check`,
 * every answer's body is kept and checked after it ended (outside its timing); a wrong one counts
 * as an error and is left out of the samples.
 */
export async function closedLoop(d: Dispatcher, spec: RequestSpec, n: number, sse = false, check?: AnswerCheck): Promise<ClosedLoopSamples> {
  const total: number[] = [];
  const firstByte: number[] = [];
  const firstToken: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  for (let i = 0; i < n; i++) {
    const c = sse ? new SseChecker() : null;
    const kept: Buffer[] | null = check ? [] : null;
    const onChunk = c || kept ? (chunk: Buffer, now: number) => {
      c?.feed(chunk, now);
      kept?.push(chunk); // a view of the socket's read buffer, which Node allocates per read: safe to keep
    } : undefined;
    const t = await timedRequest(d, spec.bodies === undefined ? spec : { ...spec, body: spec.bodies[i % spec.bodies.length]! }, onChunk, 30_000);
    const wrong = succeeded(t) && kept && check ? check(Buffer.concat(kept).toString('utf8')) : null;
    if (!succeeded(t) || (c && !c.ended) || wrong !== null) {
      errors++;
      firstError ??= t.error ?? (t.status !== 200 ? `HTTP ${t.status}` : (wrong ?? 'stream did not end'));
      continue;
    }
    total.push(t.end - t.start);
    firstByte.push(t.firstByteAt - t.start);
    if (c) firstToken.push(c.firstDeltaAt - t.start);
  }
  return { total: Float64Array.from(total), firstByte: Float64Array.from(firstByte), firstToken: Float64Array.from(firstToken), errors, firstError };
}

/** A Pool sized for open-loop runs at `rate`: enough connections that none waits for another. */
export function openLoopPool(url: string, connections: number): Pool {
  return new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
}

/** `rate` requests per second for `durationMs` through `pool`, latency from the planned send time. */
export function openLoop(pool: Dispatcher, spec: RequestSpec, rate: number, durationMs: number): Promise<OpenLoopOutcome> {
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  return runOpenLoop(rate, total, {
    now: () => performance.now(),
    sleep: (ms) => new Promise((r) => (ms >= 1 ? setTimeout(r, ms) : setImmediate(r))),
    send: (i) => {
      void i;
      return timedRequest(pool, spec, undefined, 30_000).then((t) => ({ end: t.end, ok: succeeded(t), error: t.error ?? `HTTP ${t.status}` }));
    },
  });
}

export interface CannonStep {
  connections: number;
  rps: number;
  /** Requests answered. */
  total: number;
  /** Requests written (answered + those cut when the run ended); absent in older results. */
  sent?: number;
  p50: number;
  p99: number;
  /** The C generator only (autocannon's p99.9 bucket is coarse). */
  p999?: number;
  errors: number;
  non2xx: number;
  /** CPU µs per request of the target over this run (set by the caller that measured it). */
  cpuUsPerReq?: number;
}

function headerObject(flat: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
  return o;
}

/** One autocannon run at a fixed number of connections. */
export async function cannon(url: string, spec: RequestSpec, connections: number, durationS: number): Promise<CannonStep> {
  const r = await autocannon({
    url: url + spec.path,
    method: spec.method,
    headers: headerObject(spec.headers),
    body: spec.body ?? undefined,
    connections,
    pipelining: 1,
    duration: durationS,
    timeout: 10,
  });
  return {
    connections,
    rps: r.requests.total / Math.max(0.001, r.duration),
    total: r.requests.total,
    sent: (r.requests as { sent?: number }).sent ?? r.requests.total,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}
