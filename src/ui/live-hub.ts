// GET /ui/live on the control thread: the open streams (bounded), and one timer that, while any is
// open, reads the workers' metrics shards once a second (under their seqlocks: a worker never
// waits) and sends every stream the same tick. No stream open, no timer, no reads.
import type { StreamSink } from '../server/worker-protocol';
import type { Snapshot } from '../gateway/snapshot';
import type { Row } from '../metrics/render-rows';
import type { DeploymentHealth } from '../state/deployment-health';
import { sumRows, tickBetween } from './live-tick';

export const MAX_LIVE_STREAMS = 32;
export const TICK_MS = 1000;

export interface LiveSources {
  rows(): Row[];
  snapshot(): Snapshot;
  health: DeploymentHealth;
}

export class LiveHub {
  private readonly sinks = new Set<StreamSink>();
  private timer: NodeJS.Timeout | null = null;
  private last: { at: number; sums: Map<string, Float64Array> } | null = null;

  constructor(
    private readonly sources: LiveSources,
    private readonly max = MAX_LIVE_STREAMS,
    private readonly tickMs = TICK_MS,
  ) {}

  get streams(): number {
    return this.sinks.size;
  }

  /** Starts a stream into `sink`; the function returned ends it (the client left). */
  open(sink: StreamSink): () => void {
    if (this.sinks.size >= this.max) {
      sink.head(503, ['content-type', 'application/json', 'retry-after', '5']);
      sink.data(JSON.stringify({ error: { message: `Too many live streams are open (${this.max}); close one or retry shortly.`, type: 'service_unavailable', param: null, code: '503' } }));
      sink.end();
      return () => {};
    }
    sink.head(200, ['content-type', 'text/event-stream', 'cache-control', 'no-cache', 'x-accel-buffering', 'no']);
    // A first line at once, so the client knows the stream is open before the first tick.
    sink.data(`: weir live, one tick every ${this.tickMs} ms\n\n`);
    this.sinks.add(sink);
    if (!this.timer) {
      this.last = { at: Date.now(), sums: sumRows(this.sources.rows()) };
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
    return () => this.close(sink);
  }

  private close(sink: StreamSink): void {
    if (!this.sinks.delete(sink)) return;
    if (this.sinks.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
      this.last = null;
    }
  }

  private tick(): void {
    const now = Date.now();
    const sums = sumRows(this.sources.rows());
    const before = this.last ?? { at: now - this.tickMs, sums: new Map() };
    const tick = tickBetween(before.sums, sums, now - before.at, this.sources.snapshot(), this.sources.health, now);
    this.last = { at: now, sums };
    const event = `event: tick\ndata: ${JSON.stringify(tick)}\n\n`;
    for (const s of this.sinks) s.data(event);
  }

  /** Ends every stream (shutdown). */
  stop(): void {
    for (const s of [...this.sinks]) {
      this.close(s);
      s.end();
    }
  }
}
