// Summarises `node --cpu-prof` output (.cpuprofile files: the main thread and every worker thread
// write one) into the functions with the most self time, idle excluded.
import fs from 'node:fs';
import path from 'node:path';
import type { ProfileEntry } from './results';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const IDLE = new Set(['(idle)']);

function location(f: CallFrame): string {
  if (!f.url) return '';
  const url = f.url.replace(/^file:\/\//, '');
  const rel = url.includes('/node_modules/') ? url.slice(url.indexOf('/node_modules/') + 1) : path.relative(process.cwd(), url) || url;
  return `${rel}:${f.lineNumber + 1}`;
}

/**
 * Self time per node id in µs. A sample's duration is the gap to the next sample's timestamp
 * (as Chrome DevTools counts it); without samples, hitCount × the mean interval.
 */
export function selfTimes(p: CpuProfile): Map<number, number> {
  const out = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    for (let i = 0; i < samples.length; i++) {
      const dur = i + 1 < deltas.length ? deltas[i + 1]! : 0;
      out.set(samples[i]!, (out.get(samples[i]!) ?? 0) + Math.max(0, dur));
    }
    return out;
  }
  const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const per = hits > 0 ? (p.endTime - p.startTime) / hits : 0;
  for (const n of p.nodes) if (n.hitCount) out.set(n.id, n.hitCount * per);
  return out;
}

/** Top `n` functions by self time over several profiles; the same function in several threads adds up. */
export function topSelfTime(profiles: CpuProfile[], n: number): ProfileEntry[] {
  const byFn = new Map<string, { functionName: string; location: string; us: number }>();
  let total = 0;
  for (const p of profiles) {
    const times = selfTimes(p);
    const nodes = new Map(p.nodes.map((x) => [x.id, x]));
    for (const [id, us] of times) {
      const node = nodes.get(id);
      if (!node || IDLE.has(node.callFrame.functionName)) continue;
      const fn = node.callFrame.functionName || '(anonymous)';
      const loc = location(node.callFrame);
      const key = `${fn}\0${loc}`;
      const e = byFn.get(key) ?? { functionName: fn, location: loc, us: 0 };
      e.us += us;
      byFn.set(key, e);
      total += us;
    }
  }
  return [...byFn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ functionName: e.functionName, location: e.location, selfMs: e.us / 1000, pct: total > 0 ? (100 * e.us) / total : 0 }));
}

/**
 * Self time per function inside [fromUs, toUs] of one profile (the clock of its timestamps is the
 * monotonic one `process.hrtime` reads, in µs, in every process of the machine): a phase's share
 * without the start-up's module loading. Also the window's busy time (idle excluded), ms.
 */
export function topSelfTimeIn(p: CpuProfile, fromUs: number, toUs: number, n: number): { busyMs: number; top: ProfileEntry[] } {
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  const nodes = new Map(p.nodes.map((x) => [x.id, x]));
  const byFn = new Map<string, { functionName: string; location: string; us: number }>();
  let total = 0;
  let t = p.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t < fromUs || t > toUs) continue;
    const node = nodes.get(samples[i]!);
    const dur = Math.max(0, deltas[i + 1] ?? 0);
    if (!node || IDLE.has(node.callFrame.functionName)) continue;
    const fn = node.callFrame.functionName || '(anonymous)';
    const loc = location(node.callFrame);
    const key = `${fn}\0${loc}`;
    const e = byFn.get(key) ?? { functionName: fn, location: loc, us: 0 };
    e.us += dur;
    byFn.set(key, e);
    total += dur;
  }
  const top = [...byFn.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({ functionName: e.functionName, location: e.location, selfMs: e.us / 1000, pct: total > 0 ? (100 * e.us) / total : 0 }));
  return { busyMs: total / 1000, top };
}

/** The main thread's profile in `dir` (node names each file CPU.<date>.<time>.<pid>.<thread id>.<n>). */
export function readMainProfile(dir: string): CpuProfile | null {
  if (!fs.existsSync(dir)) return null;
  const main = fs.readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  return main ? (JSON.parse(fs.readFileSync(path.join(dir, main), 'utf8')) as CpuProfile) : null;
}

export function readProfiles(dir: string): CpuProfile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile);
}
