// The control thread's side of governance: it turns the rows read from LiteLLM's tables into the
// shared entity records, the shared key index and the profiles workers keep, and tells workers
// what changed. It is the only writer of all three. Spend read from the database becomes each
// record's "base"; what workers settled since lives in "pending" until the spend writer commits it.
//
// Each row is applied on its own: a row that cannot be applied, or that holds values the shared
// counters cannot (clamped, see src/state/entity-range.ts), is logged once and never stops the
// others. Keys come right after the rows their profiles point at, before end users, so nothing
// about end users can hold back a block or a budget cut on a key. Every pass is linear in the
// rows read.
//
// Records of deleted keys and evicted end users are reused (./record-pool.ts), and only end users
// with something to enforce hold one, at most a bound of them (./end-user-slots.ts): capacity is
// about what is live. Each delta has a sequence number; workers acknowledge the deltas they applied,
// and `reclaim` is told how far every worker got.
import type { GovernanceDelta, GovernanceState, KeyProfile, ModelLimit } from '../gateway/governance';
import { ROUTES_BY_KEY_TYPE } from '../gateway/route-groups';
import { EntityTable, type EntityLimits, type MinuteKind } from '../state/entity-table';
import { MAX_RATE_LIMIT } from '../state/entity-range';
import { KeyIndex } from '../state/key-index';
import type { EntityTotals } from '../db/spend-aggregate';
import type { CommittedTotals } from '../db/spend-writer';
import type { GovernanceState as DbState, EndUserScope, KeyBundle } from '../db/queries';
import type { BudgetRow, EndUserRow, Json, KeyRow, OrganizationRow, TeamMemberRow, TeamRow, UserRow } from '../db/rows';
import { EndUserSlots } from './end-user-slots';
import { keyModelLimits } from './model-limits';
import { ModelWindows } from './model-windows';
import { ProblemLog } from './problem-log';
import { RecordPool } from './record-pool';

const NANOS = 1e9;
/** No key kept past a full read (see applyAll). */
const NONE: ReadonlySet<string> = new Set();
export const ENTITY_CAPACITY = 1 << 17;
export const KEY_INDEX_SLOTS = 1 << 17;
/**
 * End users holding a record at once: at most a quarter of the entity table (131,072 records),
 * so client-chosen ids never take the records keys, teams and users need.
 */
export const END_USER_RECORDS = 1 << 15;

type Kind = 'key' | 'team' | 'user' | 'member' | 'org' | 'key_model';


export const PROXY_BUDGET_USER = 'litellm-proxy-budget';

/** The id the spend writer reports team members under (LiteLLM's spend-queue id). */
export const memberId = (teamId: string, userId: string): string => `team_id::${teamId}::user_id::${userId}`;

const nanos = (usd: number | null): number | null => (usd === null ? null : usd * NANOS);

/** An id as a log line shows it: control characters replaced (end-user ids come from clients), cut short. */
const shown = (id: string): string => (id.length > 100 ? `${id.slice(0, 100)}…` : id).replace(/[\u0000-\u001f\u007f]/g, '?');
/** Keys are named by the start of their hash, never by the key. */
const keySubject = (token: string): string => `key ${token.slice(0, 12)}…`;

const CLAMPED = `out of range; using the nearest value the shared counters hold (budgets and spend at most 1e9 USD, limits at most ${MAX_RATE_LIMIT}, expiry at most 2038-01-19)`;

export interface StoreOptions {
  /** Where problems with single rows are written (each once). */
  onProblem?: (line: string) => void;
  /** Entity records (default ENTITY_CAPACITY). */
  capacity?: number;
  /** End users holding a record at once (default END_USER_RECORDS). */
  endUserRecords?: number;
  /** The budget of end users whose row has none (LiteLLM's max_end_user_budget_id / max_end_user_budget). */
  endUserDefault?: EndUserDefault;
}

export interface EndUserDefault {
  /** litellm_settings.max_end_user_budget_id: a LiteLLM_BudgetTable row. */
  budgetId: string | null;
  /** litellm_settings.max_end_user_budget (USD), used when no budget row is named or found. */
  maxBudget: number | null;
}

const enforces = (b: BudgetRow): boolean => b.max_budget !== null || b.rpm_limit !== null || b.tpm_limit !== null || b.max_parallel_requests !== null;

const SUBJECT = {
  team: (t: TeamRow) => `team ${shown(t.team_id)}`,
  user: (u: UserRow) => `user ${shown(u.user_id)}`,
  member: (m: TeamMemberRow) => `team member ${shown(m.user_id)} of team ${shown(m.team_id)}`,
  org: (o: OrganizationRow) => `organization ${shown(o.organization_id)}`,
  key: (k: KeyRow) => keySubject(k.token),
  endUser: (e: EndUserRow) => `end_user ${shown(e.user_id)}`,
};

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
  readonly entities: EntityTable;
  readonly index = KeyIndex.allocate(KEY_INDEX_SLOTS);
  private readonly pool: RecordPool;
  private readonly records = new Map<string, number>();
  /** token hash → the profile workers have, and its serialized form to detect changes. */
  private readonly profiles = new Map<string, { profile: KeyProfile; sig: string }>();
  private readonly endUsers: EndUserSlots;
  private readonly endUserDefault: EndUserDefault;
  /** Budget windows of the (key, model) records that have a model budget. */
  private readonly modelWindows = new ModelWindows();
  private globalRecord = -1;
  private readonly problems: ProblemLog;
  private lastSeq = 0;

  constructor(globalBudgetUsd: number | null, opts: StoreOptions = {}) {
    this.entities = EntityTable.allocate(opts.capacity ?? ENTITY_CAPACITY);
    this.pool = new RecordPool(this.entities);
    this.endUsers = new EndUserSlots(opts.endUserRecords ?? END_USER_RECORDS);
    this.endUserDefault = opts.endUserDefault ?? { budgetId: null, maxBudget: null };
    this.problems = new ProblemLog(opts.onProblem ?? (() => {}));
    if (globalBudgetUsd !== null) {
      // LiteLLM tracks the global proxy budget on a user row of this id; the spend writer charges it.
      this.globalRecord = this.recordFor('user', PROXY_BUDGET_USER);
      this.entities.setLimits(this.globalRecord, limits({ max_budget: globalBudgetUsd, rpm_limit: null, tpm_limit: null, max_parallel_requests: null }));
    }
  }

  /** Sequence number of the last delta returned; records retired now are tagged with seq + 1. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Every worker has applied the deltas up to `appliedSeq`: what they removed may be reused. */
  reclaim(appliedSeq: number): void {
    this.pool.reclaim(appliedSeq);
  }

  /** Records live or waiting to be reused, and how many end users hold one. */
  get usage(): { records: number; quarantined: number; endUsers: number } {
    return { records: this.pool.inUse, quarantined: this.pool.quarantined, endUsers: this.endUsers.resident.size };
  }

  /** Which end-user rows the next table read needs (see EndUserSlots). */
  endUserScope(): EndUserScope {
    const d = this.endUserDefault;
    // Without a default budget only rows with a budget of their own need a record, and the read
    // includes all of those anyway.
    const ids = d.budgetId !== null || d.maxBudget !== null ? this.endUsers.idsToRead() : [];
    return { ids, defaultBudgetId: d.budgetId };
  }

  /** Writes a record's limits and the spend the database has; returns the fields that had to be clamped. */
  private write(rec: number, l: EntityLimits, spendUsd: number): string[] {
    const clamped = this.entities.setLimits(rec, l);
    if (this.entities.setBaseSpend(rec, spendUsd * NANOS)) clamped.push('spend');
    return clamped;
  }

  /** Applies each row on its own: one that fails is logged (once) and skipped, the others go on. */
  private each<T>(rows: T[], subject: (r: T) => string, apply: (r: T) => string[]): void {
    for (const r of rows) {
      try {
        const clamped = apply(r);
        if (clamped.length) this.problems.report(subject(r), `has ${clamped.join(', ')} ${CLAMPED}`);
        else this.problems.solved(subject(r));
      } catch (e) {
        this.problems.report(subject(r), `was not applied: ${(e as Error).message}`);
      }
    }
  }

  private recordFor(kind: Kind, id: string): number {
    const k = `${kind}\u0000${id}`;
    let rec = this.records.get(k);
    if (rec === undefined) {
      rec = this.pool.take();
      if (rec < 0) throw new Error(`no free entity record (all ${this.entities.capacity} are live or wait to be reused)`);
      this.records.set(k, rec);
    }
    return rec;
  }

  private existing(kind: Kind, id: string | null): number {
    if (id === null) return -1;
    return this.records.get(`${kind}\u0000${id}`) ?? -1;
  }

  /** Keys and teams with an rpm (or tpm) limit: what several instances share through Redis leases. */
  rateLimited(limit: MinuteKind): { id: string; rec: number; strict: boolean }[] {
    const out: { id: string; rec: number; strict: boolean }[] = [];
    for (const [k, rec] of this.records) {
      const kind = k.slice(0, k.indexOf('\u0000'));
      if ((kind === 'key' || kind === 'team') && this.entities.limit(rec, limit) >= 0) out.push({ id: k.replace('\u0000', ':'), rec, strict: this.strict.has(rec) });
    }
    return out;
  }

  /** Keys and teams with a budget: what several instances share through Redis leases. */
  budgeted(): { id: string; window: string; rec: number; strict: boolean }[] {
    const out: { id: string; window: string; rec: number; strict: boolean }[] = [];
    for (const [k, rec] of this.records) {
      const kind = k.slice(0, k.indexOf('\u0000'));
      if ((kind === 'key' || kind === 'team') && this.entities.maxBudgetNanos(rec) >= 0n) {
        out.push({ id: k.replace('\u0000', ':'), window: this.windows.get(rec) ?? '0', rec, strict: this.strict.has(rec) });
      }
    }
    return out;
  }

  /** What a new worker starts from. */
  /** The profiles of the keys in memory (read by the metrics' budget gauges). */
  keyProfiles(): IterableIterator<{ profile: KeyProfile }> {
    return this.profiles.values();
  }

  workerState(): GovernanceState {
    return {
      keys: [...this.profiles.values()].map((p) => p.profile),
      endUsers: [...this.endUsers.resident.entries()],
      globalRecord: this.globalRecord,
      enabled: true,
    };
  }

  // ---- rows → records ----------------------------------------------------------------------

  private team(t: TeamRow): string[] {
    const rec = this.recordFor('team', t.team_id);
    const clamped = this.write(rec, limits(t, { blocked: t.blocked }), t.spend);
    this.leaseShared(rec, strictLimits(t.metadata), t.budget_reset_at);
    return clamped;
  }

  /**
   * Instances sharing a Redis lease the rpm, tpm and budget of keys and teams (src/redis/rpm-leases.ts,
   * tpm-leases.ts, budget-leases.ts): a record whose rpm, tpm or budget is set is under a lease from
   * the moment its limits are, before any worker sees it.
   */
  shareLimits = false;

  private readonly strict = new Set<number>();
  /** Record → its budget window (budget_reset_at, epoch ms; '0' for none): grants belong to one. */
  private readonly windows = new Map<number, string>();

  private leaseShared(rec: number, strict: boolean, resetAt: Date | null): void {
    if (strict) this.strict.add(rec);
    else this.strict.delete(rec);
    this.windows.set(rec, resetAt ? String(resetAt.getTime()) : '0');
    if (!this.shareLimits) return;
    const minute = Math.floor(Date.now() / 60_000);
    for (const kind of ['requests', 'tokens'] as const) {
      const leased = this.entities.lease(rec, kind, minute) >= 0;
      const limited = this.entities.limit(rec, kind) >= 0;
      if (limited && !leased) this.entities.startLease(rec, kind, minute);
      else if (!limited && leased) this.entities.stopLease(rec, kind);
    }
    const budgetLeased = this.entities.budgetLease(rec) >= 0n;
    const budgeted = this.entities.maxBudgetNanos(rec) >= 0n;
    if (budgeted && !budgetLeased) this.entities.startBudgetLease(rec);
    else if (!budgeted && budgetLeased) this.entities.stopBudgetLease(rec);
  }

  private user(u: UserRow): string[] {
    if (u.user_id === PROXY_BUDGET_USER) {
      // Its limit comes from litellm_settings.max_budget, only its spend from the row.
      if (this.globalRecord >= 0 && this.entities.setBaseSpend(this.globalRecord, u.spend * NANOS)) return ['spend'];
      return [];
    }
    return this.write(this.recordFor('user', u.user_id), limits(u), u.spend);
  }

  private member(m: TeamMemberRow): string[] {
    return this.write(this.recordFor('member', memberId(m.team_id, m.user_id)), limits(m.budget ?? NO_BUDGET), m.spend);
  }

  private org(o: OrganizationRow): string[] {
    return this.write(this.recordFor('org', o.organization_id), limits(o.budget ?? NO_BUDGET), o.spend);
  }

  private key(k: KeyRow, team: TeamRow | null, user: UserRow | null, delta: GovernanceDelta): string[] {
    const rec = this.recordFor('key', k.token);
    const clamped = this.write(rec, limits(k, { expiresMs: k.expires ? k.expires.getTime() : null, blocked: k.blocked }), k.spend);
    this.leaseShared(rec, strictLimits(k.metadata) || strictLimits(team?.metadata ?? null), k.budget_reset_at);
    if (!this.index.set(Buffer.from(k.token, 'hex'), rec)) throw new Error('the shared key index is full (a restart compacts it)');
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
      modelLimits: this.modelLimits(k, team, clamped),
    };
    const before = this.profiles.get(k.token);
    for (const [m, l] of Object.entries(before?.profile.modelLimits ?? {})) if (profile.modelLimits?.[m]?.rec !== l.rec) this.retireModel(k.token, m, l.rec);
    const sig = JSON.stringify(profile);
    if (before?.sig !== sig) {
      this.profiles.set(k.token, { profile, sig });
      delta.keys.push(profile);
    }
    return clamped;
  }

  /** One record per model the key limits; its limits rewritten, its counters kept. Clamped fields go to `clamped`. */
  private modelLimits(k: KeyRow, team: TeamRow | null, clamped: string[]): Record<string, ModelLimit> | null {
    const specs = keyModelLimits(k, team);
    if (specs.length === 0) return null;
    const out: Record<string, ModelLimit> = {};
    for (const s of specs) {
      const rec = this.recordFor('key_model', `${k.token}\u0000${s.model}`);
      const budget = s.maxBudgetUsd !== null && s.periodMs !== null;
      for (const f of this.entities.setLimits(rec, { maxBudgetNanos: budget ? s.maxBudgetUsd! * NANOS : null, rpm: s.rpm, tpm: s.tpm, maxParallel: null, expiresMs: null, blocked: false })) clamped.push(`model ${s.model} ${f}`);
      this.modelWindows.set(rec, budget ? s.periodMs! : null);
      out[s.model] = { rec, budget, rate: s.rpm !== null || s.tpm !== null };
    }
    return out;
  }

  /** A (key, model) record no longer needed: reused once every worker has dropped the profile naming it. */
  private retireModel(token: string, model: string, rec: number): void {
    this.pool.retire(rec, this.lastSeq + 1);
    this.records.delete(`key_model\u0000${token}\u0000${model}`);
    this.modelWindows.delete(rec);
  }

  /** Opens and closes the windows of the keys' model budgets (see model-windows.ts). */
  rollModelWindows(nowMs: number): void {
    this.modelWindows.roll(this.entities, nowMs);
  }

  private removeKey(token: string, delta: GovernanceDelta): void {
    const p = this.profiles.get(token);
    if (!p) return;
    this.index.delete(Buffer.from(token, 'hex'));
    this.pool.retire(p.profile.record, this.lastSeq + 1);
    this.records.delete(`key\u0000${token}`);
    for (const [m, l] of Object.entries(p.profile.modelLimits ?? {})) this.retireModel(token, m, l.rec);
    this.profiles.delete(token);
    this.problems.solved(keySubject(token));
    delta.removedKeys.push(p.profile.record);
  }

  // ---- end users ---------------------------------------------------------------------------

  /** An end user's budget: its row's own, else the default one of the config, else none. */
  private endUserBudget(e: EndUserRow, budgets: Map<string, BudgetRow>): BudgetRow | null {
    if (e.budget) return e.budget;
    const d = this.endUserDefault;
    const row = d.budgetId !== null ? budgets.get(d.budgetId) : undefined;
    if (row) return row;
    return d.maxBudget !== null ? { ...NO_BUDGET, max_budget: d.maxBudget } : null;
  }

  private endUser(e: EndUserRow, budgets: Map<string, BudgetRow>, delta: GovernanceDelta): string[] {
    const slots = this.endUsers;
    const held = slots.resident.get(e.user_id);
    const budget = this.endUserBudget(e, budgets);
    if (!budget || !enforces(budget)) {
      if (held !== undefined) this.evict(e.user_id, held, delta);
      return [];
    }
    let rec = held ?? -1;
    if (rec < 0) {
      // Past the bound, only an end user active since the last sync may push out a quiet one.
      if (slots.resident.size >= slots.bound) {
        const victim = slots.isWanted(e.user_id) ? slots.evictionCandidate((r) => this.entities.quiet(r)) : null;
        if (!victim) return [];
        this.evict(victim[0], victim[1], delta);
      }
      rec = this.pool.take();
      if (rec < 0) throw new Error(`no free entity record (all ${this.entities.capacity} are live or wait to be reused)`);
      slots.admit(e.user_id, rec);
      delta.endUsers.push([e.user_id, rec]);
    }
    return this.write(rec, limits(budget, { blocked: e.blocked }), e.spend);
  }

  /** Out of the shared state (not out of the database): workers forget it with the next delta. */
  private evict(id: string, rec: number, delta: GovernanceDelta): void {
    this.endUsers.resident.delete(id);
    this.pool.retire(rec, this.lastSeq + 1);
    delta.removedEndUsers.push(id);
  }

  private applyEndUsers(rows: EndUserRow[], budgetRows: BudgetRow[], delta: GovernanceDelta): void {
    const budgets = new Map(budgetRows.map((b) => [b.budget_id, b]));
    const seen = new Set<string>();
    this.each(rows, SUBJECT.endUser, (e) => {
      seen.add(e.user_id);
      return this.endUser(e, budgets, delta);
    });
    // Residents the read did not return: their row is gone, or has nothing to enforce any more.
    for (const [id, rec] of this.endUsers.resident) if (!seen.has(id)) this.evict(id, rec, delta);
    this.endUsers.endSync();
  }

  private emptyDelta(): GovernanceDelta {
    return { keys: [], removedKeys: [], endUsers: [], removedEndUsers: [], globalRecord: this.globalRecord };
  }

  /**
   * Applies a full read of the tables; returns what workers must learn (null if nothing). Keys in
   * `keep` are not removed when the read lacks them: they were applied after the read began
   * (agent runs' keys, see applyMinted), so its snapshot may predate them.
   */
  applyAll(s: DbState, keep: ReadonlySet<string> = NONE): GovernanceDelta | null {
    this.rollModelWindows(Date.now());
    const delta = this.emptyDelta();
    const teams = new Map(s.teams.map((t) => [t.team_id, t]));
    const users = new Map(s.users.map((u) => [u.user_id, u]));
    // What key profiles point at first, then keys, then end users.
    this.each(s.teams, SUBJECT.team, (t) => this.team(t));
    this.each(s.users, SUBJECT.user, (u) => this.user(u));
    this.each(s.teamMembers, SUBJECT.member, (m) => this.member(m));
    this.each(s.organizations, SUBJECT.org, (o) => this.org(o));
    const seen = new Set<string>();
    this.each(s.keys, SUBJECT.key, (k) => {
      // Seen even if it fails below: a key that cannot be updated keeps what workers have.
      seen.add(k.token);
      return this.key(k, k.team_id ? (teams.get(k.team_id) ?? null) : null, k.user_id ? (users.get(k.user_id) ?? null) : null, delta);
    });
    for (const token of [...this.profiles.keys()]) if (!seen.has(token) && !keep.has(token)) this.removeKey(token, delta);
    this.applyEndUsers(s.endUsers, s.budgets, delta);
    return delta.keys.length || delta.removedKeys.length || delta.endUsers.length || delta.removedEndUsers.length ? this.numbered(delta) : null;
  }

  /** Applies one key read on demand (a key this instance had not seen). */
  applyBundle(b: KeyBundle): GovernanceDelta {
    return this.applyBundles([b]);
  }

  /** Keys read one by one (lookups, agent runs' keys), with what they draw on: one delta for all. */
  applyBundles(bundles: KeyBundle[]): GovernanceDelta {
    const delta = this.emptyDelta();
    for (const b of bundles) {
      if (b.team) this.each([b.team], SUBJECT.team, (t) => this.team(t));
      if (b.user) this.each([b.user], SUBJECT.user, (u) => this.user(u));
      if (b.teamMember) this.each([b.teamMember], SUBJECT.member, (m) => this.member(m));
      if (b.organization) this.each([b.organization], SUBJECT.org, (o) => this.org(o));
      this.each([b.key], SUBJECT.key, (k) => this.key(k, b.team, b.user, delta));
    }
    return this.numbered(delta);
  }

  /**
   * Keys just minted (agent runs' keys), read back outside the serial work of governance.ts: the
   * keys themselves always (nothing was spent on them yet, nothing is pending), what they draw on
   * only when no record holds it yet. A record held here has its spend base kept by the serial
   * table reads and the spend writer's commits, which this read may race: read before a commit and
   * applied after it, its base would lose that commit, or count it twice the other way round. A
   * record not held here has no spend pending on it, and the next sync reads it again anyway.
   */
  applyMinted(bundles: KeyBundle[]): GovernanceDelta {
    const delta = this.emptyDelta();
    for (const b of bundles) {
      if (b.team && this.existing('team', b.team.team_id) < 0) this.each([b.team], SUBJECT.team, (t) => this.team(t));
      if (b.user && this.existing('user', b.user.user_id) < 0) this.each([b.user], SUBJECT.user, (u) => this.user(u));
      if (b.teamMember && this.existing('member', memberId(b.teamMember.team_id, b.teamMember.user_id)) < 0) this.each([b.teamMember], SUBJECT.member, (m) => this.member(m));
      if (b.organization && this.existing('org', b.organization.organization_id) < 0) this.each([b.organization], SUBJECT.org, (o) => this.org(o));
      this.each([b.key], SUBJECT.key, (k) => this.key(k, b.team, b.user, delta));
    }
    return this.numbered(delta);
  }

  /**
   * Keys just blocked in the database, blocked here without reading them back: the workers refuse
   * them from now on. (Agent runs end by the dozen; each read-back was a multi-table read.)
   */
  blockKeys(tokens: string[]): void {
    for (const t of tokens) {
      const rec = this.existing('key', t);
      if (rec >= 0) this.entities.block(rec);
    }
  }

  /** A delta goes out: it takes the next sequence number (records it retired were tagged with it). */
  private numbered(delta: GovernanceDelta): GovernanceDelta {
    this.lastSeq++;
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
    for (const [id, n] of t.endUsers) {
      const rec = this.endUsers.resident.get(id);
      if (rec !== undefined) fn(rec, n);
      // Committed spend, even zero: the end user is in use (least recently used go first).
      this.endUsers.touch(id);
    }
  }
}

/**
 * `weir_strict_limits: true` in a key's or team's metadata (LiteLLM's tables have no column for
 * it): its rpm is decided by one Redis round trip per request, never by a lease held ahead.
 */
function strictLimits(meta: Json | null): boolean {
  return !!meta && typeof meta === 'object' && !Array.isArray(meta) && (meta as Record<string, unknown>).weir_strict_limits === true;
}

/** LiteLLM's allowlist: the key's metadata list when it has entries, else the team's; strings only. */
function passThroughRoutes(keyMeta: Json, teamMeta: Json | null): string[] {
  const own = keyMeta.allowed_passthrough_routes;
  const list = Array.isArray(own) && own.length ? own : teamMeta?.allowed_passthrough_routes;
  return Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : [];
}
