// The control thread's side of governance: it turns the rows read from LiteLLM's tables into the
// shared entity records, the shared key index and the profiles workers keep, and tells workers
// what changed. It is the only writer of all three. Spend read from the database becomes each
// record's "base"; what workers settled since lives in "pending" until the spend writer commits it.
//
// Each row is applied on its own: a row that cannot be applied, or that holds values the shared
// counters cannot (clamped, see src/state/entity-range.ts), is logged once and never stops the
// others. Keys come right after the rows their profiles point at, before end users, so nothing
// about end users can hold back a block or a budget cut on a key.
import type { GovernanceDelta, GovernanceState, KeyProfile } from '../gateway/governance';
import { EntityTable, type EntityLimits } from '../state/entity-table';
import { MAX_RATE_LIMIT } from '../state/entity-range';
import { KeyIndex } from '../state/key-index';
import type { EntityTotals } from '../db/spend-aggregate';
import type { CommittedTotals } from '../db/spend-writer';
import type { GovernanceState as DbState, KeyBundle } from '../db/queries';
import type { BudgetRow, EndUserRow, KeyRow, OrganizationRow, TeamMemberRow, TeamRow, UserRow } from '../db/rows';
import { ProblemLog } from './problem-log';

const NANOS = 1e9;
export const ENTITY_CAPACITY = 1 << 17;
export const KEY_INDEX_SLOTS = 1 << 17;

type Kind = 'key' | 'team' | 'user' | 'member' | 'end_user' | 'org';

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
}

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
  private globalRecord = -1;
  private readonly problems: ProblemLog;

  constructor(globalBudgetUsd: number | null, opts: StoreOptions = {}) {
    this.problems = new ProblemLog(opts.onProblem ?? (() => {}));
    if (globalBudgetUsd !== null) {
      // LiteLLM tracks the global proxy budget on a user row of this id; the spend writer charges it.
      this.globalRecord = this.recordFor('user', PROXY_BUDGET_USER);
      this.entities.setLimits(this.globalRecord, limits({ max_budget: globalBudgetUsd, rpm_limit: null, tpm_limit: null, max_parallel_requests: null }));
    }
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

  private team(t: TeamRow): string[] {
    return this.write(this.recordFor('team', t.team_id), limits(t, { blocked: t.blocked }), t.spend);
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

  private endUser(e: EndUserRow, delta: GovernanceDelta): string[] {
    const rec = this.recordFor('end_user', e.user_id);
    const clamped = this.write(rec, limits(e.budget ?? NO_BUDGET, { blocked: e.blocked }), e.spend);
    if (this.endUsers.get(e.user_id) !== rec) {
      this.endUsers.set(e.user_id, rec);
      delta.endUsers.push([e.user_id, rec]);
    }
    return clamped;
  }

  private key(k: KeyRow, team: TeamRow | null, user: UserRow | null, delta: GovernanceDelta): string[] {
    const rec = this.recordFor('key', k.token);
    const clamped = this.write(rec, limits(k, { expiresMs: k.expires ? k.expires.getTime() : null, blocked: k.blocked }), k.spend);
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
    };
    const sig = JSON.stringify(profile);
    if (this.profiles.get(k.token)?.sig !== sig) {
      this.profiles.set(k.token, { profile, sig });
      delta.keys.push(profile);
    }
    return clamped;
  }

  private removeKey(token: string, delta: GovernanceDelta): void {
    const p = this.profiles.get(token);
    if (!p) return;
    this.index.delete(Buffer.from(token, 'hex'));
    this.entities.retire(p.profile.record);
    this.profiles.delete(token);
    this.problems.solved(keySubject(token));
    delta.removedKeys.push(p.profile.record);
  }

  private emptyDelta(): GovernanceDelta {
    return { keys: [], removedKeys: [], endUsers: [], removedEndUsers: [], globalRecord: this.globalRecord };
  }

  /** Applies a full read of the tables; returns what workers must learn (null if nothing). */
  applyAll(s: DbState): GovernanceDelta | null {
    const delta = this.emptyDelta();
    const teams = new Map(s.teams.map((t) => [t.team_id, t]));
    const users = new Map(s.users.map((u) => [u.user_id, u]));
    // What key profiles point at first, then keys, then end users.
    this.each(s.teams, (t) => `team ${shown(t.team_id)}`, (t) => this.team(t));
    this.each(s.users, (u) => `user ${shown(u.user_id)}`, (u) => this.user(u));
    this.each(s.teamMembers, (m) => `team member ${shown(m.user_id)} of team ${shown(m.team_id)}`, (m) => this.member(m));
    this.each(s.organizations, (o) => `organization ${shown(o.organization_id)}`, (o) => this.org(o));
    const seen = new Set<string>();
    this.each(s.keys, (k) => keySubject(k.token), (k) => {
      // Seen even if it fails below: a key that cannot be updated keeps what workers have.
      seen.add(k.token);
      return this.key(k, k.team_id ? (teams.get(k.team_id) ?? null) : null, k.user_id ? (users.get(k.user_id) ?? null) : null, delta);
    });
    for (const token of [...this.profiles.keys()]) if (!seen.has(token)) this.removeKey(token, delta);
    this.each(s.endUsers, (e) => `end_user ${shown(e.user_id)}`, (e) => this.endUser(e, delta));
    const present = new Set(s.endUsers.map((e) => e.user_id));
    for (const [id, rec] of [...this.endUsers]) {
      if (!present.has(id)) {
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
    if (b.team) this.each([b.team], (t) => `team ${shown(t.team_id)}`, (t) => this.team(t));
    if (b.user) this.each([b.user], (u) => `user ${shown(u.user_id)}`, (u) => this.user(u));
    if (b.teamMember) this.each([b.teamMember], (m) => `team member ${shown(m.user_id)} of team ${shown(m.team_id)}`, (m) => this.member(m));
    if (b.organization) this.each([b.organization], (o) => `organization ${shown(o.organization_id)}`, (o) => this.org(o));
    this.each([b.key], (k) => keySubject(k.token), (k) => this.key(k, b.team, b.user, delta));
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
