// Scenario 13, the long tail (issue 15): p99 and p99.9 added latency of Weir (master key and
// governed) and of the minimal proxy at concurrency 1 and at 2,000 req/s, each repeat's figure
// and their spread, and for both Weirs the GCs behind them (count and pauses per kind, from
// `--trace-gc-nvp`) and the bytes their worker isolates allocated per request (gc-trace.ts).
// The GCs of a target are the records that arrived while that target alone was being measured.
import { chatSpec, smallChat } from './bodies';
import { gcRows, windowLog } from './gc-windows';
import type { Governed } from './governed';
import { interleavedLatency } from './latency-rounds';
import type { Plan } from './plan';
import type { Progress } from './progress';
import { interleavedRates } from './rates';
import type { GcRow, LatencyRow, RateRow } from './results';
import type { Target } from './targets';

/** The fixed rate of the second measurement. */
export const TAIL_RATE = 2000;

export async function tailScenario(o: { targets: Target[]; governed: Governed | string; plan: Plan; progress: Progress }): Promise<{ latency: LatencyRow[]; rates: RateRow[]; gc: GcRow[]; notes: string[] }> {
  const { plan, progress } = o;
  const notes: string[] = [];
  const spec = chatSpec(smallChat());
  const list = o.targets.filter((t) => t.kind === 'direct' || t.kind === 'weir' || t.kind === 'minimal');
  if (typeof o.governed === 'string') notes.push(`governed Weir not measured: ${o.governed}`);
  else list.push({ ...o.governed.target, key: await o.governed.newKey() });
  notes.push(
    `body ${spec.body!.length} bytes; c=1 and ${TAIL_RATE} req/s as scenario 1 runs them, the governed Weir with a virtual key (scenario 4's); p99 and p99.9 per repeat, median [min…max] over ${plan.repeats} repeats`,
    'GC and allocation: Weir runs under node --trace-gc-nvp; a GC is counted for a target when its line arrives while that target alone is measured. bytes/req: the `allocated` figures (heap growth since the isolate\'s previous GC) summed over the worker isolates, over the requests served; ± one GC\'s worth at each end of the windows',
  );
  const c1 = windowLog();
  const latency = await interleavedLatency(list, spec, { ...plan.chat, repeats: plan.repeats, sse: false, onWindow: c1.onWindow }, progress, '13 tail');
  const fixed = windowLog();
  const rates = await interleavedRates(list, spec, { rates: [TAIL_RATE], durationMs: plan.rateMs, warmupMs: plan.rateWarmupMs, repeats: plan.repeats, onWindow: fixed.onWindow }, progress, '13 tail');
  const gc = [...gcRows('concurrency 1', list, c1.of), ...gcRows(`${TAIL_RATE} req/s`, list, fixed.of)];
  for (const t of list) if (t.gc && t.gc.dropped > 0) notes.push(`${t.label}: ${t.gc.dropped} GC records dropped past the bound`);
  return { latency, rates, gc, notes };
}
