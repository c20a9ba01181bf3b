// Where the Redis that several Weir instances share lives, read the way LiteLLM reads it:
// router_settings.redis_url / redis_host / redis_port / redis_password (also redis_username,
// redis_ssl), else the environment: REDIS_URL, REDIS_HOST, REDIS_PORT, REDIS_PASSWORD,
// REDIS_USERNAME, REDIS_SSL. `rediss://` (or redis_ssl / REDIS_SSL) means TLS. Sentinel and
// Cluster as ioredis takes them: REDIS_SENTINEL_NODES (or router_settings.redis_sentinel_nodes)
// with REDIS_SERVICE_NAME / REDIS_SENTINEL_PASSWORD, and REDIS_CLUSTER_NODES (or
// router_settings.redis_startup_nodes), each a JSON list of {host, port} or "host:port" strings.
// No Redis named: null, and the instance runs alone as before.
import type { RouterSettings } from '../config/types';

export interface RedisNode {
  host: string;
  port: number;
}

export type RedisTarget =
  | { mode: 'single'; host: string; port: number; db: number }
  | { mode: 'sentinel'; sentinels: RedisNode[]; name: string; sentinelPassword: string | null; db: number }
  | { mode: 'cluster'; nodes: RedisNode[] };

export interface RedisSettings {
  target: RedisTarget;
  username: string | null;
  password: string | null;
  tls: boolean;
  /** What a log line may show: no password, no username. */
  shown: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null);
const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && /^(1|true|yes)$/i.test(v));

/** A port as the config or environment gives it; a bad one stops the start with the place it came from. */
function port(v: unknown, where: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${where}: ${JSON.stringify(v)} is not a TCP port`);
  return n;
}

/** [{host, port}] or ["host:port"], from a list or its JSON text. */
export function parseNodes(v: unknown, where: string): RedisNode[] {
  let list = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      list = v.split(',').map((s) => s.trim()).filter(Boolean);
    }
  }
  if (!Array.isArray(list) || list.length === 0) throw new Error(`${where}: expected a list of {host, port} or "host:port"`);
  return list.map((n, i) => {
    if (typeof n === 'string') {
      const at = n.lastIndexOf(':');
      if (at <= 0) throw new Error(`${where}[${i}]: "${n}" is not host:port`);
      return { host: n.slice(0, at), port: port(n.slice(at + 1), `${where}[${i}]`) };
    }
    if (Array.isArray(n) && n.length === 2) return { host: String(n[0]), port: port(n[1], `${where}[${i}]`) };
    if (n && typeof n === 'object' && typeof (n as RedisNode).host === 'string') return { host: (n as RedisNode).host, port: port((n as RedisNode).port ?? 6379, `${where}[${i}]`) };
    throw new Error(`${where}[${i}]: expected {host, port} or "host:port"`);
  });
}

export function redisSettings(rs: RouterSettings, env: NodeJS.ProcessEnv): RedisSettings | null {
  const url = str(rs.redis_url) ?? (str(rs.redis_host) ? null : str(env.REDIS_URL));
  const username = str(rs.redis_username) ?? str(env.REDIS_USERNAME);
  const password = str(rs.redis_password) ?? str(env.REDIS_PASSWORD);
  const sslAsked = truthy(rs.redis_ssl) || truthy(env.REDIS_SSL);
  const clusterNodes = rs.redis_startup_nodes ?? env.REDIS_CLUSTER_NODES;
  const sentinelNodes = rs.redis_sentinel_nodes ?? env.REDIS_SENTINEL_NODES;
  if (clusterNodes !== undefined && clusterNodes !== '') {
    const nodes = parseNodes(clusterNodes, rs.redis_startup_nodes !== undefined ? 'router_settings.redis_startup_nodes' : 'REDIS_CLUSTER_NODES');
    return { target: { mode: 'cluster', nodes }, username, password, tls: sslAsked, shown: `cluster ${nodes.map((n) => `${n.host}:${n.port}`).join(',')}${sslAsked ? ' (TLS)' : ''}` };
  }
  if (sentinelNodes !== undefined && sentinelNodes !== '') {
    const sentinels = parseNodes(sentinelNodes, rs.redis_sentinel_nodes !== undefined ? 'router_settings.redis_sentinel_nodes' : 'REDIS_SENTINEL_NODES');
    const name = str(rs.redis_service_name) ?? str(env.REDIS_SERVICE_NAME) ?? 'mymaster';
    const sentinelPassword = str(rs.redis_sentinel_password) ?? str(env.REDIS_SENTINEL_PASSWORD);
    return { target: { mode: 'sentinel', sentinels, name, sentinelPassword, db: 0 }, username, password, tls: sslAsked, shown: `sentinel ${name} via ${sentinels.map((n) => `${n.host}:${n.port}`).join(',')}${sslAsked ? ' (TLS)' : ''}` };
  }
  if (url) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error(`${str(rs.redis_url) ? 'router_settings.redis_url' : 'REDIS_URL'}: not a URL (redis://host:port or rediss://host:port)`);
    }
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`${str(rs.redis_url) ? 'router_settings.redis_url' : 'REDIS_URL'}: scheme ${u.protocol} is not redis: or rediss:`);
    const tls = u.protocol === 'rediss:' || sslAsked;
    const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
    const host = u.hostname.replace(/^\[|\]$/g, '') || 'localhost';
    const p = u.port ? port(u.port, 'redis_url') : 6379;
    return {
      target: { mode: 'single', host, port: p, db: Number.isInteger(db) && db >= 0 ? db : 0 },
      username: u.username ? decodeURIComponent(u.username) : username,
      password: u.password ? decodeURIComponent(u.password) : password,
      tls,
      shown: `${tls ? 'rediss' : 'redis'}://${host}:${p}/${db || 0}`,
    };
  }
  const host = str(rs.redis_host) ?? str(env.REDIS_HOST);
  if (!host) return null;
  const portValue = rs.redis_port ?? env.REDIS_PORT;
  const p = portValue === undefined || portValue === '' ? 6379 : port(portValue, rs.redis_port !== undefined ? 'router_settings.redis_port' : 'REDIS_PORT');
  return { target: { mode: 'single', host, port: p, db: 0 }, username, password, tls: sslAsked, shown: `${sslAsked ? 'rediss' : 'redis'}://${host}:${p}` };
}
