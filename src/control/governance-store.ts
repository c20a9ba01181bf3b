// The control thread's side of governance: it turns the rows read from LiteLLM's tables into the
// shared entity records, the shared key index and the profiles workers keep, and tells workers
// what changed. It is the only writer of all three. Spend read from the database becomes each
// record's "base"; what workers settled since lives in "pending" until the spend writer commits it.
import type { GovernanceDelta, GovernanceState, KeyProfile, ModelLimit } from '../gateway/governance';
import { ROUTES_BY_KEY_TYPE } from '../gateway/route-groups';
import { EntityTable, type EntityLimits } from '../state/entity-table';
import { KeyIndex } from '../state/key-index';
import type { EntityTotals } from '../db/spend-aggregate';
import type { CommittedTotals } from '../db/spend-writer';
import type { GovernanceState as DbState, KeyBundle } from '../db/queries';
import type { BudgetRow, EndUserRow, Json, KeyRow, OrganizationRow, TeamMemberRow, TeamRow, UserRow } from '../db/rows';
import { keyModelLimits } from './model-limits';

const NANOS = 1e9;
export const ENTITY_CAPACITY = 1 << 17;
export const KEY_INDEX_SLOTS = 1 << 17;

type Kind = 'key' | 'team' | 'user' | 'member' | 'end_user' | 'org' | 'key_model';

/**
 * The budget window of a (key, model) record: it opens with the first spend after the last one
 * closed and lasts the entry's period, as LiteLLM's model budget limiter keeps it (in memory).
 */
interface ModelWindow {
  periodMs: number;
  /** Epoch ms the window opened, or null while nothing was spent in it. */
  openedMs: number | null;
}

export const PROXY_BUDGET_USER = 'litellm-proxy-budget';

/** The id the spend writer reports team members under (LiteLLM's spend-queue id). */
export const memberId = (teamId: string, userId: string): string => `team_id::${teamId}::user_id::${userId}`;

const nanos = (usd: number | null): number | null => (usd === null ? null : usd * NANOS);

function limits(row: { max_budget: number | null; rpm_limit: number | null; tpm_limit: number | null; max_parallel_requests: number | null }, extra: Partial<EntityLimits> = {}): EntityLimits {
  return {
    maxBudgetNanos: nanos(row.max_budget),
    rpm: row.rpm_limit,
    tpm: row.tpm_limit,
    maxParallel: row.max_parallel_requests,
    expiresMs: null,
    blocked: false,
    ...extra,
  };
}

const NO_BUDGET: BudgetRow = {
  budget_id: '',
  max_budget: null,
  soft_budget: null,
  max_parallel_requests: null,
  tpm_limit: null,
  rpm_limit: null,
  model_max_budget: null,
  budget_duration: null,
  budget_reset_at: null,
  allowed_models: [],
};

export class GovernanceStore {
  readonly entities = EntityTable.allocate(ENTITY_CAPACITY);
  readonly index = KeyIndex.allocate(KEY_INDEX_SLOTS);
  private readonly records = new Map<string, number>();
  private next = 0;
  /** token hash → the profile workers have, and its serialized form to detect changes. */
  private readonly profiles = new Map<string, { profile: KeyProfile; sig: string }>();
  private readonly endUsers = new Map<string, number>();
  /** Budget windows of the (key, model) records that have a model budget. */
  private readonly modelWindows = new Map<number, ModelWindow>();
  private globalRecord = -1;

  constructor(globalBudgetUsd: number | null) {
    if (globalBudgetUsd !== null) {
      // LiteLLM tracks the global proxy budget on a user row of this id; the spend writer charges it.
      this.globalRecord = this.recordFor('user', PROXY_BUDGET_USER);
      this.entities.setLimits(this.globalRecord, limits({ max_budget: globalBudgetUsd, rpm_limit: null, tpm_limit: null, max_parallel_requests: null }));
    }
  }

  private recordFor(kind: Kind, id: string): number {
    const k = `${kind}\u0000${id}`;
    let rec = this.records.get(k);
    if (rec === undefined) {
      if (this.next >= this.entities.capacity) throw new Error(`more than ${this.entities.capacity} governed entities; restart to compact`);
      rec = this.next++;
      this.records.set(k, rec);
    }
    return rec;
  }

  private existing(kind: Kind, id: string | null): number {
    if (id === null) return -1;
    return this.records.get(`${kind}\u0000${id}`) ?? -1;
  }

  /** What a new worker starts from. */
  workerState(): GovernanceState {
    return {
      keys: [...this.profiles.values()].map((p) => p.profile),
      endUsers: [...this.endUsers.entries()],
      globalRecord: this.globalRecord,
      enabled: true,
    };
  }

  // ---- rows → records ----------------------------------------------------------------------

  private team(t: TeamRow): void {
    const rec = this.recordFor('team', t.team_id);
    this.entities.setLimits(rec, limits(t, { blocked: t.blocked }));
    this.entities.setBaseSpend(rec, t.spend * NANOS);
  }

  private user(u: UserRow): void {
    if (u.user_id === PROXY_BUDGET_USER) {
      // Its limit comes from litellm_settings.max_budget, only its spend from the row.
      if (this.globalRecord >= 0) this.entities.setBaseSpend(this.globalRecord, u.spend * NANOS);
      return;
    }
    const rec = this.recordFor('user', u.user_id);
    this.entities.setLimits(rec, limits(u));
    this.entities.setBaseSpend(rec, u.spend * NANOS);
  }

  private member(m: TeamMemberRow): void {
    const rec = this.recordFor('member', memberId(m.team_id, m.user_id));
    this.entities.setLimits(rec, limits(m.budget ?? NO_BUDGET));
    this.entities.setBaseSpend(rec, m.spend * NANOS);
  }

  private org(o: OrganizationRow): void {
    const rec = this.recordFor('org', o.organization_id);
    this.entities.setLimits(rec, limits(o.budget ?? NO_BUDGET));
    this.entities.setBaseSpend(rec, o.spend * NANOS);
  }

  private endUser(e: EndUserRow, delta: GovernanceDelta): void {
    const rec = this.recordFor('end_user', e.user_id);
    this.entities.setLimits(rec, limits(e.budget ?? NO_BUDGET, { blocked: e.blocked }));
    this.entities.setBaseSpend(rec, e.spend * NANOS);
    if (this.endUsers.get(e.user_id) !== rec) {
      this.endUsers.set(e.user_id, rec);
      delta.endUsers.push([e.user_id, rec]);
    }
  }

  private key(k: KeyRow, team: TeamRow | null, user: UserRow | null, delta: GovernanceDelta): void {
    const rec = this.recordFor('key', k.token);
    this.entities.setLimits(rec, limits(k, { expiresMs: k.expires ? k.expires.getTime() : null, blocked: k.blocked }));
    this.entities.setBaseSpend(rec, k.spend * NANOS);
    this.index.set(Buffer.from(k.token, 'hex'), rec);
    const orgId = k.organization_id ?? team?.organization_id ?? null;
    const meta = k.metadata;
    const profile: KeyProfile = {
      record: rec,
      tokenHash: k.token,
      keyAlias: k.key_alias,
      keyName: k.key_name,
      models: k.models,
      aliases: Object.fromEntries(Object.entries({ ...(team?.model_aliases ?? {}), ...k.aliases }).filter((e): e is [string, string] => typeof e[1] === 'string')),
      userId: k.user_id,
      userRecord: this.existing('user', k.user_id),
      userRole: user?.user_role ?? null,
      teamId: k.team_id,
      teamAlias: team?.team_alias ?? null,
      teamRecord: this.existing('team', k.team_id),
      teamModels: team?.models ?? [],
      memberRecord: k.team_id && k.user_id ? this.existing('member', memberId(k.team_id, k.user_id)) : -1,
      orgId,
      orgRecord: this.existing('org', orgId),
      tags: Array.isArray(meta.tags) ? meta.tags.filter((t): t is string => typeof t === 'string') : [],
      spendLogsMetadata: meta.spend_logs_metadata && typeof meta.spend_logs_metadata === 'object' ? (meta.spend_logs_metadata as Record<string, unknown>) : null,
      allowedRoutes: k.allowed_routes.length ? k.allowed_routes : [...(ROUTES_BY_KEY_TYPE[k.key_type ?? ''] ?? [])],
      passThroughRoutes: passThroughRoutes(meta, team?.metadata ?? null),
      modelLimits: this.modelLimits(k, team),
    };
    const before = this.profiles.get(k.token);
    for (const [m, l] of Object.entries(before?.profile.modelLimits ?? {})) if (profile.modelLimits?.[m]?.rec !== l.rec) this.retireModel(l.rec);
    const sig = JSON.stringify(profile);
    if (before?.sig !== sig) {
      this.profiles.set(k.token, { profile, sig });
      delta.keys.push(profile);
    }
  }

  /** One record per model the key limits; its limits rewritten, its counters kept. */
  private modelLimits(k: KeyRow, team: TeamRow | null): Record<string, ModelLimit> | null {
    const specs = keyModelLimits(k, team);
    if (specs.length === 0) return null;
    const out: Record<string, ModelLimit> = {};
    for (const s of specs) {
      const rec = this.recordFor('key_model', `${k.token}\u0000${s.model}`);
      const budget = s.maxBudgetUsd !== null && s.periodMs !== null;
      this.entities.setLimits(rec, { maxBudgetNanos: budget ? s.maxBudgetUsd! * NANOS : null, rpm: s.rpm, tpm: s.tpm, maxParallel: null, expiresMs: null, blocked: false });
      if (budget) {
        const w = this.modelWindows.get(rec);
        if (w) w.periodMs = s.periodMs!;
        else this.modelWindows.set(rec, { periodMs: s.periodMs!, openedMs: null });
      } else {
        this.modelWindows.delete(rec);
      }
      out[s.model] = { rec, budget, rate: s.rpm !== null || s.tpm !== null };
    }
    return out;
  }

  private retireModel(rec: number): void {
    this.entities.retire(rec);
    this.modelWindows.delete(rec);
  }

  /**
   * Opens the window of a model budget at its first spend and, once its period is over, starts
   * the next one from zero. Run at every sync, so a window closes at most one sync late.
   */
  rollModelWindows(nowMs: number): void {
    for (const [rec, w] of this.modelWindows) {
      if (w.openedMs === null) {
        if (this.entities.spendNanos(rec) > 0n) w.openedMs = nowMs;
      } else if (nowMs >= w.openedMs + w.periodMs) {
        this.entities.resetSpend(rec);
        w.openedMs = null;
      }
    }
  }

  private removeKey(token: string, delta: GovernanceDelta): void {
    const p = this.profiles.get(token);
    if (!p) return;
    this.index.delete(Buffer.from(token, 'hex'));
    this.entities.retire(p.profile.record);
    for (const l of Object.values(p.profile.modelLimits ?? {})) this.retireModel(l.rec);
    this.profiles.delete(token);
    delta.removedKeys.push(p.profile.record);
  }

  private emptyDelta(): GovernanceDelta {
    return { keys: [], removedKeys: [], endUsers: [], removedEndUsers: [], globalRecord: this.globalRecord };
  }

  /** Applies a full read of the tables; returns what workers must learn (null if nothing). */
  applyAll(s: DbState): GovernanceDelta | null {
    this.rollModelWindows(Date.now());
    const delta = this.emptyDelta();
    const teams = new Map(s.teams.map((t) => [t.team_id, t]));
    const users = new Map(s.users.map((u) => [u.user_id, u]));
    for (const t of s.teams) this.team(t);
    for (const u of s.users) this.user(u);
    for (const m of s.teamMembers) this.member(m);
    for (const o of s.organizations) this.org(o);
    for (const e of s.endUsers) this.endUser(e, delta);
    const seen = new Set<string>();
    for (const k of s.keys) {
      seen.add(k.token);
      this.key(k, k.team_id ? (teams.get(k.team_id) ?? null) : null, k.user_id ? (users.get(k.user_id) ?? null) : null, delta);
    }
    for (const token of [...this.profiles.keys()]) if (!seen.has(token)) this.removeKey(token, delta);
    for (const [id, rec] of [...this.endUsers]) {
      if (!s.endUsers.some((e) => e.user_id === id)) {
        this.entities.retire(rec);
        this.endUsers.delete(id);
        delta.removedEndUsers.push(id);
      }
    }
    return delta.keys.length || delta.removedKeys.length || delta.endUsers.length || delta.removedEndUsers.length ? delta : null;
  }

  /** Applies one key read on demand (a key this instance had not seen). */
  applyBundle(b: KeyBundle): GovernanceDelta {
    const delta = this.emptyDelta();
    if (b.team) this.team(b.team);
    if (b.user) this.user(b.user);
    if (b.teamMember) this.member(b.teamMember);
    if (b.organization) this.org(b.organization);
    this.key(b.key, b.team, b.user, delta);
    return delta;
  }

  /** The spend writer committed these amounts: they move from pending to base. */
  committed(t: CommittedTotals): void {
    this.apply(t, (rec, n) => this.entities.commitPending(rec, n));
    // Records an earlier process journaled were never pending here: they only add to base.
    this.apply(t.recovered, (rec, n) => this.entities.addBase(rec, n));
  }

  private apply(t: EntityTotals, fn: (rec: number, nanos: number) => void): void {
    const each = (kind: Kind, m: Map<string, number>) => {
      for (const [id, n] of m) {
        const rec = kind === 'user' && id === PROXY_BUDGET_USER ? this.globalRecord : this.existing(kind, id);
        if (rec >= 0) fn(rec, n);
      }
    };
    each('key', t.keys);
    each('user', t.users);
    each('team', t.teams);
    each('member', t.teamMembers);
    each('org', t.orgs);
    each('end_user', t.endUsers);
  }
}

/** LiteLLM's allowlist: the key's metadata list when it has entries, else the team's; strings only. */
function passThroughRoutes(keyMeta: Json, teamMeta: Json | null): string[] {
  const own = keyMeta.allowed_passthrough_routes;
  const list = Array.isArray(own) && own.length ? own : teamMeta?.allowed_passthrough_routes;
  return Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : [];
}
