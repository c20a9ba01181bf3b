// Host patterns of the vault and the egress allow-list: `github.com` (that host) or `*.github.com`
// (any host under it, not github.com itself), compared without case and without the port. A
// pattern list is compiled once per run into a set and a suffix list, so a lookup is a set probe
// plus a walk of the (few) wildcard suffixes.
import { AgentApiError } from '../api-error';

const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
const MAX_HOSTS = 100;

/** A list of host patterns, lower-cased; undefined when absent. */
export function checkHosts(v: unknown, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new AgentApiError(400, `"${field}" must be a list of host names`, field);
  if (v.length > MAX_HOSTS) throw new AgentApiError(400, `"${field}" holds more than ${MAX_HOSTS} hosts`, field);
  const out: string[] = [];
  for (const h of v) {
    const host = typeof h === 'string' ? h.trim().toLowerCase() : '';
    if (!host || host.length > 253 || !HOST.test(host)) throw new AgentApiError(400, `"${field}": ${JSON.stringify(h)} is not a host name or *.domain pattern`, field);
    if (!out.includes(host)) out.push(host);
  }
  return out;
}

export interface HostMatcher {
  matches(host: string): boolean;
}

export function hostMatcher(patterns: readonly string[]): HostMatcher {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const p of patterns) {
    if (p.startsWith('*.')) suffixes.push(p.slice(1));
    else exact.add(p);
  }
  return {
    matches(host: string): boolean {
      const h = host.toLowerCase();
      if (exact.has(h)) return true;
      for (const s of suffixes) if (h.endsWith(s)) return true;
      return false;
    },
  };
}
