// Renders a run's results: the terminal tables, and the same tables as a Markdown block for
// PERF.md. Proxies' latencies are shown as added to the direct path (target − direct at the same
// percentile, per repeat; median [min…max] over repeats); the direct row shows absolute values.
import { agentsTables } from './agents-report';
import { startsTables } from './agents-starts-report';
import type { BenchResults, LatencyRow, ScenarioResult } from './results';
import { ratio } from './stats';
import { fixed, intText, ms, plusMs, ratioText, renderMarkdown, renderText, spreadText, type Table } from './table';

const COMPARATORS = new Set(['minimal', 'nginx', 'litellm']);
const PLIMIT = 20;

function labelOf(row: { label: string; errors: number; firstError?: string | null }): string {
  if (row.errors === 0) return row.label;
  return `${row.label} (${row.errors} errors!${row.firstError ? ` ${row.firstError.slice(0, 40)}` : ''})`;
}

/**
 * Comparator's (or the governed path's) added p50 relative to Weir's master-key path (e.g. 0.6× =
 * 40 % less added latency than Weir).
 */
function vsWeir(rows: LatencyRow[], row: LatencyRow): string {
  if (!COMPARATORS.has(row.target) && row.target !== 'governed') return '';
  const w = rows.find((r) => r.target === 'weir')?.added?.p50.median ?? NaN;
  return ratioText(ratio(row.added?.p50.median ?? NaN, w));
}

function latencyTable(scenarios: ScenarioResult[], repeats: number): Table | null {
  const rows: string[][] = [];
  for (const s of scenarios) {
    if (!s.latency) continue;
    for (const r of s.latency) {
      const abs = r.added === null;
      const v = abs ? r.abs : r.added!;
      const f = abs ? ms : plusMs;
      rows.push([
        `${s.id} ${s.key}`,
        labelOf(r),
        spreadText(v.p50, f),
        spreadText(v.p99, f),
        spreadText(v.p999, f),
        fixed(r.cpuUsPerReq, 1),
        fixed(r.faultsPerReq, 1),
        fixed(r.rssMB, 1),
        vsWeir(s.latency, r),
      ]);
    }
  }
  if (!rows.length) return null;
  return {
    title: `Latency at concurrency 1, ms — mock row absolute, others added (median of ${repeats} interleaved repeats [min…max])`,
    head: ['scenario', 'target', 'p50', 'p99', 'p99.9', 'CPU µs/req', 'faults/req', 'RSS MB', 'added p50 vs Weir'],
    align: ['l', 'l'],
    rows,
    foot: ['CPU µs/req: utime+stime of the target process(es) over its requests (the mock row: the mock itself). faults/req: their minor page faults (/proc/PID/stat field 10) over the same requests: a fresh 148 KB buffer is 37.'],
  };
}

function ttfbTable(scenarios: ScenarioResult[]): Table | null {
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const r of s.latency ?? []) {
      if (!r.ttfb || !r.ttft) continue;
      const abs = r.added === null;
      const f = abs ? ms : plusMs;
      rows.push([
        `${s.id} ${s.key}`,
        labelOf(r),
        spreadText(abs ? r.ttfb.abs.p50 : r.ttfb.added!.p50, f),
        spreadText(abs ? r.ttfb.abs.p99 : r.ttfb.added!.p99, f),
        spreadText(abs ? r.ttft.abs.p50 : r.ttft.added!.p50, f),
        spreadText(abs ? r.ttft.abs.p99 : r.ttft.added!.p99, f),
      ]);
    }
  }
  if (!rows.length) return null;
  return {
    title: 'Streams at concurrency 1: time to first byte / first token, ms — mock absolute, others added',
    head: ['scenario', 'target', 'TTFB p50', 'TTFB p99', 'first token p50', 'first token p99'],
    align: ['l', 'l'],
    rows,
  };
}

function rateTable(scenarios: ScenarioResult[]): Table | null {
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const r of s.rates ?? []) {
      const abs = r.addedP50 === null;
      const w = s.rates!.find((x) => x.target === 'weir' && x.rate === r.rate)?.addedP99?.median ?? NaN;
      const vs = COMPARATORS.has(r.target) ? ratioText(ratio(r.addedP99?.median ?? NaN, w)) : '';
      rows.push([
        `${s.id} ${s.key}`,
        intText(r.rate),
        labelOf(r),
        intText(r.achievedRps),
        spreadText(abs ? r.p50 : r.addedP50, abs ? ms : plusMs),
        spreadText(abs ? r.p99 : r.addedP99, abs ? ms : plusMs),
        r.p999 ? spreadText(abs ? r.p999 : (r.addedP999 ?? null), abs ? ms : plusMs) : '',
        fixed(r.cpuUsPerReq, 1),
        ms(r.maxSendLagMs),
        vs,
      ]);
    }
  }
  if (!rows.length) return null;
  return {
    title: 'Fixed rate (open loop, latency from the planned send time), ms — mock absolute, others added',
    head: ['scenario', 'req/s', 'target', 'achieved', 'p50', 'p99', 'p99.9', 'CPU µs/req', 'gen lag', 'added p99 vs Weir'],
    align: ['l', 'r', 'l'],
    rows,
    foot: ['gen lag: the latest the load generator sent a request after its planned time (counted in the latency).'],
  };
}

function throughputTable(scenarios: ScenarioResult[]): Table | null {
  const rows: string[][] = [];
  for (const s of scenarios) {
    const list = s.throughput ?? [];
    const w = list.find((x) => x.target === 'weir')?.bestRps ?? NaN;
    const m = list.find((x) => x.target === 'minimal')?.bestRps ?? NaN;
    for (const r of list) {
      rows.push([
        `${s.id} ${s.key}`,
        r.label,
        (r.bestRpsSpread ? spreadText(r.bestRpsSpread, intText) : intText(r.bestRps)) +
          (r.confirmed && r.confirmed.ok < r.confirmed.of ? ` (${r.confirmed.ok}/${r.confirmed.of} confirm slices under ${PLIMIT} ms)` : ''),
        fixed(r.connections, 0),
        fixed(r.p99, 0),
        fixed(r.cpuUsPerReq, 1),
        r.generator ?? 'autocannon',
        r.target === 'weir' || r.target === 'governed'
          ? `${fixed(ratio(r.bestRps, m) * 100, 0)} % of minimal`
          : COMPARATORS.has(r.target) ? `${ratioText(ratio(r.bestRps, w))} Weir` : '',
        r.steps.map((x) => `${x.connections}:${intText(x.rps)}/${Number.isInteger(x.p99) ? x.p99 : fixed(x.p99, 1)}ms${x.cpuUsPerReq === undefined ? '' : `/${fixed(x.cpuUsPerReq, 0)}µs`}${x.errors + x.non2xx ? '!' : ''}`).join(' ') +
          (r.confirmedAt && r.confirmedAt.length > 1 ? ` · confirmed ${r.confirmedAt.map((c) => `${c.connections}:${intText(c.rps.median)}`).join(' ')}` : ''),
      ]);
    }
  }
  if (!rows.length) return null;
  return {
    title: 'Max throughput with p99 < 20 ms (closed loop, rising connections)',
    head: ['scenario', 'target', 'req/s', 'conns', 'p99 ms', 'CPU µs/req', 'generator', 'ratio', 'steps conns:req/s/p99/CPU'],
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'l', 'l', 'l'],
    rows,
    foot: [
      'req/s, CPU µs/req: at the best step; in a full run, the median of 1-s confirm slices, interleaved across targets, at the best step, the next best when within 10 % and the other proxies\' such steps (confirmed: each one\'s median). p99 and steps: one 5-s run each.',
    ],
  };
}

function streamsTable(scenarios: ScenarioResult[]): Table | null {
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const r of s.streams ?? []) {
      rows.push([
        String(r.concurrency),
        r.label,
        `${r.completed}/${r.concurrency}`,
        String(r.stalled),
        String(r.lostFrames),
        r.errors ? `${r.errors} (${r.firstError})` : '0',
        ms(r.maxGapMs),
        ms(r.ttfbP50),
        r.addedTtfbP50 === null ? '' : plusMs(r.addedTtfbP50),
        ms(r.ttfbP99),
        fixed(r.wallMs / 1000, 2),
      ]);
    }
  }
  if (!rows.length) return null;
  return {
    title: 'Concurrent streams (64 deltas each, paced): every stream must deliver every delta in order and end',
    head: ['streams', 'target', 'ok', 'stalled', 'lost frames', 'errors', 'max gap ms', 'TTFB p50', 'added', 'TTFB p99', 'wall s'],
    align: ['r', 'l'],
    rows,
  };
}

function fanoutTable(scenarios: ScenarioResult[]): Table | null {
  const rows: string[][] = [];
  for (const s of scenarios) {
    const w = s.fanout?.find((x) => x.target === 'weir')?.addedRunMs?.median ?? NaN;
    for (const r of s.fanout ?? []) {
      // A ratio of added times means something only when Weir added a measurable time.
      const vs = COMPARATORS.has(r.target) && w > 1 ? ratioText(ratio(r.addedRunMs?.median ?? NaN, w)) : '';
      rows.push([labelOf(r), spreadText(r.runMs), r.addedRunMs ? spreadText(r.addedRunMs, plusMs) : '', ms(r.callP50), ms(r.callP99), vs]);
    }
  }
  if (!rows.length) return null;
  const s = scenarios.find((x) => x.fanout);
  return {
    title: `Agent fan-out: end-to-end run time, ms (${s?.notes[0] ?? ''})`,
    head: ['target', 'run time', 'added', 'call p50', 'call p99', 'added vs Weir'],
    align: ['l'],
    rows,
  };
}

function soakTable(scenarios: ScenarioResult[]): Table | null {
  const s = scenarios.find((x) => x.soak)?.soak;
  if (!s) return null;
  const series = s.rssSamples.map((x) => fixed(x.rssMB, 0)).join(' ');
  return {
    title: `Soak: ${intText(s.requests)} requests at ${intText(s.rate)} req/s through Weir`,
    head: ['ok', 'errors', 'p50 ms', 'p99 ms', 'p99.9 ms', 'RSS growth MB', 'flat'],
    rows: [[intText(s.ok), intText(s.errors), ms(s.p50), ms(s.p99), ms(s.p999), fixed(s.rssGrowthMB, 1), s.flat ? 'yes' : 'NO']],
    foot: [`RSS MB every 10 s: ${series}`],
  };
}

function governedTable(scenarios: ScenarioResult[]): Table | null {
  const s = scenarios.find((x) => x.governed);
  const g = s?.governed;
  if (!s || !g || !g.phases.length) return null;
  const rows = g.phases.map((p) => {
    const own = p.phase === 'concurrency 1' ? s.latency?.find((x) => x.target === 'governed')?.cpuUsPerReq : s.throughput?.find((x) => x.target === 'governed')?.cpuUsPerReq;
    const late = p.rowsLater !== null ? ` (${intText(p.rowsLater)} at ${fixed(p.laterWaitMs! / 1000, 1)} s)` : '';
    return [
      p.phase,
      intText(p.sent),
      p.phase === 'concurrency 1' ? intText(p.answered) : `${intText(p.answered)} answered, ${intText(p.sent - p.answered)} cut`,
      `${intText(p.rows)}${late}`,
      p.match ? '✓' : '✗',
      intText(p.failed),
      fixed(own ?? NaN, 1),
      fixed(p.weirAllInUsPerReq, 1),
      fixed(p.outsideRunsUsPerReq, 1),
      fixed(p.controlUsPerReq, 1),
      fixed(p.postgresUsPerReq, 1),
      `${fixed(p.keySpendUsd, 4)} / ${fixed(p.rowsSpendUsd, 4)}`,
    ];
  });
  return {
    title: `Governed path: spend rows in LiteLLM_SpendLogs for the phase's key, counted ${fixed((g.phases[0]!.waitMs) / 1000, 1)} s after its last request (proxy_batch_write_at ${g.batchWriteS} s)`,
    head: ['phase', 'requests sent', 'answered', 'spend rows', 'match', 'failed', 'CPU µs/req own runs', 'all-in µs/req', 'between runs', 'control thread', 'Postgres µs/req', 'key spend / Σ rows $'],
    align: ['l', 'r', 'r', 'r', 'l'],
    rows,
    foot: [
      'match: one row per request sent (at concurrency 1 exactly; autocannon cuts the requests in flight when a run ends, so there: answered ≤ rows ≤ sent).',
      `all-in: governed Weir CPU from the phase's start to the count (its runs, plus the spend flushes and table reads between them), less its idle ${fixed(g.idleUsPerS / 1000, 1)} ms/s, per request sent; between runs: all-in less its runs' average (at max throughput: every step and confirm run); control thread: the part of all-in used by the main thread (spend writer, table reads; the rest is the workers and V8/libuv helper threads); Postgres: every PostgreSQL process over the same time.`,
    ],
  };
}

/**
 * Scenario 7: Weir's two paths side by side, and the translated path's extra cost over the
 * pass-through one (the issue's figure: translated − pass-through p50, end to end).
 */
function translatedTable(scenarios: ScenarioResult[]): Table | null {
  const s = scenarios.find((x) => x.translated);
  const t = s?.translated;
  if (!t) return null;
  const path = (name: string, p: typeof t.passThrough, upstream: string): string[] => [
    name,
    upstream,
    spreadText(p.directP50),
    spreadText(p.addedP50, plusMs),
    spreadText(p.addedP99, plusMs),
    spreadText(p.ownAddedP50, plusMs),
    p.addedTtftP50 ? spreadText(p.addedTtftP50, plusMs) : '–',
    fixed(p.cpuUsPerReq, 1),
    `${intText(p.checked)}${p.errors ? ` (${p.errors} wrong or failed!)` : ''}`,
  ];
  return {
    title: `Translated streaming (scenario 7): the same Claude-Code-sized streaming /v1/messages, ${t.deltas} deltas, through Weir — ms, added to the mock's /v1/messages answered directly (median of repeats [min…max])`,
    head: ['path', 'upstream request', 'its direct p50', 'added p50', 'added p99', "Weir's own p50", 'added TTFT p50', 'CPU µs/req', 'answers checked'],
    align: ['l', 'l'],
    rows: [
      path('pass-through (Anthropic-dialect deployment)', t.passThrough, '/v1/messages, as sent'),
      path('translated (OpenAI-dialect deployment)', t.translated, '/v1/chat/completions, translated'),
      ['translated − pass-through', '', '', spreadText(t.diffP50, plusMs), spreadText(t.diffP99, plusMs), spreadText(t.netDiffP50, plusMs), '', (t.cpuDiffUs >= 0 ? '+' : '') + fixed(t.cpuDiffUs, 1), ''],
    ],
    foot: [
      "its direct p50: the mock answering this path's upstream request itself (absolute); Weir's own p50: added over that, i.e. less the mock's own difference between chat and messages.",
      'translated − pass-through: per repeat, same interleaved rounds; CPU µs/req: Weir (every thread) over each path\'s own rounds; answers checked: each whole answer verified (every delta, in order, and the end of the stream).',
    ],
  };
}

function historyTable(scenarios: ScenarioResult[]): Table | null {
  const rows: string[][] = [];
  for (const s of scenarios) {
    for (const h of s.history ?? []) {
      const t = h.translated;
      const p = h.passThrough;
      const errs = t.errors + p.errors;
      rows.push([
        String(h.turns),
        fixed(h.bodyKB, 0),
        `${h.sessions} × ${h.calls}`,
        ms(t.firstP50),
        ms(p.firstP50),
        ms(t.laterP50),
        ms(p.laterP50),
        plusMs(t.laterP50 - p.laterP50),
        fixed(t.laterCpuUs, 0),
        fixed(p.laterCpuUs, 0),
        (t.laterCpuUs >= p.laterCpuUs ? '+' : '') + fixed(t.laterCpuUs - p.laterCpuUs, 0),
        errs ? `${errs} (${t.firstError ?? p.firstError})` : '0',
      ]);
    }
  }
  if (!rows.length) return null;
  return {
    title: 'Growing history (scenario 12): streaming /v1/messages sessions, each call one turn longer — translated (OpenAI-dialect deployment) vs pass-through, ms and CPU µs per call',
    head: ['turns', 'body KB', 'sessions × calls', 'first call p50 transl.', 'pass', 'later calls p50 transl.', 'pass', 'difference', 'CPU µs/call transl.', 'pass', 'difference', 'errors'],
    align: ['r', 'r', 'r'],
    rows,
    foot: ["first call: a session's first (its whole history translated); later calls: the rest (each translates the turn it adds, the rest comes from the worker's translation cache). The difference should stay flat as the history grows."],
  };
}

function memoryTable(r: BenchResults): Table | null {
  if (!r.memory.length) return null;
  return {
    title: 'Memory (RSS sampled every second over the run)',
    head: ['target', 'at start MB', 'peak MB', 'at end MB'],
    align: ['l'],
    rows: r.memory.map((m) => [m.label, m.startMB === undefined ? '–' : fixed(m.startMB, 1), fixed(m.peakMB, 1), fixed(m.endMB, 1)]),
    foot: ['at start: started and ready, before the first scenario sent a call'],
  };
}

function checksTable(r: BenchResults): Table {
  return {
    title: "The issue's targets",
    head: ['', 'target', 'goal', 'measured'],
    align: ['l', 'l', 'l', 'l'],
    rows: r.checks.map((c) => [c.pass === null ? '–' : c.pass ? '✓' : '✗', c.name, c.target, c.measured]),
  };
}

function profileTable(entries: BenchResults['profile'] | undefined, who: string): Table | null {
  if (!entries) return null;
  return {
    title: `${who} CPU profile: top 15 functions by self time (all threads, idle excluded)`,
    head: ['self ms', '%', 'function', 'location'],
    align: ['r', 'r', 'l', 'l'],
    rows: entries.map((p) => [fixed(p.selfMs, 1), fixed(p.pct, 1), p.functionName, p.location]),
  };
}

/** Scenario 9's figures (google.ts computes them; the rows above hold its raw latencies). */
/** Scenarios 7 and 13: the GCs of the traced Weirs over each phase's measured windows, per 10k requests. */
function gcTable(sc: ScenarioResult[]): Table | null {
  const rows: string[][] = [];
  for (const s of sc) {
    for (const g of s.gc ?? []) {
      const per10k = (x: number) => (g.gc.requests > 0 ? (x * 10_000) / g.gc.requests : NaN);
      const kinds = g.gc.kinds.length ? g.gc.kinds : [null];
      for (const [i, k] of kinds.entries()) {
        rows.push([
          i === 0 ? `${s.id} ${s.key}, ${g.phase}` : '',
          i === 0 ? g.label : '',
          i === 0 ? intText(g.gc.requests) : '',
          i === 0 ? `${intText(g.gc.workerBytesPerReq)} ± ${intText(g.gc.workerBytesErrPerReq)}` : '',
          i === 0 ? intText(g.gc.controlBytesPerReq) : '',
          i === 0 ? intText(g.gc.workerPromotedPerReq) : '',
          k ? k.kind : 'none',
          k ? fixed(per10k(k.count), 1) : '',
          k ? fixed(per10k(k.pauseMs), 2) : '',
          k ? fixed(k.maxPauseMs, 2) : '',
          k && k.incrementalMs > 0 ? fixed(per10k(k.incrementalMs), 2) : '',
        ]);
      }
    }
  }
  if (!rows.length) return null;
  return {
    title: 'GC of Weir during the measured rounds (--trace-gc-nvp, every isolate of the process), per 10k requests',
    head: ['phase', 'target', 'requests', 'worker B/req', 'control B/req', 'promoted B/req', 'GC kind', 'GCs', 'pause ms', 'max pause ms', 'incr. marking ms'],
    align: ['l', 'l'],
    rows,
    foot: [
      "B/req: bytes allocated in the worker isolates (and the control thread's) per request, from each GC's `allocated` (heap growth since that isolate's previous GC); ± one GC's worth at the ends of the windows.",
      "promoted: bytes the workers' scavenges moved to the old generation per request (objects that lived through two scavenges); what a request leaves there dies only in a mark-compact.",
      'pause: main-thread pause of each GC (scavenges also run in parallel helper threads); incr. marking: the incremental steps before a mark-compact, spread over the mutator.',
    ],
  };
}

function googleTable(sc: ScenarioResult[]): Table | null {
  const s = sc.find((x) => x.key === 'google' && !x.skipped);
  if (!s) return null;
  return { title: 'Google providers (scenario 9): added TTFB p50 over the provider answered directly', head: ['figure'], align: ['l'], rows: s.notes.map((n) => [n]) };
}

/** Scenario 11's figures (scale-out.ts computes them; the rows above hold its raw latencies). */
function scaleOutTable(sc: ScenarioResult[]): Table | null {
  const s = sc.find((x) => x.key === 'scaleout' && !x.skipped);
  if (!s) return null;
  return { title: 'Scale-out on Redis (scenario 11)', head: ['figure'], align: ['l'], rows: s.notes.map((n) => [n]) };
}

export function reportTables(r: BenchResults): Table[] {
  const sc = r.scenarios;
  const skipped: Table | null = sc.some((s) => s.skipped)
    ? { title: 'Skipped', head: ['scenario', 'why'], align: ['l', 'l'], rows: sc.filter((s) => s.skipped).map((s) => [`${s.id} ${s.key}`, s.skipped!]) }
    : null;
  return [
    latencyTable(sc, r.meta.repeats),
    ttfbTable(sc),
    rateTable(sc),
    gcTable(sc),
    throughputTable(sc),
    streamsTable(sc),
    fanoutTable(sc),
    governedTable(sc),
    translatedTable(sc),
    historyTable(sc),
    googleTable(sc),
    scaleOutTable(sc),
    ...agentsTables(sc),
    ...startsTables(sc),
    soakTable(sc),
    memoryTable(r),
    skipped,
    checksTable(r),
    profileTable(r.profile, 'Weir'),
    profileTable(r.profileGoverned, 'Weir governed'),
  ].filter((t): t is Table => t !== null);
}

export function machineLine(r: BenchResults): string {
  const m = r.meta;
  return `${m.date} · ${m.cpuModel} × ${m.cpus} · ${m.memGB} GB · Linux ${m.kernel} · Node ${m.node} · Weir ${m.workers} workers (${m.weirEngine}) · ${m.mode} run, ${m.repeats} repeats · pin: ${m.pin} · other load ${fixed(m.backgroundCpuPct, 0)} % CPU · ${fixed(m.elapsedS, 0)} s`;
}

export function renderTerminal(r: BenchResults): string {
  const parts = [`Weir bench — ${machineLine(r)}`, ...reportTables(r).map(renderText)];
  if (r.notes.length) parts.push(['Notes', ...r.notes.map((n) => `  - ${n}`)].join('\n'));
  return parts.join('\n\n');
}

export function renderMarkdownBlock(r: BenchResults): string {
  const parts = [`### Bench run ${r.meta.date.slice(0, 10)} (${r.meta.mode})`, '', `_${machineLine(r)}_`, ''];
  for (const t of reportTables(r)) parts.push(renderMarkdown(t), '');
  if (r.notes.length) parts.push(...r.notes.map((n) => `- ${n}`), '');
  parts.push('_Absolute times hold for this machine only; ratios to the direct path and to the baselines travel._');
  return parts.join('\n');
}
