// The host side of a local bwrap sandbox's network boundary. When a run's profile has an egress
// allow-list, every exec of its sandbox runs in a network namespace of its own (only a loopback),
// so a tool that ignores HTTPS_PROXY reaches nothing; the only ways out are the host addresses
// given to `reach` (Weir's gateway and its egress proxy). Across the namespace boundary only files
// pass: for each one Weir listens on a unix socket in the run's folder, bound into the sandbox at
// the same path, and forwards what arrives to the TCP address; inside, net-relay.js listens on
// 127.0.0.1:<port> and joins each connection to the socket. The sockets are the sandbox's host
// user's alone (0600); they close, with every connection through them, when the sandbox goes.
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';

/** What an exec under the boundary needs: the folder of sockets and the relay's routes. */
export interface NetRelaySpec {
  dir: string;
  routes: { port: number; socket: string }[];
}

/** A unix socket path longer than this cannot be bound (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;
/** Ports below 1024 cannot be bound inside (no capabilities): these are moved up by this much. */
const LOW_PORT_SHIFT = 20_000;

export class NetBoundary {
  private readonly servers = new Map<string, { server: net.Server; inside: number }>();
  private readonly conns = new Set<net.Socket>();
  private readonly used = new Set<number>();
  private made: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  /** The address inside the sandbox that reaches `host:port` on the host (made once per target). */
  async reach(host: string, port: number): Promise<{ host: string; port: number }> {
    if (this.closed) throw new Error('the sandbox is gone');
    const key = `${host}\0${port}`;
    const had = this.servers.get(key);
    if (had) return { host: '127.0.0.1', port: had.inside };
    let inside = port < 1024 ? port + LOW_PORT_SHIFT : port;
    while (this.used.has(inside)) inside++;
    this.used.add(inside);
    const socket = path.join(this.dir, String(inside));
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) throw new Error(`the sandbox's folder path is too long for a unix socket (${socket})`);
    this.made ??= fs.mkdir(this.dir, { mode: 0o755 }).then(() => {});
    await this.made;
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (inner) => {
      const outer = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
      this.conns.add(inner).add(outer);
      inner.pipe(outer).pipe(inner);
      const drop = () => {
        inner.destroy();
        outer.destroy();
      };
      inner.on('error', drop);
      outer.on('error', drop);
      inner.on('close', () => this.conns.delete(inner));
      outer.on('close', () => this.conns.delete(outer));
    });
    this.servers.set(key, { server, inside });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socket, () => resolve());
    });
    await fs.chmod(socket, 0o600);
    if (this.owner) await fs.chown(socket, this.owner.uid, this.owner.gid);
    return { host: '127.0.0.1', port: inside };
  }

  /** What launch() adds to an exec: the relay's routes (none yet: a sandbox with no way out). */
  spec(): NetRelaySpec {
    return { dir: this.dir, routes: [...this.servers.values()].map((s) => ({ port: s.inside, socket: path.join(this.dir, String(s.inside)) })) };
  }

  /** Stops listening and cuts every connection through the sockets. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.conns) c.destroy();
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((r) => s.server.close(() => r()))));
    this.servers.clear();
  }
}
