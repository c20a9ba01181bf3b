// The control thread's handle on the egress proxy thread: started on the first run that needs it
// (an installation without secrets never starts it), told which run keys may use it and what each
// swaps, stopped with the runtime. If the thread dies while runs use it, it is started again on
// the same port (the sandboxes' HTTPS_PROXY names it) and every live run is registered again, so a
// crash costs the runs the connections in flight, not the rest of their egress.
// It is also the local sandboxes' Forwarder (sandbox/net-forward.ts): their network boundaries'
// sockets are listened on and forwarded on the proxy's thread (a fenced run starts the proxy
// anyway), opened again there after a crash as the registrations are.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { COUNTERS, type Forwarder, type ForwardTarget } from '../sandbox/net-forward';
import type { CaPair } from './ca';
import type { RunEgress } from './egress-proxy';
import type { EgressReply, EgressRequest } from './egress-thread';

const THREAD_FILE = path.join(__dirname, 'egress-thread.js');

type Pending =
  | { type: 'register'; keyHash: string; egress: RunEgress }
  | { type: 'unregister'; keyHash: string }
  | { type: 'forward'; target: ForwardTarget }
  | { type: 'unforward'; dir: string }
  | { type: 'close' };

/** What the forwarding for the network boundaries has done (the agents' stats). */
export interface ForwardingStats {
  /** The thread that forwards (never the control thread's). */
  thread_id: number;
  /** Bytes forwarded both ways, by connections that have closed. */
  bytes: number;
  connections: number;
}

export class Egress implements Forwarder {
  private worker: Worker | null = null;
  private started: Promise<number> | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, (error?: string) => void>();
  /** What every live run registered: replayed into a thread started after a crash. */
  private readonly live = new Map<string, RunEgress>();
  /** Every boundary socket forwarded, by its path: opened again in a thread started after a crash. */
  private readonly forwards = new Map<string, ForwardTarget>();
  /** Written by the thread (every thread started, the counts go on), read here. */
  private readonly counters = new BigInt64Array(new SharedArrayBuffer(COUNTERS.length * 8));
  /** The port the first start bound; later starts take the same one. */
  private bound = 0;
  private stopping = false;

  constructor(private readonly o: { ca: () => Promise<CaPair>; host: string; port: number; upstreamCa?: string[]; log(line: string): void }) {}

  /** The port the proxy listens on (starting it the first time). */
  port(): Promise<number> {
    this.started ??= this.o.ca().then(
      (ca) =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(THREAD_FILE, { workerData: { ca, host: this.o.host, port: this.bound || this.o.port, upstreamCa: this.o.upstreamCa, counters: this.counters.buffer } });
          this.worker = w;
          w.on('message', (m: EgressReply) => {
            if (m.type === 'listening') {
              this.o.log(`vault: egress proxy listening on ${this.o.host}:${m.port}`);
              this.bound = m.port;
              resolve(m.port);
            } else if (m.type === 'failed') reject(new Error(`the egress proxy could not listen on ${this.o.host}:${this.o.port}: ${m.message}`));
            else this.waiting.get(m.id)?.(m.error);
          });
          w.on('error', (e) => {
            this.o.log(`vault: egress proxy thread failed: ${e.message}`);
            reject(e);
          });
          w.on('exit', (code) => {
            if (this.worker !== w) return;
            this.worker = null;
            this.started = null;
            for (const done of this.waiting.values()) done();
            this.waiting.clear();
            if (!this.stopping && (this.live.size > 0 || this.forwards.size > 0)) this.restart(code);
          });
        }),
    );
    // A start that failed is tried again by the next run.
    this.started.catch(() => (this.started = null));
    return this.started;
  }

  /** After a crash: the thread again, on the same port, with every live run registered again. */
  private restart(code: number): void {
    this.o.log(`vault: egress proxy thread exited (code ${code}) with ${this.live.size} run(s) registered, ${this.forwards.size} boundary socket(s); starting it again on port ${this.bound}`);
    this.port().then(
      () => {
        for (const [keyHash, egress] of this.live) void this.send({ type: 'register', keyHash, egress });
        for (const target of this.forwards.values()) void this.send({ type: 'forward', target }).catch((e: Error) => this.o.log(`vault: a boundary socket could not be opened again: ${e.message}`));
      },
      (e: Error) => this.o.log(`vault: egress proxy could not start again: ${e.message}; the runs that use it cannot reach their secret hosts`),
    );
  }

  /** Rejects only when the thread answered with an error (one that exited answers nothing: it is started again). */
  private send(m: Pending): Promise<void> {
    const w = this.worker;
    if (!w) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, (error) => {
        this.waiting.delete(id);
        if (error) reject(new Error(error));
        else resolve();
      });
      w.postMessage({ ...m, id } as EgressRequest);
    });
  }

  /** Where Weir itself connects to the proxy (a wildcard listen address as its loopback). */
  async address(): Promise<{ host: string; port: number }> {
    const port = await this.port();
    const h = this.o.host.replace(/^\[|\]$/g, '');
    return { host: h === '0.0.0.0' || h === '' ? '127.0.0.1' : h === '::' ? '::1' : h, port };
  }

  async register(keyHash: string, egress: RunEgress): Promise<void> {
    this.live.set(keyHash, egress);
    await this.port();
    await this.send({ type: 'register', keyHash, egress });
  }

  unregister(keyHash: string): void {
    this.live.delete(keyHash);
    void this.send({ type: 'unregister', keyHash });
  }

  /** Forwards a network boundary's socket on the proxy's thread (starting it the first time). */
  async open(target: ForwardTarget): Promise<void> {
    this.forwards.set(target.socket, target);
    try {
      await this.port();
      await this.send({ type: 'forward', target });
    } catch (e) {
      this.forwards.delete(target.socket);
      throw e;
    }
  }

  /** Closes a boundary's sockets and their connections (linear in the sockets forwarded: two a run). */
  async close(dir: string): Promise<void> {
    for (const t of this.forwards.values()) if (t.dir === dir) this.forwards.delete(t.socket);
    await this.send({ type: 'unforward', dir });
  }

  /** What the boundaries' forwarding has done, or null while the thread never ran. */
  forwarding(): ForwardingStats | null {
    const thread = Number(Atomics.load(this.counters, COUNTERS.thread));
    if (!thread) return null;
    return { thread_id: thread, bytes: Number(Atomics.load(this.counters, COUNTERS.bytes)), connections: Number(Atomics.load(this.counters, COUNTERS.connections)) };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.worker) return;
    await this.send({ type: 'close' });
    await this.worker?.terminate();
  }
}
