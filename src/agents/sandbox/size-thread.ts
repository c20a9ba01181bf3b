// The size-watch thread (see size-watch.ts): measures every watched sandbox on its own timer and
// tells the control thread when one passes its cap. The walks block this thread only.
import { parentPort } from 'node:worker_threads';
import { diskUseSync } from './disk-use';

export type SizeRequest = { type: 'watch'; id: number; dirs: string[]; cap: number; everyMs: number } | { type: 'stop'; id: number };
export interface SizeReply {
  id: number;
  bytes: number;
}

const port = parentPort;
const timers = new Map<number, NodeJS.Timeout>();

function watch(r: Extract<SizeRequest, { type: 'watch' }>): void {
  const tick = () => {
    if (!timers.has(r.id)) return;
    const used = diskUseSync(r.dirs, r.cap);
    if (used > r.cap) {
      timers.delete(r.id);
      port!.postMessage({ id: r.id, bytes: used } satisfies SizeReply);
      return;
    }
    timers.set(r.id, setTimeout(tick, r.everyMs));
  };
  timers.set(r.id, setTimeout(tick, r.everyMs));
}

port?.on('message', (r: SizeRequest) => {
  if (r.type === 'watch') return watch(r);
  clearTimeout(timers.get(r.id));
  timers.delete(r.id);
});
