// WEIR_DEBUG_MEMORY=FILE (a debugging aid, off by default): once a second the control thread
// appends one JSON line to FILE with the process's resident memory and its own V8 heap (where the
// spend writer, the admin API and pg live), external memory and ArrayBuffers (Buffers: journal
// reads, pg's messages), so a high RSS under load can be split into the control thread's heap, its
// buffers and the rest (the workers' heaps, code, PostgreSQL's client side). The timer is unref'd:
// it never keeps the process alive.
import fs from 'node:fs';
import v8 from 'node:v8';

const MB = 1024 * 1024;

export function startMemoryLog(file: string, everyMs = 1000): () => void {
  const t0 = Date.now();
  let first = true;
  const tick = (): void => {
    const m = process.memoryUsage();
    const h = v8.getHeapStatistics();
    const line = {
      pid: process.pid,
      ...(first ? { argv: process.argv.slice(2).join(' ') } : {}),
      t_s: Math.round((Date.now() - t0) / 100) / 10,
      rss_mb: +(m.rss / MB).toFixed(1),
      control_heap_used_mb: +(m.heapUsed / MB).toFixed(1),
      control_heap_total_mb: +(m.heapTotal / MB).toFixed(1),
      control_heap_limit_mb: +(h.heap_size_limit / MB).toFixed(0),
      external_mb: +(m.external / MB).toFixed(1),
      array_buffers_mb: +(m.arrayBuffers / MB).toFixed(1),
      malloced_mb: +(h.malloced_memory / MB).toFixed(1),
      // Per V8 space, the pages the control thread's heap holds (new_space: the young generation).
      control_spaces_mb: Object.fromEntries(v8.getHeapSpaceStatistics().map((sp) => [sp.space_name, +(sp.physical_space_size / MB).toFixed(1)])),
    };
    first = false;
    try {
      fs.appendFileSync(file, JSON.stringify(line) + '\n');
    } catch {
      /* a debugging aid must not disturb the process */
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
