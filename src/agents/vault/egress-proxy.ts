// The egress proxy sandboxes send their traffic through (HTTPS_PROXY / HTTP_PROXY). Every request
// carries the run's key (Proxy-Authorization: Basic, the key as the password; or Bearer): only keys
// of runs in flight are registered here, anything else gets 407. Then, by the target host:
//   - a host one of the run's secrets is for: TLS is terminated here with a certificate of the
//     installation's CA (which the sandbox trusts), each request's headers get the stub replaced by
//     the real value (inside `Basic` credentials too, as git sends them), and the request goes on
//     over TLS to the real host (verified as any client would), its answer streamed back;
//   - any other host: tunnelled untouched (CONNECT) or forwarded as it is (plain HTTP), when the
//     run's egress allow-list has it (no list: every host); else 403. Plain HTTP is never swapped,
//     even to a secret's host: a real value does not cross the network in clear.
// A stub sent to a host its secret is not for stays a stub: the real value goes only where it may.
// Runs on a thread of its own (egress-thread.ts): TLS and header work never touch the control
// thread's loop or the gateway's workers.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { CaPair } from './ca';
import { hostMatcher, type HostMatcher } from './hosts';
import { LeafCerts } from './leaf-certs';

/** What the control thread registers for a run (see run-vault.ts). */
export interface RunEgress {
  runId: string;
  /** Secrets swapped by the proxy: the stub the agent holds, the value, the hosts it is for. */
  swaps: { stub: string; value: string; hosts: string[] }[];
  /** Host patterns the run may reach besides its secrets' hosts; null = any host. */
  allow: string[] | null;
}

interface Swap {
  stub: string;
  value: string;
  hosts: HostMatcher;
}

interface CompiledRun {
  runId: string;
  swaps: Swap[];
  allow: HostMatcher | null;
}

/** Where a terminated connection goes, with the swaps that apply to it. */
interface Target {
  host: string;
  port: number;
  swaps: Swap[];
}

const targets = new WeakMap<net.Socket, Target>();
const MAX_CONNECTIONS = 4096;

/** A run key as the control thread registers it: LiteLLM's token hash (admin/common.ts hashToken). */
export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** The run key a proxy request carries, or null. */
export function proxyKey(header: string | undefined): string | null {
  if (!header) return null;
  const sp = header.indexOf(' ');
  if (sp < 0) return null;
  const scheme = header.slice(0, sp).toLowerCase();
  const cred = header.slice(sp + 1).trim();
  if (scheme === 'bearer') return cred || null;
  if (scheme !== 'basic') return null;
  const text = Buffer.from(cred, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon >= 0 ? text.slice(colon + 1) || null : text || null;
}

/** Every stub in a header value replaced, in `Basic` credentials too. Returns the value itself when nothing applies. */
export function swapValue(value: string, swaps: readonly Swap[]): string {
  let out = value;
  for (const s of swaps) if (out.includes(s.stub)) out = out.split(s.stub).join(s.value);
  if (out.length > 6 && out.slice(0, 6).toLowerCase() === 'basic ') {
    const decoded = Buffer.from(out.slice(6).trim(), 'base64').toString('utf8');
    let swapped = decoded;
    for (const s of swaps) if (swapped.includes(s.stub)) swapped = swapped.split(s.stub).join(s.value);
    if (swapped !== decoded) out = `${out.slice(0, 6)}${Buffer.from(swapped, 'utf8').toString('base64')}`;
  }
  return out;
}

/** Headers to send on: hop-by-hop proxy headers dropped, stubs swapped. */
function forwardHeaders(raw: string[], swaps: readonly Swap[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'proxy-authorization' || lower === 'proxy-connection') continue;
    out.push(name, swaps.length ? swapValue(raw[i + 1]!, swaps) : raw[i + 1]!);
  }
  return out;
}

/** Splits `host:port` (a CONNECT target; IPv6 in brackets). */
export function splitTarget(s: string, dflt: number): { host: string; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s/]+))(?::(\d{1,5}))?$/.exec(s);
  if (!m) return null;
  const port = m[3] ? Number(m[3]) : dflt;
  if (!(port > 0 && port < 65536)) return null;
  return { host: (m[1] ?? m[2]!).toLowerCase(), port };
}

export interface EgressProxyOptions {
  ca: CaPair;
  /** Certificates trusted for the real hosts besides the default ones (NODE_EXTRA_CA_CERTS applies too). */
  upstreamCa?: string[];
}

/** NODE_EXTRA_CA_CERTS's certificates (an explicit `ca` list replaces the defaults it extends). */
function extraCaFromEnv(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return [readFileSync(file, 'utf8')];
  } catch {
    return [];
  }
}

export class EgressProxy {
  private readonly runs = new Map<string, CompiledRun>();
  private readonly leaves: LeafCerts;
  private readonly server: http.Server;
  /** Serves the requests inside terminated TLS connections (never listens itself). */
  private readonly inner: http.Server;
  private readonly tlsAgent: https.Agent;
  private readonly upstreamContext: tls.SecureContext | undefined;
  private readonly plainAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  private readonly sockets = new Set<net.Socket>();

  constructor(o: EgressProxyOptions) {
    this.leaves = new LeafCerts(o.ca);
    this.tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 256 });
    // One context made here: a `ca` list in the request options would be turned into the agent's
    // pool key (and a context) on every request, milliseconds each.
    this.upstreamContext = o.upstreamCa?.length ? tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCaFromEnv(), ...o.upstreamCa] }) : undefined;
    this.server = http.createServer((req, res) => this.plain(req, res));
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.connect(req, socket, head));
    this.server.on('connection', (s: net.Socket) => this.track(s));
    // Sandboxes open what they like: the proxy holds at most this many connections at once.
    this.server.maxConnections = MAX_CONNECTIONS;
    this.inner = http.createServer((req, res) => this.terminated(req, res));
  }

  private track(s: net.Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  register(keyHashHex: string, e: RunEgress): void {
    this.runs.set(keyHashHex, {
      runId: e.runId,
      swaps: e.swaps.map((s) => ({ stub: s.stub, value: s.value, hosts: hostMatcher(s.hosts) })),
      allow: e.allow ? hostMatcher(e.allow) : null,
    });
  }

  unregister(keyHashHex: string): void {
    this.runs.delete(keyHashHex);
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve((this.server.address() as net.AddressInfo).port));
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.tlsAgent.destroy();
    this.plainAgent.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }

  private run(req: http.IncomingMessage): CompiledRun | null {
    const key = proxyKey(req.headers['proxy-authorization']);
    return key ? (this.runs.get(keyHash(key)) ?? null) : null;
  }

  /** The swaps that apply to the host (none: pass it untouched), or the refusal. */
  private decide(run: CompiledRun, host: string): { swaps: Swap[] } | { refuse: string } {
    const swaps = run.swaps.filter((s) => s.hosts.matches(host));
    if (swaps.length) return { swaps };
    if (run.allow && !run.allow.matches(host)) return { refuse: `weir egress: ${host} is not in the egress allow-list of this run's profile` };
    return { swaps: [] };
  }

  private connect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string, message: string, extra = '') => {
      socket.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}content-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(message)}\r\nconnection: close\r\n\r\n${message}`);
    };
    const run = this.run(req);
    if (!run) return refuse(407, 'Proxy Authentication Required', 'weir egress: give the run key (Proxy-Authorization: Basic, the key as the password)\n', 'proxy-authenticate: Basic realm="weir"\r\n');
    const target = splitTarget(req.url ?? '', 443);
    if (!target) return refuse(400, 'Bad Request', 'weir egress: CONNECT needs host:port\n');
    const d = this.decide(run, target.host);
    if ('refuse' in d) return refuse(403, 'Forbidden', d.refuse + '\n');
    if (d.swaps.length === 0) return this.tunnel(socket, head, target, refuse);
    socket.setNoDelay(true);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length) socket.unshift(head);
    const tlsSocket = new tls.TLSSocket(socket, { isServer: true, secureContext: this.leaves.context(target.host) });
    tlsSocket.on('error', () => tlsSocket.destroy());
    targets.set(tlsSocket, { ...target, swaps: d.swaps });
    this.inner.emit('connection', tlsSocket);
  }

  private tunnel(socket: net.Socket, head: Buffer, target: { host: string; port: number }, refuse: (s: number, r: string, m: string) => void): void {
    let open = false;
    const up = net.connect(target.port, target.host, () => {
      open = true;
      up.setNoDelay(true);
      socket.setNoDelay(true);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    up.on('error', (e) => {
      if (!open) refuse(502, 'Bad Gateway', `weir egress: could not reach ${target.host}:${target.port}: ${e.message}\n`);
      else socket.destroy();
    });
    socket.on('close', () => up.destroy());
  }

  /** A request inside a terminated TLS connection: stubs swapped, sent on over TLS. */
  private terminated(req: http.IncomingMessage, res: http.ServerResponse): void {
    const t = targets.get(req.socket);
    if (!t) {
      res.writeHead(500).end();
      return;
    }
    this.forward(https, this.tlsAgent, t.host, t.port, req.url ?? '/', req, res, t.swaps);
  }

  /** Plain HTTP through the proxy (an absolute URL): the same checks, forwarded as HTTP, never swapped. */
  private plain(req: http.IncomingMessage, res: http.ServerResponse): void {
    const run = this.run(req);
    if (!run) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="weir"', 'content-type': 'text/plain; charset=utf-8' }).end('weir egress: give the run key (Proxy-Authorization: Basic, the key as the password)\n');
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('weir egress: a proxy request needs an absolute http:// URL\n');
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('weir egress: only http:// URLs are forwarded; use CONNECT for https\n');
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const d = this.decide(run, host);
    if ('refuse' in d) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' }).end(d.refuse + '\n');
      return;
    }
    // Plain HTTP crosses the network in clear: a real value never goes that way (the stub does).
    this.forward(http, this.plainAgent, host, Number(url.port || 80), url.pathname + url.search, req, res, []);
  }

  private forward(mod: typeof http | typeof https, agent: http.Agent, host: string, port: number, path: string, req: http.IncomingMessage, res: http.ServerResponse, swaps: Swap[]): void {
    const tlsOptions = mod === https ? { servername: net.isIP(host) ? undefined : host, secureContext: this.upstreamContext } : {};
    const up = mod.request({ host, port, method: req.method, path, headers: forwardHeaders(req.rawHeaders, swaps) as unknown as http.OutgoingHttpHeaders, agent, ...tlsOptions }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders as unknown as http.OutgoingHttpHeaders);
      answer.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end(`weir egress: ${host}:${port}: ${e.message}\n`);
      else res.destroy();
    });
    req.pipe(up);
  }
}
