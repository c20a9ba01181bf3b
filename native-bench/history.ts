// Scenario 12, a growing history (issue 15): what a translated call costs as a session's history
// grows, with the per-worker translation cache (src/gateway/translation-cache.ts) in place.
//
// Claude Code resends its whole history on every call. For each history length (10, 50, 100
// turns) the bench plays sessions of consecutive streaming /v1/messages calls, each call the one
// before plus an assistant turn and its tool result, the breakpoint (cache_control) on the last
// message as Claude Code puts it; every session starts with a first message of its own, so no two
// share a unit. Each call goes, in turn, to Weir's OpenAI-dialect deployment (translated) and to
// its Anthropic-dialect one (pass-through), over one keep-alive connection each (so one worker).
// A session's first call translates everything; the calls after it translate what they add.
// The figure: translated − pass-through CPU per call and p50 on those later calls, which should
// stay flat from 10 to 100 turns while the body grows ~10×. A session of each length is played
// unmeasured first (the code warm), then the lengths take turns session by session, so that a
// host whose speed drifts over the run moves them alike; CPU is read per thread in nanoseconds,
// a call's window being a fraction of /proc's 10 ms tick.
import { Client } from 'undici';
import { CHAT_MODEL, claudeCodeBody, CLAUDE_MODEL, messagesSpec, withBreakpoint } from './bodies';
import { closedLoop } from './load';
import type { Progress } from './progress';
import { checkAnthropicStream } from './stream-check';
import { CpuMeter, LABELS, type Target } from './targets';
import { median } from './stats';

export interface HistoryPlan {
  turns: number[];
  sessions: number;
  /** Calls per session (the first one cold). */
  calls: number;
}

export interface HistoryPath {
  /** p50 of the sessions' first calls, and of the calls after them, ms. */
  firstP50: number;
  laterP50: number;
  /** CPU µs per call of Weir over the later calls. */
  laterCpuUs: number;
  errors: number;
  firstError: string | null;
}

export interface HistoryRow {
  turns: number;
  /** Body size of the sessions' first calls, KB. */
  bodyKB: number;
  sessions: number;
  calls: number;
  translated: HistoryPath;
  passThrough: HistoryPath;
}

type Obj = Record<string, unknown>;

/** The bench's Claude Code body grown to hold `turns` turns (assistant tool call + tool result each). */
export function sessionBase(turns: number): Obj & { messages: Obj[] } {
  // ~2.5 KB per turn in claudeCodeBody; its first message and the head besides.
  return claudeCodeBody({ stream: true, targetBytes: 80 * 1024 + turns * 3200 }) as Obj & { messages: Obj[] };
}

/** The body of session `s`'s call at `turns` turns (history-cpu.ts plays the same): its first message its own, then the history. */
export function sessionCall(base: Obj & { messages: Obj[] }, s: number, turns: number, model: string): Obj {
  const msgs = base.messages;
  const first = { role: 'user', content: [{ type: 'text', text: `session ${s}: ${(msgs[0]!.content as Obj[])[0]!.text as string}` }] };
  return { ...base, model, messages: withBreakpoint([first, ...msgs.slice(1, 1 + 2 * turns)]) };
}

export async function growingHistory(weir: Target, plan: HistoryPlan, deltas: number, progress: Progress): Promise<{ rows: HistoryRow[]; notes: string[] }> {
  const rows: HistoryRow[] = [];
  const maxTurns = Math.max(...plan.turns) + plan.calls;
  const base = sessionBase(maxTurns);
  if ((base.messages.length - 1) / 2 < maxTurns) throw new Error(`history scenario: the generated body holds ${(base.messages.length - 1) / 2} turns, ${maxTurns} needed`);
  const check = (body: string) => checkAnthropicStream(body, deltas);
  const paths = [
    { key: 'translated' as const, model: CHAT_MODEL, target: { ...weir, kind: 'translated' as const, label: LABELS.translated } },
    { key: 'passThrough' as const, model: CLAUDE_MODEL, target: weir },
  ];
  let session = 0;
  const clients = new Map(paths.map((p) => [p.key, new Client(weir.url, { pipelining: 1, keepAliveTimeout: 60_000 })]));
  const accOf = () => new Map(paths.map((p) => [p.key, { first: [] as number[], later: [] as number[], cpu: new CpuMeter(p.target, true), errors: 0, firstError: null as string | null }]));
  const acc = new Map(plan.turns.map((t) => [t, accOf()]));
  const bodyKB = new Map<number, number>();
  /** Plays session `s` at `turns` turns into `into` (for the warm-up: its timings dropped, its errors counted). */
  const play = async (s: number, turns: number, into: ReturnType<typeof accOf>) => {
    for (let c = 0; c < plan.calls; c++) {
      // Each path gets the same call in turn, the order alternating from call to call.
      const order = c % 2 === 0 ? paths : [...paths].reverse();
      for (const p of order) {
        const spec = messagesSpec(sessionCall(base, s, turns + c, p.model));
        if (c === 0 && p.key === 'translated' && !bodyKB.has(turns)) bodyKB.set(turns, spec.body!.length / 1024);
        const a = into.get(p.key)!;
        if (c > 0) a.cpu.begin();
        const r = await closedLoop(clients.get(p.key)!, spec, 1, true, check);
        if (c > 0) a.cpu.end(1);
        if (r.errors > 0) {
          a.errors += r.errors;
          a.firstError ??= r.firstError;
          continue;
        }
        (c === 0 ? a.first : a.later).push(r.total[0]!);
      }
    }
  };
  try {
    for (const turns of plan.turns) {
      progress.set('11 history', `warm-up, ${turns} turns`);
      const warm = accOf();
      await play(session++, turns, warm);
      // Its answers are checked as the others are: what failed counts.
      for (const [k, w] of warm) {
        const a = acc.get(turns)!.get(k)!;
        a.errors += w.errors;
        a.firstError ??= w.firstError;
      }
    }
    for (let s = 0; s < plan.sessions; s++) {
      for (const turns of plan.turns) {
        progress.set('11 history', `session ${s + 1}/${plan.sessions}, ${turns} turns`);
        await play(session++, turns, acc.get(turns)!);
      }
    }
  } finally {
    for (const cl of clients.values()) await cl.close();
  }
  for (const turns of plan.turns) {
    const fig = (k: 'translated' | 'passThrough'): HistoryPath => {
      const a = acc.get(turns)!.get(k)!;
      return { firstP50: median(a.first), laterP50: median(a.later), laterCpuUs: a.cpu.perRequest(), errors: a.errors, firstError: a.firstError };
    };
    rows.push({ turns, bodyKB: bodyKB.get(turns) ?? 0, sessions: plan.sessions, calls: plan.calls, translated: fig('translated'), passThrough: fig('passThrough') });
  }
  const notes = [
    `${plan.sessions} sessions × ${plan.calls} streaming /v1/messages calls per history length, each call one turn longer than the one before (cache_control on its last message); every answer checked whole (${deltas} deltas)`,
    'later calls: every call of a session but its first (which translates the whole history); CPU: Weir, every thread (per-thread ns), over those calls of that path only',
    'a warm-up session of each length first, unmeasured; then the lengths take turns session by session',
  ];
  return { rows, notes };
}
