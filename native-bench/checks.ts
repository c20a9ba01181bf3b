// The performance targets, checked against a run's results. A target that this run did
// not measure (scenario not run, comparator absent) is reported as not measured, never as passed.
import type { BenchResults, Check, LatencyRow, ScenarioResult } from './results';
import { ratio } from './stats';
import { fixed, ratioText } from './table';
import type { TargetKind } from './targets';

function scenario(r: BenchResults, key: string): ScenarioResult | undefined {
  return r.scenarios.find((s) => s.key === key && !s.skipped);
}

function latencyRow(s: ScenarioResult | undefined, t: TargetKind): LatencyRow | undefined {
  return s?.latency?.find((x) => x.target === t);
}

const na = (name: string, target: string, why: string): Check => ({ name, target, measured: why, pass: null });

export function evaluateChecks(r: BenchResults): Check[] {
  const out: Check[] = [];
  const chat = scenario(r, 'chat');
  const claude = scenario(r, 'claude');
  const stream = scenario(r, 'stream');

  // CPU per request at max load (falls back to concurrency 1 when no throughput run happened).
  {
    const name = 'CPU/request, master-key path';
    const tw = chat?.throughput?.find((x) => x.target === 'weir');
    const tm = chat?.throughput?.find((x) => x.target === 'minimal');
    let w = tw?.cpuUsPerReq ?? NaN;
    let m = tm?.cpuUsPerReq ?? NaN;
    let where = 'at max load';
    if (Number.isNaN(w) || Number.isNaN(m)) {
      w = latencyRow(chat, 'weir')?.cpuUsPerReq ?? NaN;
      m = latencyRow(chat, 'minimal')?.cpuUsPerReq ?? NaN;
      where = 'at concurrency 1';
    }
    const q = ratio(w, m);
    out.push(Number.isNaN(q) ? na(name, '≤ 1.5× minimal proxy', 'not measured') : { name, target: '≤ 1.5× minimal proxy', measured: `${ratioText(q)} (${fixed(w, 1)} vs ${fixed(m, 1)} µs, ${where})`, pass: q <= 1.5 });
  }
  out.push(na('CPU/request, governed path', '≤ 2× minimal proxy', 'skipped: virtual keys not implemented yet'));

  {
    const name = 'Throughput at max load (p99 < 20 ms)';
    const w = chat?.throughput?.find((x) => x.target === 'weir')?.bestRps ?? NaN;
    const m = chat?.throughput?.find((x) => x.target === 'minimal')?.bestRps ?? NaN;
    const q = ratio(w, m);
    out.push(Number.isNaN(q) ? na(name, '≥ 90 % of minimal proxy', 'not measured') : { name, target: '≥ 90 % of minimal proxy', measured: `${fixed(q * 100, 0)} % (${fixed(w, 0)} vs ${fixed(m, 0)} req/s)`, pass: q >= 0.9 });
  }

  {
    const name = 'Added p50, concurrency 1';
    const a = latencyRow(chat, 'weir')?.added?.p50.median ?? NaN;
    out.push(Number.isNaN(a) ? na(name, '≤ 0.10 ms', 'not measured') : { name, target: '≤ 0.10 ms', measured: `${fixed(a, 3)} ms`, pass: a <= 0.1 });
  }

  {
    const name = 'Added p50 at 2,000 req/s';
    const w = chat?.rates?.find((x) => x.target === 'weir' && x.rate === 2000)?.addedP50?.median ?? NaN;
    const m = chat?.rates?.find((x) => x.target === 'minimal' && x.rate === 2000)?.addedP50?.median ?? NaN;
    out.push(Number.isNaN(w) || Number.isNaN(m)
      ? na(name, "≤ minimal's + 0.10 ms", 'not measured')
      : { name, target: "≤ minimal's + 0.10 ms", measured: `${fixed(w, 3)} vs ${fixed(m, 3)} ms`, pass: w <= m + 0.1 });
  }

  {
    const name = 'Claude-Code-sized body, added p50';
    const a = latencyRow(claude, 'weir')?.added?.p50.median ?? NaN;
    out.push(Number.isNaN(a) ? na(name, '≤ 0.25 ms', 'not measured') : { name, target: '≤ 0.25 ms', measured: `${fixed(a, 3)} ms`, pass: a <= 0.25 });
  }

  {
    const name = 'Streaming, added TTFB p50';
    const w = latencyRow(stream, 'weir')?.ttfb?.added?.p50.median ?? NaN;
    const m = latencyRow(stream, 'minimal')?.ttfb?.added?.p50.median ?? NaN;
    out.push(Number.isNaN(w) || Number.isNaN(m)
      ? na(name, "≤ minimal's + 0.15 ms", 'not measured')
      : { name, target: "≤ minimal's + 0.15 ms", measured: `${fixed(w, 3)} vs ${fixed(m, 3)} ms`, pass: w <= m + 0.15 });
  }

  {
    const name = 'No stall or lost frame, 512 streams';
    const s = stream?.streams?.find((x) => x.target === 'weir' && x.concurrency === 512);
    out.push(!s
      ? na(name, '0 stalled, 0 lost', 'not measured')
      : { name, target: '0 stalled, 0 lost', measured: `${s.completed}/512 ok, ${s.stalled} stalled, ${s.lostFrames} lost, ${s.errors} errors`, pass: s.stalled === 0 && s.lostFrames === 0 && s.errors === 0 });
  }

  {
    const lw = latencyRow(chat, 'weir')?.added?.p50.median ?? NaN;
    const ll = latencyRow(chat, 'litellm')?.added?.p50.median ?? NaN;
    const q = ratio(ll, lw);
    out.push(Number.isNaN(ll)
      ? na('vs LiteLLM: added p50', '≥ 25× less', 'LiteLLM not run (--litellm URL / --litellm-cmd CMD)')
      : { name: 'vs LiteLLM: added p50', target: '≥ 25× less', measured: `${ratioText(q)} less (${fixed(ll, 3)} vs ${fixed(lw, 3)} ms)`, pass: q >= 25 });
    const tw = chat?.throughput?.find((x) => x.target === 'weir')?.bestRps ?? NaN;
    const tl = chat?.throughput?.find((x) => x.target === 'litellm')?.bestRps ?? NaN;
    const qt = ratio(tw, tl);
    out.push(Number.isNaN(qt)
      ? na('vs LiteLLM: throughput', '≥ 25×', Number.isNaN(ll) ? 'LiteLLM not run' : 'not measured')
      : { name: 'vs LiteLLM: throughput', target: '≥ 25×', measured: `${ratioText(qt)} (${fixed(tw, 0)} vs ${fixed(tl, 0)} req/s)`, pass: qt >= 25 });
  }

  {
    const name = `RSS under load (${r.meta.workers} workers)`;
    const m = r.memory.find((x) => x.target === 'weir');
    out.push(!m || Number.isNaN(m.peakMB)
      ? na(name, '≤ 150 MB', 'not measured')
      : { name, target: '≤ 150 MB', measured: `peak ${fixed(m.peakMB, 1)} MB`, pass: m.peakMB <= 150 });
  }

  {
    const soak = scenario(r, 'soak')?.soak;
    out.push(!soak
      ? na('RSS flat across the soak', 'flat', 'soak not run (--soak)')
      : { name: 'RSS flat across the soak', target: 'flat', measured: `${fixed(soak.rssGrowthMB, 1)} MB growth`, pass: soak.flat });
  }
  return out;
}
