// The load behind the max-throughput figures: the C generator (loadgen.c) by default, autocannon
// on request (--generator autocannon). Every throughput row names the one that produced it.
import { cannon, type CannonStep } from './load';
import { buildLoadgen, loadgenStep, runLoadgen } from './loadgen';
import type { RequestSpec } from './timed-request';

export type GeneratorKind = 'c' | 'autocannon';

export interface ThroughputGenerator {
  /** As the report names it. */
  name: 'weir-loadgen (C)' | 'autocannon';
  /** One closed-loop run at `connections` for `durationS` seconds. */
  step(url: string, spec: RequestSpec, connections: number, durationS: number): Promise<CannonStep>;
}

let built: string | null = null;

/** The generator of `kind`; the C one is built on first use (a clear error when there is no compiler). */
export function throughputGenerator(kind: GeneratorKind): ThroughputGenerator {
  if (kind === 'autocannon') return { name: 'autocannon', step: cannon };
  const bin = (built ??= buildLoadgen());
  return {
    name: 'weir-loadgen (C)',
    step: async (url, spec, connections, durationS) => loadgenStep(await runLoadgen(bin, url, spec, { connections, durationS, timeoutS: 10 })),
  };
}
