// The forwarding half of a local sandbox's network boundary (net-boundary.ts): a unix socket per
// destination, listened on in the sandbox's folder, each connection joined to the destination's
// TCP address. In Weir it runs on the egress proxy's thread (vault/egress-thread.ts), so a fenced
// run's model traffic, every streamed answer's bytes, never passes through the control thread's
// loop, which schedules runs, streams their events and talks to Postgres. A sandbox provider made
// without Weir's runtime (`weir sandbox check`, the benches) forwards on its own thread.
import fs from 'node:fs/promises';
import net from 'node:net';

/** One destination of a boundary: its socket (in the boundary's folder) and where it leads. */
export interface ForwardTarget {
  /** The boundary's folder: what close() goes by. */
  dir: string;
  socket: string;
  host: string;
  port: number;
  /** The sandbox's host user, who alone may open the socket (0600). */
  owner?: { uid: number; gid: number };
}

export interface Forwarder {
  /** Listens on the target's socket and joins each connection to its address. */
  open(t: ForwardTarget): Promise<void>;
  /** Stops listening on every socket of the folder and cuts every connection through them. Idempotent. */
  close(dir: string): Promise<void>;
}

/**
 * What the forwarding thread counts, in a SharedArrayBuffer the control thread reads for its stats:
 * bytes forwarded (both ways, added as each connection closes), connections taken, and the
 * forwarding thread's id.
 */
export const COUNTERS = { bytes: 0, connections: 1, thread: 2, length: 3 } as const;

export class Forwarders implements Forwarder {
  private readonly dirs = new Map<string, { servers: net.Server[]; conns: Set<net.Socket> }>();

  /** `counters`: a BigInt64Array of COUNTERS.length (shared with the thread that reads them), if any. */
  constructor(private readonly counters?: BigInt64Array) {}

  async open(t: ForwardTarget): Promise<void> {
    let d = this.dirs.get(t.dir);
    if (!d) this.dirs.set(t.dir, (d = { servers: [], conns: new Set() }));
    const { conns } = d;
    const counters = this.counters;
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (inner) => {
      const outer = net.connect({ host: t.host, port: t.port, allowHalfOpen: true, noDelay: true });
      conns.add(inner).add(outer);
      if (counters) Atomics.add(counters, COUNTERS.connections, 1n);
      inner.pipe(outer).pipe(inner);
      const drop = () => {
        inner.destroy();
        outer.destroy();
      };
      inner.on('error', drop);
      outer.on('error', drop);
      // Counted once per socket as it closes: nothing per chunk on the path the bytes take.
      for (const s of [inner, outer])
        s.on('close', () => {
          conns.delete(s);
          if (counters) Atomics.add(counters, COUNTERS.bytes, BigInt(s.bytesRead));
        });
    });
    d.servers.push(server);
    // A socket file left by a forwarding thread that died (it is started again on the same paths).
    await fs.rm(t.socket, { force: true });
    if (this.dirs.get(t.dir) !== d) return; // closed meanwhile
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(t.socket, () => resolve());
    });
    if (this.dirs.get(t.dir) !== d) return void server.close(); // closed while it bound
    await fs.chmod(t.socket, 0o600);
    if (t.owner) await fs.chown(t.socket, t.owner.uid, t.owner.gid);
  }

  async close(dir: string): Promise<void> {
    const d = this.dirs.get(dir);
    if (!d) return;
    this.dirs.delete(dir);
    for (const c of d.conns) c.destroy();
    await Promise.all(d.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** Every folder's sockets (the thread is stopping). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.dirs.keys()].map((d) => this.close(d)));
  }
}
