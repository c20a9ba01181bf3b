// The checks LiteLLM makes before a call, in LiteLLM's order and with its status codes and
// messages, decided from the shared entity table and the worker's governance view: blocked,
// expiry, model access, budgets (reserve-then-settle) and rpm / tpm / parallel limits.
import type { EntityTable, LimitKind } from '../state/entity-table';
import { FLAG_BLOCKED, FLAG_LIVE } from '../state/entity-table';
import { GatewayError } from './errors';
import { wildcard } from './model-groups';
import type { KeyProfile, ModelLimit } from './governance';
import { describeReservation, type Reservation } from './reservation';
import { LeaseSpent } from './lease-spent';

const NANOS = 1e9;

function usd(nanos: bigint): string {
  return String(Number(nanos) / NANOS);
}

/** LiteLLM's model-access rule for one list (key or team). Empty means no restriction. */
export function modelAllowed(list: string[], model: string, accessGroups: Map<string, Set<string>>): boolean {
  if (list.length === 0) return true;
  for (const entry of list) {
    if (entry === model || entry === 'all-proxy-models' || entry === '*') return true;
    if (entry.endsWith('*') && model.startsWith(entry.slice(0, -1))) return true;
    const members = accessGroups.get(entry);
    if (members && (members.has(model) || matchesWildcardMember(members, model))) return true;
  }
  return false;
}

/** An access group may hold wildcard deployments (`anthropic/*`): they grant every name they match. */
function matchesWildcardMember(members: Set<string>, model: string): boolean {
  for (const m of members) if (m.includes('*') && wildcard(m).test(model)) return true;
  return false;
}

/** Whether the key's own list (with all-team-models expanded) admits the model. */
export function modelAllowedForKey(p: KeyProfile, model: string, accessGroups: Map<string, Set<string>>): boolean {
  return modelAllowed(p.models.includes('all-team-models') ? p.teamModels : p.models, model, accessGroups);
}

/** A list as LiteLLM prints it in messages (Python's repr): ['a', 'b']. */
function pyList(list: string[]): string {
  return `[${list.map((m) => `'${m}'`).join(', ')}]`;
}

/** Blocked, deleted and expired keys, and blocked teams: the checks that do not depend on a model. */
export function checkKeyStatus(table: EntityTable, p: KeyProfile, nowMs: number): void {
  const flags = table.flags(p.record);
  if (!(flags & FLAG_LIVE)) throw new GatewayError(401, 'Authentication Error, Invalid proxy server token passed. Unable to find token in cache or `LiteLLM_VerificationTokenTable`', 'auth_error');
  if (flags & FLAG_BLOCKED) throw new GatewayError(401, "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.", 'auth_error');
  const exp = table.expiresSec(p.record);
  if (exp > 0 && exp * 1000 <= nowMs) {
    throw new GatewayError(401, `Authentication Error - Expired Key. Key Expiry time ${new Date(exp * 1000).toISOString()} and current time ${new Date(nowMs).toISOString()}`, 'expired_key');
  }
  if (p.teamRecord >= 0 && table.flags(p.teamRecord) & FLAG_BLOCKED) {
    throw new GatewayError(401, `Authentication Error, Team=${p.teamId} is blocked. Update via \`/team/unblock\` if you're an admin.`, 'auth_error');
  }
}

/** Everything LiteLLM checks about a key before a call to `model`, in LiteLLM's order. */
export function checkKey(table: EntityTable, p: KeyProfile, model: string, accessGroups: Map<string, Set<string>>, nowMs: number): void {
  const flags = table.flags(p.record);
  if (!(flags & FLAG_LIVE) || flags & FLAG_BLOCKED) checkKeyStatus(table, p, nowMs);
  checkKeyModel(p, model, accessGroups);
  checkKeyStatus(table, p, nowMs);
  checkTeamModel(p, model, accessGroups);
}

/** The key's own model list admits `model` (LiteLLM checks client fallbacks the same way). */
export function checkKeyModel(p: KeyProfile, model: string, accessGroups: Map<string, Set<string>>): void {
  const keyModels = p.models.includes('all-team-models') ? p.teamModels : p.models;
  if (!modelAllowed(keyModels, model, accessGroups)) {
    throw new GatewayError(403, `key not allowed to access model. This key can only access models=${pyList(keyModels)}. Tried to access ${model}`, 'key_model_access_denied', 'model');
  }
}

/** The key's team, if any, admits `model`. */
export function checkTeamModel(p: KeyProfile, model: string, accessGroups: Map<string, Set<string>>): void {
  if (p.teamRecord >= 0 && !modelAllowed(p.teamModels, model, accessGroups)) {
    throw new GatewayError(403, `team not allowed to access model. This team can only access models=${pyList(p.teamModels)}. Tried to access ${model}`, 'team_model_access_denied', 'model');
  }
}

/** One entity a request is charged to, and how to name it in an error. */
interface Charged {
  readonly rec: number;
  /** The budget error's message (its spend and budget given in USD). */
  readonly describe: (spendUsd: string, maxUsd: string) => string;
  /** rate-limit descriptor (x-ratelimit-<descriptor>-…), or null when limits are not checked for it. */
  readonly descriptor: string | null;
  readonly value: string;
}

const MAX_CHARGED = 9;

/**
 * Charges of this worker that are not settled yet. A call settles its charge however it ends; a
 * worker that retires settles what is left here (as costing nothing) once it serves no request,
 * so a bug or a lost call can never hold a budget reservation or a parallel slot forever.
 *
 * An array, each charge knowing its slot (a settled one's place goes to the last), not a Set: a
 * Set holding a call or two builds a new table as it shrinks and grows back on every delete and
 * add, and a sampling heap profile found those tables (about 120 bytes a governed request) freed
 * only by mark-compacts (PERF.md). Pushing and popping an array allocates nothing.
 */
const live: Charge[] = [];

/** Settles every charge still held (worker retirement); returns how many there were. */
export function releaseLiveCharges(nowMs: number): number {
  const n = live.length;
  for (const c of [...live]) c.settle(0n, 0, nowMs);
  return n;
}

/**
 * What a request holds on the shared counters between admission and its end: the reservation on
 * every budgeted entity and its slot in every rate limit. settle() gives them back exactly once.
 */
export class Charge {
  private readonly recs: number[] = [];
  private readonly admitted: number[] = [];
  private reserved = 0n;
  private done = false;
  /** Its index in `live` while held, else -1. */
  private slot = -1;

  constructor(private readonly table: EntityTable) {}

  /** Rate limits first (a refused request reserves nothing), then budgets; all or nothing. */
  acquire(charged: Charged[], reservation: Reservation | bigint, nowMs: number): void {
    const reserveNanos = typeof reservation === 'bigint' ? reservation : reservation.nanos;
    for (const c of charged) {
      if (c.descriptor === null) continue;
      const refused = this.table.admit(c.rec, nowMs);
      if (refused) {
        this.releaseLimits(nowMs);
        const err = rateLimitError(this.table, c, refused, nowMs);
        // This instance's share of an rpm or tpm leased across instances is spent, not the limit itself.
        if (refused !== 'max_parallel_requests' && this.table.lease(c.rec, refused, Math.floor(nowMs / 60_000)) >= 0) throw new LeaseSpent(err, c.rec, null, refused);
        throw err;
      }
      this.admitted.push(c.rec);
    }
    for (const c of charged) {
      if (!this.table.reserve(c.rec, reserveNanos)) {
        for (const r of this.recs) this.table.settle(r, reserveNanos, 0n);
        this.recs.length = 0;
        this.releaseLimits(nowMs);
        // LiteLLM's message, then what this call reserved (a budget may refuse a call before spend reaches it).
        const why = typeof reservation === 'bigint' ? '' : `. ${describeReservation(reservation)}`;
        const err = new GatewayError(429, c.describe(usd(this.table.spendNanos(c.rec)), usd(this.table.maxBudgetNanos(c.rec))) + why, 'budget_exceeded');
        // This instance's grants of a budget shared across instances are spent, maybe not the budget.
        if (this.table.budgetLease(c.rec) >= 0n && this.table.budgetHeadroom(c.rec) < reserveNanos) throw new LeaseSpent(err, c.rec, reserveNanos);
        throw err;
      }
      this.recs.push(c.rec);
    }
    this.reserved = reserveNanos;
    if (this.slot < 0) {
      this.slot = live.length;
      live.push(this);
    }
  }

  private releaseLimits(nowMs: number): void {
    for (const r of this.admitted) this.table.release(r, 0, nowMs);
    this.admitted.length = 0;
  }

  /** The request is over: it cost `actualNanos` and used `tokens`. */
  settle(actualNanos: bigint, tokens: number, nowMs: number): void {
    if (this.done) return;
    this.done = true;
    if (this.slot >= 0) {
      const last = live.pop()!;
      if (last !== this) {
        live[this.slot] = last;
        last.slot = this.slot;
      }
      this.slot = -1;
    }
    for (const r of this.recs) this.table.settle(r, this.reserved, actualNanos);
    for (const r of this.admitted) this.table.release(r, tokens, nowMs);
  }
}

function rateLimitError(table: EntityTable, c: Charged, kind: LimitKind, nowMs: number): GatewayError {
  const windowEnd = (Math.floor(nowMs / 60_000) + 1) * 60_000;
  const resetAt = new Date(windowEnd).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  const retryAfter = kind === 'max_parallel_requests' ? 1 : Math.max(1, Math.ceil((windowEnd - nowMs) / 1000));
  return new GatewayError(
    429,
    `Rate limit exceeded for ${c.descriptor}: ${c.value}. Limit type: ${kind}. Current limit: ${table.limit(c.rec, kind)}, Remaining: 0. Limit resets at: ${resetAt}`,
    'rate_limit_error',
    null,
    ['retry-after', String(retryAfter), 'rate_limit_type', kind, 'reset_at', resetAt],
  );
}

/** LiteLLM's budget message: what is over, then its spend and budget. */
const over = (what: string) => (spend: string, max: string) => `${what} Current cost: ${spend}, Max budget: ${max}`;

/**
 * The entities a key's request is charged to, in LiteLLM's check order. `model` is the name the
 * request asked for: the key's per-model limits for it are charged right after the key.
 */
export function chargedEntities(p: KeyProfile | null, endUser: { id: string; rec: number } | null, globalRecord: number, model?: string): Charged[] {
  const out: Charged[] = [];
  const own = p ? keyEntitiesOf(p) : null;
  if (p && own) {
    out.push(own.key);
    if (p.modelLimits && model !== undefined) pushModelEntities(out, p, p.modelLimits, model);
    for (const c of own.rest) out.push(c);
  }
  if (endUser) out.push({ rec: endUser.rec, descriptor: 'end_user', value: endUser.id, describe: over(`ExceededBudget: End User=${endUser.id} over budget.`) });
  if (own?.org) out.push(own.org);
  if (globalRecord >= 0) out.push(globalEntity(globalRecord));
  if (out.length > MAX_CHARGED) throw new Error('unreachable');
  return out;
}

/** What a key's requests are all charged to, whatever they ask: its own entities, in LiteLLM's order. */
interface KeyEntities {
  key: Charged;
  /** Team member, team, user (after the key's per-model limits). */
  rest: Charged[];
  /** After the end user. */
  org: Charged | null;
}

/**
 * Built once per profile (a profile is replaced, not changed, when the control thread sends a
 * delta, so an entry never goes stale and goes with its profile): a request allocates no entity,
 * message or closure for them.
 */
const keyEntities = new WeakMap<KeyProfile, KeyEntities>();

function keyEntitiesOf(p: KeyProfile): KeyEntities {
  let e = keyEntities.get(p);
  if (e) return e;
  const name = p.keyAlias ?? p.tokenHash;
  const rest: Charged[] = [];
  if (p.memberRecord >= 0) {
    rest.push({ rec: p.memberRecord, descriptor: 'team_member', value: `${p.teamId}:${p.userId}`, describe: over(`Budget has been exceeded! Team Member=${p.userId} in Team=${p.teamId}`) });
  }
  if (p.teamRecord >= 0) rest.push({ rec: p.teamRecord, descriptor: 'team', value: p.teamId!, describe: over(`Budget has been exceeded! Team=${p.teamId}`) });
  if (p.userRecord >= 0) rest.push({ rec: p.userRecord, descriptor: 'user', value: p.userId!, describe: over(`ExceededBudget: User=${p.userId} over budget.`) });
  e = {
    key: { rec: p.record, descriptor: 'api_key', value: p.tokenHash, describe: over(`Budget has been exceeded! Key=${name}`) },
    rest,
    org: p.orgRecord >= 0 ? { rec: p.orgRecord, descriptor: null, value: p.orgId!, describe: over(`Budget has been exceeded! Organization=${p.orgId}`) } : null,
  };
  keyEntities.set(p, e);
  return e;
}

let globalCharged: Charged | null = null;
/** The global proxy budget's entity (its record only changes with the config). */
function globalEntity(rec: number): Charged {
  if (globalCharged?.rec !== rec) globalCharged = { rec, descriptor: null, value: 'global', describe: over('ExceededBudget: LiteLLM Proxy has exceeded its budget.') };
  return globalCharged;
}

/**
 * The key's limits for `model`, as LiteLLM matches them: model_rpm_limit / model_tpm_limit on the
 * exact name asked for (descriptor model_per_key); model_max_budget on that name, else on it
 * without its `provider/` prefix. When both land on one record it is charged once.
 */
function pushModelEntities(out: Charged[], p: KeyProfile, limits: Record<string, ModelLimit>, model: string): void {
  const own = (m: string): ModelLimit | undefined => (Object.hasOwn(limits, m) ? limits[m] : undefined);
  const exact = own(model);
  const rate = exact?.rate ? exact : undefined;
  const bare = model.slice(model.lastIndexOf('/') + 1);
  const budget = exact?.budget ? exact : bare !== model && own(bare)?.budget ? own(bare) : undefined;
  const exceeded = () => `LiteLLM Virtual Key: ${p.tokenHash}, key_alias: ${p.keyAlias ?? 'None'}, exceeded budget for model=${model}`;
  if (rate) out.push({ rec: rate.rec, descriptor: 'model_per_key', value: `${p.tokenHash}:${model}`, describe: exceeded });
  if (budget && budget !== rate) out.push({ rec: budget.rec, descriptor: null, value: `${p.tokenHash}:${model}`, describe: exceeded });
}
