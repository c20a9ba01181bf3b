// A worker's finished request timings, handed to the control thread in batches: the worker does
// no export work (no HTTP, no SDK objects), one message per SPAN_BATCH requests or per second.

/** One request's phases, as epoch milliseconds (fractional); 0 for a phase the request did not reach. */
export interface SpanRecord {
  name: string;
  start: number;
  /** The caller was known (key checked). */
  authEnd: number;
  /** The body was read, checked and a deployment picked; the upstream request goes out. */
  routeEnd: number;
  /** The upstream's answer began (status line and headers). */
  firstByte: number;
  end: number;
  status: number;
  stream: boolean;
  attributes: Record<string, string | number>;
}

const SPAN_BATCH = 64;
const FLUSH_MS = 1000;

export class SpanBatcher {
  private batch: SpanRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** performance.now() → epoch ms in this thread. */
  readonly origin = performance.timeOrigin;

  constructor(private readonly send: (spans: SpanRecord[]) => void) {}

  add(s: SpanRecord): void {
    this.batch.push(s);
    if (this.batch.length >= SPAN_BATCH) return this.flush();
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.batch.length) return;
    const b = this.batch;
    this.batch = [];
    this.send(b);
  }
}
