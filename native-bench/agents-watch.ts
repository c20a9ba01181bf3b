// Scenario 8's load: N agent runs POSTed at once, each followed to its end by its own SSE watcher
// (the CLI's follower: resumes with Last-Event-ID), every event timed as it arrives; and the probe
// that sends ordinary chat requests to Weir and to the mock in alternation meanwhile.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { FINAL_STATUSES, type RunStatus } from '../src/agents/types';
import { followEvents } from '../src/cli-run-sse';
import { newTrace, traceEvent, type ProbeSamples, type RunTrace } from './agents-stats';
import { cpuMicros, threadCpuMicros } from './procfs';
import { succeeded, timedRequest, type RequestSpec } from './timed-request';

/** Wall-clock time with sub-millisecond precision, comparable with the events' ISO ts. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

async function oneRun(o: { url: string; key: string; body: object; signal: AbortSignal }): Promise<RunTrace> {
  const t = newTrace(epochNow());
  try {
    const res = await fetch(`${o.url}/v1/agent/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${o.key}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify(o.body),
      signal: o.signal,
    });
    const text = await res.text();
    t.acceptedAt = epochNow();
    const id = res.ok ? (JSON.parse(text) as { id?: unknown }).id : undefined;
    if (typeof id !== 'string') {
      t.postError = `HTTP ${res.status} ${text.slice(0, 200)}`;
      return t;
    }
    t.id = id;
  } catch (e) {
    t.postError = (e as Error).message;
    return t;
  }
  try {
    const id = t.id;
    const finalStatus = async () => {
      const res = await fetch(`${o.url}/v1/agent/runs/${id}`, { headers: { authorization: `Bearer ${o.key}` }, signal: o.signal });
      const run = res.ok ? ((await res.json()) as { status?: string; error?: unknown }) : null;
      return run?.status && FINAL_STATUSES.has(run.status as RunStatus) ? { status: run.status, error: run.error ?? undefined } : null;
    };
    await followEvents({ baseUrl: o.url, runId: id, key: o.key, signal: o.signal, finalStatus, onConnect: () => (t.watchAt ??= epochNow()), onEvent: (e) => traceEvent(t, e, epochNow()) });
  } catch (e) {
    // The deadline, or a stream lost for good: the trace says how far the run got.
    t.errorMessage ??= `watcher: ${(e as Error).message}`;
  }
  return t;
}

/** POSTs `count` runs at once and follows each to its final status, or until the deadline. */
export async function fanOut(o: { url: string; key: string; count: number; body: (i: number) => object; deadlineMs: number }): Promise<{ traces: RunTrace[]; wallMs: number }> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`deadline of ${o.deadlineMs} ms`)), o.deadlineMs);
  const t0 = performance.now();
  try {
    const traces = await Promise.all(Array.from({ length: o.count }, (_, i) => oneRun({ url: o.url, key: o.key, body: o.body(i), signal: stop.signal })));
    return { traces, wallMs: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

/** The same runs as fanOut, started one after the other: each once the one before has ended. */
export async function oneAtATime(o: { url: string; key: string; count: number; body: (i: number) => object; deadlineMs: number }): Promise<{ traces: RunTrace[]; wallMs: number }> {
  const t0 = performance.now();
  const traces: RunTrace[] = [];
  for (let i = 0; i < o.count; i++) traces.push(...(await fanOut({ ...o, count: 1, body: () => o.body(i) })).traces);
  return { traces, wallMs: performance.now() - t0 };
}

/**
 * Ordinary chat requests at concurrency 1, Weir and the mock directly in alternation (the order
 * swapped every round), from start() to stop(); Weir's CPU over the same window.
 */
export class Probe {
  private running = false;
  private loop: Promise<void> | null = null;
  private s: ProbeSamples = { weir: [], direct: [], errors: 0, weirCpuUs: NaN, controlCpuUs: NaN, wallMs: 0 };
  private c0 = NaN;
  private m0 = NaN;
  private t0 = 0;

  constructor(
    private readonly weir: { url: string; pid: number },
    private readonly directUrl: string,
    private readonly spec: RequestSpec,
  ) {}

  start(): void {
    this.s = { weir: [], direct: [], errors: 0, weirCpuUs: NaN, controlCpuUs: NaN, wallMs: 0 };
    this.running = true;
    this.c0 = cpuMicros(this.weir.pid);
    this.m0 = threadCpuMicros(this.weir.pid, this.weir.pid);
    this.t0 = performance.now();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const w = new Pool(this.weir.url, { connections: 1, pipelining: 1 });
    const d = new Pool(this.directUrl, { connections: 1, pipelining: 1 });
    try {
      for (let round = 0; this.running; round++) {
        const order: [Pool, number[]][] = round % 2 === 0 ? [[w, this.s.weir], [d, this.s.direct]] : [[d, this.s.direct], [w, this.s.weir]];
        for (const [pool, into] of order) {
          const t = await timedRequest(pool, this.spec, undefined, 10_000);
          if (succeeded(t)) into.push(t.end - t.start);
          else this.s.errors++;
        }
      }
    } finally {
      await Promise.all([w.destroy(), d.destroy()]);
    }
  }

  async stop(): Promise<ProbeSamples> {
    this.running = false;
    await this.loop;
    this.s.wallMs = performance.now() - this.t0;
    this.s.weirCpuUs = cpuMicros(this.weir.pid) - this.c0;
    this.s.controlCpuUs = threadCpuMicros(this.weir.pid, this.weir.pid) - this.m0;
    return this.s;
  }
}

/** A probe window with nothing else going on. */
export async function probeAlone(p: Probe, ms: number): Promise<ProbeSamples> {
  p.start();
  await new Promise((r) => setTimeout(r, ms));
  return p.stop();
}
