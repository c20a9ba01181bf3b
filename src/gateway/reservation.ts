// What a call reserves on every budget it is charged to before it is forwarded (reserve-then-
// settle; see state/entity-table.ts), estimated without parsing the body:
//
//   input   the body's size at BYTES_PER_TOKEN bytes per token, at the dearest input-side rate
//           (input, cache read, cache write);
//   output  max_tokens (or max_completion_tokens) — else the model's maximum output, else
//           DEFAULT_OUTPUT_TOKENS — times the completions asked for (`n`, `best_of`);
//   price   the dearest price the call may reach: every deployment of its group and of the groups
//           its fallbacks (configured or the client's own) may move it to. A deployment whose
//           price is unknown reserves at the dearest known price of the config, never at 0.
//
// The settle step then charges what the upstream reports. Output cannot pass max_tokens × n, so
// the one way a call can cost more than it reserved is a prompt denser than one token per
// BYTES_PER_TOKEN bytes of body (images, scripts of few bytes per token): the overshoot of a
// budget is at most that estimation error of the calls admitted against its last remainder.
import type { Price } from '../pricing/cost';
import { worstCaseNanos } from '../pricing/cost';
import { NANOS_PER_USD } from '../accounting/spend-record';
import { configuredFallbacks, resolveGroup } from './model-groups';
import type { BodyScan } from './body-scan';
import type { ModelGroup, Snapshot } from './snapshot';

/**
 * Bytes of request body per input token the reservation assumes. English text and code run at
 * about 4 bytes per token and JSON framing adds bytes that are no tokens at all, so 2 is a
 * conservative bound for text: the estimate is about twice the real prompt.
 */
export const BYTES_PER_TOKEN = 2;
/** Output tokens reserved when neither the call nor the price table gives a maximum. */
export const DEFAULT_OUTPUT_TOKENS = 4096;

export interface Reservation {
  nanos: bigint;
  inputTokens: number;
  outputTokens: number;
  /** Where the output count came from, for the refusal message. */
  outputFrom: 'max_tokens' | 'the model maximum' | 'the default';
  choices: number;
  bodyBytes: number;
}

/** Completions a body asks for: `n`, or `best_of` (the completions API generates that many), at least 1. */
export function completionsAsked(scan: Pick<BodyScan, 'n' | 'bestOf'>): number {
  return Math.max(1, Math.floor(scan.n ?? 1) || 1, Math.floor(scan.bestOf ?? 1) || 1);
}

/** What the call needs to reserve: the largest estimate over the prices it may be charged at. */
export function estimateReservation(prices: readonly Price[], bodyBytes: number, maxTokens: number | undefined, choices: number): Reservation {
  const inputTokens = Math.ceil(bodyBytes / BYTES_PER_TOKEN);
  const n = Math.max(1, Math.floor(choices) || 1);
  let best: Reservation = { nanos: 0n, inputTokens, outputTokens: 0, outputFrom: 'the default', choices: n, bodyBytes };
  for (const p of prices) {
    const perChoice = maxTokens ?? p.maxOutputTokens ?? DEFAULT_OUTPUT_TOKENS;
    const outputTokens = perChoice * n;
    const nanos = BigInt(worstCaseNanos(p, inputTokens, outputTokens));
    if (nanos > best.nanos || best.outputTokens === 0) {
      best = { nanos, inputTokens, outputTokens, choices: n, bodyBytes, outputFrom: maxTokens !== undefined ? 'max_tokens' : p.maxOutputTokens ? 'the model maximum' : 'the default' };
    }
  }
  return best;
}

/** The refusal's account of what the call reserved (the budget error names it). */
export function describeReservation(r: Reservation): string {
  const per = r.choices > 1 ? ` (${r.outputTokens / r.choices} × ${r.choices} completions)` : '';
  return `This call reserves ${Number(r.nanos) / NANOS_PER_USD} USD until it settles: ${r.inputTokens} input tokens estimated from ${r.bodyBytes} bytes at ${BYTES_PER_TOKEN} bytes per token, and ${r.outputTokens} output tokens${per} from ${r.outputFrom}.`;
}

const reachable = new WeakMap<ModelGroup, Price[]>();
const dearestKnown = new WeakMap<Snapshot, Price | null>();

/**
 * Every price the call may be charged at: its group's deployments and those of the groups its
 * fallbacks lead to (the client's own list when it sent one, else the configured chain and the
 * context-window and content-policy fallbacks of the group).
 */
export function reachablePrices(snap: Snapshot, group: ModelGroup, clientFallbacks: string[] | null): Price[] {
  if (clientFallbacks === null) {
    const known = reachable.get(group);
    if (known) return known;
  }
  const out = new Set<Price>();
  const add = (g: ModelGroup | undefined) => {
    if (!g) return;
    for (const t of g.targets) {
      const p = t.price.known ? t.price : dearestKnownPrice(snap);
      if (p) out.add(p);
    }
  };
  add(group);
  const r = snap.routing;
  const chains = clientFallbacks !== null ? [clientFallbacks] : [configuredFallbacks(r, group), r.contextWindowFallbacks.get(group.name) ?? [], r.contentPolicyFallbacks.get(group.name) ?? []];
  for (const chain of chains) for (const name of chain.slice(0, r.maxFallbacks)) add(resolveGroup(snap, name));
  const prices = [...out];
  if (clientFallbacks === null) reachable.set(group, prices);
  return prices;
}

/** What a call priced at `price` reserves at: the price, or the config's dearest when nobody prices it. */
export function pricesToReserve(snap: Snapshot, price: Price): Price[] {
  const p = price.known ? price : dearestKnownPrice(snap);
  return p ? [p] : [];
}

/** The dearest priced deployment of the config (by output, then input rate), or null if none is priced. */
function dearestKnownPrice(snap: Snapshot): Price | null {
  let p = dearestKnown.get(snap);
  if (p !== undefined) return p;
  p = null;
  for (const g of snap.groups.values()) {
    for (const t of g.targets) {
      const q = t.price;
      if (q.known && (!p || q.output > p.output || (q.output === p.output && q.input > p.input))) p = q;
    }
  }
  dearestKnown.set(snap, p);
  return p;
}
