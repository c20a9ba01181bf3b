// A phase's runs and their SSE watchers on a thread of their own: the POSTs and the 64–256 watchers
// do not share an event loop with the data-plane probe and the bench's own work, so an event's delay
// is Weir's and the watchers' alone. The thread also measures its own loop's lag over the phase,
// reported beside the event delay (a delay the watchers' loop could have added).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { RunTrace } from './agents-stats';
import { fanOut, oneAtATime } from './agents-watch';
import type { LagStats } from './results';

interface PhaseRuns {
  url: string;
  key: string;
  /** One body per run. */
  bodies: object[];
  deadlineMs: number;
  oneByOne: boolean;
}

export interface PhaseRunsResult {
  traces: RunTrace[];
  wallMs: number;
  /** The watchers' thread's event-loop lag over the phase (past its 10 ms timer), ms. */
  watcherLag: LagStats;
}

const RESOLUTION_MS = 10;

/** Runs the phase's POSTs and watchers on a worker thread; resolves with what it saw. */
export function runsOnThread(o: PhaseRuns): Promise<PhaseRunsResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(__filename, { workerData: o });
    let done = false;
    w.once('message', (r: PhaseRunsResult) => {
      done = true;
      resolve(r);
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!done) reject(new Error(`the watchers' thread exited (code ${code}) before its phase ended`));
    });
  });
}

if (!isMainThread && parentPort) {
  const o = workerData as PhaseRuns;
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const start = o.oneByOne ? oneAtATime : fanOut;
  void start({ url: o.url, key: o.key, count: o.bodies.length, body: (i) => o.bodies[i]!, deadlineMs: o.deadlineMs }).then(({ traces, wallMs }) => {
    h.disable();
    const ms = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);
    const watcherLag: LagStats = { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    parentPort!.postMessage({ traces, wallMs, watcherLag } satisfies PhaseRunsResult);
  });
}
