// The management API runs on the control thread. A worker authenticates the caller, then relays
// the call here as one AdminRequest; the answer goes back to the client as it is.
import type { Pool } from 'pg';
import type { AtRestAlgorithm } from '../db/at-rest-crypto';

export interface Caller {
  /** True for the master key (role proxy_admin). */
  isMasterKey: boolean;
  /** sha256 hex of the virtual key used, or null for the master key / no auth. */
  keyHash: string | null;
  /** user_role of the key's owner when known (proxy_admin keys are admins too). */
  userRole: string | null;
  /** The caller's user (the key's user_id, or a login session's user); null for the master key
   *  and for keys that belong to no user. What a non-admin may see and change follows from it. */
  userId: string | null;
  /** True when no master_key is configured (LiteLLM then lets everything through as admin). */
  open: boolean;
}

export interface AdminRequest {
  method: string;
  /** Path without the query string, e.g. /key/generate. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body (POST), or undefined. */
  body: unknown;
  /** Value of the `litellm-changed-by` header, for audit columns. */
  changedBy: string | null;
  caller: Caller;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

/** What a mutation tells the control thread, so the shared state follows at once. */
export type EntityKind = 'key' | 'team' | 'user' | 'end_user' | 'organization' | 'budget' | 'team_membership' | 'model';

export interface AdminContext {
  db: Pool;
  /** Called after a committed change, with the ids touched (key ids are token hashes). */
  onChange(kind: EntityKind, ids: string[]): void;
  /** litellm_settings / general_settings values the endpoints need (defaults, caps, timezone). */
  settings: {
    defaultKeyGenerateParams?: Record<string, unknown>;
    upperboundKeyGenerateParams?: Record<string, unknown>;
    timezone?: string;
    /** litellm_settings.max_budget (the global proxy budget), echoed by /global/spend. */
    maxBudget?: number | null;
    /** litellm_settings.store_audit_logs: write a LiteLLM_AuditLog row per change of a key, team, user or organization. */
    storeAuditLogs?: boolean;
    /** sha256 of the master key as the gateway compares it (null or absent when none is set). */
    masterKeyHash?: Uint8Array | null;
    /** /model/new, /model/update, /model/delete: absent where models cannot be stored. */
    models?: ModelSettings;
  };
  now(): Date;
}

/** What the model management endpoints need of the running config. */
export interface ModelSettings {
  /** general_settings.store_model_in_db (or STORE_MODEL_IN_DB). */
  storeInDb: boolean;
  /** LITELLM_SALT_KEY, else the master key: what litellm_params' strings are encrypted with. */
  saltKey: string | null;
  /** general_settings.encryption_algorithm, as LiteLLM reads it. */
  algorithm: AtRestAlgorithm;
  /** Ids of the config file's deployments: read-only through the API. */
  configIds: ReadonlySet<string>;
  /** The environment os.environ/ references of a model resolve against. */
  env: NodeJS.ProcessEnv;
  /** New deployment ids this process can take now (src/control/slots.ts frees the slots of deleted ones). */
  slotsLeft: number;
}
