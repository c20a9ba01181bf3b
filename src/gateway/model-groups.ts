// Model groups: how a deployment joins its group, and how a requested model name finds its group
// (an exact model_name or alias first, then the wildcard routes). Shared by the control thread,
// which builds the configured groups once, and the workers, which build a wildcard group the
// first time a name is asked for and keep it for the life of the snapshot.
import { resolvePrice } from '../pricing/cost';
import { anthropicName, bedrockRoute } from '../providers/bedrock/target';
import { splitModel } from '../providers/registry';
import { vertexModelParts } from '../providers/vertex';
import type { ModelGroup, RoutingSettings, Snapshot, Target, WildcardDeployment } from './snapshot';
import { Wildcard } from './wildcard';

export function newGroup(name: string): ModelGroup {
  return { name, targets: [], chatTargets: [], messagesTargets: [], responsesTargets: [], embeddingsTargets: [] };
}

/** Adds a deployment to its group and to the per-endpoint lists of the dialects it speaks. */
export function addTarget(g: ModelGroup, t: Target): void {
  g.targets.push(t);
  if (t.dialect === 'openai' || t.dialect === 'any') g.chatTargets.push(t);
  if (t.dialect === 'anthropic' || t.dialect === 'any') g.messagesTargets.push(t);
  if (t.responsesPath) g.responsesTargets.push(t);
  if (t.embeddingsPath) g.embeddingsTargets.push(t);
}

const prepared = new Map<string, Wildcard>();

/**
 * `anthropic/*` as a matcher whose every `*` captures what it stands for. Prepared once per
 * pattern and thread (the snapshot, cloned to each worker, carries only the pattern).
 */
export function wildcard(pattern: string): Wildcard {
  let w = prepared.get(pattern);
  if (!w) prepared.set(pattern, (w = new Wildcard(pattern)));
  return w;
}

/** Every `*` of the deployment's model takes the next captured part of the requested name. */
export function fillTemplate(template: string, captures: string[]): string {
  let n = 0;
  return template.replace(/\*/g, () => captures[n++] ?? '');
}

/** Names a client may invent are unbounded: the per-snapshot memo of wildcard groups is capped. */
const MAX_REMEMBERED = 4096;
const remembered = new WeakMap<Snapshot, Map<string, ModelGroup | null>>();

/** The group serving a requested model name, or undefined when no group or wildcard matches. */
export function resolveGroup(snap: Snapshot, name: string): ModelGroup | undefined {
  const g = snap.groups.get(name);
  if (g || snap.wildcards.length === 0) return g;
  let memo = remembered.get(snap);
  if (!memo) remembered.set(snap, (memo = new Map()));
  let hit = memo.get(name);
  if (hit === undefined) {
    hit = wildcardGroup(snap, name);
    if (memo.size >= MAX_REMEMBERED) memo.clear();
    memo.set(name, hit);
  }
  return hit ?? undefined;
}

/**
 * Whether a /v1/messages call for `name` is translated: its group has no deployment that speaks
 * Anthropic's dialect (the gateway prefers those, proxy-call.ts nativeTargets).
 */
export function messagesTranslated(snap: Snapshot, name: string): boolean {
  const g = resolveGroup(snap, name);
  return g !== undefined && g.messagesTargets.length === 0;
}

/**
 * The first route (most specific first) that can serve the name, materialised for it. A route
 * whose provider cannot be told from the name (`*` asked for `llama-3`) does not match it.
 */
function wildcardGroup(snap: Snapshot, name: string): ModelGroup | null {
  for (const route of snap.wildcards) {
    const captures = wildcard(route.name).match(name);
    if (!captures) continue;
    let g: ModelGroup | null = null;
    for (const d of route.deployments) {
      const t = concreteTarget(snap, d, name, captures);
      if (!t) continue;
      if (!g) g = { ...newGroup(name), pattern: route.name };
      addTarget(g, t);
    }
    if (g) return g;
  }
  return null;
}

/** The wildcard deployment's target for one requested name: its provider, upstream model and price. */
function concreteTarget(snap: Snapshot, d: WildcardDeployment, name: string, captures: string[]): Target | null {
  const model = fillTemplate(d.template, captures);
  const { provider, upstreamModel } = splitModel(model);
  const base = d.variants[provider];
  if (!base) return null;
  // Bedrock's Claude ids are priced as the Anthropic model they are (as buildTarget does for configured ones).
  // So are Vertex's (`claude-…@date`).
  const alias = provider === 'bedrock' ? anthropicName(bedrockRoute(upstreamModel).id) : provider === 'vertex_ai' && /^claude-/.test(upstreamModel) ? upstreamModel.replace(/@.*$/, '') : undefined;
  const price = resolvePrice(snap.priceTable, { baseModel: d.baseModel, model, upstreamModel, overrides: d.overrides, alias });
  const t: Target = { ...base, group: name, upstreamModel, upstreamModelJson: JSON.stringify(upstreamModel), price };
  // On Vertex the model decides the publisher, the dialect and the path (Claude or Gemini).
  if (t.wire && t.provider === 'vertex_ai') Object.assign(t, vertexModelParts(t.wire, upstreamModel));
  return t;
}

/**
 * The fallback chain of a group: its own entry, else its wildcard pattern's, else the `"*"`
 * entry that applies to every group, else default_fallbacks.
 */
export function configuredFallbacks(r: RoutingSettings, g: ModelGroup): string[] {
  return r.fallbacks.get(g.name) ?? (g.pattern !== undefined ? r.fallbacks.get(g.pattern) : undefined) ?? r.fallbacks.get('*') ?? r.defaultFallbacks;
}
