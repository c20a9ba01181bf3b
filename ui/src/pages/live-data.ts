// The live stream's ticks (GET /ui/live, one `tick` event a second) and what the page keeps of them:
// the last WINDOW seconds for the charts, and running totals since the page opened (requests and
// errors by status, overall and per deployment) so counts can be read off, not just rates.

export interface Quantiles {
  p50: number | null;
  p99: number | null;
}

export interface DeploymentTick {
  model: string;
  deployment: string;
  rps: number;
  /** Requests finished in the tick, exactly (rps is this over the tick's length). */
  requests: number;
  latency_ms: Quantiles;
  errors: number;
  cooldown: boolean;
  in_flight: number;
}

export interface Tick {
  t: number;
  rps: number;
  /** Requests finished in the tick, exactly: the totals add these, not the rates. */
  requests: number;
  overhead_ms: Quantiles;
  latency_ms: Quantiles;
  ttft_ms: Quantiles;
  errors: Record<string, number>;
  deployments: DeploymentTick[];
}

/** Seconds of history the charts show. */
export const WINDOW = 120;

export interface DeploymentState extends DeploymentTick {
  key: string;
  total: number;
  total_errors: number;
}

export interface LiveState {
  ticks: Tick[];
  total: number;
  errorsByStatus: Map<string, { last: number; total: number }>;
  deployments: Map<string, DeploymentState>;
}

export const emptyLive = (): LiveState => ({ ticks: [], total: 0, errorsByStatus: new Map(), deployments: new Map() });

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const q = (v: unknown): Quantiles => {
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  const one = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return { p50: one(o.p50), p99: one(o.p99) };
};

/** A tick as sent, with every missing or odd field made harmless (the page never trusts shapes). */
export function parseTick(data: string): Tick | null {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(data) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!j || typeof j !== 'object') return null;
  const errors: Record<string, number> = {};
  if (j.errors && typeof j.errors === 'object') for (const [k, v] of Object.entries(j.errors)) errors[k] = num(v);
  const deployments = Array.isArray(j.deployments)
    ? j.deployments.map((d: Record<string, unknown>) => ({
        model: String(d.model ?? ''),
        deployment: String(d.deployment ?? ''),
        rps: num(d.rps),
        requests: typeof d.requests === 'number' ? num(d.requests) : num(d.rps),
        latency_ms: q(d.latency_ms),
        errors: num(d.errors),
        cooldown: d.cooldown === true,
        in_flight: num(d.in_flight),
      }))
    : [];
  const requests = typeof j.requests === 'number' ? num(j.requests) : num(j.rps);
  return { t: num(j.t) || Date.now(), rps: num(j.rps), requests, overhead_ms: q(j.overhead_ms), latency_ms: q(j.latency_ms), ttft_ms: q(j.ttft_ms), errors, deployments };
}

/** The state after one more tick (a new object: the page re-renders from it). */
export function addTick(s: LiveState, t: Tick): LiveState {
  const ticks = s.ticks.length >= WINDOW ? [...s.ticks.slice(s.ticks.length - WINDOW + 1), t] : [...s.ticks, t];
  const errorsByStatus = new Map<string, { last: number; total: number }>();
  for (const [k, v] of s.errorsByStatus) errorsByStatus.set(k, { last: 0, total: v.total });
  for (const [k, n] of Object.entries(t.errors)) errorsByStatus.set(k, { last: n, total: (errorsByStatus.get(k)?.total ?? 0) + n });
  const deployments = new Map<string, DeploymentState>();
  // Deployments not in this tick keep their totals, shown idle.
  for (const [k, d] of s.deployments) deployments.set(k, { ...d, rps: 0, requests: 0, errors: 0, in_flight: 0, latency_ms: { p50: null, p99: null } });
  for (const d of t.deployments) {
    const key = `${d.model}\n${d.deployment}`;
    const before = s.deployments.get(key);
    deployments.set(key, { ...d, key, total: (before?.total ?? 0) + d.requests, total_errors: (before?.total_errors ?? 0) + d.errors });
  }
  return { ticks, total: s.total + t.requests, errorsByStatus, deployments };
}

export const sumErrors = (t: Tick | undefined): number => (t ? Object.values(t.errors).reduce((a, b) => a + b, 0) : 0);
