// The egress proxy's own thread (see egress-proxy.ts for why): it listens where it is told, and
// takes runs' registrations from the control thread, answering each so a run starts only once the
// proxy knows its key.
import { parentPort, workerData } from 'node:worker_threads';
import type { CaPair } from './ca';
import { EgressProxy, type RunEgress } from './egress-proxy';

export type EgressRequest =
  | { id: number; type: 'register'; keyHash: string; egress: RunEgress }
  | { id: number; type: 'unregister'; keyHash: string }
  | { id: number; type: 'close' };

export type EgressReply = { type: 'listening'; port: number } | { type: 'failed'; message: string } | { type: 'done'; id: number };

const data = workerData as { ca: CaPair; host: string; port: number; upstreamCa?: string[] };
const proxy = new EgressProxy({ ca: data.ca, upstreamCa: data.upstreamCa });
const port = parentPort!;

proxy.listen(data.host, data.port).then(
  (p) => port.postMessage({ type: 'listening', port: p } satisfies EgressReply),
  (e: unknown) => port.postMessage({ type: 'failed', message: (e as Error).message } satisfies EgressReply),
);

port.on('message', (m: EgressRequest) => {
  if (m.type === 'register') proxy.register(m.keyHash, m.egress);
  else if (m.type === 'unregister') proxy.unregister(m.keyHash);
  else if (m.type === 'close') {
    void proxy.close().then(() => {
      port.postMessage({ type: 'done', id: m.id } satisfies EgressReply);
      port.close();
    });
    return;
  }
  port.postMessage({ type: 'done', id: m.id } satisfies EgressReply);
});
