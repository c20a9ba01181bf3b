// CPU and memory accounting from /proc: parsing of stat lines (including command names with
// spaces and parentheses) and status files, tick conversion, and the live readers on this process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { clockTicksPerSecond, cpuMicros, minorFaults, parseProcStatCpu, parseStatLine, parseVmRssBytes, processTree, rssBytes, sumOver, threadNs, threadsCpuDeltaNs, threadsCpuNs, ticksToMicros } from '../../native-bench/procfs';
import { CpuMeter, makeTarget } from '../../native-bench/targets';

// A real line from a Node process (fields 14/15 = utime/stime = 1523/277).
const NODE_LINE =
  '14884 (node) S 14800 14884 6166 0 -1 4194560 40213 0 12 0 1523 277 0 0 20 0 11 0 137901 1205604352 30154 18446744073709551615 1 1 0 0 0 0 0 4096 134235650 0 0 0 17 1 0 0 0 0 0';

test('utime and stime are fields 14 and 15 of /proc/PID/stat', () => {
  const s = parseStatLine(NODE_LINE);
  assert.equal(s.pid, 14884);
  assert.equal(s.comm, 'node');
  assert.equal(s.state, 'S');
  assert.equal(s.ppid, 14800);
  assert.equal(s.utimeTicks, 1523);
  assert.equal(s.stimeTicks, 277);
});

test('minor page faults are field 10 of /proc/PID/stat, and a fresh large buffer adds to them', () => {
  assert.equal(parseStatLine(NODE_LINE).minflt, 40213);
  const before = minorFaults(process.pid);
  // 4 MB is far above glibc's mmap threshold: fresh pages, each faulted in when first written.
  const b = Buffer.allocUnsafe(4 * 1024 * 1024);
  b.fill(1);
  const after = minorFaults(process.pid);
  // Each page faults alone here (THP is madvise-only on this VM); with THP always a few huge pages may do.
  assert.ok(after - before > 0, `${after - before} faults for 1,024 fresh pages`);
  assert.ok(Number.isNaN(minorFaults(2 ** 22 + 12345)));
});

test('a command name with spaces and parentheses does not shift the fields', () => {
  const line = NODE_LINE.replace('(node)', '(weird (name) x)');
  const s = parseStatLine(line);
  assert.equal(s.comm, 'weird (name) x');
  assert.equal(s.utimeTicks, 1523);
  assert.equal(s.stimeTicks, 277);
  assert.equal(s.ppid, 14800);
});

test('a truncated or foreign line is refused, not read as zeros', () => {
  assert.throws(() => parseStatLine('14884 (node) S 1 2 3'), /truncated/);
  assert.throws(() => parseStatLine('no parens here'), /not a \/proc/);
});

test('VmRSS is read in kB and returned in bytes; absent VmRSS (a zombie) is NaN', () => {
  const status = 'Name:\tnode\nVmPeak:\t 1205604 kB\nVmHWM:\t  150012 kB\nVmRSS:\t  120616 kB\nRssAnon:\t   80000 kB\n';
  assert.equal(parseVmRssBytes(status), 120616 * 1024);
  assert.equal(parseVmRssBytes(status, 'VmHWM'), 150012 * 1024, 'the peak since the process started');
  assert.ok(Number.isNaN(parseVmRssBytes('Name:\tzombie\nState:\tZ (zombie)\n')));
});

test('ticks convert to microseconds with the kernel tick rate', () => {
  assert.equal(ticksToMicros(1800, 100), 18_000_000);
  assert.equal(ticksToMicros(3, 250), 12_000);
  const hz = clockTicksPerSecond();
  assert.ok(Number.isInteger(hz) && hz > 0);
});

test('the live readers agree with getrusage (process.cpuUsage) on this process; a dead pid is NaN', { skip: !fs.existsSync('/proc/self/stat') }, () => {
  const before = cpuMicros(process.pid);
  const ru0 = process.cpuUsage();
  // Spin until 200 ms of CPU has been used (bounded in wall time on a starved machine).
  const deadline = Date.now() + 5000;
  let x = 0;
  while (Date.now() < deadline) {
    for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + i);
    const ru = process.cpuUsage(ru0);
    if (ru.user + ru.system >= 200_000) break;
  }
  assert.ok(x > 0);
  const ru = process.cpuUsage(ru0);
  const after = cpuMicros(process.pid);
  const fromProc = after - before;
  const fromRusage = ru.user + ru.system;
  // /proc counts in clock ticks (10 ms at 100 Hz): allow two ticks of either side plus 5 %.
  const tick = 1e6 / clockTicksPerSecond();
  assert.ok(Math.abs(fromProc - fromRusage) <= 2 * tick + fromRusage * 0.05, `/proc says ${fromProc} µs, getrusage ${fromRusage} µs`);
  assert.ok(rssBytes(process.pid) > 10 * 2 ** 20);
  assert.ok(Math.abs(rssBytes(process.pid) - process.memoryUsage().rss) < 16 * 2 ** 20, 'VmRSS matches the RSS Node reports');
  assert.ok(Number.isNaN(cpuMicros(2 ** 30)));
  assert.ok(Number.isNaN(rssBytes(2 ** 30)));
  assert.ok(processTree(process.pid).includes(process.pid));
});

test('sumOver skips processes that are gone, and is NaN only when all are', () => {
  const f = (pid: number) => (pid === 0 ? NaN : pid * 10);
  assert.equal(sumOver([1, 0, 2], f), 30);
  assert.ok(Number.isNaN(sumOver([0, 0], f)));
});

test('machine CPU from /proc/stat: busy is everything but idle and iowait', () => {
  const text = 'cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 50 2 25 500 10 1 1 5 0 0\nintr 12345\n';
  const c = parseProcStatCpu(text);
  assert.equal(c.total, 100 + 5 + 50 + 1000 + 20 + 3 + 2 + 10);
  assert.equal(c.busy, 100 + 5 + 50 + 3 + 2 + 10);
  assert.throws(() => parseProcStatCpu('intr 1\n'), /no cpu line/);
});

test('per-thread CPU: a thread started between two readings counts whole, one that ended counts nothing', () => {
  const before = new Map([[1, 100], [2, 50]]);
  const after = new Map([[1, 150], [3, 40]]);
  assert.equal(threadsCpuDeltaNs(before, after), 50 + 40);
  assert.equal(threadsCpuDeltaNs(after, after), 0);
});

/** Work that takes the CPU a while: a fixed count of steps, not a time. */
function spin(steps: number): number {
  let x = 0;
  for (let i = 0; i < steps; i++) x = (x * 31 + i) % 1_000_003;
  return x;
}

test('per-thread CPU is read in nanoseconds for every thread of a live process', { skip: !fs.existsSync('/proc/thread-self/schedstat') }, () => {
  const a = threadsCpuNs(process.pid);
  assert.ok(a !== null && a.has(process.pid), 'the main thread is listed by its tid, the pid');
  const mine = threadNs();
  spin(2_000_000);
  const b = threadsCpuNs(process.pid)!;
  // This thread's own reading lies between the two process readings of it.
  assert.ok(a.get(process.pid)! <= mine && mine <= b.get(process.pid)!);
  assert.ok(threadsCpuDeltaNs(a, b) > 0);
  assert.equal(threadsCpuNs(2 ** 30), null);
});

test("this thread's own reading counts a stretch of work far shorter than a tick", { skip: !fs.existsSync('/proc/thread-self/schedstat') }, () => {
  // Read alone, a running thread's count moves only at a tick or a switch: most such windows read 0.
  for (let w = 0; w < 5; w++) {
    const t0 = threadNs();
    spin(20_000);
    assert.ok(threadNs() > t0, `window ${w}`);
  }
});

test('a precise CpuMeter counts a window far shorter than a tick, and adds up repeats', { skip: !fs.existsSync('/proc/thread-self/schedstat') }, () => {
  const self = makeTarget('weir', 'http://127.0.0.1:1', process.pid);
  const whole = new CpuMeter(self);
  for (let r = 0; r < 2; r++) {
    const m = new CpuMeter(self, true);
    for (let w = 0; w < 5; w++) {
      const counted = m.cpuUs;
      m.begin();
      spin(20_000);
      m.end(1);
      // ~0.1 ms of work: under /proc/PID/stat's 10 ms tick, still counted.
      assert.ok(m.cpuUs > counted, `window ${w}: ${m.cpuUs - counted} µs`);
    }
    whole.absorb(m);
    assert.equal(m.requests, 5);
  }
  assert.equal(whole.requests, 10);
  assert.ok(whole.perRequest() > 0);
});
