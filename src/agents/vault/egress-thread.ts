// The egress proxy's own thread (see egress-proxy.ts for why): it listens where it is told, and
// takes runs' registrations from the control thread, answering each so a run starts only once the
// proxy knows its key. It also forwards for the local sandboxes' network boundaries
// (sandbox/net-forward.ts): a fenced run's model traffic and its proxy traffic cross here, not the
// control thread's loop, and what it forwarded is counted in the shared counters.
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { COUNTERS, Forwarders, type ForwardTarget } from '../sandbox/net-forward';
import type { CaPair } from './ca';
import { EgressProxy, type RunEgress } from './egress-proxy';

export type EgressRequest =
  | { id: number; type: 'register'; keyHash: string; egress: RunEgress }
  | { id: number; type: 'unregister'; keyHash: string }
  | { id: number; type: 'forward'; target: ForwardTarget }
  | { id: number; type: 'unforward'; dir: string }
  | { id: number; type: 'close' };

export type EgressReply = { type: 'listening'; port: number } | { type: 'failed'; message: string } | { type: 'done'; id: number; error?: string };

const data = workerData as { ca: CaPair; host: string; port: number; upstreamCa?: string[]; counters: SharedArrayBuffer };
const proxy = new EgressProxy({ ca: data.ca, upstreamCa: data.upstreamCa });
const counters = new BigInt64Array(data.counters);
Atomics.store(counters, COUNTERS.thread, BigInt(threadId));
const forwards = new Forwarders(counters);
const port = parentPort!;

proxy.listen(data.host, data.port).then(
  (p) => port.postMessage({ type: 'listening', port: p } satisfies EgressReply),
  (e: unknown) => port.postMessage({ type: 'failed', message: (e as Error).message } satisfies EgressReply),
);

const done = (id: number, error?: string) => port.postMessage({ type: 'done', id, error } satisfies EgressReply);

port.on('message', (m: EgressRequest) => {
  if (m.type === 'register') proxy.register(m.keyHash, m.egress);
  else if (m.type === 'unregister') proxy.unregister(m.keyHash);
  else if (m.type === 'forward') {
    forwards.open(m.target).then(() => done(m.id), (e: unknown) => done(m.id, (e as Error).message));
    return;
  } else if (m.type === 'unforward') {
    void forwards.close(m.dir).then(() => done(m.id));
    return;
  } else if (m.type === 'close') {
    void Promise.all([proxy.close(), forwards.closeAll()]).then(() => {
      done(m.id);
      port.close();
    });
    return;
  }
  done(m.id);
});
