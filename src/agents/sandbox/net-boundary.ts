// The host side of a local bwrap sandbox's network boundary. When a run's profile has an egress
// allow-list, every exec of its sandbox runs in a network namespace of its own (only a loopback),
// so a tool that ignores HTTPS_PROXY reaches nothing; the only ways out are the host addresses
// given to `reach` (Weir's gateway and its egress proxy). Across the namespace boundary only files
// pass: for each one Weir listens on a unix socket in the run's folder, bound into the sandbox at
// the same path, and forwards what arrives to the TCP address; inside, net-relay.js listens on
// 127.0.0.1:<port> and joins each connection to the socket. The sockets are the sandbox's host
// user's alone (0600); they close, with every connection through them, when the sandbox goes.
// This class only decides the sockets and the ports inside; the forwarding is the Forwarder's
// (net-forward.ts): in Weir the egress proxy's thread, never the control thread.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Forwarders, type Forwarder } from './net-forward';

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
  /** The port inside for each host address reached, by `host\0port`. */
  private readonly inside = new Map<string, number>();
  private readonly used = new Set<number>();
  private made: Promise<void> | undefined;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly owner: { uid: number; gid: number } | undefined,
    private readonly forwarder: Forwarder = new Forwarders(),
  ) {}

  /** The address inside the sandbox that reaches `host:port` on the host (made once per target). */
  async reach(host: string, port: number): Promise<{ host: string; port: number }> {
    if (this.closed) throw new Error('the sandbox is gone');
    const key = `${host}\0${port}`;
    const had = this.inside.get(key);
    if (had) return { host: '127.0.0.1', port: had };
    let inside = port < 1024 ? port + LOW_PORT_SHIFT : port;
    while (this.used.has(inside)) inside++;
    this.used.add(inside);
    const socket = path.join(this.dir, String(inside));
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) throw new Error(`the sandbox's folder path is too long for a unix socket (${socket})`);
    this.made ??= fs.mkdir(this.dir, { mode: 0o755 }).then(() => {});
    await this.made;
    this.inside.set(key, inside);
    await this.forwarder.open({ dir: this.dir, socket, host, port, owner: this.owner });
    // Closed while it was being opened: what was just opened goes too.
    if (this.closed) await this.forwarder.close(this.dir);
    return { host: '127.0.0.1', port: inside };
  }

  /** What launch() adds to an exec: the relay's routes (none yet: a sandbox with no way out). */
  spec(): NetRelaySpec {
    return { dir: this.dir, routes: [...this.inside.values()].map((p) => ({ port: p, socket: path.join(this.dir, String(p)) })) };
  }

  /** Stops listening and cuts every connection through the sockets. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.inside.clear();
    await this.forwarder.close(this.dir);
  }
}
