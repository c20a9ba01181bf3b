// Which routes a virtual key may call, as LiteLLM decides it (RouteChecks in
// litellm/proxy/auth/route_checks.py and pass_through_access.py):
//  - `allowed_routes` (also what `key_type` llm_api / management / read_only expands to): an
//    empty list allows every route; otherwise a route is allowed when an entry is the route or a
//    path prefix of it, names a LiteLLM route group (route-groups.ts) that holds it, or is a
//    `prefix*` wildcard that matches it. Anything else is LiteLLM's 403.
//  - `allowed_passthrough_routes` (key metadata, else team metadata): see mayUsePassThrough.
// Decided from the key's profile alone, before the request body is read. Route groups and each
// key's list are compiled once (a Set, prefixes and one anchored regex per group), so a check is
// a few lookups whatever the lists hold.
import { GatewayError } from './errors';
import type { KeyProfile } from './governance';
import type { Identity } from './identity';
import { ROUTE_GROUPS } from './route-groups';

interface RouteSet {
  exact: Set<string>;
  /** `prefix*` entries, without the `*`. */
  prefixes: string[];
  /** The `{placeholder}` entries as one anchored alternation, or null. */
  patterns: RegExp | null;
}

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\]/g;

/** `/threads/{thread_id}` → `/threads/[^/]+`; `{name:path}` may hold slashes (not the `:` after it). */
function placeholderPattern(entry: string): string {
  let out = '';
  let i = 0;
  for (let open = entry.indexOf('{'); open >= 0; open = entry.indexOf('{', i)) {
    const close = entry.indexOf('}', open);
    if (close < 0) break;
    out += entry.slice(i, open).replace(REGEX_SPECIAL, '\\$&');
    out += entry.slice(open + 1, close).endsWith(':path') ? '[^:]+' : '[^/]+';
    i = close + 1;
  }
  return out + entry.slice(i).replace(REGEX_SPECIAL, '\\$&');
}

/** LiteLLM's check_route_access over one list: exact, `prefix*` wildcard, or placeholder pattern. */
function compile(entries: readonly string[]): RouteSet {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const patterns: string[] = [];
  for (const e of entries) {
    exact.add(e);
    if (e.endsWith('*')) prefixes.push(e.slice(0, -1));
    if (e.includes('{')) patterns.push(placeholderPattern(e));
  }
  return { exact, prefixes, patterns: patterns.length ? new RegExp(`^(?:${patterns.join('|')})$`) : null };
}

function inSet(s: RouteSet, route: string): boolean {
  if (s.exact.has(route)) return true;
  for (const p of s.prefixes) if (route.startsWith(p)) return true;
  return s.patterns !== null && s.patterns.test(route);
}

const groups = new Map<string, RouteSet>();
function group(name: string): RouteSet | null {
  let g = groups.get(name);
  if (!g) {
    const entries = Object.hasOwn(ROUTE_GROUPS, name) ? ROUTE_GROUPS[name] : undefined;
    if (!entries) return null;
    groups.set(name, (g = compile(entries)));
  }
  return g;
}

/** A key's allowed_routes, compiled: its path entries and the route groups it names. */
interface KeyRoutes {
  paths: string[];
  groups: RouteSet[];
}

/** Profiles are replaced (never changed) when a key changes, so their lists key the cache. */
const compiled = new WeakMap<readonly string[], KeyRoutes>();

function keyRoutes(allowed: readonly string[]): KeyRoutes {
  let k = compiled.get(allowed);
  if (!k) {
    k = { paths: [], groups: [] };
    for (const a of allowed) {
      const g = group(a);
      if (g) k.groups.push(g);
      else k.paths.push(a);
    }
    compiled.set(allowed, k);
  }
  return k;
}

/** Whether allowed_routes admit `route` (LiteLLM's is_virtual_key_allowed_to_call_route). */
export function routeAllowed(allowed: readonly string[], route: string): boolean {
  if (allowed.length === 0) return true;
  const k = keyRoutes(allowed);
  // An entry is the route, or a path prefix of it (`/a` covers `/a/b`, not `/ab`).
  for (const a of k.paths) if (route === a || (route.startsWith(a) && route.charCodeAt(a.length) === 47)) return true;
  for (const g of k.groups) if (inSet(g, route)) return true;
  // `prefix*` entries.
  for (const a of k.paths) if (a.endsWith('*') && route.startsWith(a.slice(0, -1))) return true;
  return false;
}

/** A list as Python prints it, as LiteLLM's message shows allowed_routes: ['a', 'b']. */
function pyList(list: readonly string[]): string {
  return `[${list.map((m) => `'${m}'`).join(', ')}]`;
}

/**
 * The caller, if its key may call `route`; LiteLLM's 403 otherwise. The master key and an open
 * proxy (no master_key) are not restricted.
 */
export function allowRoute(who: Identity, route: string): Identity {
  if (who.kind !== 'key' || routeAllowed(who.profile.allowedRoutes, route)) return who;
  throw new GatewayError(
    403,
    `Virtual key is not allowed to call this route. Only allowed to call routes: ${pyList(who.profile.allowedRoutes)}. Tried to call route: ${route}`,
    'auth_error',
  );
}

function under(route: string, prefix: string): boolean {
  return route === prefix || (route.startsWith(prefix) && route.charCodeAt(prefix.length) === 47);
}

/**
 * Whether `allowed_passthrough_routes` grants the key the pass-through path (dot segments already
 * resolved): an entry that is the path or a path prefix of it. `*` is a literal character there,
 * not a wildcard; the key's list, when it has entries, replaces the team's. The gateway asks only
 * for provider routes that are not LLM calls (files, batches…): LLM calls through the pass-through
 * are open to every key and governed like the gateway's own (LiteLLM's mapped pass-through routes
 * are LLM API routes).
 */
export function passThroughGranted(p: KeyProfile, path: string): boolean {
  for (const grant of p.passThroughRoutes) if (under(path, grant)) return true;
  return false;
}
