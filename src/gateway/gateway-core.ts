// What the gateway's route modules share with it: the worker's dependencies, and the steps every
// governed route takes in the same order (the caller known, then the body read, then the call
// admitted, a failure answered in the route's dialect). Gateway implements it; the provider
// routes (provider-routes.ts) and the relays to the control thread (control-relays.ts) use it.
import type { JournalWriter } from '../accounting/journal';
import type { WorkerMetrics } from '../metrics/recorder';
import type { Exchange } from '../server/exchange';
import type { StreamControl, StreamSink } from '../server/worker-protocol';
import type { ControlStatus } from '../state/control-status';
import type { DeploymentHealth } from '../state/deployment-health';
import type { EntityTable } from '../state/entity-table';
import type { KeyIndex } from '../state/key-index';
import type { StaticBundle } from '../ui/static-files';
import { GatewayError, type Dialect } from './errors';
import type { GovernanceView, KeyProfile } from './governance';
import type { Identity } from './identity';
import type { LeaseWait } from './lease-wait';
import type { Charge } from './policy';
import type { Reservation } from './reservation';

/** Control-thread operations a worker may ask for; answered asynchronously. */
export type ControlRpc = (method: string, params: unknown) => Promise<{ status: number; body: unknown; headers?: string[] }>;

/**
 * Opens a stream relayed from the control thread; the function it returns closes it (the client
 * left). `input` sends what the client sent on a two-way stream (a terminal).
 */
export type OpenStream = (method: string, params: unknown, receiver: StreamSink) => (() => void) & { input?(chunk: string): void; control?(c: StreamControl): void };

export interface GatewayDeps {
  health: DeploymentHealth;
  entities: EntityTable | null;
  keyIndex: KeyIndex | null;
  view: GovernanceView;
  status: ControlStatus;
  /** This worker's spend journal, when a database is configured. */
  journal: JournalWriter | null;
  rpc: ControlRpc;
  openStream: OpenStream;
  /** This worker's metrics shard and span batch; null in tests that build a gateway without them. */
  metrics?: WorkerMetrics | null;
  /** The admin page's files (loaded once by the control thread); absent in tests that need none. */
  ui?: StaticBundle;
}

/** Management API bodies are small documents. */
export const ADMIN_MAX_BODY_BYTES = 1024 * 1024;

/** A key's model-access checks for one call, made at admission (LiteLLM's order). */
export type AccessCheck = (p: KeyProfile, entities: EntityTable, now: number) => void;

export interface GatewayCore {
  readonly deps: GatewayDeps;
  /** Admission when a rate-limit or budget lease is spent: the call waits for the next one. */
  readonly leases: LeaseWait;
  /** Answers an error in `dialect`, counted in the metrics first. */
  fail(ex: Exchange, dialect: Dialect, e: unknown): void;
  /** Runs `then` once the caller is known; a failure in it is answered with `fail`. */
  afterIdentity(ex: Exchange, dialect: Dialect, id: Identity | Promise<Identity>, then: (who: Identity) => void): void;
  /** Runs `then` with the caller and the whole body, read only once the caller is known. */
  withBody(ex: Exchange, limit: number, dialect: Dialect, id: Identity | Promise<Identity>, then: (who: Identity, body: Buffer) => void): void;
  /** Governance for the call: the checks, then rate-limit slots and a reservation on every budget it is charged to. */
  admit(id: Identity, model: string, endUser: string | null, estimate: () => Reservation, checkAccess: AccessCheck): Charge | null;
}

/** Ids longer than this are refused by Postgres indexes in LiteLLM's schema. */
const MAX_ID_BYTES = 256;

/** The end user, as LiteLLM reads it: headers first, then the body's `user`. */
export function endUserOf(h: Record<string, string>, bodyUser: string | undefined): string | null {
  const id = h['x-litellm-end-user-id'] ?? h['x-litellm-customer-id'] ?? bodyUser;
  if (!id) return null;
  if (Buffer.byteLength(id) > MAX_ID_BYTES) throw new GatewayError(400, `end user id is longer than ${MAX_ID_BYTES} bytes`, 'bad_request_error', 'user');
  return id;
}
