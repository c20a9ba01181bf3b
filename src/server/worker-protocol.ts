// Messages between the control thread and a worker thread.
import type { GovernanceDelta, GovernanceState } from '../gateway/governance';
import type { Snapshot } from '../gateway/snapshot';
import type { EntityBuffers } from '../state/entity-table';
import type { EngineChoice } from './load-engine';
import type { MetricsInit } from '../metrics/recorder';
import type { SpanRecord } from '../metrics/span-batch';
import type { StaticBundle } from '../ui/static-files';

export interface WorkerInit {
  index: number;
  host: string;
  port: number;
  engine: EngineChoice;
  healthBuffer: SharedArrayBuffer;
  statusBuffer: SharedArrayBuffer;
  /** Governance state when a database is configured, else null (master key / open only). */
  /** `seq`: the last governance delta `state` includes (deltas after it arrive as messages). */
  governance: { entities: EntityBuffers; keyIndex: SharedArrayBuffer; state: GovernanceState; seq: number; journalDir: string } | null;
  snapshot: Snapshot;
  /** This worker's metrics shard (kept across its restarts) and the label caps. */
  metrics: MetricsInit;
  /** The admin page's files, read and gzipped once by the control thread. */
  ui: StaticBundle;
  /** Enables POST /__weir/crash (tests of worker restart); never set in production. */
  faultInjection: boolean;
}

/**
 * Where the pieces of a relayed answer (server-sent events) go: on the control thread, toward the
 * worker that asked; on the worker, toward its client.
 */
/** What a client of a two-way stream said besides its input (a terminal viewer's window size). */
export type StreamControl = { type: 'resize'; cols: number; rows: number };

export interface StreamSink {
  head(status: number, headers: string[]): void;
  data(chunk: string): void;
  end(): void;
}

export type ToWorker =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'governance'; delta: GovernanceDelta; seq: number }
  | { type: 'drain' }
  /** `headers`: extra response headers (name, value, …); a string `body` is sent as it is. */
  | { type: 'rpc-result'; id: number; status: number; body: unknown; headers?: string[] }
  /** A long answer (server-sent events) relayed from the control thread: its head, its pieces, its end. */
  | StreamPiece
  /** The stream pieces of one turn of the control thread, for every stream of this worker, in order:
   *  one message where a fan-out's events were one per event per watcher. */
  | { type: 'streams'; pieces: StreamPiece[] };

export type StreamPiece =
  | { type: 'stream-head'; id: number; status: number; headers: string[] }
  | { type: 'stream-data'; id: number; chunk: string }
  | { type: 'stream-end'; id: number };

export type FromWorker =
  | { type: 'ready'; port: number; engine: string }
  | { type: 'fatal'; error: string }
  | { type: 'drained' }
  /** The worker applied every governance delta up to `seq`: records they removed are no longer in its view. */
  | { type: 'governance-applied'; seq: number }
  /** The worker serves snapshot `version` from now on: no new request starts on an older one. */
  | { type: 'snapshot-applied'; version: number }
  | { type: 'rpc'; id: number; method: string; params: unknown }
  /** Opens a relayed stream (see stream-head); `stream-close` tells the control thread the client left. */
  | { type: 'stream-open'; id: number; method: string; params: unknown }
  | { type: 'stream-close'; id: number }
  /** What the client sent on a two-way stream (a terminal's keystrokes, base64). */
  | { type: 'stream-input'; id: number; chunk: string }
  /** A control message the client sent on a two-way stream, checked by the worker. */
  | { type: 'stream-control'; id: number; control: StreamControl }
  /** A new metrics row and its labels (once per row). */
  | { type: 'metrics-series'; row: number; labels: string[] }
  /** Finished requests' phase timings, for the trace exporter. */
  | { type: 'metrics-spans'; spans: SpanRecord[] };
