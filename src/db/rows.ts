// Governance rows as the control thread holds them: plain typed objects made from LiteLLM's
// tables. Spend is a number (USD), limits are number | null, times are Date | null, lists are
// string[] and JSON columns objects. A column an older database lacks reads as its default.
export type Json = Record<string, unknown>;

export interface BudgetRow {
  budget_id: string;
  max_budget: number | null;
  soft_budget: number | null;
  max_parallel_requests: number | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  model_max_budget: Json | null;
  budget_duration: string | null;
  budget_reset_at: Date | null;
  /** Per-member model scope; empty = inherit the team's models. */
  allowed_models: string[];
}

export interface KeyRow {
  /** sha256 hex of the key. */
  token: string;
  key_name: string | null;
  key_alias: string | null;
  spend: number;
  /** The key's own value, else its budget row's (LiteLLM_VerificationTokenView). */
  max_budget: number | null;
  /** From the key's budget row (keys have no soft_budget column). */
  soft_budget: number | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
  budget_duration: string | null;
  budget_reset_at: Date | null;
  expires: Date | null;
  blocked: boolean;
  models: string[];
  aliases: Json;
  config: Json;
  metadata: Json;
  permissions: Json;
  allowed_routes: string[];
  /** Newer schemas keep the key_type of /key/generate (llm_api, management, read_only, default); else null. */
  key_type: string | null;
  allowed_cache_controls: string[];
  /** The key's own, else its budget row's when the key's is empty. */
  model_max_budget: Json;
  model_spend: Json;
  soft_budget_cooldown: boolean;
  user_id: string | null;
  team_id: string | null;
  organization_id: string | null;
  project_id: string | null;
  agent_id: string | null;
  budget_id: string | null;
  created_at: Date | null;
  updated_at: Date | null;
}

export interface TeamRow {
  team_id: string;
  team_alias: string | null;
  organization_id: string | null;
  spend: number;
  max_budget: number | null;
  soft_budget: number | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
  budget_duration: string | null;
  budget_reset_at: Date | null;
  blocked: boolean;
  models: string[];
  metadata: Json;
  /** `[{role, user_id, user_email}]` in practice (the column defaults to `{}`). */
  members_with_roles: unknown[];
  model_max_budget: Json;
  router_settings: Json | null;
  /** Team model aliases (`LiteLLM_ModelTable.aliases` through `model_id`). */
  model_aliases: Json | null;
  updated_at: Date | null;
}

export interface TeamMemberRow {
  team_id: string;
  user_id: string;
  spend: number;
  /** Lifetime spend, never reset; null where the column does not exist yet. */
  total_spend: number | null;
  budget_id: string | null;
  /** The member's budget / rpm / tpm. */
  budget: BudgetRow | null;
}

export interface UserRow {
  user_id: string;
  user_alias: string | null;
  user_email: string | null;
  user_role: string | null;
  team_id: string | null;
  teams: string[];
  organization_id: string | null;
  spend: number;
  max_budget: number | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
  budget_duration: string | null;
  budget_reset_at: Date | null;
  models: string[];
  metadata: Json;
  model_max_budget: Json;
  updated_at: Date | null;
}

export interface EndUserRow {
  user_id: string;
  alias: string | null;
  spend: number;
  blocked: boolean;
  allowed_model_region: string | null;
  default_model: string | null;
  budget_id: string | null;
  budget: BudgetRow | null;
}

export interface OrganizationRow {
  organization_id: string;
  organization_alias: string | null;
  budget_id: string | null;
  spend: number;
  models: string[];
  metadata: Json;
  model_spend: Json;
  budget: BudgetRow | null;
}

type Raw = Record<string, unknown>;

export const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number.isFinite(Number(v)) ? Number(v) : null);
export const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
export const date = (v: unknown): Date | null => (v instanceof Date ? v : v === null || v === undefined ? null : new Date(String(v)));
export const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => x !== null && x !== undefined).map(String) : []);
export const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const objOrNull = (v: unknown): Json | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const isEmpty = (o: Json | null): boolean => !o || Object.keys(o).length === 0;

// The columns each converter reads. Queries select the ones the database has.
export const BUDGET_COLUMNS = ['budget_id', 'max_budget', 'soft_budget', 'max_parallel_requests', 'tpm_limit', 'rpm_limit', 'model_max_budget', 'budget_duration', 'budget_reset_at', 'allowed_models'];
export const KEY_COLUMNS = [
  'token', 'key_name', 'key_alias', 'spend', 'max_budget', 'tpm_limit', 'rpm_limit', 'max_parallel_requests', 'budget_duration',
  'budget_reset_at', 'expires', 'blocked', 'models', 'aliases', 'config', 'metadata', 'permissions', 'allowed_routes', 'key_type',
  'allowed_cache_controls', 'model_max_budget', 'model_spend', 'soft_budget_cooldown', 'user_id', 'team_id', 'organization_id',
  'project_id', 'agent_id', 'budget_id', 'created_at', 'updated_at',
];
export const TEAM_COLUMNS = [
  'team_id', 'team_alias', 'organization_id', 'spend', 'max_budget', 'soft_budget', 'tpm_limit', 'rpm_limit', 'max_parallel_requests',
  'budget_duration', 'budget_reset_at', 'blocked', 'models', 'metadata', 'members_with_roles', 'model_max_budget', 'router_settings',
  'model_id', 'updated_at',
];
export const MEMBER_COLUMNS = ['team_id', 'user_id', 'spend', 'total_spend', 'budget_id'];
export const USER_COLUMNS = [
  'user_id', 'user_alias', 'user_email', 'user_role', 'team_id', 'teams', 'organization_id', 'spend', 'max_budget', 'tpm_limit',
  'rpm_limit', 'max_parallel_requests', 'budget_duration', 'budget_reset_at', 'models', 'metadata', 'model_max_budget', 'updated_at',
];
export const END_USER_COLUMNS = ['user_id', 'alias', 'spend', 'blocked', 'allowed_model_region', 'default_model', 'budget_id'];
export const ORG_COLUMNS = ['organization_id', 'organization_alias', 'budget_id', 'spend', 'models', 'metadata', 'model_spend'];

export function toBudget(r: Raw): BudgetRow {
  return {
    budget_id: String(r.budget_id),
    max_budget: num(r.max_budget),
    soft_budget: num(r.soft_budget),
    max_parallel_requests: num(r.max_parallel_requests),
    tpm_limit: num(r.tpm_limit),
    rpm_limit: num(r.rpm_limit),
    model_max_budget: objOrNull(r.model_max_budget),
    budget_duration: str(r.budget_duration),
    budget_reset_at: date(r.budget_reset_at),
    allowed_models: list(r.allowed_models),
  };
}

/** A key row, with null limits filled from its budget row as LiteLLM's auth view does. */
export function toKey(r: Raw, budget: BudgetRow | null): KeyRow {
  const own = obj(r.model_max_budget);
  return {
    token: String(r.token),
    key_name: str(r.key_name),
    key_alias: str(r.key_alias),
    spend: num(r.spend) ?? 0,
    max_budget: num(r.max_budget) ?? budget?.max_budget ?? null,
    soft_budget: budget?.soft_budget ?? null,
    tpm_limit: num(r.tpm_limit) ?? budget?.tpm_limit ?? null,
    rpm_limit: num(r.rpm_limit) ?? budget?.rpm_limit ?? null,
    max_parallel_requests: num(r.max_parallel_requests),
    budget_duration: str(r.budget_duration),
    budget_reset_at: date(r.budget_reset_at),
    expires: date(r.expires),
    blocked: r.blocked === true,
    models: list(r.models),
    aliases: obj(r.aliases),
    config: obj(r.config),
    metadata: obj(r.metadata),
    permissions: obj(r.permissions),
    allowed_routes: list(r.allowed_routes),
    key_type: str(r.key_type),
    allowed_cache_controls: list(r.allowed_cache_controls),
    model_max_budget: isEmpty(own) && budget?.model_max_budget ? budget.model_max_budget : own,
    model_spend: obj(r.model_spend),
    soft_budget_cooldown: r.soft_budget_cooldown === true,
    user_id: str(r.user_id),
    team_id: str(r.team_id),
    organization_id: str(r.organization_id),
    project_id: str(r.project_id),
    agent_id: str(r.agent_id),
    budget_id: str(r.budget_id),
    created_at: date(r.created_at),
    updated_at: date(r.updated_at),
  };
}

export function toTeam(r: Raw, modelAliases: Map<number, Json | null>): TeamRow {
  const modelId = num(r.model_id);
  return {
    team_id: String(r.team_id),
    team_alias: str(r.team_alias),
    organization_id: str(r.organization_id),
    spend: num(r.spend) ?? 0,
    max_budget: num(r.max_budget),
    soft_budget: num(r.soft_budget),
    tpm_limit: num(r.tpm_limit),
    rpm_limit: num(r.rpm_limit),
    max_parallel_requests: num(r.max_parallel_requests),
    budget_duration: str(r.budget_duration),
    budget_reset_at: date(r.budget_reset_at),
    blocked: r.blocked === true,
    models: list(r.models),
    metadata: obj(r.metadata),
    members_with_roles: Array.isArray(r.members_with_roles) ? r.members_with_roles : [],
    model_max_budget: obj(r.model_max_budget),
    router_settings: objOrNull(r.router_settings),
    model_aliases: modelId === null ? null : (modelAliases.get(modelId) ?? null),
    updated_at: date(r.updated_at),
  };
}

export function toMember(r: Raw, budget: BudgetRow | null): TeamMemberRow {
  return {
    team_id: String(r.team_id),
    user_id: String(r.user_id),
    spend: num(r.spend) ?? 0,
    total_spend: num(r.total_spend),
    budget_id: str(r.budget_id),
    budget,
  };
}

export function toUser(r: Raw): UserRow {
  return {
    user_id: String(r.user_id),
    user_alias: str(r.user_alias),
    user_email: str(r.user_email),
    user_role: str(r.user_role),
    team_id: str(r.team_id),
    teams: list(r.teams),
    organization_id: str(r.organization_id),
    spend: num(r.spend) ?? 0,
    max_budget: num(r.max_budget),
    tpm_limit: num(r.tpm_limit),
    rpm_limit: num(r.rpm_limit),
    max_parallel_requests: num(r.max_parallel_requests),
    budget_duration: str(r.budget_duration),
    budget_reset_at: date(r.budget_reset_at),
    models: list(r.models),
    metadata: obj(r.metadata),
    model_max_budget: obj(r.model_max_budget),
    updated_at: date(r.updated_at),
  };
}

export function toEndUser(r: Raw, budget: BudgetRow | null): EndUserRow {
  return {
    user_id: String(r.user_id),
    alias: str(r.alias),
    spend: num(r.spend) ?? 0,
    blocked: r.blocked === true,
    allowed_model_region: str(r.allowed_model_region),
    default_model: str(r.default_model),
    budget_id: str(r.budget_id),
    budget,
  };
}

export function toOrganization(r: Raw, budget: BudgetRow | null): OrganizationRow {
  return {
    organization_id: String(r.organization_id),
    organization_alias: str(r.organization_alias),
    budget_id: str(r.budget_id),
    spend: num(r.spend) ?? 0,
    models: list(r.models),
    metadata: obj(r.metadata),
    model_spend: obj(r.model_spend),
    budget,
  };
}
