// What a worker knows about keys, teams, users, end users and organizations beyond the numbers in
// the shared entity table: model lists, aliases, ids and names for spend logs. The control thread
// is the only writer; it sends the whole view when a worker starts and deltas after each change.

/** Entity records a key's requests are charged to (-1 where there is none). */
export interface KeyProfile {
  record: number;
  tokenHash: string;
  keyAlias: string | null;
  keyName: string | null;
  /** Empty = every model (unless the team restricts). May hold groups, wildcards, access groups. */
  models: string[];
  aliases: Record<string, string>;
  userId: string | null;
  userRecord: number;
  userRole: string | null;
  teamId: string | null;
  teamAlias: string | null;
  teamRecord: number;
  teamModels: string[];
  memberRecord: number;
  orgId: string | null;
  orgRecord: number;
  tags: string[];
  /** metadata.spend_logs_metadata of the key, copied into its spend logs. */
  spendLogsMetadata: Record<string, unknown> | null;
  /** allowed_routes (or what key_type expands to); empty = every route (route-access.ts). */
  allowedRoutes: string[];
  /** allowed_passthrough_routes of the key's metadata, else of its team's (route-access.ts). */
  passThroughRoutes: string[];
  /**
   * The key's per-model limits (model_max_budget, model_rpm_limit, model_tpm_limit): configured
   * model name → its own entity record, charged with the key's. Null when the key has none.
   */
  modelLimits: Record<string, ModelLimit> | null;
}

/** One (key, model) pair's record, and which of its limits apply to the model name. */
export interface ModelLimit {
  rec: number;
  /** model_max_budget has a usable entry (a budget and its period) under this name. */
  budget: boolean;
  /** model_rpm_limit / model_tpm_limit has an entry under this name. */
  rate: boolean;
}

export interface GovernanceState {
  keys: KeyProfile[];
  /** end user id → record */
  endUsers: [string, number][];
  /** Record of the global proxy budget (litellm_settings.max_budget), or -1. */
  globalRecord: number;
  /** Whether a database is configured (virtual keys exist at all). */
  enabled: boolean;
}

export type GovernanceDelta = {
  keys: KeyProfile[];
  removedKeys: number[];
  endUsers: [string, number][];
  removedEndUsers: string[];
  globalRecord: number;
};

export class GovernanceView {
  readonly keys = new Map<number, KeyProfile>();
  readonly endUsers = new Map<string, number>();
  globalRecord = -1;
  enabled = false;

  constructor(initial: GovernanceState | null) {
    if (!initial) return;
    this.enabled = initial.enabled;
    this.apply({ keys: initial.keys, removedKeys: [], endUsers: initial.endUsers, removedEndUsers: [], globalRecord: initial.globalRecord });
  }

  /**
   * Removals first: records are reused once every worker has applied the delta that freed them, so
   * a record removed here may come back in a later delta for another key (never in the same one).
   */
  apply(d: GovernanceDelta): void {
    for (const r of d.removedKeys) this.keys.delete(r);
    for (const id of d.removedEndUsers) this.endUsers.delete(id);
    for (const k of d.keys) this.keys.set(k.record, k);
    for (const [id, rec] of d.endUsers) this.endUsers.set(id, rec);
    this.globalRecord = d.globalRecord;
  }
}
