// CPU time and memory of processes from /proc: utime + stime from /proc/PID/stat (all threads of
// the process, in clock ticks), its minor page faults, and VmRSS from /proc/PID/status. Parsing is kept pure so it can be
// tested on captured lines; the readers return NaN when the process is gone or /proc is absent.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export interface StatFields {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /**
   * Minor page faults (field 10, every thread): pages touched for the first time. A fresh buffer
   * of >= 128 KB (glibc mmaps it) faults each of its pages, so this counts fresh memory per request.
   */
  minflt: number;
  utimeTicks: number;
  stimeTicks: number;
  /** CPU of children the process waited for (fields 16 and 17): a server's exited workers. */
  cutimeTicks: number;
  cstimeTicks: number;
}

/**
 * Parses one /proc/PID/stat line. The command name is in parentheses and may itself contain
 * spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseStatLine(line: string): StatFields {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/PID/stat line: ${line.slice(0, 80)}`);
  const rest = line.slice(close + 2).trim().split(/\s+/);
  // rest[0] is field 3 (state); field N is rest[N - 3].
  if (rest.length < 13) throw new Error(`truncated /proc/PID/stat line: ${line.slice(0, 80)}`);
  const num = (i: number): number => {
    const v = Number(rest[i]);
    if (!Number.isFinite(v)) throw new Error(`bad field ${i + 3} in /proc/PID/stat: ${rest[i]}`);
    return v;
  };
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    state: rest[0]!,
    ppid: num(1),
    minflt: num(7),
    utimeTicks: num(11),
    stimeTicks: num(12),
    cutimeTicks: rest.length > 14 ? num(13) : 0,
    cstimeTicks: rest.length > 14 ? num(14) : 0,
  };
}

/**
 * VmRSS (or VmHWM, the peak resident set since the process started) from /proc/PID/status text, in
 * bytes; NaN when absent (a zombie has none).
 */
export function parseVmRssBytes(status: string, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Busy and total CPU ticks of the whole machine from the `cpu` line of /proc/stat. */
export function parseProcStatCpu(text: string): { busy: number; total: number } {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no cpu line in /proc/stat');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** Busy CPU time of the whole machine so far, µs (NaN without /proc). */
export function machineBusyMicros(): number {
  try {
    return ticksToMicros(parseProcStatCpu(fs.readFileSync('/proc/stat', 'utf8')).busy, clockTicksPerSecond());
  } catch {
    return NaN;
  }
}

/** Ticks to microseconds. */
export function ticksToMicros(ticks: number, clkTck: number): number {
  return (ticks * 1_000_000) / clkTck;
}

let clkTckCache: number | undefined;

/** The kernel's USER_HZ (clock ticks per second), from getconf; 100 when it cannot be asked. */
export function clockTicksPerSecond(): number {
  if (clkTckCache !== undefined) return clkTckCache;
  let v = 100;
  try {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout.trim());
    if (r.status === 0 && Number.isInteger(n) && n > 0) v = n;
  } catch {
    /* keep 100 */
  }
  clkTckCache = v;
  return v;
}

function readStat(pid: number): StatFields | null {
  try {
    return parseStatLine(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** CPU time (user + system, every thread) a process has used so far, in µs; NaN when gone. */
export function cpuMicros(pid: number): number {
  const s = readStat(pid);
  return s ? ticksToMicros(s.utimeTicks + s.stimeTicks, clockTicksPerSecond()) : NaN;
}

/** Minor page faults of a process so far (every thread); NaN when gone. */
export function minorFaults(pid: number): number {
  const s = readStat(pid);
  return s ? s.minflt : NaN;
}

/** CPU time of one thread of a process (the main thread: tid = pid), µs; NaN when gone. */
export function threadCpuMicros(pid: number, tid: number): number {
  try {
    const st = parseStatLine(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    return ticksToMicros(st.utimeTicks + st.stimeTicks, clockTicksPerSecond());
  } catch {
    return NaN;
  }
}

/** Resident set size in bytes (`peak`: the highest since the process started); NaN when the process is gone. */
export function rssBytes(pid: number, peak = false): number {
  try {
    return parseVmRssBytes(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), peak ? 'VmHWM' : 'VmRSS');
  } catch {
    return NaN;
  }
}

/**
 * CPU µs of a server and all its processes, those that already exited included (a server reaps
 * its workers, whose time then shows in its cutime/cstime): for PostgreSQL and its backends.
 */
export function treeCpuMicros(root: number): number {
  const s = readStat(root);
  if (!s) return NaN;
  const hz = clockTicksPerSecond();
  let total = ticksToMicros(s.utimeTicks + s.stimeTicks + s.cutimeTicks + s.cstimeTicks, hz);
  for (const pid of processTree(root)) if (pid !== root) total += cpuMicros(pid) || 0;
  return total;
}

/** Direct children of `parent` whose command name is `comm`. */
export function childrenNamed(parent: number, comm: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    const s = readStat(Number(e));
    if (s && s.ppid === parent && s.comm === comm) out.push(s.pid);
  }
  return out;
}

/** The process and all its descendants (nginx master + workers, a shell + what it started). */
export function processTree(root: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [root];
  }
  const children = new Map<number, number[]>();
  for (const e of entries) {
    const s = readStat(Number(e));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    for (const c of children.get(p) ?? []) todo.push(c);
  }
  return out;
}

/** Sum of a measure over several pids, skipping the ones that are gone; NaN when all are. */
export function sumOver(pids: readonly number[], f: (pid: number) => number): number {
  let total = 0;
  let any = false;
  for (const p of pids) {
    const v = f(p);
    if (!Number.isNaN(v)) {
      total += v;
      any = true;
    }
  }
  return any ? total : NaN;
}

/**
 * On-CPU nanoseconds of each live thread of a process, by thread id (the first field of each
 * /proc/PID/task/TID/schedstat); null when the process is gone or the kernel keeps no schedstat.
 * Exact to the nanosecond where /proc/PID/stat counts 10 ms ticks.
 */
export function threadsCpuNs(pid: number): Map<number, number> | null {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const out = new Map<number, number>();
  for (const tid of tids) {
    try {
      out.set(Number(tid), Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // a thread that ended since the listing: its time is gone with it
    }
  }
  return out.size > 0 ? out : null;
}

/**
 * On-CPU nanoseconds a process's threads spent between two `threadsCpuNs` readings: a thread
 * started in between counts whole, one that ended in between counts nothing (its time left with
 * it: a window must not see a server's threads come and go, which Weir's and the mock's do not).
 */
export function threadsCpuDeltaNs(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let ns = 0;
  for (const [tid, v] of after) ns += v - (before.get(tid) ?? 0);
  return ns;
}

/**
 * On-CPU nanoseconds of the calling thread (the first field of /proc/thread-self/schedstat). The
 * kernel brings a running thread's count up to date only at a tick or a switch, so read alone it
 * lags by up to a tick (4 ms here): a 300 µs stretch of work read as 18 µs. Asking for the
 * process's CPU time (getrusage) first updates the calling thread's count.
 */
export function threadNs(): number {
  process.cpuUsage();
  return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
}
