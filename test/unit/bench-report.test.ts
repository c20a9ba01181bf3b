// The bench's report: table rendering (terminal and Markdown), number formats, the targets
// check against results, and the small decision rules (best throughput step, RSS flatness).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateChecks, historyCheck } from '../../native-bench/checks';
import { rotation } from '../../native-bench/latency-rounds';
import { renderMarkdownBlock, renderTerminal } from '../../native-bench/report';
import type { BenchResults, LatencyRow } from '../../native-bench/results';
import { isFlat, rssGrowth } from '../../native-bench/soak';
import { spread, type LatencySpread } from '../../native-bench/stats';
import { ms, plusMs, ratioText, renderMarkdown, renderText, spreadText } from '../../native-bench/table';
import { bestStep, candidateSteps, confirmSteps, confirmedBest, stillRising, stopReason } from '../../native-bench/throughput';

const lat = (p50: number[], p99: number[], p999: number[]): LatencySpread => ({ n: 1000, p50: spread(p50), p99: spread(p99), p999: spread(p999) });

function row(target: LatencyRow['target'], label: string, abs: LatencySpread, added: LatencySpread | null, cpu: number): LatencyRow {
  return { target, label, repeats: 3, sent: 1000, errors: 0, firstError: null, abs, added, ttfb: null, ttft: null, cpuUsPerReq: cpu, cpuPerRepeat: [cpu], rssMB: 80 };
}

function results(): BenchResults {
  return {
    meta: { date: '2026-01-02T03:04:05.000Z', node: '20.20.2', cpus: 2, cpuModel: 'Test CPU', memGB: 8, kernel: '6.1', workers: 2, mode: 'quick', repeats: 3, pin: 'off', weirEngine: 'uWebSockets.js', backgroundCpuPct: 3, elapsedS: 95 },
    targets: [],
    scenarios: [
      {
        id: 1, key: 'chat', title: 'small chat', notes: [],
        latency: [
          row('direct', 'mock (direct)', lat([0.15, 0.16, 0.14], [0.3, 0.31, 0.29], [0.7, 0.8, 0.9]), null, 80),
          row('weir', 'Weir', lat([0.3, 0.31, 0.29], [0.6, 0.6, 0.6], [1, 1, 1]), lat([0.08, 0.09, 0.07], [0.2, 0.3, 0.25], [1.5, 1.2, 1.9]), 60),
          row('minimal', 'minimal uWS proxy', lat([0.2, 0.2, 0.2], [0.4, 0.4, 0.4], [1, 1, 1]), lat([0.04, 0.04, 0.04], [0.1, 0.1, 0.1], [1, 1, 1]), 50),
        ],
        throughput: [
          { target: 'weir', label: 'Weir', generator: 'weir-loadgen (C)', bestRps: 9600, bestRpsSpread: null, connections: 32, p99: 7, cpuUsPerReq: 58, steps: [{ connections: 32, rps: 9000, total: 9000, p50: 2, p99: 7, errors: 0, non2xx: 0 }] },
          { target: 'minimal', label: 'minimal uWS proxy', bestRps: 10000, bestRpsSpread: null, connections: 32, p99: 6, cpuUsPerReq: 50, steps: [] },
        ],
      },
      { id: 4, key: 'governed', title: 'governed', notes: [], skipped: 'skipped: virtual keys not implemented yet' },
    ],
    memory: [{ target: 'weir', label: 'Weir', peakMB: 160.4, endMB: 150 }],
    checks: [],
    profile: null,
    notes: ['nginx not installed'],
  };
}

test('number formats: 3 decimals under 10 ms, signed added values, spreads with their range', () => {
  assert.equal(ms(0.0854), '0.085');
  assert.equal(ms(123.44), '123.4');
  assert.equal(ms(NaN), '–');
  assert.equal(plusMs(0.1), '+0.100');
  assert.equal(plusMs(-0.02), '-0.020');
  assert.equal(spreadText(spread([0.1, 0.08, 0.12]), plusMs), '+0.100 [+0.080…+0.120]');
  assert.equal(spreadText(spread([0.1]), ms), '0.100');
  assert.equal(ratioText(1.234), '1.23×');
  assert.equal(ratioText(31.6), '32×');
});

test('text tables align columns under their headers; Markdown tables escape pipes', () => {
  const t = { title: 'T', head: ['name', 'value'], align: ['l', 'r'] as ('l' | 'r')[], rows: [['a', '1'], ['longer', '22.5']] };
  const lines = renderText(t).split('\n');
  assert.equal(lines[0], 'T');
  assert.equal(lines[1], 'name    value');
  assert.equal(lines[3], 'a           1');
  assert.equal(lines[4], 'longer   22.5');
  const md = renderMarkdown({ ...t, rows: [['a|b', '1']] });
  assert.match(md, /\| name \| value \|/);
  assert.match(md, /\| :--- \| ---: \|/);
  assert.match(md, /a\\\|b/);
});

test('the targets check compares Weir with the minimal proxy and never passes what was not measured', () => {
  const r = results();
  const checks = evaluateChecks(r);
  const by = (name: string) => checks.find((c) => c.name.startsWith(name))!;
  assert.equal(by('CPU/request, master-key').pass, true, '58 vs 50 µs = 1.16× ≤ 1.2× (issue 15)');
  assert.match(by('CPU/request, master-key').measured, /1\.16×.*\[weir-loadgen \(C\)\]/, 'says which generator');
  assert.equal(by('Throughput').pass, true, '96 % of minimal ≥ 95 %');
  assert.match(by('Throughput').measured, /96 % .*\[weir-loadgen \(C\)\]/);
  assert.equal(by('Added p50, concurrency 1').pass, true, '0.08 ms ≤ 0.10');
  assert.equal(by('RSS under load').pass, null, 'no minimal proxy peak to compare with');
  r.memory.push({ target: 'minimal', label: 'minimal uWS proxy', peakMB: 130, endMB: 120 });
  assert.equal(evaluateChecks(r).find((c) => c.name.startsWith('RSS under load'))!.pass, false, '160.4 MB > 130 + 20');
  r.memory.push({ target: 'governed', label: 'Weir governed', peakMB: 149, endMB: 140 });
  r.memory[0]!.peakMB = 148;
  assert.equal(evaluateChecks(r).find((c) => c.name.startsWith('RSS under load'))!.pass, true, 'both Weirs ≤ 150');
  r.memory[2]!.peakMB = 151;
  assert.match(evaluateChecks(r).find((c) => c.name.startsWith('RSS under load'))!.measured, /weir 148\.0, governed 151\.0 vs minimal 130\.0 MB/);
  assert.equal(evaluateChecks(r).find((c) => c.name.startsWith('RSS under load'))!.pass, false, 'the governed Weir counts too');
  r.memory.splice(1);
  assert.equal(by('CPU/request, governed').pass, null);
  assert.equal(by('Claude-Code-sized').pass, null);
  assert.equal(by('vs LiteLLM: added').pass, null);
  assert.equal(by('No stall').pass, null);
  r.scenarios[0]!.throughput![0]!.cpuUsPerReq = 65; // 1.3×
  r.scenarios[0]!.throughput![0]!.bestRps = 9000; // 90 %
  assert.equal(evaluateChecks(r).find((c) => c.name.startsWith('CPU/request, master-key'))!.pass, false);
  assert.equal(evaluateChecks(r).find((c) => c.name.startsWith('Throughput'))!.pass, false);
});

test('the terminal report and the Markdown block show added latency with spread, ratios and skipped scenarios', () => {
  const r = results();
  r.checks = evaluateChecks(r);
  const text = renderTerminal(r);
  assert.match(text, /Weir\s+\+0\.080 \[\+0\.070…\+0\.090\]/);
  assert.match(text, /mock \(direct\)\s+0\.150 \[0\.140…0\.160\]/);
  assert.match(text, /minimal uWS proxy.*0\.50×/, "the comparator's added p50 relative to Weir's");
  assert.match(text, /96 % of minimal/);
  assert.match(text, /Weir\s.*weir-loadgen \(C\)/, 'each throughput line names its generator');
  assert.match(text, /minimal uWS proxy\s.*autocannon/, 'older rows without one: autocannon');
  assert.match(text, /4 governed\s+skipped: virtual keys not implemented yet/);
  assert.match(text, /–\s+RSS under load.*not measured/, "no minimal peak in these results: not measured, never passed");
  assert.match(text, /nginx not installed/);
  const md = renderMarkdownBlock(r);
  assert.match(md, /^### Bench run 2026-01-02 \(quick\)/);
  assert.match(md, /\| 1 chat \| Weir \| \+0\.080 \[\+0\.070…\+0\.090\] \|/);
  assert.match(md, /Test CPU × 2/);
});

test('the memory table shows each target at start (before any call), at its peak and at the end; results older than the start column show a dash', () => {
  const r = results();
  r.memory = [
    { target: 'weir', label: 'Weir', startMB: 101.5, peakMB: 160.4, endMB: 150 },
    { target: 'minimal', label: 'minimal uWS proxy', peakMB: 130, endMB: 120 },
  ];
  const text = renderTerminal(r);
  assert.match(text, /target\s+at start MB\s+peak MB\s+at end MB/);
  assert.match(text, /Weir\s+101\.5\s+160\.4\s+150\.0/);
  assert.match(text, /minimal uWS proxy\s+–\s+130\.0\s+120\.0/);
});

/** A throughput step of `rps` req/s at `connections` with that p99 and `errors` failed requests. */
const step = (connections: number, rps: number, p99: number, errors = 0) => ({ connections, rps, total: rps, p50: 1, p99, errors, non2xx: 0 });

test('best throughput step: most req/s with p99 under the limit and no failures', () => {
  assert.equal(bestStep([step(8, 1000, 2), step(32, 3000, 9), step(128, 3500, 25)], 20)!.connections, 32);
  assert.equal(bestStep([step(8, 1000, 2), step(32, 3000, 9, 4)], 20)!.connections, 8);
  assert.equal(bestStep([step(8, 1000, 30)], 20), null);
  assert.equal(stopReason([step(8, 1000, 2)], 20), null);
  assert.equal(stopReason([step(8, 1000, 2), step(32, 3000, 21)], 20), null, 'one noisy step does not end the search');
  assert.equal(stopReason([step(8, 1000, 2), step(32, 3000, 21), step(64, 3100, 30)], 20), 'limit');
  assert.equal(stopReason([step(8, 1000, 2), step(32, 3000, 2, 1), step(64, 3100, 3, 2)], 20), 'limit', 'failing requests');
  assert.equal(stopReason([step(1, 1000, 1), step(2, 1020, 1), step(4, 1030, 1)], 20), 'flat', 'saturated');
  assert.equal(stopReason([step(1, 1000, 1), step(2, 1020, 1), step(4, 1200, 1)], 20), null);
});

test('throughput steps: a target that stopped growing goes on while another grows; one over the limit stops', () => {
  const steps: Record<string, ReturnType<typeof step>[]> = {
    flat: [step(4, 14_927, 1), step(8, 12_358, 2), step(16, 11_971, 5)],
    growing: [step(4, 13_340, 1), step(8, 14_210, 2), step(16, 16_000, 3)],
    over: [step(4, 13_000, 1), step(8, 14_000, 25), step(16, 15_000, 30)],
  };
  const of = (t: string) => steps[t]!;
  assert.deepEqual(stillRising(['flat', 'growing', 'over'], of, 20), ['flat', 'growing']);
  assert.deepEqual(stillRising(['flat', 'over'], of, 20), [], 'every one left has stopped growing');
  assert.deepEqual(stillRising(['over'], of, 20), []);
});

test('throughput confirm candidates: the best step, and the next best when within 10 % of it', () => {
  const at = (list: { connections: number }[]) => list.map((x) => x.connections);
  assert.deepEqual(at(candidateSteps([step(4, 15_656, 1), step(8, 14_961, 2), step(16, 13_936, 3)], 20)), [4, 8]);
  assert.deepEqual(at(candidateSteps([step(4, 15_000, 1), step(8, 13_000, 2)], 20)), [4], 'a runner-up 13 % down is not confirmed');
  assert.deepEqual(at(candidateSteps([step(4, 15_000, 1), step(8, 16_000, 25), step(16, 14_900, 3, 1)], 20)), [4], 'steps over the limit or failing are never candidates');
  assert.deepEqual(candidateSteps([step(4, 15_000, 30)], 20), []);
});

test('throughput confirm steps: each proxy also at the other proxies\' candidates it ran; the mock only at its own', () => {
  const steps: Record<string, ReturnType<typeof step>[]> = {
    mock: [step(8, 30_000, 1), step(16, 40_000, 1), step(64, 31_000, 4)],
    weir: [step(4, 13_000, 1), step(64, 18_000, 9), step(128, 18_700, 15)],
    minimal: [step(4, 19_100, 1), step(32, 18_700, 5), step(64, 17_400, 9)],
  };
  const got = confirmSteps(['mock', 'weir', 'minimal'], (t) => steps[t]!, (t) => t !== 'mock', 20);
  const at = (t: string) => got.get(t)!.map((x) => x.connections);
  assert.deepEqual(at('mock'), [16]);
  assert.deepEqual(at('weir'), [128, 64, 4], 'its own two, then the minimal proxy\'s 4 (it never ran 32)');
  assert.deepEqual(at('minimal'), [4, 32, 64]);
});

test('throughput confirm: the candidate with the highest median held in at least half its slices', () => {
  const c = (name: string, runs: number[]) => ({ name, runs });
  assert.equal(confirmedBest([c('4', [15_000, 14_000, 16_000]), c('8', [15_500, 15_400, 13_000])])!.name, '8');
  assert.equal(confirmedBest([c('4', [15_000, 14_000, 16_000]), c('8', [20_000, NaN, NaN])])!.name, '4', 'held in 1 slice of 3: not reported');
  assert.equal(confirmedBest([c('4', [15_000, NaN]), c('8', [NaN, NaN])])!.name, '4', 'half the slices is enough');
  assert.equal(confirmedBest([c('4', [NaN, NaN, 9])]), null);
  assert.equal(confirmedBest([]), null);
});

test('RSS growth ignores warm-up and flags a leak', () => {
  const flat = [60, 80, 82, 81, 82, 83, 82, 81, 82, 82, 83];
  assert.ok(Math.abs(rssGrowth(flat)) < 2);
  assert.equal(isFlat(flat), true);
  const leak = [60, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170];
  assert.ok(rssGrowth(leak) > 50);
  assert.equal(isFlat(leak), false);
});

test('interleaving rotates the order so every target takes every position', () => {
  assert.deepEqual(rotation(['d', 'w', 'm'], 0), ['d', 'w', 'm']);
  assert.deepEqual(rotation(['d', 'w', 'm'], 1), ['w', 'm', 'd']);
  assert.deepEqual(rotation(['d', 'w', 'm'], 5), ['m', 'd', 'w']);
});

test('scenario 12: the translated cost per call is flat when the longest history costs at most 1.5× the shortest over pass-through', () => {
  const path = (first: number, later: number, cpu: number) => ({ firstP50: first, laterP50: later, laterCpuUs: cpu, errors: 0, firstError: null });
  const s = (d100: number) => ({
    id: 11, key: 'history', title: 'growing history', notes: [],
    history: [
      { turns: 10, bodyKB: 110, sessions: 3, calls: 6, translated: path(2, 1.2, 900), passThrough: path(1, 1, 700) },
      { turns: 100, bodyKB: 380, sessions: 3, calls: 6, translated: path(5, 1.6, 1400 + d100), passThrough: path(1.3, 1.3, 1400) },
    ],
  });
  const flat = historyCheck(s(250));
  assert.equal(flat.pass, true, '+250 µs at 100 turns vs +200 at 10');
  assert.match(flat.measured, /\+200 µs at 10 turns \(110 KB\), \+250 µs at 100 turns \(380 KB\)/);
  assert.equal(historyCheck(s(900)).pass, false, 'growing with the history: translated again on every call');
  assert.equal(historyCheck(undefined).pass, null);
  const r = results();
  r.scenarios.push(s(250));
  r.checks = evaluateChecks(r);
  assert.match(renderTerminal(r), /Growing history \(scenario 12\)[\s\S]*\n\s*100\s+380\s+3 × 6/);
});

test('scenario 13: the GC table shows bytes per request with their error and each GC kind per 10k requests; the rate table a p99.9', () => {
  const r = results();
  const gc = (requests: number, kinds: { kind: 'scavenge' | 'mark-compact'; count: number; pauseMs: number; maxPauseMs: number; incrementalMs: number }[]) => ({
    requests, kinds, workerBytesPerReq: 13_018.4, controlBytesPerReq: 12, workerBytesErrPerReq: 380, workerPromotedPerReq: 21.5, unattributed: 0,
  });
  r.scenarios.push({
    id: 13, key: 'tail', title: 'the long tail', notes: [],
    rates: [
      { target: 'direct', label: 'mock (direct)', rate: 2000, achievedRps: 2000, p50: spread([0.1]), p99: spread([0.5]), p999: spread([0.9]), addedP50: null, addedP99: null, addedP999: null, errors: 0, firstError: null, maxSendLagMs: 1, cpuUsPerReq: 70 },
      { target: 'weir', label: 'Weir', rate: 2000, achievedRps: 2000, p50: spread([0.2]), p99: spread([0.7]), p999: spread([1.4]), addedP50: spread([0.1]), addedP99: spread([0.2]), addedP999: spread([0.5, 0.25, 0.75]), errors: 0, firstError: null, maxSendLagMs: 1, cpuUsPerReq: 140 },
    ],
    gc: [
      { phase: 'concurrency 1', target: 'weir', label: 'Weir', gc: gc(20_000, [{ kind: 'scavenge', count: 30, pauseMs: 12, maxPauseMs: 0.9, incrementalMs: 0 }]), dropped: 0 },
      { phase: 'concurrency 1', target: 'governed', label: 'Weir governed (virtual key)', gc: gc(10_000, [{ kind: 'scavenge', count: 20, pauseMs: 8, maxPauseMs: 0.6, incrementalMs: 0 }, { kind: 'mark-compact', count: 1, pauseMs: 4.5, maxPauseMs: 4.5, incrementalMs: 2.25 }]), dropped: 0 },
    ],
  });
  const text = renderTerminal(r);
  assert.match(text, /GC of Weir during the measured rounds/);
  // 30 scavenges and 12 ms of pause over 20,000 requests: 15 and 6 per 10k.
  assert.match(text, /13 tail, concurrency 1\s+Weir\s+20,000\s+13,018 ± 380\s+12\s+22\s+scavenge\s+15\.0\s+6\.00\s+0\.90/);
  assert.match(text, /mark-compact\s+1\.0\s+4\.50\s+4\.50\s+2\.25/);
  // The added p99.9 at 2,000 req/s, median [min…max] of its repeats, after the p99.
  assert.match(text, /2,000\s+Weir\s+2,000\s+\+0\.100\s+\+0\.200\s+\+0\.500 \[\+0\.250…\+0\.750\]/);
  assert.match(renderMarkdownBlock(r), /\| 13 tail, concurrency 1 \| Weir governed \(virtual key\) \| 10,000 \|/);
});
