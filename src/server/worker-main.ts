// Entry of a worker thread: an HTTP engine serving the gateway from the snapshot the control
// thread posts. A worker never exits while its uWS sockets are open (Node aborts the whole process
// if a thread ends with uWS handles alive), so a failing worker retires: it stops accepting,
// finishes what it serves, and its thread ends once its connections close.
import { parentPort, workerData } from 'node:worker_threads';
import { Gateway } from '../gateway/gateway';
import { closePools } from '../gateway/upstream-pool';
import { log } from '../log';
import { JournalWriter } from '../accounting/journal';
import { GovernanceView } from '../gateway/governance';
import { releaseLiveCharges } from '../gateway/policy';
import { ControlStatus } from '../state/control-status';
import { DeploymentHealth } from '../state/deployment-health';
import { EntityTable } from '../state/entity-table';
import { KeyIndex } from '../state/key-index';
import { CallMetrics } from '../metrics/recorder';
import { startLagMonitor } from '../metrics/lag-monitor';
import { SpanBatcher } from '../metrics/span-batch';
import type { Engine, Exchange } from './exchange';
import { createEngine } from './load-engine';
import type { FromWorker, StreamControl, StreamPiece, StreamSink, ToWorker, WorkerInit } from './worker-protocol';

const init = workerData as WorkerInit;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);

let nextRpc = 1;
const pending = new Map<number, (r: { status: number; body: unknown; headers?: string[] }) => void>();
const rpc = (method: string, params: unknown) =>
  new Promise<{ status: number; body: unknown; headers?: string[] }>((resolve) => {
    const id = nextRpc++;
    pending.set(id, resolve);
    send({ type: 'rpc', id, method, params });
  });

const streams = new Map<number, StreamSink>();
const openStream = (method: string, params: unknown, receiver: StreamSink): (() => void) => {
  const id = nextRpc++;
  streams.set(id, receiver);
  send({ type: 'stream-open', id, method, params });
  const close = () => {
    if (streams.delete(id)) send({ type: 'stream-close', id });
  };
  return Object.assign(close, {
    input: (chunk: string) => streams.has(id) && send({ type: 'stream-input', id, chunk }),
    control: (control: StreamControl) => streams.has(id) && send({ type: 'stream-control', id, control }),
  });
};

const calls = new CallMetrics(init.metrics, (row, labels) => send({ type: 'metrics-series', row, labels }));
const stopLag = startLagMonitor(calls);
const spans = new SpanBatcher((batch) => send({ type: 'metrics-spans', spans: batch }));

const gov = init.governance;
const view = new GovernanceView(gov ? gov.state : null);
const journal = gov ? new JournalWriter(gov.journalDir, `w${init.index}`) : null;
if (journal) {
  journal.onFailure = (records, err) => log.error(`worker ${init.index}: the spend journal refused a write; ${records} spend record(s) lost (${(err as NodeJS.ErrnoException).code ?? err.message})`);
}
const gateway = new Gateway(init.snapshot, {
  health: new DeploymentHealth(init.healthBuffer),
  entities: gov ? new EntityTable(gov.entities) : null,
  keyIndex: gov ? new KeyIndex(gov.keyIndex) : null,
  view,
  status: new ControlStatus(init.statusBuffer),
  journal,
  rpc,
  openStream,
  metrics: { calls, spans },
  ui: init.ui,
});
const handle = init.faultInjection
  ? (ex: Exchange) => {
      if (ex.path === '/__weir/crash') {
        ex.respond(200, ['content-type', 'application/json'], '{"crashing":true}');
        setImmediate(() => {
          throw new Error('fault injection: worker crash requested');
        });
        return;
      }
      gateway.handle(ex);
    }
  : (ex: Exchange) => gateway.handle(ex);

const engine: Engine & { inflight: number } = createEngine(init.engine, handle) as Engine & { inflight: number };
let retiring = false;

function retire(): void {
  if (retiring) return;
  retiring = true;
  engine.stopAccepting();
  engine.setDraining();
  const check = setInterval(() => {
    if (engine.inflight > 0) return;
    clearInterval(check);
    const leaked = releaseLiveCharges(Date.now());
    if (leaked > 0) log.warn(`worker ${init.index}: gave back ${leaked} budget reservation(s) no request held any more`);
    journal?.close();
    spans.flush();
    stopLag();
    void closePools().then(() => {
      send({ type: 'drained' });
      port.close();
    });
  }, 20);
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'snapshot':
      gateway.setSnapshot(m.snapshot);
      send({ type: 'snapshot-applied', version: m.snapshot.version });
      break;
    case 'governance':
      view.apply(m.delta);
      send({ type: 'governance-applied', seq: m.seq });
      break;
    case 'drain':
      retire();
      break;
    case 'rpc-result': {
      const resolve = pending.get(m.id);
      pending.delete(m.id);
      resolve?.({ status: m.status, body: m.body, headers: m.headers });
      break;
    }
    case 'stream-head':
    case 'stream-data':
    case 'stream-end':
      streamPiece(m);
      break;
    case 'streams':
      for (const p of m.pieces) streamPiece(p);
      break;
  }
});

function streamPiece(m: StreamPiece): void {
  switch (m.type) {
    case 'stream-head':
      streams.get(m.id)?.head(m.status, m.headers);
      break;
    case 'stream-data':
      streams.get(m.id)?.data(m.chunk);
      break;
    case 'stream-end': {
      const r = streams.get(m.id);
      streams.delete(m.id);
      r?.end();
      break;
    }
  }
}

function fatal(e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  log.error(`worker ${init.index}: ${err.stack ?? err.message}`);
  if (!retiring) send({ type: 'fatal', error: err.message });
  retire();
}
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

engine.listen(init.host, init.port).then(
  (actual) => send({ type: 'ready', port: actual, engine: engine.name }),
  (e: Error) => {
    send({ type: 'fatal', error: e.message });
    port.close();
  },
);
