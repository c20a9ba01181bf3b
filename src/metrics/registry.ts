// Metrics other parts of the control thread publish on /metrics (lease refills, Redis state…):
// a counter they add to, or a gauge read when a scrape renders. Label sets are bounded like the
// rest: past MAX_SERIES_PER_FAMILY label sets, a counter counts under `other`.
import { OTHER } from './labels';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples(): Sample[];
}

const MAX_SERIES_PER_FAMILY = 1000;
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class Counter {
  private readonly series = new Map<string, { labels: Record<string, string>; value: number }>();

  constructor(private readonly labelNames: readonly string[]) {}

  inc(labels: Record<string, string> = {}, by = 1): void {
    if (!(by >= 0)) throw new Error(`a counter only goes up (got ${by})`);
    let k = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let s = this.series.get(k);
    if (!s && this.series.size >= MAX_SERIES_PER_FAMILY) {
      k = this.labelNames.map(() => OTHER).join('\u0000');
      s = this.series.get(k);
    }
    if (!s) {
      const own = this.series.size < MAX_SERIES_PER_FAMILY;
      s = { labels: Object.fromEntries(this.labelNames.map((n) => [n, own ? (labels[n] ?? '') : OTHER])), value: 0 };
      this.series.set(k, s);
    }
    s.value += by;
  }

  samples(): Sample[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.value }));
  }
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  private add(f: Family): void {
    if (!NAME.test(f.name)) throw new Error(`invalid metric name ${f.name}`);
    if (this.families.has(f.name)) throw new Error(`metric ${f.name} is registered already`);
    this.families.set(f.name, f);
  }

  /** A counter; `name` is the exposed one (end it in `_total`). */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    for (const l of labelNames) if (!LABEL.test(l)) throw new Error(`invalid label name ${l}`);
    const c = new Counter(labelNames);
    this.add({ name, help, type: 'counter', samples: () => c.samples() });
    return c;
  }

  /** A counter kept elsewhere (it only goes up), its samples read at each scrape. */
  counterFrom(name: string, help: string, read: () => Sample[]): void {
    this.add({ name, help, type: 'counter', samples: read });
  }

  /** A gauge whose samples are read at each scrape (keep `read` cheap and bounded). */
  gauge(name: string, help: string, read: () => Sample[]): void {
    this.add({ name, help, type: 'gauge', samples: read });
  }

  unregister(name: string): void {
    this.families.delete(name);
  }

  collect(): Family[] {
    return [...this.families.values()];
  }
}

/** The control thread's registry, rendered on every scrape after the request metrics. */
export const metricsRegistry = new MetricsRegistry();
