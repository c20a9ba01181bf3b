// `agent_settings` of config.yaml: sandboxes, profiles and jobs of agent runs (Weir's own section;
// LiteLLM has none and ignores it). Validated with the rest of the config, so a bad cron pattern or
// an unknown profile refuses the whole config (at start, or a reload, which keeps the old one).
// The same element schemas validate definitions made through the API (src/agents/definitions.ts).
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { z } from 'zod';
import { checkTemplate } from '../agents/template';
import type { AgentSettings, JobDef, ProfileDef, SandboxDef, Source } from '../agents/types';

const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `20m`, `90s`, `1h`, or a number of seconds → milliseconds; null when it is neither. */
export function durationMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.round(v * 1000) : null;
  if (typeof v !== 'string') return null;
  const m = DURATION.exec(v.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 ? ms : null;
}

/** A stable id for a definition the config made: the same on every instance and restart. */
export function configId(kind: 'sbx' | 'prf' | 'job', name: string): string {
  return `${kind}_${createHash('sha256').update(`${kind}:${name}`).digest('hex').slice(0, 20)}`;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const name = () => z.string({ error: 'expected a string' }).regex(NAME, { error: 'expected a name of letters, digits, ".", "_" or "-" (at most 64, starting with a letter or digit)' });
const str = () => z.string({ error: 'expected a string' }).optional();
const strList = () => z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of strings' }).optional();
const posInt = (max: number) =>
  z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), z.number({ error: `expected an integer from 1 to ${max}` }).int({ error: `expected an integer from 1 to ${max}` }).min(1, { error: `expected an integer from 1 to ${max}` }).max(max, { error: `expected an integer from 1 to ${max}` }));
const usd = () =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v), z.number({ error: 'expected a number of USD > 0' }).gt(0, { error: 'expected a number of USD > 0' }).max(1e9, { error: 'expected at most 1e9 USD' }));
const duration = () => z.unknown().transform((v, ctx) => {
  const ms = durationMs(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 20m or 2h (or a number of seconds)' });
    return z.NEVER;
  }
  return ms;
});

/** Throws with croner's message when the pattern or the timezone is not one croner accepts. */
export function checkCron(pattern: string, timezone: string | undefined): string | null {
  try {
    const c = new Cron(pattern, { timezone, paused: true });
    // croner checks the timezone only when it computes a time: compute one.
    c.nextRun();
    c.stop();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export const sandboxSchema = z.looseObject({
  name: name(),
  provider: z.enum(['local', 'e2b', 'daytona'], { error: 'expected local, e2b or daytona' }),
});

export const profileSchema = z.looseObject({
  name: name(),
  agent: z.enum(['claude-code', 'codex', 'command'], { error: 'expected claude-code, codex or command' }),
  sandbox: name(),
  model: str(),
  max_turns: posInt(10_000).optional(),
  timeout: duration().optional(),
  max_budget: usd().optional(),
  allowed_tools: strList(),
  permission_mode: str(),
  append_system_prompt: str(),
  command: strList(),
  extra_args: strList(),
  env: z.record(z.string(), z.preprocess((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v), z.string({ error: 'expected a string' })), { error: 'expected a mapping of names to strings' }).optional(),
  repo: z.looseObject({ url: z.string({ error: 'expected a string' }).min(1), ref: str(), token: str() }, { error: 'expected {url, ref?, token?}' }).optional(),
  // The /mcp memory server in the run's MCP configuration (on unless false), and the tags of the
  // notes copied into the agent's user-level memory file at start.
  // Vault secrets by name (the agent gets stubs; see agents/vault), and the hosts the run may reach.
  secrets: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { error: 'expected an environment variable name' }), { error: 'expected a list of secret names' }).optional(),
  egress: z.looseObject({ allow: z.array(z.string().regex(/^(\*\.)?[A-Za-z0-9_.-]{1,253}$/, { error: 'expected a host name or *.domain' }), { error: 'expected a list of host names' }).optional() }, { error: 'expected {allow: [hosts]}' }).optional(),
  memory: z.union([z.boolean(), z.looseObject({ enabled: z.boolean({ error: 'expected true or false' }).optional(), pin_tags: strList() })], { error: 'expected false, or {enabled?, pin_tags?}' }).optional(),
});

export const jobSchema = z.looseObject({
  name: name(),
  profile: name(),
  prompt: z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty prompt' }),
  team: str(),
  team_id: str(),
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
  schedule: z.looseObject({ cron: z.string({ error: 'expected a cron pattern' }), timezone: str(), missed: z.enum(['skip', 'run_once'], { error: 'expected skip or run_once' }).optional() }, { error: 'expected {cron, timezone?}' }).optional(),
  webhook: z.looseObject({
    verify: z.enum(['github', 'standard', 'hmac', 'none'], { error: 'expected github, standard, hmac or none' }).optional(),
    secret: str(),
    header: str(),
    events: strList(),
  }, { error: 'expected {verify, secret, events?}' }).optional(),
  ttl: duration().optional(),
  concurrency: z.looseObject({ limit: posInt(1000).optional(), on_conflict: z.enum(['queue', 'skip', 'cancel_running'], { error: 'expected queue, skip or cancel_running' }).optional() }, { error: 'expected {limit, on_conflict}' }).optional(),
  notify: z.looseObject({ url: z.url({ error: 'expected an http(s) URL' }), secret: str() }, { error: 'expected {url, secret?}' }).optional(),
  session_key: str(),
});

export const agentSettingsSchema = z.preprocess((v) => v ?? {}, z.looseObject({
  public_url: str(),
  max_concurrent_runs: posInt(100_000).optional(),
  retention_days: posInt(3650).optional(),
  artifact_max_mb: posInt(1024).optional(),
  sessions: z.looseObject({ idle_timeout: duration().optional() }, { error: 'expected {idle_timeout}' }).optional(),
  sandboxes: z.preprocess((v) => v ?? [], z.array(sandboxSchema, { error: 'expected a list' })),
  profiles: z.preprocess((v) => v ?? [], z.array(profileSchema, { error: 'expected a list' })),
  jobs: z.preprocess((v) => v ?? [], z.array(jobSchema, { error: 'expected a list' })),
}, { error: 'expected a mapping' }).superRefine((s, ctx) => {
  // Names unique per kind, references resolvable, cron patterns valid: all before anything runs.
  const dup = (list: { name: string }[], key: string) => {
    const seen = new Set<string>();
    list.forEach((x, i) => {
      if (seen.has(x.name)) ctx.addIssue({ code: 'custom', path: [key, i, 'name'], message: `"${x.name}" is defined twice` });
      seen.add(x.name);
    });
  };
  dup(s.sandboxes, 'sandboxes');
  dup(s.profiles, 'profiles');
  dup(s.jobs, 'jobs');
  const sandboxes = new Set(s.sandboxes.map((x) => x.name));
  const profiles = new Set(s.profiles.map((x) => x.name));
  s.profiles.forEach((p, i) => {
    if (!sandboxes.has(p.sandbox)) ctx.addIssue({ code: 'custom', path: ['profiles', i, 'sandbox'], message: `unknown sandbox "${p.sandbox}"` });
    if (p.agent === 'command' && !(p.command && p.command.length)) ctx.addIssue({ code: 'custom', path: ['profiles', i, 'command'], message: 'the command agent needs `command: [program, args…]`' });
  });
  s.jobs.forEach((j, i) => {
    if (!profiles.has(j.profile)) ctx.addIssue({ code: 'custom', path: ['jobs', i, 'profile'], message: `unknown profile "${j.profile}"` });
    const badTemplate = checkTemplate(j.prompt);
    if (badTemplate) ctx.addIssue({ code: 'custom', path: ['jobs', i, 'prompt'], message: `bad prompt template: ${badTemplate}` });
    const badKey = j.session_key === undefined ? null : checkTemplate(j.session_key);
    if (badKey) ctx.addIssue({ code: 'custom', path: ['jobs', i, 'session_key'], message: `bad session_key template: ${badKey}` });
    if (j.schedule) {
      const bad = checkCron(j.schedule.cron, j.schedule.timezone);
      if (bad) ctx.addIssue({ code: 'custom', path: ['jobs', i, 'schedule'], message: `bad cron pattern or timezone: ${bad}` });
    }
    const verify = j.webhook?.verify ?? (j.webhook ? 'github' : undefined);
    if (verify && verify !== 'none' && !j.webhook?.secret) ctx.addIssue({ code: 'custom', path: ['jobs', i, 'webhook', 'secret'], message: `webhook verification "${verify}" needs a secret` });
  });
}));

export type AgentSettingsInput = z.infer<typeof agentSettingsSchema>;

const DEFAULT_TIMEOUT_MS = 30 * 60_000;
/** LiteLLM's agent platform reaps sessions after a day idle; so does Weir unless told otherwise. */
const DEFAULT_SESSION_IDLE_MS = 24 * 3_600_000;

export function toSandboxDef(s: z.infer<typeof sandboxSchema>, source: Source, id?: string): SandboxDef {
  const { name: n, provider, ...options } = s;
  return { id: id ?? configId('sbx', n), name: n, provider, options, source };
}

export function toProfileDef(p: z.infer<typeof profileSchema>, source: Source, id?: string): ProfileDef {
  return {
    id: id ?? configId('prf', p.name),
    name: p.name,
    agent: p.agent,
    sandbox: p.sandbox,
    model: p.model,
    max_turns: p.max_turns,
    timeout_ms: p.timeout ?? DEFAULT_TIMEOUT_MS,
    max_budget: p.max_budget,
    allowed_tools: p.allowed_tools,
    permission_mode: p.permission_mode,
    append_system_prompt: p.append_system_prompt,
    command: p.command,
    extra_args: p.extra_args,
    env: p.env,
    repo: p.repo ? { url: p.repo.url, ref: p.repo.ref, token: p.repo.token } : undefined,
    memory: memorySettings(p.memory),
    secrets: p.secrets,
    egress: p.egress?.allow ? { allow: p.egress.allow.map((h) => h.toLowerCase()) } : undefined,
    source,
  };
}

export function toJobDef(j: z.infer<typeof jobSchema>, source: Source, id?: string): JobDef {
  return {
    id: id ?? configId('job', j.name),
    name: j.name,
    profile: j.profile,
    prompt: j.prompt,
    team_id: j.team_id ?? j.team,
    schedule: j.schedule ? { cron: j.schedule.cron, timezone: j.schedule.timezone, missed: j.schedule.missed ?? 'skip' } : undefined,
    webhook: j.webhook ? { verify: j.webhook.verify ?? 'github', secret: j.webhook.secret, header: j.webhook.header, events: j.webhook.events } : undefined,
    concurrency: { limit: j.concurrency?.limit ?? 1, on_conflict: j.concurrency?.on_conflict ?? 'queue' },
    ttl_ms: j.ttl,
    notify: j.notify ? { url: j.notify.url, secret: j.notify.secret } : undefined,
    session_key: j.session_key,
    enabled: j.enabled ?? true,
    source,
  };
}

export function toAgentSettings(s: AgentSettingsInput): AgentSettings {
  return {
    public_url: s.public_url,
    max_concurrent_runs: s.max_concurrent_runs ?? 64,
    retention_days: s.retention_days ?? 30,
    artifact_max_bytes: (s.artifact_max_mb ?? 16) * 1024 * 1024,
    session_idle_ms: s.sessions?.idle_timeout ?? DEFAULT_SESSION_IDLE_MS,
    sandboxes: s.sandboxes.map((x) => toSandboxDef(x, 'config')),
    profiles: s.profiles.map((x) => toProfileDef(x, 'config')),
    jobs: s.jobs.map((x) => toJobDef(x, 'config')),
  };
}

function memorySettings(m: z.infer<typeof profileSchema>['memory']): ProfileDef['memory'] {
  if (m === undefined || m === true) return { enabled: true, pin_tags: [] };
  if (m === false) return { enabled: false, pin_tags: [] };
  return { enabled: m.enabled ?? true, pin_tags: m.pin_tags ?? [] };
}
