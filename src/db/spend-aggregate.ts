// Sums a batch of records into what the spend writer applies: one `spend = spend + Δ` per entity
// (as LiteLLM's SpendUpdateQueue aggregates them) and one increment per Daily* row key. Money
// stays integer nanos here; it becomes USD only in the SQL parameters.
import type { SpendRecord } from '../accounting/spend-record';
import { utcDate } from './spend-rows';

/** LiteLLM's id for a team member's spend entry (db_spend_update_writer.py). */
export const teamMemberKey = (teamId: string, userId: string): string => `team_id::${teamId}::user_id::${userId}`;

export interface EntityTotals {
  /** Key token hash → nanos. */
  keys: Map<string, number>;
  users: Map<string, number>;
  teams: Map<string, number>;
  /** teamMemberKey(team, user) → nanos. */
  teamMembers: Map<string, number>;
  orgs: Map<string, number>;
  endUsers: Map<string, number>;
  /** keyModelKey(token, model group) → nanos: the key's `model_spend`, per model. */
  keyModels: Map<string, number>;
}

/** The id of one (key, model group) entry of keyModels. */
export const keyModelKey = (token: string, model: string): string => `${token}\u0000${model}`;

export function emptyTotals(): EntityTotals {
  return { keys: new Map(), users: new Map(), teams: new Map(), teamMembers: new Map(), orgs: new Map(), endUsers: new Map(), keyModels: new Map() };
}

const add = (m: Map<string, number>, id: string, n: number): void => {
  m.set(id, (m.get(id) ?? 0) + n);
};

/** The master key and unauthenticated calls have no key row to charge. */
const NO_KEY_ROW = new Set(['', 'litellm_proxy_master_key']);

export interface AggregateOptions {
  /** User row that tracks the global proxy budget (`litellm-proxy-budget`) when one is set. */
  proxyBudgetUserId?: string;
}

export function entityTotals(records: SpendRecord[], opts: AggregateOptions = {}): EntityTotals {
  const t = emptyTotals();
  for (const r of records) addToTotals(t, r, opts);
  return t;
}

/** One record's spend added to every entity it charges. */
export function addToTotals(t: EntityTotals, r: SpendRecord, opts: AggregateOptions): void {
  const n = r.spend_nanos;
  if (!NO_KEY_ROW.has(r.api_key)) {
    add(t.keys, r.api_key, n);
    if (r.model_group && n !== 0) add(t.keyModels, keyModelKey(r.api_key, r.model_group), n);
  }
  if (r.user_id) add(t.users, r.user_id, n);
  if (opts.proxyBudgetUserId) add(t.users, opts.proxyBudgetUserId, n);
  if (r.team_id) {
    add(t.teams, r.team_id, n);
    if (r.user_id) add(t.teamMembers, teamMemberKey(r.team_id, r.user_id), n);
  }
  if (r.organization_id) add(t.orgs, r.organization_id, n);
  // End users are counted even at zero cost: the control thread takes it as activity (a row is
  // created only by a spend, see applyEntityTotals).
  if (r.end_user) add(t.endUsers, r.end_user, n);
}

/** Two sets of totals summed into a new one. */
export function sumTotals(a: EntityTotals, b: EntityTotals): EntityTotals {
  const t = emptyTotals();
  for (const from of [a, b]) {
    for (const k of Object.keys(t) as (keyof EntityTotals)[]) for (const [id, n] of from[k]) add(t[k], id, n);
  }
  return t;
}

export type DailyTable = 'LiteLLM_DailyUserSpend' | 'LiteLLM_DailyTeamSpend' | 'LiteLLM_DailyOrganizationSpend' | 'LiteLLM_DailyEndUserSpend' | 'LiteLLM_DailyTagSpend';

export const DAILY_ENTITY_COLUMN: Record<DailyTable, string> = {
  LiteLLM_DailyUserSpend: 'user_id',
  LiteLLM_DailyTeamSpend: 'team_id',
  LiteLLM_DailyOrganizationSpend: 'organization_id',
  LiteLLM_DailyEndUserSpend: 'end_user_id',
  LiteLLM_DailyTagSpend: 'tag',
};

/** One increment of one Daily* row: key columns plus counters. */
export interface DailyItem {
  key: Record<string, string>;
  model_group: string;
  prompt_tokens: number;
  completion_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  spend_nanos: number;
  api_requests: number;
  successful_requests: number;
  failed_requests: number;
}

function item(entityCol: string, entity: string, date: string, r: SpendRecord): DailyItem {
  return {
    key: {
      [entityCol]: entity,
      date,
      api_key: r.api_key,
      model: r.model,
      custom_llm_provider: r.custom_llm_provider,
      // Non-null so the 7-column unique key can match (NULLs never conflict in Postgres).
      mcp_namespaced_tool_name: '',
      endpoint: '',
    },
    model_group: r.model_group,
    prompt_tokens: 0,
    completion_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    spend_nanos: 0,
    api_requests: 0,
    successful_requests: 0,
    failed_requests: 0,
  };
}

function count(it: DailyItem, r: SpendRecord): void {
  const ok = r.status === 'success';
  it.prompt_tokens += r.prompt_tokens;
  it.completion_tokens += r.completion_tokens;
  it.cache_read_input_tokens += r.cache_read_input_tokens;
  it.cache_creation_input_tokens += r.cache_creation_input_tokens;
  it.spend_nanos += r.spend_nanos;
  it.api_requests += 1;
  if (ok) it.successful_requests += 1;
  else it.failed_requests += 1;
}

const DAY_MS = 86_400_000;

/**
 * Per Daily* table, a batch folded on the full row key (entity, UTC date, key, model, provider)
 * as its records are added: one item per distinct row, not per record. The date string is made
 * once per day the batch spans. mergeDaily then folds these on the table's real key (shorter in
 * older LiteLLM databases); the first record of a row gives its model_group.
 */
export class DailyFold {
  private readonly folds = new Map<DailyTable, Map<string, DailyItem>>(Object.keys(DAILY_ENTITY_COLUMN).map((t) => [t as DailyTable, new Map()]));
  private day = NaN;
  private date = '';

  add(r: SpendRecord): void {
    const d = Math.floor(r.start_ms / DAY_MS);
    if (d !== this.day) {
      this.day = d;
      this.date = utcDate(r.start_ms);
    }
    // Every record, as LiteLLM does: a key without a user counts under user_id '' (SpendLogs'
    // "user" for it), so the daily table holds all of the installation's spend.
    this.fold('LiteLLM_DailyUserSpend', r.user_id, r);
    if (r.team_id) this.fold('LiteLLM_DailyTeamSpend', r.team_id, r);
    if (r.organization_id) this.fold('LiteLLM_DailyOrganizationSpend', r.organization_id, r);
    if (r.end_user) this.fold('LiteLLM_DailyEndUserSpend', r.end_user, r);
    if (r.request_tags.length) for (const tag of new Set(r.request_tags)) this.fold('LiteLLM_DailyTagSpend', tag, r);
  }

  /** The items of each table, in the order their rows were first met. */
  items(): Map<DailyTable, DailyItem[]> {
    const out = new Map<DailyTable, DailyItem[]>();
    for (const [table, m] of this.folds) out.set(table, [...m.values()]);
    return out;
  }

  private fold(table: DailyTable, entity: string, r: SpendRecord): void {
    const m = this.folds.get(table)!;
    // NUL cannot be in a cleaned value (spend-rows.ts): it separates the parts unambiguously.
    const k = `${entity}\u0000${this.date}\u0000${r.api_key}\u0000${r.model}\u0000${r.custom_llm_provider}`;
    let it = m.get(k);
    if (!it) m.set(k, (it = item(DAILY_ENTITY_COLUMN[table], entity, this.date, r)));
    count(it, r);
  }
}

/**
 * Merges items that fall on the same row of the table as it really is: `keyColumns` is the
 * table's unique key (older LiteLLM databases have a shorter one). One statement must never
 * touch a row twice, so this merge is what makes a multi-row upsert legal.
 */
export function mergeDaily(items: DailyItem[], keyColumns: string[]): DailyItem[] {
  const m = new Map<string, DailyItem>();
  for (const it of items) {
    const k = JSON.stringify(keyColumns.map((c) => it.key[c] ?? null));
    const cur = m.get(k);
    if (!cur) {
      m.set(k, { ...it, key: { ...it.key } });
      continue;
    }
    cur.prompt_tokens += it.prompt_tokens;
    cur.completion_tokens += it.completion_tokens;
    cur.cache_read_input_tokens += it.cache_read_input_tokens;
    cur.cache_creation_input_tokens += it.cache_creation_input_tokens;
    cur.spend_nanos += it.spend_nanos;
    cur.api_requests += it.api_requests;
    cur.successful_requests += it.successful_requests;
    cur.failed_requests += it.failed_requests;
  }
  return [...m.values()];
}
