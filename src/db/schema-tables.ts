// The tables Weir uses, written as LiteLLM's Prisma migrations create them (schema.prisma at
// BerriAI/litellm 029f645f; index names as the litellm-proxy-extras migrations spell them, which
// is how Prisma truncates names past Postgres' 63 characters). Prisma → SQL: String TEXT,
// Float DOUBLE PRECISION, Int INTEGER, BigInt BIGINT, Boolean BOOLEAN, DateTime TIMESTAMP(3) (UTC,
// no zone), Json JSONB, String[] TEXT[] (nullable, as Prisma emits it). `@default(uuid())` and
// `@updatedAt` are client-side in Prisma: those columns have no SQL default and writers supply
// them. Foreign keys are those between tables listed here, with Prisma's default actions
// (optional relation: ON DELETE SET NULL; required: RESTRICT; ON UPDATE CASCADE).
//
// Column lines read `name TYPE [NOT NULL] [DEFAULT expr]`; schema.ts turns them into DDL and
// tests compare them with information_schema.

import { AGENT_TABLE_DEFS } from './schema-agent-tables';

export interface IndexSpec {
  name: string;
  /** Column names, or a raw SQL expression list such as `LOWER("user_email")`. */
  columns: string[] | { expression: string };
  unique?: boolean;
}

export interface ForeignKeySpec {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: 'SET NULL' | 'RESTRICT' | 'CASCADE';
}

export interface TableDef {
  name: string;
  columns: string;
  primaryKey: string[];
  indexes?: IndexSpec[];
  foreignKeys?: ForeignKeySpec[];
}

const EMPTY = 'ARRAY[]::TEXT[]';
const NOW = 'CURRENT_TIMESTAMP';

const idx = (table: string, cols: string[], unique = false, name?: string): IndexSpec => ({
  name: name ?? `${table}_${cols.join('_')}_${unique ? 'key' : 'idx'}`,
  columns: cols,
  unique,
});

const fk = (table: string, col: string, refTable: string, refCol: string, onDelete: ForeignKeySpec['onDelete']): ForeignKeySpec => ({
  name: `${table}_${col}_fkey`,
  columns: [col],
  refTable,
  refColumns: [refCol],
  onDelete,
});

/** The Daily* aggregate tables share their columns; only the entity column differs. */
function dailyTable(name: string, entityCol: string, uniqueName: string, extraFirst = ''): TableDef {
  return {
    name,
    columns: `
      id                          TEXT NOT NULL
      ${extraFirst}
      ${entityCol}                TEXT
      date                        TEXT NOT NULL
      api_key                     TEXT NOT NULL
      model                       TEXT
      model_group                 TEXT
      custom_llm_provider         TEXT
      mcp_namespaced_tool_name    TEXT
      endpoint                    TEXT
      prompt_tokens               BIGINT NOT NULL DEFAULT 0
      completion_tokens           BIGINT NOT NULL DEFAULT 0
      cache_read_input_tokens     BIGINT NOT NULL DEFAULT 0
      cache_creation_input_tokens BIGINT NOT NULL DEFAULT 0
      spend                       DOUBLE PRECISION NOT NULL DEFAULT 0.0
      api_requests                BIGINT NOT NULL DEFAULT 0
      successful_requests         BIGINT NOT NULL DEFAULT 0
      failed_requests             BIGINT NOT NULL DEFAULT 0
      created_at                  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_at                  TIMESTAMP(3) NOT NULL
    `,
    primaryKey: ['id'],
    indexes: [
      idx(name, [entityCol, 'date', 'api_key', 'model', 'custom_llm_provider', 'mcp_namespaced_tool_name', 'endpoint'], true, uniqueName),
      idx(name, ['date']),
      idx(name, [entityCol, 'date']),
      idx(name, ['api_key']),
      idx(name, ['model']),
      idx(name, ['mcp_namespaced_tool_name']),
      idx(name, ['endpoint']),
    ],
  };
}

/** In creation order: a table comes after the tables its foreign keys reference. */
export const TABLE_DEFS: TableDef[] = [
  {
    name: 'LiteLLM_BudgetTable',
    columns: `
      budget_id             TEXT NOT NULL
      max_budget            DOUBLE PRECISION
      soft_budget           DOUBLE PRECISION
      max_parallel_requests INTEGER
      tpm_limit             BIGINT
      rpm_limit             BIGINT
      model_max_budget      JSONB
      budget_duration       TEXT
      budget_reset_at       TIMESTAMP(3)
      allowed_models        TEXT[] DEFAULT ${EMPTY}
      created_at            TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      created_by            TEXT NOT NULL
      updated_at            TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_by            TEXT NOT NULL
    `,
    primaryKey: ['budget_id'],
  },
  {
    name: 'LiteLLM_Config',
    columns: `
      param_name  TEXT NOT NULL
      param_value JSONB
    `,
    primaryKey: ['param_name'],
  },
  {
    name: 'LiteLLM_ProxyModelTable',
    columns: `
      model_id       TEXT NOT NULL
      model_name     TEXT NOT NULL
      litellm_params JSONB NOT NULL
      model_info     JSONB
      blocked        BOOLEAN NOT NULL DEFAULT false
      created_at     TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      created_by     TEXT NOT NULL
      updated_at     TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_by     TEXT NOT NULL
    `,
    primaryKey: ['model_id'],
  },
  {
    name: 'LiteLLM_OrganizationTable',
    columns: `
      organization_id      TEXT NOT NULL
      organization_alias   TEXT NOT NULL
      budget_id            TEXT NOT NULL
      metadata             JSONB NOT NULL DEFAULT '{}'
      models               TEXT[]
      spend                DOUBLE PRECISION NOT NULL DEFAULT 0.0
      model_spend          JSONB NOT NULL DEFAULT '{}'
      object_permission_id TEXT
      created_at           TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      created_by           TEXT NOT NULL
      updated_at           TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_by           TEXT NOT NULL
    `,
    primaryKey: ['organization_id'],
    foreignKeys: [fk('LiteLLM_OrganizationTable', 'budget_id', 'LiteLLM_BudgetTable', 'budget_id', 'RESTRICT')],
  },
  {
    name: 'LiteLLM_ModelTable',
    columns: `
      id         SERIAL NOT NULL
      aliases    JSONB
      created_at TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      created_by TEXT NOT NULL
      updated_at TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_by TEXT NOT NULL
    `,
    primaryKey: ['id'],
  },
  {
    name: 'LiteLLM_TeamTable',
    columns: `
      team_id                     TEXT NOT NULL
      team_alias                  TEXT
      organization_id             TEXT
      object_permission_id        TEXT
      admins                      TEXT[]
      members                     TEXT[]
      members_with_roles          JSONB NOT NULL DEFAULT '{}'
      metadata                    JSONB NOT NULL DEFAULT '{}'
      max_budget                  DOUBLE PRECISION
      soft_budget                 DOUBLE PRECISION
      spend                       DOUBLE PRECISION NOT NULL DEFAULT 0.0
      models                      TEXT[]
      max_parallel_requests       INTEGER
      tpm_limit                   BIGINT
      rpm_limit                   BIGINT
      budget_duration             TEXT
      budget_reset_at             TIMESTAMP(3)
      blocked                     BOOLEAN NOT NULL DEFAULT false
      created_at                  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_at                  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      model_spend                 JSONB NOT NULL DEFAULT '{}'
      model_max_budget            JSONB NOT NULL DEFAULT '{}'
      router_settings             JSONB DEFAULT '{}'
      team_member_permissions     TEXT[] DEFAULT ${EMPTY}
      access_group_ids            TEXT[] DEFAULT ${EMPTY}
      policies                    TEXT[] DEFAULT ${EMPTY}
      default_team_member_models  TEXT[] DEFAULT ${EMPTY}
      budget_limits               JSONB
      model_id                    INTEGER
      allow_team_guardrail_config BOOLEAN NOT NULL DEFAULT false
    `,
    primaryKey: ['team_id'],
    indexes: [
      idx('LiteLLM_TeamTable', ['model_id'], true),
      idx('LiteLLM_TeamTable', ['organization_id']),
      idx('LiteLLM_TeamTable', ['team_alias']),
      idx('LiteLLM_TeamTable', ['created_at']),
    ],
    foreignKeys: [
      fk('LiteLLM_TeamTable', 'organization_id', 'LiteLLM_OrganizationTable', 'organization_id', 'SET NULL'),
      fk('LiteLLM_TeamTable', 'model_id', 'LiteLLM_ModelTable', 'id', 'SET NULL'),
    ],
  },
  {
    name: 'LiteLLM_DeletedTeamTable',
    columns: `
      id                          TEXT NOT NULL
      team_id                     TEXT NOT NULL
      team_alias                  TEXT
      organization_id             TEXT
      object_permission_id        TEXT
      admins                      TEXT[]
      members                     TEXT[]
      members_with_roles          JSONB NOT NULL DEFAULT '{}'
      metadata                    JSONB NOT NULL DEFAULT '{}'
      max_budget                  DOUBLE PRECISION
      soft_budget                 DOUBLE PRECISION
      spend                       DOUBLE PRECISION NOT NULL DEFAULT 0.0
      models                      TEXT[]
      max_parallel_requests       INTEGER
      tpm_limit                   BIGINT
      rpm_limit                   BIGINT
      budget_duration             TEXT
      budget_reset_at             TIMESTAMP(3)
      blocked                     BOOLEAN NOT NULL DEFAULT false
      model_spend                 JSONB NOT NULL DEFAULT '{}'
      model_max_budget            JSONB NOT NULL DEFAULT '{}'
      router_settings             JSONB DEFAULT '{}'
      team_member_permissions     TEXT[] DEFAULT ${EMPTY}
      access_group_ids            TEXT[] DEFAULT ${EMPTY}
      policies                    TEXT[] DEFAULT ${EMPTY}
      model_id                    INTEGER
      allow_team_guardrail_config BOOLEAN NOT NULL DEFAULT false
      created_at                  TIMESTAMP(3)
      updated_at                  TIMESTAMP(3)
      deleted_at                  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      deleted_by                  TEXT
      deleted_by_api_key          TEXT
      litellm_changed_by          TEXT
    `,
    primaryKey: ['id'],
    indexes: ['team_id', 'deleted_at', 'organization_id', 'team_alias', 'created_at'].map((c) => idx('LiteLLM_DeletedTeamTable', [c])),
  },
  {
    name: 'LiteLLM_UserTable',
    columns: `
      user_id                TEXT NOT NULL
      user_alias             TEXT
      team_id                TEXT
      sso_user_id            TEXT
      organization_id        TEXT
      object_permission_id   TEXT
      password               TEXT
      teams                  TEXT[] DEFAULT ${EMPTY}
      user_role              TEXT
      max_budget             DOUBLE PRECISION
      spend                  DOUBLE PRECISION NOT NULL DEFAULT 0.0
      user_email             TEXT
      models                 TEXT[]
      metadata               JSONB NOT NULL DEFAULT '{}'
      max_parallel_requests  INTEGER
      tpm_limit              BIGINT
      rpm_limit              BIGINT
      budget_duration        TEXT
      budget_reset_at        TIMESTAMP(3)
      allowed_cache_controls TEXT[] DEFAULT ${EMPTY}
      policies               TEXT[] DEFAULT ${EMPTY}
      model_spend            JSONB NOT NULL DEFAULT '{}'
      model_max_budget       JSONB NOT NULL DEFAULT '{}'
      created_at             TIMESTAMP(3) DEFAULT ${NOW}
      updated_at             TIMESTAMP(3) DEFAULT ${NOW}
    `,
    primaryKey: ['user_id'],
    indexes: [
      idx('LiteLLM_UserTable', ['sso_user_id'], true),
      // Raw-SQL migration 20260108_add_user_email_lower_idx (case-insensitive email lookups).
      { name: 'LiteLLM_UserTable_user_email_lower_idx', columns: { expression: 'LOWER("user_email")' } },
    ],
    foreignKeys: [fk('LiteLLM_UserTable', 'organization_id', 'LiteLLM_OrganizationTable', 'organization_id', 'SET NULL')],
  },
  {
    name: 'LiteLLM_VerificationToken',
    columns: `
      token                  TEXT NOT NULL
      key_name               TEXT
      key_alias              TEXT
      soft_budget_cooldown   BOOLEAN NOT NULL DEFAULT false
      spend                  DOUBLE PRECISION NOT NULL DEFAULT 0.0
      expires                TIMESTAMP(3)
      models                 TEXT[]
      aliases                JSONB NOT NULL DEFAULT '{}'
      config                 JSONB NOT NULL DEFAULT '{}'
      router_settings        JSONB DEFAULT '{}'
      user_id                TEXT
      team_id                TEXT
      agent_id               TEXT
      project_id             TEXT
      permissions            JSONB NOT NULL DEFAULT '{}'
      max_parallel_requests  INTEGER
      metadata               JSONB NOT NULL DEFAULT '{}'
      blocked                BOOLEAN
      tpm_limit              BIGINT
      rpm_limit              BIGINT
      max_budget             DOUBLE PRECISION
      budget_duration        TEXT
      budget_reset_at        TIMESTAMP(3)
      allowed_cache_controls TEXT[] DEFAULT ${EMPTY}
      allowed_routes         TEXT[] DEFAULT ${EMPTY}
      policies               TEXT[] DEFAULT ${EMPTY}
      access_group_ids       TEXT[] DEFAULT ${EMPTY}
      model_spend            JSONB NOT NULL DEFAULT '{}'
      model_max_budget       JSONB NOT NULL DEFAULT '{}'
      budget_id              TEXT
      organization_id        TEXT
      object_permission_id   TEXT
      created_at             TIMESTAMP(3) DEFAULT ${NOW}
      created_by             TEXT
      updated_at             TIMESTAMP(3) DEFAULT ${NOW}
      updated_by             TEXT
      last_active            TIMESTAMP(3)
      rotation_count         INTEGER DEFAULT 0
      auto_rotate            BOOLEAN DEFAULT false
      rotation_interval      TEXT
      last_rotation_at       TIMESTAMP(3)
      key_rotation_at        TIMESTAMP(3)
      budget_limits          JSONB
    `,
    primaryKey: ['token'],
    indexes: [
      idx('LiteLLM_VerificationToken', ['user_id', 'team_id']),
      idx('LiteLLM_VerificationToken', ['team_id']),
      idx('LiteLLM_VerificationToken', ['budget_reset_at', 'expires']),
    ],
    foreignKeys: [
      fk('LiteLLM_VerificationToken', 'budget_id', 'LiteLLM_BudgetTable', 'budget_id', 'SET NULL'),
      fk('LiteLLM_VerificationToken', 'organization_id', 'LiteLLM_OrganizationTable', 'organization_id', 'SET NULL'),
    ],
  },
  {
    name: 'LiteLLM_DeletedVerificationToken',
    columns: `
      id                     TEXT NOT NULL
      token                  TEXT NOT NULL
      key_name               TEXT
      key_alias              TEXT
      soft_budget_cooldown   BOOLEAN NOT NULL DEFAULT false
      spend                  DOUBLE PRECISION NOT NULL DEFAULT 0.0
      expires                TIMESTAMP(3)
      models                 TEXT[]
      aliases                JSONB NOT NULL DEFAULT '{}'
      config                 JSONB NOT NULL DEFAULT '{}'
      user_id                TEXT
      team_id                TEXT
      agent_id               TEXT
      project_id             TEXT
      permissions            JSONB NOT NULL DEFAULT '{}'
      max_parallel_requests  INTEGER
      metadata               JSONB NOT NULL DEFAULT '{}'
      blocked                BOOLEAN
      tpm_limit              BIGINT
      rpm_limit              BIGINT
      max_budget             DOUBLE PRECISION
      budget_duration        TEXT
      budget_reset_at        TIMESTAMP(3)
      allowed_cache_controls TEXT[] DEFAULT ${EMPTY}
      allowed_routes         TEXT[] DEFAULT ${EMPTY}
      policies               TEXT[] DEFAULT ${EMPTY}
      access_group_ids       TEXT[] DEFAULT ${EMPTY}
      model_spend            JSONB NOT NULL DEFAULT '{}'
      model_max_budget       JSONB NOT NULL DEFAULT '{}'
      router_settings        JSONB DEFAULT '{}'
      budget_id              TEXT
      organization_id        TEXT
      object_permission_id   TEXT
      created_at             TIMESTAMP(3)
      created_by             TEXT
      updated_at             TIMESTAMP(3)
      updated_by             TEXT
      last_active            TIMESTAMP(3)
      rotation_count         INTEGER DEFAULT 0
      auto_rotate            BOOLEAN DEFAULT false
      rotation_interval      TEXT
      last_rotation_at       TIMESTAMP(3)
      key_rotation_at        TIMESTAMP(3)
      deleted_at             TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      deleted_by             TEXT
      deleted_by_api_key     TEXT
      litellm_changed_by     TEXT
    `,
    primaryKey: ['id'],
    indexes: ['token', 'deleted_at', 'user_id', 'team_id', 'organization_id', 'key_alias', 'created_at'].map((c) =>
      idx('LiteLLM_DeletedVerificationToken', [c]),
    ),
  },
  {
    name: 'LiteLLM_EndUserTable',
    columns: `
      user_id              TEXT NOT NULL
      alias                TEXT
      spend                DOUBLE PRECISION NOT NULL DEFAULT 0.0
      allowed_model_region TEXT
      default_model        TEXT
      budget_id            TEXT
      object_permission_id TEXT
      blocked              BOOLEAN NOT NULL DEFAULT false
    `,
    primaryKey: ['user_id'],
    foreignKeys: [fk('LiteLLM_EndUserTable', 'budget_id', 'LiteLLM_BudgetTable', 'budget_id', 'SET NULL')],
  },
  {
    name: 'LiteLLM_TeamMembership',
    columns: `
      user_id     TEXT NOT NULL
      team_id     TEXT NOT NULL
      spend       DOUBLE PRECISION NOT NULL DEFAULT 0.0
      total_spend DOUBLE PRECISION NOT NULL DEFAULT 0.0
      budget_id   TEXT
    `,
    primaryKey: ['user_id', 'team_id'],
    foreignKeys: [fk('LiteLLM_TeamMembership', 'budget_id', 'LiteLLM_BudgetTable', 'budget_id', 'SET NULL')],
  },
  {
    name: 'LiteLLM_OrganizationMembership',
    columns: `
      user_id         TEXT NOT NULL
      organization_id TEXT NOT NULL
      user_role       TEXT
      spend           DOUBLE PRECISION DEFAULT 0.0
      budget_id       TEXT
      created_at      TIMESTAMP(3) DEFAULT ${NOW}
      updated_at      TIMESTAMP(3) DEFAULT ${NOW}
    `,
    primaryKey: ['user_id', 'organization_id'],
    indexes: [idx('LiteLLM_OrganizationMembership', ['user_id', 'organization_id'], true)],
    foreignKeys: [
      fk('LiteLLM_OrganizationMembership', 'user_id', 'LiteLLM_UserTable', 'user_id', 'RESTRICT'),
      fk('LiteLLM_OrganizationMembership', 'organization_id', 'LiteLLM_OrganizationTable', 'organization_id', 'RESTRICT'),
      fk('LiteLLM_OrganizationMembership', 'budget_id', 'LiteLLM_BudgetTable', 'budget_id', 'SET NULL'),
    ],
  },
  {
    name: 'LiteLLM_SpendLogs',
    columns: `
      request_id               TEXT NOT NULL
      call_type                TEXT NOT NULL
      api_key                  TEXT NOT NULL DEFAULT ''
      spend                    DOUBLE PRECISION NOT NULL DEFAULT 0.0
      total_tokens             INTEGER NOT NULL DEFAULT 0
      prompt_tokens            INTEGER NOT NULL DEFAULT 0
      completion_tokens        INTEGER NOT NULL DEFAULT 0
      startTime                TIMESTAMP(3) NOT NULL
      endTime                  TIMESTAMP(3) NOT NULL
      request_duration_ms      INTEGER
      completionStartTime      TIMESTAMP(3)
      model                    TEXT NOT NULL DEFAULT ''
      model_id                 TEXT DEFAULT ''
      model_group              TEXT DEFAULT ''
      custom_llm_provider      TEXT DEFAULT ''
      api_base                 TEXT DEFAULT ''
      user                     TEXT DEFAULT ''
      metadata                 JSONB DEFAULT '{}'
      cache_hit                TEXT DEFAULT ''
      cache_key                TEXT DEFAULT ''
      request_tags             JSONB DEFAULT '[]'
      team_id                  TEXT
      organization_id          TEXT
      end_user                 TEXT
      requester_ip_address     TEXT
      messages                 JSONB DEFAULT '{}'
      response                 JSONB DEFAULT '{}'
      session_id               TEXT
      status                   TEXT
      mcp_namespaced_tool_name TEXT
      agent_id                 TEXT
      proxy_server_request     JSONB DEFAULT '{}'
    `,
    primaryKey: ['request_id'],
    indexes: [
      idx('LiteLLM_SpendLogs', ['startTime']),
      idx('LiteLLM_SpendLogs', ['startTime', 'request_id']),
      idx('LiteLLM_SpendLogs', ['end_user']),
      idx('LiteLLM_SpendLogs', ['session_id']),
    ],
  },
  {
    name: 'LiteLLM_ErrorLogs',
    columns: `
      request_id         TEXT NOT NULL
      startTime          TIMESTAMP(3) NOT NULL
      endTime            TIMESTAMP(3) NOT NULL
      api_base           TEXT NOT NULL DEFAULT ''
      model_group        TEXT NOT NULL DEFAULT ''
      litellm_model_name TEXT NOT NULL DEFAULT ''
      model_id           TEXT NOT NULL DEFAULT ''
      request_kwargs     JSONB NOT NULL DEFAULT '{}'
      exception_type     TEXT NOT NULL DEFAULT ''
      exception_string   TEXT NOT NULL DEFAULT ''
      status_code        TEXT NOT NULL DEFAULT ''
    `,
    primaryKey: ['request_id'],
  },
  {
    name: 'LiteLLM_AuditLog',
    columns: `
      id                 TEXT NOT NULL
      updated_at         TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      changed_by         TEXT NOT NULL DEFAULT ''
      changed_by_api_key TEXT NOT NULL DEFAULT ''
      action             TEXT NOT NULL
      table_name         TEXT NOT NULL
      object_id          TEXT NOT NULL
      before_value       JSONB
      updated_values     JSONB
    `,
    primaryKey: ['id'],
  },
  dailyTable('LiteLLM_DailyUserSpend', 'user_id', 'LiteLLM_DailyUserSpend_user_id_date_api_key_model_custom_ll_key'),
  dailyTable('LiteLLM_DailyTeamSpend', 'team_id', 'LiteLLM_DailyTeamSpend_team_id_date_api_key_model_custom_ll_key'),
  dailyTable('LiteLLM_DailyOrganizationSpend', 'organization_id', 'LiteLLM_DailyOrganizationSpend_organization_id_date_api_key_key'),
  dailyTable('LiteLLM_DailyEndUserSpend', 'end_user_id', 'LiteLLM_DailyEndUserSpend_end_user_id_date_api_key_model_cu_key'),
  dailyTable('LiteLLM_DailyTagSpend', 'tag', 'LiteLLM_DailyTagSpend_tag_date_api_key_model_custom_llm_pro_key', 'request_id TEXT'),

  // ---------------------------------------------------------------- Weir's own tables
  {
    // How far the spend writer got in each journal segment; updated in the same transaction as
    // the rows it wrote, which is what makes a segment's records land exactly once.
    name: 'Weir_SpendJournal',
    columns: `
      segment          TEXT NOT NULL
      committed_offset BIGINT NOT NULL DEFAULT 0
      closed           BOOLEAN NOT NULL DEFAULT false
      updated_at       TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['segment'],
  },
  ...AGENT_TABLE_DEFS,
];
