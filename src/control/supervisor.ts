// Starts the worker threads, replaces one that fails, relays admin calls from workers to the
// control thread, publishes snapshots, and drains all workers on shutdown.
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../net/free-port';
import { Worker } from 'node:worker_threads';
import type { GovernanceDelta } from '../gateway/governance';
import type { Snapshot } from '../gateway/snapshot';
import { log } from '../log';
import { TurnOutbox } from './turn-outbox';
import type { EngineChoice } from '../server/load-engine';
import type { FromWorker, StreamControl, StreamPiece, StreamSink, ToWorker, WorkerInit } from '../server/worker-protocol';

export type RpcHandler = (method: string, params: unknown) => Promise<{ status: number; body: unknown; headers?: string[] }>;

/** Starts a stream; returns what stops it (called when the client leaves or the worker goes). */
/** Returns the stop function; a two-way stream (a terminal) also takes the client's input. */
export type StreamStop = (() => void) & { input?(chunk: string): void; control?(c: StreamControl): void };
export type StreamHandler = (method: string, params: unknown, sink: StreamSink) => StreamStop;

export interface SupervisorOptions {
  count: number;
  host: string;
  port: number;
  engine: EngineChoice;
  healthBuffer: SharedArrayBuffer;
  statusBuffer: SharedArrayBuffer;
  faultInjection: boolean;
  /** The admin page's files (src/ui/static-files.ts). */
  ui: WorkerInit['ui'];
  /** Each worker's young generation in MB (0: V8's own sizing); see workerYoungGenerationMb(). */
  youngGenerationMb: number;
  /** The governance state a new worker starts from (read at spawn time: always current). */
  governance: () => WorkerInit['governance'];
  /** Worker metrics: a worker's shard, the rows it announces, the spans it hands over. */
  metrics: {
    init(index: number): WorkerInit['metrics'];
    series(init: WorkerInit['metrics'], row: number, labels: string[]): void;
    /** The worker's thread ended: nothing writes its shard any more. */
    exited(init: WorkerInit['metrics']): void;
    spans(spans: FromWorker & { type: 'metrics-spans' }): void;
  };
}

interface Slot {
  index: number;
  worker: Worker;
  /** Set once the worker stopped taking new connections (failed or draining): never restarted. */
  retired: boolean;
  drained: boolean;
  exited: boolean;
  /** The last governance delta this worker applied (its start state included those before). */
  appliedSeq: number;
  /** The newest snapshot version this worker said it serves (the one it started from, at first). */
  appliedVersion: number;
}

/**
 * The workers' young generation, MB: `WEIR_WORKER_YOUNG_GEN_MB`, unset or 0 for V8's own sizing.
 * V8 doubles a thread's semi-spaces, up to 16 MB each, whenever what its scavenges kept adds up to
 * their size, so under load a busy worker ends at a large young generation however little each
 * scavenge keeps: a governed worker (its answers wait a turn for the journal's write) reached 16
 * MB of new space where the minimal proxy's stay at 8. 12 (4 MB semi-spaces) took 12 MB off the
 * governed Weir's resident memory in the bench, at no CPU cost it could see there, but doubled the
 * translated path's scavenges (+6 µs of pauses a request): a choice for memory-bound hosts, not
 * the default (PERF.md, 2026-12-06).
 */
export function workerYoungGenerationMb(env: string | undefined): number {
  if (env === undefined || env.trim() === '') return 0;
  const n = Number(env);
  if (!Number.isFinite(n) || n < 0) throw new Error(`WEIR_WORKER_YOUNG_GEN_MB must be a number of MB (0: V8's own sizing), not "${env}"`);
  return n;
}

/**
 * The `--max-semi-space-size` flag Node was started with (its arguments or NODE_OPTIONS), or null.
 * V8 takes that flag over the young generation a worker's resourceLimits give it: with the flag,
 * WEIR_WORKER_YOUNG_GEN_MB does nothing, and every thread has the flag's size.
 */
export function semiSpaceFlag(execArgv: readonly string[], nodeOptions: string | undefined): string | null {
  const args = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  return args.find((a) => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(a)) ?? null;
}

function portIsFree(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is already in use (another gateway?)`) : e),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(port)));
  });
}

const WORKER_FILE = path.join(__dirname, '..', 'server', 'worker-main.js');

export class Supervisor {
  private readonly slots: Slot[] = [];
  private port = 0;
  private stopping = false;
  engineName = '';

  constructor(
    private readonly opts: SupervisorOptions,
    private snapshot: Snapshot,
    private readonly rpc: RpcHandler,
    private readonly stream: StreamHandler = (_m, _p, sink) => {
      sink.head(404, []);
      sink.end();
      return () => {};
    },
  ) {}

  /** Starts every worker; resolves with the port they share. */
  async start(): Promise<number> {
    try {
      // uSockets sets SO_REUSEPORT only on a fixed port, so port 0 is resolved to a free one first.
      // uWS always listens with SO_REUSEPORT: without this check a second gateway on the same
      // port would start and silently share the clients.
      const port = this.opts.port === 0 ? await freePort(this.opts.host) : await portIsFree(this.opts.host, this.opts.port);
      this.port = await this.spawn(0, port);
      await Promise.all(Array.from({ length: this.opts.count - 1 }, (_, i) => this.spawn(i + 1, this.port)));
      return this.port;
    } catch (e) {
      // Workers already listening must close before the process may exit (see worker-main.ts).
      await this.drain(2_000);
      await this.waitExit(2_000);
      throw e;
    }
  }

  get liveWorkers(): number {
    return this.slots.filter((s) => !s.exited).length;
  }

  private spawn(index: number, port: number): Promise<number> {
    const init: WorkerInit = {
      index,
      host: this.opts.host,
      port,
      engine: this.opts.engine,
      healthBuffer: this.opts.healthBuffer,
      statusBuffer: this.opts.statusBuffer,
      governance: this.opts.governance(),
      snapshot: this.snapshot,
      metrics: this.opts.metrics.init(index),
      faultInjection: this.opts.faultInjection,
      ui: this.opts.ui,
    };
    const young = this.opts.youngGenerationMb;
    const worker = new Worker(WORKER_FILE, { workerData: init, ...(young > 0 ? { resourceLimits: { maxYoungGenerationSizeMb: young } } : {}) });
    const streams = new Map<number, StreamStop>();
    const slot: Slot = { index, worker, retired: false, drained: false, exited: false, appliedSeq: init.governance?.seq ?? 0, appliedVersion: init.snapshot.version };
    // The stream pieces of this turn, posted as one message at the next: a fan-out's events went
    // to the worker as one postMessage per event per watcher, a stretch of the control thread.
    const outbox = new TurnOutbox<StreamPiece>((out) => {
      if (!slot.exited) this.post(worker, Array.isArray(out) ? { type: 'streams', pieces: out } : out);
    });
    const piece = (p: StreamPiece): void => outbox.push(p);
    this.slots.push(slot);
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        switch (m.type) {
          case 'ready':
            ready = true;
            this.engineName = m.engine;
            resolve(m.port);
            break;
          case 'fatal':
            if (!ready) return reject(new Error(`worker ${index} failed to start: ${m.error}`));
            this.replace(slot, m.error);
            break;
          case 'drained':
            slot.drained = true;
            break;
          case 'governance-applied':
            slot.appliedSeq = Math.max(slot.appliedSeq, m.seq);
            break;
          case 'snapshot-applied':
            slot.appliedVersion = Math.max(slot.appliedVersion, m.version);
            break;
          case 'rpc':
            this.rpc(m.method, m.params).then(
              (r) => this.post(worker, { type: 'rpc-result', id: m.id, status: r.status, body: r.body, headers: r.headers }),
              (e: Error) => this.post(worker, { type: 'rpc-result', id: m.id, status: 500, body: { error: { message: e.message, type: 'internal_server_error', param: null, code: '500' } } }),
            );
            break;
          case 'stream-open': {
            let ended = false;
            const sink: StreamSink = {
              head: (status, headers) => !ended && piece({ type: 'stream-head', id: m.id, status, headers }),
              data: (chunk) => !ended && piece({ type: 'stream-data', id: m.id, chunk }),
              end: () => {
                if (ended) return;
                ended = true;
                streams.delete(m.id);
                piece({ type: 'stream-end', id: m.id });
              },
            };
            try {
              const stop = this.stream(m.method, m.params, sink);
              if (!ended) streams.set(m.id, stop);
              else stop();
            } catch (e) {
              log.error(`stream ${m.method}: ${(e as Error).message}`);
              sink.head(500, []);
              sink.end();
            }
            break;
          }
          case 'stream-input':
            streams.get(m.id)?.input?.(m.chunk);
            break;
          case 'stream-control':
            streams.get(m.id)?.control?.(m.control);
            break;
          case 'metrics-series':
            this.opts.metrics.series(init.metrics, m.row, m.labels);
            break;
          case 'metrics-spans':
            this.opts.metrics.spans(m);
            break;
          case 'stream-close':
            streams.get(m.id)?.();
            streams.delete(m.id);
            break;
        }
      });
      // A worker that goes away takes its clients with it: stop what fed them.
      worker.on('exit', () => {
        for (const stop of streams.values()) stop();
        streams.clear();
      });
      worker.on('error', (e) => {
        if (!ready) reject(e);
        else log.error(`worker ${index}: ${e.message}`);
      });
      worker.on('exit', (code) => {
        slot.exited = true;
        this.opts.metrics.exited(init.metrics);
        if (!ready) return reject(new Error(`worker ${index} exited during start (code ${code})`));
        if (!slot.retired) this.replace(slot, `exited with code ${code}`);
      });
    });
  }

  /** A failed worker retires (it finishes what it serves); a fresh one takes its place now. */
  private replace(slot: Slot, why: string): void {
    if (slot.retired || this.stopping) return;
    slot.retired = true;
    log.warn(`worker ${slot.index} failed (${why}); starting a replacement`);
    this.spawn(slot.index, this.port).then(
      () => log.info(`worker ${slot.index} restarted`),
      (e: Error) => log.error(`worker ${slot.index} could not be restarted: ${e.message}`),
    );
  }

  private post(worker: Worker, m: ToWorker): void {
    worker.postMessage(m);
  }

  publishGovernance(delta: GovernanceDelta, seq: number): void {
    for (const s of this.slots) if (!s.exited) this.post(s.worker, { type: 'governance', delta, seq });
  }

  /**
   * The highest governance delta every worker thread still alive has applied. A retired worker that
   * has not exited may still answer on its open connections with the view it has, so it counts.
   */
  governanceApplied(): number {
    let min = Number.MAX_SAFE_INTEGER;
    for (const s of this.slots) if (!s.exited) min = Math.min(min, s.appliedSeq);
    return min;
  }

  /**
   * The lowest snapshot version every worker thread still alive serves (a retired one that has not
   * exited still answers on its open connections, so it counts); 0 before any worker started.
   */
  snapshotApplied(): number {
    let min = Number.MAX_SAFE_INTEGER;
    for (const s of this.slots) if (!s.exited) min = Math.min(min, s.appliedVersion);
    return min === Number.MAX_SAFE_INTEGER ? 0 : min;
  }

  publish(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    for (const s of this.slots) if (!s.exited) this.post(s.worker, { type: 'snapshot', snapshot });
  }

  /**
   * Stops accepting everywhere and waits until every worker has finished its requests in flight,
   * at most `graceMs`. Resolves true when all drained in time.
   */
  async drain(graceMs: number): Promise<boolean> {
    this.stopping = true;
    for (const s of this.slots) {
      s.retired = true;
      if (!s.exited) this.post(s.worker, { type: 'drain' });
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (this.slots.every((s) => s.drained || s.exited)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  /** Waits up to `ms` for every worker thread to end on its own. */
  async waitExit(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.slots.every((s) => s.exited)) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.slots.every((s) => s.exited);
  }
}
