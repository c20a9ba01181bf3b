// Sandbox starts in the report (scenario 8): a table per provider, cold and warm, and the checks
// against the targets: Weir's own share of a start ≤ 20 ms p50, a warm start ≤ 1 s end to
// end on the fakes.
import type { BenchResults, Check, ScenarioResult } from './results';
import type { StartRow } from './agents-starts';
import { ms, type Table } from './table';

export const START_TARGETS = { weirShareP50Ms: 20, warmStartP50Ms: 1000 } as const;

export function startsTables(scenarios: ScenarioResult[]): Table[] {
  const rows = scenarios.find((s) => s.agents)?.agents?.starts ?? [];
  if (!rows.length) return [];
  return [
    {
      title: 'Sandbox start per provider, one run at a time (E2B and Daytona: the real SDKs against the fakes), ms',
      head: ['provider', 'start', 'runs counted', 'POST → running p50', 'p99', 'provider answering p50', "Weir's share p50", 'p99'],
      align: ['l', 'l'],
      rows: rows.map((r) => [r.provider, r.start, `${r.counted}/${r.runs}`, ms(r.startP50), ms(r.startP99), ms(r.providerP50), ms(r.weirP50), ms(r.weirP99)]),
      foot: [
        "provider answering: the time the fake spent answering calls about the run's machine inside the run's POST → running window (create, the first command, the prompt file; a warm start: its lifetime and the prompt file); Weir's share: the rest.",
        'counted: runs that succeeded and started as asked (a warm run that found its pool empty started cold and is not counted).',
        ...rows.filter((r) => r.firstFailure).map((r) => `${r.provider} ${r.start}: first failure: ${r.firstFailure}`),
      ],
    },
  ];
}

export function startsChecks(r: BenchResults): Check[] {
  const s = r.scenarios.find((x) => x.key === 'agents');
  if (!s) return [];
  const rows = s.agents?.starts ?? [];
  const why = s.skipped ?? 'the sandbox-start phase did not run';
  const check = (name: string, target: string, list: StartRow[], pick: (x: StartRow) => number, limit: number): Check => {
    const m = list.filter((x) => !Number.isNaN(pick(x)));
    if (!m.length) return { name, target, measured: why, pass: null };
    return { name, target, measured: m.map((x) => `${x.provider} ${x.start}: ${ms(pick(x))} ms`).join('; '), pass: m.every((x) => pick(x) <= limit) };
  };
  return [
    check("Sandbox start: Weir's own share p50 (all but the provider's answers)", `≤ ${START_TARGETS.weirShareP50Ms} ms`, rows, (x) => x.weirP50, START_TARGETS.weirShareP50Ms),
    check('Warm start p50 end to end on the fakes (POST → running)', `≤ ${START_TARGETS.warmStartP50Ms} ms`, rows.filter((x) => x.start === 'warm'), (x) => x.startP50, START_TARGETS.warmStartP50Ms),
  ];
}
