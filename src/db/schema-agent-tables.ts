// Weir's own tables for agent runs (never LiteLLM's: LiteLLM has no agents). Column lines read as in
// schema-tables.ts. Definitions made through the API live here; config ones are only in the config,
// but a config job's schedule row (its next fire time) is here too, so instances agree on ticks.
import type { TableDef } from './schema-tables';

const NOW = 'CURRENT_TIMESTAMP';

export const AGENT_TABLE_DEFS: TableDef[] = [
  {
    // Sandboxes, profiles and jobs created through the API: `kind` says which, `spec` holds the
    // definition as the API validated it (the same shape the config gives).
    name: 'Weir_AgentDefinition',
    columns: `
      id          TEXT NOT NULL
      kind        TEXT NOT NULL
      name        TEXT NOT NULL
      spec        JSONB NOT NULL
      team_id     TEXT
      created_by  TEXT
      created_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['id'],
    indexes: [{ name: 'Weir_AgentDefinition_kind_name_key', columns: ['kind', 'name'], unique: true }],
  },
  {
    // One row per scheduled job (config or API): the next fire time, claimed by a conditional
    // UPDATE so that of several instances on one database exactly one fires a tick.
    name: 'Weir_AgentSchedule',
    columns: `
      job_name     TEXT NOT NULL
      pattern      TEXT NOT NULL
      timezone     TEXT
      next_run_at  TIMESTAMP(3)
      last_fired_at TIMESTAMP(3)
      updated_at   TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['job_name'],
  },
  {
    name: 'Weir_AgentRun',
    columns: `
      id              TEXT NOT NULL
      job_name        TEXT
      profile_name    TEXT NOT NULL
      profile         JSONB NOT NULL
      prompt          TEXT NOT NULL
      input           JSONB
      trigger         TEXT NOT NULL
      trigger_ref     TEXT
      idempotency_key TEXT
      status          TEXT NOT NULL
      error_kind      TEXT
      error_message   TEXT
      attempt         INTEGER NOT NULL DEFAULT 1
      retry_of        TEXT
      team_id         TEXT
      user_id         TEXT
      starter_token   TEXT
      key_token       TEXT
      max_budget      DOUBLE PRECISION
      cost            DOUBLE PRECISION
      result          TEXT
      num_turns       INTEGER
      session_id      TEXT
      exit_code       INTEGER
      sandbox_id      TEXT
      instance_id     TEXT
      lease_until     TIMESTAMP(3)
      cancel_requested BOOLEAN NOT NULL DEFAULT false
      queued_at       TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      started_at      TIMESTAMP(3)
      finished_at     TIMESTAMP(3)
      expires_at      TIMESTAMP(3)
      sandbox_start   TEXT
      sandbox_start_ms INTEGER
    `,
    primaryKey: ['id'],
    indexes: [
      { name: 'Weir_AgentRun_status_queued_at_idx', columns: ['status', 'queued_at'] },
      { name: 'Weir_AgentRun_job_name_status_idx', columns: ['job_name', 'status'] },
      { name: 'Weir_AgentRun_team_id_idx', columns: ['team_id'] },
      { name: 'Weir_AgentRun_starter_token_idx', columns: ['starter_token'] },
      { name: 'Weir_AgentRun_idempotency_key_key', columns: { expression: '"idempotency_key", COALESCE("job_name", \'\'), COALESCE("starter_token", \'\')' }, unique: true },
    ],
  },
  {
    // Append-only: one row per line the agent printed and per status change. seq starts at 1.
    name: 'Weir_AgentRunEvent',
    columns: `
      run_id   TEXT NOT NULL
      seq      INTEGER NOT NULL
      ts       TIMESTAMP(3) NOT NULL
      type     TEXT NOT NULL
      payload  JSONB
    `,
    primaryKey: ['run_id', 'seq'],
  },
  {
    name: 'Weir_AgentArtifact',
    columns: `
      run_id      TEXT NOT NULL
      name        TEXT NOT NULL
      kind        TEXT NOT NULL
      size        INTEGER NOT NULL
      sha256      TEXT NOT NULL
      truncated   BOOLEAN NOT NULL DEFAULT false
      content     BYTEA NOT NULL
      created_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['run_id', 'name'],
  },
  {
    // Webhook deliveries seen, by the id the sender gives (X-GitHub-Delivery, webhook-id): a replay
    // finds its row and starts nothing.
    name: 'Weir_AgentDelivery',
    columns: `
      job_name     TEXT NOT NULL
      delivery_id  TEXT NOT NULL
      run_id       TEXT
      received_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['job_name', 'delivery_id'],
  },
  {
    // Agent sessions: a conversation that outlives one run (session-store.ts). `agent_session_id`
    // is the CLI's own id (Claude Code's session, Codex's thread) that the next run resumes;
    // `state_run_id` the run whose artifacts hold the agent's state and the workspace archive.
    // A job's session is found again by (job_name, session_key) while it has not ended.
    name: 'Weir_AgentSession',
    columns: `
      id               TEXT NOT NULL
      profile_name     TEXT NOT NULL
      profile          JSONB NOT NULL
      job_name         TEXT
      session_key      TEXT
      status           TEXT NOT NULL
      team_id          TEXT
      user_id          TEXT
      owner_token      TEXT
      max_budget       DOUBLE PRECISION
      agent_session_id TEXT
      state_run_id     TEXT
      state_error      TEXT
      created_at       TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      last_active_at   TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      ended_at         TIMESTAMP(3)
    `,
    primaryKey: ['id'],
    indexes: [
      { name: 'Weir_AgentSession_job_name_session_key_idx', columns: ['job_name', 'session_key'] },
      { name: 'Weir_AgentSession_status_last_active_at_idx', columns: ['status', 'last_active_at'] },
      { name: 'Weir_AgentSession_team_id_idx', columns: ['team_id'] },
      { name: 'Weir_AgentSession_state_run_id_idx', columns: ['state_run_id'] },
    ],
  },
  {
    // Which runs are a session's messages, in order (a table of its own: Weir_AgentRun is never
    // altered on a database that has it). Written in the transaction that queues the run.
    name: 'Weir_AgentSessionRun',
    columns: `
      run_id      TEXT NOT NULL
      session_id  TEXT NOT NULL
      created_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['run_id'],
    indexes: [{ name: 'Weir_AgentSessionRun_session_id_idx', columns: ['session_id'] }],
  },
  {
    // Notes agents keep between runs (the /mcp memory server) and people edit through the API.
    // `scope` is whose memory it is: `job:<name>`, `team:<id>`, `user:<id>` or `global`.
    name: 'Weir_AgentNote',
    columns: `
      id          TEXT NOT NULL
      scope       TEXT NOT NULL
      team_id     TEXT
      title       TEXT NOT NULL
      body        TEXT NOT NULL
      tags        TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[]
      run_id      TEXT
      created_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['id'],
    indexes: [{ name: 'Weir_AgentNote_scope_updated_at_idx', columns: ['scope', 'updated_at'] }],
  },
  {
    // The vault: secrets for agents, sealed (vault/crypto.ts), for the hosts they are meant for.
    // `inject`: the real value goes into the agent's environment (opt-in, for tools that pin
    // certificates); otherwise the agent holds a stub and the egress proxy swaps it.
    name: 'Weir_VaultSecret',
    columns: `
      id          TEXT NOT NULL
      name        TEXT NOT NULL
      scope       TEXT NOT NULL
      team_id     TEXT
      hosts       TEXT[] NOT NULL DEFAULT ARRAY[]::TEXT[]
      inject      BOOLEAN NOT NULL DEFAULT false
      value       TEXT NOT NULL
      key_id      TEXT NOT NULL
      created_by  TEXT
      created_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      updated_at  TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
    `,
    primaryKey: ['id'],
    indexes: [{ name: 'Weir_VaultSecret_scope_name_key', columns: ['scope', 'name'], unique: true }],
  },
  {
    // Warm pools of cloud sandboxes (src/agents/sandbox/warm-pool.ts): one row per pooled machine,
    // written before the machine is asked for ('creating'), then 'ready', then 'claimed' by one run
    // (run_id) until that run's sandbox is destroyed. The sweeper keeps the machines whose slot is here.
    name: 'Weir_AgentSandboxPool',
    columns: `
      slot_id      TEXT NOT NULL
      sandbox_name TEXT NOT NULL
      provider     TEXT NOT NULL
      state        TEXT NOT NULL
      machine_id   TEXT
      home         TEXT
      run_id       TEXT
      instance_id  TEXT
      created_at   TIMESTAMP(3) NOT NULL DEFAULT ${NOW}
      ready_at     TIMESTAMP(3)
      claimed_at   TIMESTAMP(3)
    `,
    primaryKey: ['slot_id'],
    indexes: [
      { name: 'Weir_AgentSandboxPool_sandbox_name_state_idx', columns: ['sandbox_name', 'state'] },
      { name: 'Weir_AgentSandboxPool_run_id_idx', columns: ['run_id'] },
    ],
  },
];
