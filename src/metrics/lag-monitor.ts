// A worker's event-loop lag, sampled by Node's own monitor (a timer inside libuv, nothing on the
// request path): once a second the longest delay of that second goes into the worker's shard.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { CallMetrics } from './recorder';

const WINDOW_MS = 1000;

export function startLagMonitor(metrics: CallMetrics): () => void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const timer = setInterval(() => {
    if (h.count > 0) metrics.lag(h.max / 1e9);
    h.reset();
  }, WINDOW_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}
