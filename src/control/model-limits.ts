// A key's per-model limits, read from where LiteLLM keeps them:
//  - `model_max_budget` (the key's column, else its budget row's): {model: {max_budget,
//    budget_duration}} or the older {model: {budget_limit, time_period}}. An entry without a usable
//    period, or with a negative budget, limits nothing (LiteLLM skips it). Entries may carry
//    rpm_limit / tpm_limit too.
//  - `model_rpm_limit` / `model_tpm_limit`: the key's metadata first, else the rpm_limit /
//    tpm_limit inside model_max_budget, else the team's metadata (LiteLLM's get_key_model_*_limit).
// Each limited model gets one record per key; the counters live there (governance-store.ts).
import { addDuration, parseDuration } from '../admin/durations';
import type { Json, KeyRow, TeamRow } from '../db/rows';

export interface ModelLimitSpec {
  /** The model name as configured (the budget applies to it and to `provider/<it>`). */
  model: string;
  /** Budget in USD over `periodMs`, when the entry has a usable one. */
  maxBudgetUsd: number | null;
  periodMs: number | null;
  rpm: number | null;
  tpm: number | null;
}

const obj = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);

function count(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.floor(n) : null;
}

function usd(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/** A budget period in ms (from a fixed epoch, so `1mo` has one length), or null if not a duration. */
function periodMs(v: unknown): number | null {
  if (typeof v !== 'string' || !parseDuration(v)) return null;
  const from = new Date(0);
  return addDuration(from, v).getTime();
}

/** `{model: n}` from a metadata map; entries that are not counts are left out. */
function countMap(v: unknown): Map<string, number> {
  const out = new Map<string, number>();
  for (const [m, raw] of Object.entries(obj(v) ?? {})) {
    const n = count(raw);
    if (n !== null) out.set(m, n);
  }
  return out;
}

/** LiteLLM's order for model rpm / tpm: key metadata, then model_max_budget entries, then team metadata. */
function rateMap(k: KeyRow, team: TeamRow | null, metaKey: 'model_rpm_limit' | 'model_tpm_limit', budgetField: 'rpm_limit' | 'tpm_limit'): Map<string, number> {
  const own = countMap(k.metadata[metaKey]);
  if (own.size) return own;
  const fromBudget = new Map<string, number>();
  for (const [m, entry] of Object.entries(k.model_max_budget)) {
    const n = count(obj(entry)?.[budgetField]);
    if (n !== null) fromBudget.set(m, n);
  }
  if (fromBudget.size) return fromBudget;
  return countMap(team?.metadata[metaKey]);
}

export function keyModelLimits(k: KeyRow, team: TeamRow | null): ModelLimitSpec[] {
  const specs = new Map<string, ModelLimitSpec>();
  const spec = (model: string): ModelLimitSpec => {
    let s = specs.get(model);
    if (!s) specs.set(model, (s = { model, maxBudgetUsd: null, periodMs: null, rpm: null, tpm: null }));
    return s;
  };
  for (const [model, raw] of Object.entries(k.model_max_budget)) {
    const entry = obj(raw);
    if (!entry) continue;
    const max = usd(entry.max_budget ?? entry.budget_limit);
    const period = periodMs(entry.budget_duration ?? entry.time_period);
    if (max === null || max < 0 || period === null || period <= 0) continue;
    const s = spec(model);
    s.maxBudgetUsd = max;
    s.periodMs = period;
  }
  for (const [model, n] of rateMap(k, team, 'model_rpm_limit', 'rpm_limit')) spec(model).rpm = n;
  for (const [model, n] of rateMap(k, team, 'model_tpm_limit', 'tpm_limit')) spec(model).tpm = n;
  return [...specs.values()];
}
