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

export function readProfiles(dir: string): CpuProfile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile);
}
