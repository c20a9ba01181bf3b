// OpenTelemetry traces, exported from the control thread: workers hand over finished requests'
// phase timings (span-batch.ts) and this turns each into a span with one child per phase (auth,
// route, upstream TTFB, stream or response), built with the official SDK and sent by its batch
// processor and OTLP/HTTP exporter. No worker does export work.
import { context, trace, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanRecord } from './span-batch';

/** LiteLLM's otel callback sends to this when no endpoint is set. */
const DEFAULT_URL = 'http://localhost:4318/v1/traces';

export class TraceExporter {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;

  constructor(url: string | null, version: string) {
    const exporter = new OTLPTraceExporter({ url: url ?? DEFAULT_URL });
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME || 'weir', 'service.version': version }),
      spanProcessors: [new BatchSpanProcessor(exporter)],
    });
    this.tracer = this.provider.getTracer('weir', version);
  }

  /** A worker's batch; malformed records (never from our workers) are skipped. */
  take(spans: SpanRecord[]): void {
    for (const s of spans) {
      if (!(s.start > 0 && s.end >= s.start)) continue;
      this.one(s);
    }
  }

  private one(s: SpanRecord): void {
    const root = this.tracer.startSpan(s.name, { kind: SpanKind.SERVER, startTime: s.start, attributes: { ...s.attributes, 'http.response.status_code': s.status } });
    if (s.status >= 500) root.setStatus({ code: SpanStatusCode.ERROR });
    const ctx = trace.setSpan(context.active(), root);
    const phase = (name: string, from: number, to: number) => {
      if (!(from > 0 && to >= from)) return;
      this.tracer.startSpan(name, { startTime: from }, ctx).end(to);
    };
    phase('auth', s.start, s.authEnd);
    phase('route', s.authEnd || s.start, s.routeEnd);
    phase('upstream', s.routeEnd, s.firstByte);
    phase(s.stream ? 'stream' : 'response', s.firstByte, s.end);
    root.end(s.end);
  }

  /** Sends what is batched (shutdown, tests). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
