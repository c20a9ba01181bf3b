// The issue's performance targets, checked against a run's results. A target that this run did
// not measure (scenario not run, comparator absent) is reported as not measured, never as passed.
import { agentsChecks } from './agents-report';
import { startsChecks } from './agents-starts-report';
import type { BenchResults, Check, LatencyRow, ScenarioResult, ThroughputRow } from './results';
import { cpuAtSameLoad } from './throughput';
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

/**
 * CPU per request of `a` against the minimal proxy `m`: at max load, under the same load (the
 * same connection count: `a`'s best step, from the confirm slices when both were confirmed there)
 * when both ran it, which decides; else at each one's best step; else at concurrency 1. `extra`
 * is a figure of `a` shown beside and counted when larger.
 */
function cpuComparison(
  ta: ThroughputRow | undefined,
  tm: ThroughputRow | undefined,
  la: LatencyRow | undefined,
  lm: LatencyRow | undefined,
  extra?: { label: string; addUs: number },
): { q: number; text: string } | null {
  const best = ratio(ta?.cpuUsPerReq ?? NaN, tm?.cpuUsPerReq ?? NaN);
  const same = ta && tm ? cpuAtSameLoad(ta, tm) : null;
  const bestText = `${fixed(ta?.cpuUsPerReq, 1)} vs ${fixed(tm?.cpuUsPerReq, 1)} µs at each one's best step (${fixed(ta?.connections, 0)} vs ${fixed(tm?.connections, 0)} conns)`;
  let a: number;
  let m: number;
  let where: string;
  if (same) {
    [a, m, where] = [same.a, same.b, `${fixed(same.a, 1)} vs ${fixed(same.b, 1)} µs at ${same.conns} conns${same.confirmed ? ', confirm slices' : ''}; ${ratioText(best)} = ${bestText}`];
  } else if (!Number.isNaN(best)) {
    [a, m, where] = [ta!.cpuUsPerReq, tm!.cpuUsPerReq, bestText];
  } else {
    [a, m, where] = [la?.cpuUsPerReq ?? NaN, lm?.cpuUsPerReq ?? NaN, ''];
    where = `${fixed(a, 1)} vs ${fixed(m, 1)} µs at concurrency 1`;
  }
  if (Number.isNaN(ratio(a, m))) return null;
  if (extra && !Number.isNaN(extra.addUs) && extra.addUs > 0) {
    const q = ratio(a + extra.addUs, m);
    return { q, text: `${ratioText(q)} (${ratioText(ratio(a, m))} in its runs: ${where}; + ${fixed(extra.addUs, 1)} µs/req ${extra.label})` };
  }
  return { q: ratio(a, m), text: `${ratioText(ratio(a, m))} (${where})` };
}

/**
 * Scenario 4: CPU per request of the governed Weir against the minimal proxy measured beside it
 * (at max load, else at concurrency 1), all-in (the spend writer's flushes between its runs
 * included) when measured; and one spend row per request.
 */
function governedChecks(r: BenchResults): Check[] {
  const name = 'CPU/request, governed path';
  // Issue 15's target (PERF.md's had been 2×).
  const goal = '≤ 1.5× minimal proxy';
  const all = r.scenarios.find((s) => s.key === 'governed');
  if (!all || all.skipped) {
    const why = all?.skipped ?? 'scenario 4 not run';
    return [na(name, goal, why), na('Spend logs: a row per governed request', 'rows = requests', why)];
  }
  const s = all;
  const out: Check[] = [];
  const phase = (p: string) => s.governed?.phases.find((x) => x.phase === p);
  const tg = s.throughput?.find((x) => x.target === 'governed');
  const tm = s.throughput?.find((x) => x.target === 'minimal');
  const outside = tg && tm ? phase('max throughput')?.outsideRunsUsPerReq : phase('concurrency 1')?.outsideRunsUsPerReq;
  const c = cpuComparison(tg, tm, latencyRow(s, 'governed'), latencyRow(s, 'minimal'), { label: 'spent between its runs (spend flushes)', addUs: outside ?? NaN });
  out.push(c === null ? na(name, goal, 'not measured') : { name, target: goal, measured: c.text, pass: c.q <= 1.5 });
  const phases = s.governed?.phases ?? [];
  out.push(phases.length === 0
    ? na('Spend logs: a row per governed request', 'rows = requests', 'not measured')
    : {
        name: 'Spend logs: a row per governed request',
        target: 'rows = requests',
        measured: phases.map((p) => `${p.phase}: ${p.rows}/${p.sent}${p.match ? '' : p.rowsLater !== null ? ` (${p.rowsLater} after ${fixed(p.laterWaitMs! / 1000, 1)} s)` : ''}`).join('; '),
        pass: phases.every((p) => p.match),
      });
  return out;
}

/**
 * Scenario 7 (issue 5): translated streaming adds at most 0.2 ms p50 over pass-through, end to end.
 * A run with a wrong or failed answer on either path fails the check whatever its speed.
 */
function translatedCheck(s: ScenarioResult | undefined): Check {
  const name = 'Translated streaming, added p50 over pass-through';
  const goal = '≤ 0.20 ms';
  const t = s?.translated;
  if (!t || Number.isNaN(t.diffP50.median)) return na(name, goal, 'not measured');
  const bad = t.passThrough.errors + t.translated.errors;
  const net = `${fixed(t.netDiffP50.median, 3)} ms net of the mock's own difference`;
  const measured = `${fixed(t.diffP50.median, 3)} ms (${net}; CPU +${fixed(t.cpuDiffUs, 1)} µs/req)${bad ? `; ${bad} wrong or failed answers` : ''}`;
  return { name, target: goal, measured, pass: bad === 0 && t.diffP50.median <= 0.2 };
}

/**
 * Scenario 12: the translated path's CPU per call over pass-through, on the calls after a
 * session's first, at the longest history against the shortest. Flat: at most 1.5× (or 50 µs)
 * more while the body grows several times over; growing with the history means it is translated
 * again on every call.
 */
export function historyCheck(s: ScenarioResult | undefined): Check {
  const name = 'Translated cost per call flat as the history grows';
  const goal = 'CPU over pass-through at the longest ≤ 1.5× the shortest';
  const rows = s?.history ?? [];
  if (rows.length < 2) return na(name, goal, 'not measured');
  const a = rows[0]!;
  const b = rows[rows.length - 1]!;
  const d = (h: typeof a) => h.translated.laterCpuUs - h.passThrough.laterCpuUs;
  const bad = rows.reduce((n, h) => n + h.translated.errors + h.passThrough.errors, 0);
  if (Number.isNaN(d(a)) || Number.isNaN(d(b))) return na(name, goal, 'CPU not measured');
  const measured = `+${fixed(d(a), 0)} µs at ${a.turns} turns (${fixed(a.bodyKB, 0)} KB), +${fixed(d(b), 0)} µs at ${b.turns} turns (${fixed(b.bodyKB, 0)} KB)${bad ? `; ${bad} wrong or failed answers` : ''}`;
  return { name, target: goal, measured, pass: bad === 0 && d(b) <= Math.max(1.5 * d(a), d(a) + 50) };
}

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
    const c = cpuComparison(tw, tm, latencyRow(chat, 'weir'), latencyRow(chat, 'minimal'));
    // Issue 15's target (PERF.md's was 1.5×), from the generator named (autocannon hides the gap).
    const by = tw?.generator ? ` [${tw.generator}]` : '';
    out.push(c === null ? na(name, '≤ 1.2× minimal proxy', 'not measured') : { name, target: '≤ 1.2× minimal proxy', measured: c.text + by, pass: c.q <= 1.2 });
  }
  out.push(...governedChecks(r));

  {
    const name = 'Throughput at max load (p99 < 20 ms)';
    const tw = chat?.throughput?.find((x) => x.target === 'weir');
    const w = tw?.bestRps ?? NaN;
    const m = chat?.throughput?.find((x) => x.target === 'minimal')?.bestRps ?? NaN;
    const q = ratio(w, m);
    const by = tw?.generator ? ` [${tw.generator}]` : '';
    out.push(Number.isNaN(q) ? na(name, '≥ 95 % of minimal proxy', 'not measured') : { name, target: '≥ 95 % of minimal proxy', measured: `${fixed(q * 100, 0)} % (${fixed(w, 0)} vs ${fixed(m, 0)} req/s)${by}`, pass: q >= 0.95 });
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
    // Issue 15's target: within 0.05 ms of the minimal proxy carrying the same body.
    const name = 'Claude-Code-sized body, added p50';
    const goal = "≤ minimal's + 0.05 ms";
    const a = latencyRow(claude, 'weir')?.added?.p50.median ?? NaN;
    const m = latencyRow(claude, 'minimal')?.added?.p50.median ?? NaN;
    out.push(Number.isNaN(a) || Number.isNaN(m) ? na(name, goal, 'not measured') : { name, target: goal, measured: `${fixed(a, 3)} vs ${fixed(m, 3)} ms`, pass: a <= m + 0.05 });
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

  out.push(translatedCheck(scenario(r, 'translated')));
  out.push(historyCheck(scenario(r, 'history')));

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
    // Issue 15's target: the minimal proxy's peak in the same run + 20 MB, the governed Weir too.
    const name = `RSS under load (${r.meta.workers} workers)`;
    const goal = "peak ≤ minimal's peak + 20 MB, governed included";
    const peak = (t: TargetKind) => r.memory.find((x) => x.target === t)?.peakMB ?? NaN;
    const m = peak('minimal');
    const weirs = (['weir', 'governed'] as const).filter((t) => !Number.isNaN(peak(t)));
    out.push(Number.isNaN(m) || weirs.length === 0
      ? na(name, goal, 'not measured')
      : { name, target: goal, measured: `${weirs.map((t) => `${t} ${fixed(peak(t), 1)}`).join(', ')} vs minimal ${fixed(m, 1)} MB`, pass: weirs.every((t) => peak(t) <= m + 20) });
  }

  {
    const soak = scenario(r, 'soak')?.soak;
    out.push(!soak
      ? na('RSS flat across the soak', 'flat', 'soak not run (--soak)')
      : { name: 'RSS flat across the soak', target: 'flat', measured: `${fixed(soak.rssGrowthMB, 1)} MB growth`, pass: soak.flat });
  }
  out.push(...agentsChecks(r));
  out.push(...startsChecks(r));
  return out;
}
