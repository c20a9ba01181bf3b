// The control thread's handle on the egress proxy thread: started on the first run that needs it
// (an installation without secrets never starts it), told which run keys may use it and what each
// swaps, stopped with the runtime.
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CaPair } from './ca';
import type { RunEgress } from './egress-proxy';
import type { EgressReply, EgressRequest } from './egress-thread';

const THREAD_FILE = path.join(__dirname, 'egress-thread.js');

type Pending = { type: 'register'; keyHash: string; egress: RunEgress } | { type: 'unregister'; keyHash: string } | { type: 'close' };

export class Egress {
  private worker: Worker | null = null;
  private started: Promise<number> | null = null;
  private nextId = 1;
  private readonly waiting = new Map<number, () => void>();

  constructor(private readonly o: { ca: () => Promise<CaPair>; host: string; port: number; upstreamCa?: string[]; log(line: string): void }) {}

  /** The port the proxy listens on (starting it the first time). */
  port(): Promise<number> {
    this.started ??= this.o.ca().then(
      (ca) =>
        new Promise<number>((resolve, reject) => {
          const w = new Worker(THREAD_FILE, { workerData: { ca, host: this.o.host, port: this.o.port, upstreamCa: this.o.upstreamCa } });
          this.worker = w;
          w.on('message', (m: EgressReply) => {
            if (m.type === 'listening') {
              this.o.log(`vault: egress proxy listening on ${this.o.host}:${m.port}`);
              resolve(m.port);
            } else if (m.type === 'failed') reject(new Error(`the egress proxy could not listen on ${this.o.host}:${this.o.port}: ${m.message}`));
            else this.waiting.get(m.id)?.();
          });
          w.on('error', (e) => {
            this.o.log(`vault: egress proxy thread failed: ${e.message}`);
            reject(e);
          });
          w.on('exit', () => {
            this.worker = null;
            this.started = null;
            for (const done of this.waiting.values()) done();
            this.waiting.clear();
          });
        }),
    );
    // A start that failed is tried again by the next run.
    this.started.catch(() => (this.started = null));
    return this.started;
  }

  private send(m: Pending): Promise<void> {
    const w = this.worker;
    if (!w) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.waiting.set(id, () => {
        this.waiting.delete(id);
        resolve();
      });
      w.postMessage({ ...m, id } as EgressRequest);
    });
  }

  async register(keyHash: string, egress: RunEgress): Promise<void> {
    await this.port();
    await this.send({ type: 'register', keyHash, egress });
  }

  unregister(keyHash: string): void {
    void this.send({ type: 'unregister', keyHash });
  }

  async stop(): Promise<void> {
    if (!this.worker) return;
    await this.send({ type: 'close' });
    await this.worker?.terminate();
  }
}
