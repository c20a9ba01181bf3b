// The bodies of /v1/models, /models and /model/info for a caller: every model for the master key
// (and an open proxy), only what a virtual key may call for a key (its own list, its team's,
// access groups and wildcards: policy.ts modelAllowed). The master key's bodies are prebuilt in
// the snapshot. A key's are built from the snapshot's serialized entries and cached per snapshot
// by the lists that decide them, so the many keys that share a list share one body.
import type { Identity } from './identity';
import { modelAllowed } from './policy';
import type { ModelEntry, Snapshot } from './snapshot';

interface Bodies {
  models: string;
  info: string;
}

/** Distinct (key list, team list) pairs cached per snapshot; past it the cache starts over. */
const MAX_CACHED = 1024;

const cache = new WeakMap<Snapshot, Map<string, Bodies>>();

function filtered(entries: ModelEntry[], allowed: (name: string) => boolean): string {
  let out = '';
  for (const e of entries) if (allowed(e.name)) out += (out ? ',' : '') + e.json;
  return out;
}

function bodiesFor(snap: Snapshot, who: Identity): Bodies | null {
  if (who.kind !== 'key') return null;
  const p = who.profile;
  const keyModels = p.models.includes('all-team-models') ? p.teamModels : p.models;
  const teamModels = p.teamRecord >= 0 ? p.teamModels : null;
  if (keyModels.length === 0 && (teamModels === null || teamModels.length === 0)) return null;
  let bySnap = cache.get(snap);
  if (!bySnap) cache.set(snap, (bySnap = new Map()));
  const k = JSON.stringify([keyModels, teamModels]);
  let b = bySnap.get(k);
  if (!b) {
    const allowed = (name: string) => modelAllowed(keyModels, name, snap.accessGroups) && (teamModels === null || modelAllowed(teamModels, name, snap.accessGroups));
    b = { models: `{"object":"list","data":[${filtered(snap.modelEntries, allowed)}]}`, info: `{"data":[${filtered(snap.modelInfoEntries, allowed)}]}` };
    if (bySnap.size >= MAX_CACHED) bySnap.clear();
    bySnap.set(k, b);
  }
  return b;
}

/** The /v1/models body for this caller. */
export function modelsBody(snap: Snapshot, who: Identity): string {
  return bodiesFor(snap, who)?.models ?? snap.modelsBody;
}

/** The /model/info body for this caller. */
export function modelInfoBody(snap: Snapshot, who: Identity): string {
  return bodiesFor(snap, who)?.info ?? snap.modelInfoBody;
}
