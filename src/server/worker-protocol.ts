// Messages between the control thread and a worker thread.
import type { Snapshot } from '../gateway/snapshot';
import type { EngineChoice } from './load-engine';

export interface WorkerInit {
  index: number;
  host: string;
  port: number;
  engine: EngineChoice;
  healthBuffer: SharedArrayBuffer;
  snapshot: Snapshot;
  /** Enables POST /__weir/crash (tests of worker restart); never set in production. */
  faultInjection: boolean;
}

export type ToWorker =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'drain' }
  | { type: 'rpc-result'; id: number; status: number; body: unknown };

export type FromWorker =
  | { type: 'ready'; port: number; engine: string }
  | { type: 'fatal'; error: string }
  | { type: 'drained' }
  | { type: 'rpc'; id: number; method: string; params: unknown };
