// Streams: time to first byte / first token, and the stall and lost-frame check at N concurrent
// streams. Every delta the mock sends carries its index ("tok0 ", "tok1 "…), so a checker reading
// the SSE text can tell a missing, repeated or reordered frame from a slow one.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentiles } from './stats';
import { timedRequest, type RequestSpec } from './timed-request';

const DELTA_RE = /"(?:content|text)":"tok(\d+) "/;

/** Reads an SSE response as it arrives and keeps what the verdict needs. */
export class SseChecker {
  frames = 0;
  deltas = 0;
  outOfOrder = 0;
  ended = false;
  firstDeltaAt = 0;
  lastFrameAt = 0;
  /** Longest silence between two consecutive frames, ms. */
  maxGapMs = 0;
  private next = 0;
  private buf = '';

  feed(chunk: Buffer | string, now: number): void {
    this.buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.buf.includes('\r')) this.buf = this.buf.replace(/\r\n/g, '\n');
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const ev = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      if (ev.trim()) this.event(ev, now);
    }
  }

  private event(ev: string, now: number): void {
    if (this.frames > 0 && now - this.lastFrameAt > this.maxGapMs) this.maxGapMs = now - this.lastFrameAt;
    this.frames++;
    this.lastFrameAt = now;
    const m = DELTA_RE.exec(ev);
    if (m) {
      const idx = Number(m[1]);
      if (idx !== this.next) this.outOfOrder++;
      this.next = idx + 1;
      this.deltas++;
      if (this.firstDeltaAt === 0) this.firstDeltaAt = now;
    }
    // Gemini streams have no terminator: the event with finishReason is the last.
    if (ev.includes('data: [DONE]') || ev.includes('event: message_stop') || ev.includes('"finishReason"')) this.ended = true;
  }

  /** Frames lost or damaged relative to `expectedDeltas` (0 for a perfect stream). */
  lost(expectedDeltas: number): number {
    const missing = Math.abs(expectedDeltas - this.deltas);
    return missing + this.outOfOrder + (this.ended ? 0 : 1) + (this.buf.trim() ? 1 : 0);
  }
}

export interface StreamVerdict {
  ok: boolean;
  stalled: boolean;
  lostFrames: number;
}

/** A stream is stalled when it went silent longer than stallMs or never finished; lossy when frames are missing. */
export function judgeStream(c: SseChecker, o: { expectedDeltas: number; stallMs: number; error: string | null; status: number }): StreamVerdict {
  const stalled = c.maxGapMs > o.stallMs || o.error === 'timeout';
  const lostFrames = c.lost(o.expectedDeltas);
  return { ok: !stalled && lostFrames === 0 && o.error === null && o.status === 200, stalled, lostFrames };
}

export interface ConcurrentStreamsResult {
  concurrency: number;
  completed: number;
  stalled: number;
  lossy: number;
  lostFrames: number;
  errors: number;
  firstError: string | null;
  maxGapMs: number;
  ttfbP50: number;
  ttfbP99: number;
  wallMs: number;
}

/** Opens `n` streams at once over `n` connections and checks every one of them. */
export async function concurrentStreams(
  url: string,
  spec: RequestSpec,
  n: number,
  o: { expectedDeltas: number; stallMs: number; timeoutMs: number },
): Promise<ConcurrentStreamsResult> {
  const pool = new Pool(url, { connections: n, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: 0, bodyTimeout: 0 });
  try {
    const t0 = performance.now();
    const runs = await Promise.all(
      Array.from({ length: n }, async () => {
        const c = new SseChecker();
        const t = await timedRequest(pool, spec, (chunk, now) => c.feed(chunk, now), o.timeoutMs);
        return { c, t, v: judgeStream(c, { expectedDeltas: o.expectedDeltas, stallMs: o.stallMs, error: t.error, status: t.status }) };
      }),
    );
    const wallMs = performance.now() - t0;
    const ttfb = runs.filter((r) => r.t.error === null).map((r) => r.t.firstByteAt - r.t.start);
    const [p50, p99] = ttfb.length ? percentiles(ttfb, [50, 99]) : [NaN, NaN];
    const firstErr = runs.find((r) => r.t.error !== null || r.t.status !== 200);
    return {
      concurrency: n,
      completed: runs.filter((r) => r.v.ok).length,
      stalled: runs.filter((r) => r.v.stalled).length,
      lossy: runs.filter((r) => r.v.lostFrames > 0).length,
      lostFrames: runs.reduce((a, r) => a + r.v.lostFrames, 0),
      errors: runs.filter((r) => r.t.error !== null || r.t.status !== 200).length,
      firstError: firstErr ? (firstErr.t.error ?? `HTTP ${firstErr.t.status}`) : null,
      maxGapMs: Math.max(0, ...runs.map((r) => r.c.maxGapMs)),
      ttfbP50: p50!,
      ttfbP99: p99!,
      wallMs,
    };
  } finally {
    await pool.destroy();
  }
}
