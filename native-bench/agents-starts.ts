// Scenario 8, sandbox starts: one trivial run at a time on each provider — local, and E2B and
// Daytona through their real SDKs against the fakes of test/support — cold (a sandbox made for the
// run) and warm (taken from a warm pool). Per run: POST sent → the run's `running` event (create →
// agent running), the fake's time answering calls about the run's machine in that window (the
// provider's share, however the SDK spread it), and the rest: Weir's own share.
import type { Pool } from 'pg';
import type { FakeDaytona } from '../test/support/fake-daytona';
import type { FakeE2B } from '../test/support/fake-e2b';
import { percentiles } from './stats';
import { oneAtATime } from './agents-watch';

export type StartProvider = 'local' | 'e2b' | 'daytona';

export interface StartRow {
  provider: StartProvider;
  start: 'cold' | 'warm';
  runs: number;
  /** Runs that succeeded and started as asked (a warm run finding the pool empty starts cold). */
  counted: number;
  startP50: number;
  startP99: number;
  providerP50: number;
  weirP50: number;
  weirP99: number;
  firstFailure: string | null;
}

/** The start profiles agents-config.ts writes, by provider and start. */
export const startProfile = (p: StartProvider, warm: boolean) => `bench-start-${p}${warm ? '-warm' : ''}`;
export const WARM_POOL = 2;

/** Length of the union of `spans` inside [from, to]. */
export function coveredMs(spans: Array<[number, number]>, from: number, to: number): number {
  const clipped = spans.map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as [number, number]).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of clipped) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

async function runView(url: string, key: string, id: string): Promise<{ sandbox?: { id?: string; start?: string } }> {
  const res = await fetch(`${url}/v1/agent/runs/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return res.ok ? ((await res.json()) as { sandbox?: { id?: string; start?: string } }) : {};
}

/** Waits (bounded) until the pool of `sandbox` has a ready machine, so a warm run finds one. */
async function poolReady(db: Pool, sandbox: string, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    const r = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Weir_AgentSandboxPool" WHERE sandbox_name = $1 AND state = 'ready'`, [sandbox]);
    if (r.rows[0]!.n > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function sandboxStarts(o: { url: string; key: string; runs: number; e2b: FakeE2B; daytona: FakeDaytona; db: Pool; progress(what: string): void }): Promise<StartRow[]> {
  const rows: StartRow[] = [];
  const plan: Array<[StartProvider, boolean]> = [['local', false], ['e2b', false], ['e2b', true], ['daytona', false], ['daytona', true]];
  for (const [provider, warm] of plan) {
    o.progress(`${provider} ${warm ? 'warm' : 'cold'} starts`);
    const profile = startProfile(provider, warm);
    const starts: number[] = [];
    const weir: number[] = [];
    const prov: number[] = [];
    let firstFailure: string | null = null;
    for (let i = 0; i < o.runs; i++) {
      if (warm) await poolReady(o.db, `bench-${provider}-warm`, 30_000);
      const { traces } = await oneAtATime({ url: o.url, key: o.key, count: 1, body: () => ({ profile, prompt: 'start' }), deadlineMs: 60_000 });
      const t = traces[0]!;
      if (t.finalStatus !== 'succeeded' || t.runningAt === null || !t.id) {
        firstFailure ??= t.postError ?? t.errorMessage ?? `ended ${t.finalStatus}`;
        continue;
      }
      const view = await runView(o.url, o.key, t.id);
      if ((view.sandbox?.start ?? 'cold') !== (warm ? 'warm' : 'cold')) continue;
      const total = t.runningAt - t.postAt;
      const fake = provider === 'e2b' ? o.e2b : provider === 'daytona' ? o.daytona : null;
      const providerMs = fake && view.sandbox?.id ? coveredMs(fake.machines.spans.get(view.sandbox.id) ?? [], t.postAt, t.runningAt) : 0;
      starts.push(total);
      prov.push(providerMs);
      weir.push(total - providerMs);
    }
    const [s50, s99] = starts.length ? percentiles(starts, [50, 99]) : [NaN, NaN];
    const [w50, w99] = weir.length ? percentiles(weir, [50, 99]) : [NaN, NaN];
    const [p50] = prov.length ? percentiles(prov, [50]) : [NaN];
    rows.push({ provider, start: warm ? 'warm' : 'cold', runs: o.runs, counted: starts.length, startP50: s50!, startP99: s99!, providerP50: p50!, weirP50: w50!, weirP99: w99!, firstFailure });
  }
  return rows;
}
