// Sandboxes, profiles and jobs by name or id: those of the config (replaced on every accepted reload,
// read-only through the API) and those made through the API (rows of Weir_AgentDefinition, shared
// by every instance on the database). A name is unique per kind across both.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { z } from 'zod';
import { checkCron, jobSchema, profileSchema, sandboxSchema, toJobDef, toProfileDef, toSandboxDef } from '../config/agent-settings';
import type { AgentSettings, JobDef, ProfileDef, SandboxDef } from './types';
import { AgentApiError } from './api-error';

export type DefKind = 'sandbox' | 'profile' | 'job';
type DefOf<K extends DefKind> = K extends 'sandbox' ? SandboxDef : K extends 'profile' ? ProfileDef : JobDef;

const SCHEMAS = { sandbox: sandboxSchema, profile: profileSchema, job: jobSchema } as const;
const PLURAL: Record<DefKind, string> = { sandbox: 'sandboxes', profile: 'profiles', job: 'jobs' };

interface DefRow {
  id: string;
  kind: DefKind;
  name: string;
  spec: Record<string, unknown>;
  team_id: string | null;
}

function toDef<K extends DefKind>(kind: K, spec: unknown, id: string): DefOf<K> {
  if (kind === 'sandbox') return toSandboxDef(spec as z.infer<typeof sandboxSchema>, 'api', id) as DefOf<K>;
  if (kind === 'profile') return toProfileDef(spec as z.infer<typeof profileSchema>, 'api', id) as DefOf<K>;
  return toJobDef(spec as z.infer<typeof jobSchema>, 'api', id) as DefOf<K>;
}

/** Resolves `os.environ/NAME` in a definition made through the API (the config loader does it for the config). */
export function resolveEnvRef(v: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (v === undefined || !v.startsWith('os.environ/')) return v;
  return env[v.slice('os.environ/'.length)];
}

export class Catalog {
  private settings: AgentSettings;

  constructor(
    private readonly pool: pg.Pool,
    settings: AgentSettings,
    /** Checks a prompt template when a job is defined (null = fine, else why not). */
    private readonly checkTemplate: (t: string) => string | null,
  ) {
    this.settings = settings;
  }

  setConfig(s: AgentSettings): void {
    this.settings = s;
  }

  get config(): AgentSettings {
    return this.settings;
  }

  private configList<K extends DefKind>(kind: K): DefOf<K>[] {
    return this.settings[PLURAL[kind] as 'jobs'] as unknown as DefOf<K>[];
  }

  async list<K extends DefKind>(kind: K): Promise<DefOf<K>[]> {
    const rows = await this.pool.query<DefRow>(`SELECT * FROM "Weir_AgentDefinition" WHERE kind = $1 ORDER BY created_at, id`, [kind]);
    return [...this.configList(kind), ...rows.rows.map((r) => toDef(kind, r.spec, r.id))];
  }

  async find<K extends DefKind>(kind: K, nameOrId: string): Promise<DefOf<K> | null> {
    const own = this.configList(kind).find((d) => d.name === nameOrId || d.id === nameOrId);
    if (own) return own;
    const r = await this.pool.query<DefRow>(`SELECT * FROM "Weir_AgentDefinition" WHERE kind = $1 AND (name = $2 OR id = $2)`, [kind, nameOrId]);
    return r.rows[0] ? toDef(kind, r.rows[0].spec, r.rows[0].id) : null;
  }

  async mustFind<K extends DefKind>(kind: K, nameOrId: string, field: string): Promise<DefOf<K>> {
    const d = await this.find(kind, nameOrId);
    if (!d) throw new AgentApiError(kind === 'job' || kind === 'profile' ? 404 : 400, `unknown ${kind} "${nameOrId}"`, field);
    return d;
  }

  /** Validates a definition as the config would, plus what only the catalog can check (references). */
  private async validate<K extends DefKind>(kind: K, body: unknown): Promise<Record<string, unknown>> {
    const parsed = SCHEMAS[kind].safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || null;
      throw new AgentApiError(400, `${field ? `${field}: ` : ''}${issue.message}`, field);
    }
    const spec = parsed.data as Record<string, unknown>;
    if (kind === 'profile') {
      const p = spec as z.infer<typeof profileSchema>;
      await this.mustFind('sandbox', p.sandbox, 'sandbox');
      if (p.agent === 'command' && !(p.command && p.command.length)) throw new AgentApiError(400, 'the command agent needs `command: [program, args…]`', 'command');
    }
    if (kind === 'job') {
      const j = spec as z.infer<typeof jobSchema>;
      await this.mustFind('profile', j.profile, 'profile').catch(() => {
        throw new AgentApiError(400, `unknown profile "${j.profile}"`, 'profile');
      });
      if (j.schedule) {
        const bad = checkCron(j.schedule.cron, j.schedule.timezone);
        if (bad) throw new AgentApiError(400, `bad cron pattern or timezone: ${bad}`, 'schedule');
      }
      const why = this.checkTemplate(j.prompt);
      if (why) throw new AgentApiError(400, `prompt: ${why}`, 'prompt');
      const badKey = j.session_key === undefined ? null : this.checkTemplate(j.session_key);
      if (badKey) throw new AgentApiError(400, `session_key: ${badKey}`, 'session_key');
      const verify = j.webhook?.verify ?? (j.webhook ? 'github' : undefined);
      if (verify && verify !== 'none' && !j.webhook?.secret) throw new AgentApiError(400, `webhook verification "${verify}" needs a secret`, 'webhook.secret');
    }
    return spec;
  }

  async create<K extends DefKind>(kind: K, body: unknown, by: string | null): Promise<DefOf<K>> {
    const spec = await this.validate(kind, body);
    const name = spec.name as string;
    if (this.configList(kind).some((d) => d.name === name)) throw new AgentApiError(409, `a ${kind} named "${name}" is defined in the config`, 'name');
    const id = `${kind.slice(0, 3)}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const r = await this.pool.query(
      `INSERT INTO "Weir_AgentDefinition" (id, kind, name, spec, team_id, created_by) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING RETURNING id`,
      [id, kind, name, JSON.stringify(spec), (spec.team_id as string | undefined) ?? (spec.team as string | undefined) ?? null, by],
    );
    if (!r.rowCount) throw new AgentApiError(409, `a ${kind} named "${name}" already exists`, 'name');
    return toDef(kind, spec, id);
  }

  private async apiRow(kind: DefKind, nameOrId: string): Promise<DefRow> {
    if (this.configList(kind).some((d) => d.name === nameOrId || d.id === nameOrId)) {
      throw new AgentApiError(409, `${kind} "${nameOrId}" is defined in the config: change it there`, null);
    }
    const r = await this.pool.query<DefRow>(`SELECT * FROM "Weir_AgentDefinition" WHERE kind = $1 AND (name = $2 OR id = $2)`, [kind, nameOrId]);
    if (!r.rows[0]) throw new AgentApiError(404, `unknown ${kind} "${nameOrId}"`, null);
    return r.rows[0];
  }

  /** Merges the fields given over the stored definition (a name cannot change). */
  async update<K extends DefKind>(kind: K, nameOrId: string, patch: unknown): Promise<DefOf<K>> {
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new AgentApiError(400, 'expected a JSON object', null);
    const row = await this.apiRow(kind, nameOrId);
    const merged = { ...row.spec, ...(patch as Record<string, unknown>), name: row.name };
    const spec = await this.validate(kind, merged);
    await this.pool.query(`UPDATE "Weir_AgentDefinition" SET spec = $2, updated_at = now() WHERE id = $1`, [row.id, JSON.stringify(spec)]);
    return toDef(kind, spec, row.id);
  }

  async remove(kind: DefKind, nameOrId: string): Promise<{ id: string; name: string }> {
    const row = await this.apiRow(kind, nameOrId);
    // What still refers to it would be left dangling.
    const users = kind === 'sandbox' ? (await this.list('profile')).filter((p) => p.sandbox === row.name).map((p) => `profile "${p.name}"`)
      : kind === 'profile' ? (await this.list('job')).filter((j) => j.profile === row.name).map((j) => `job "${j.name}"`) : [];
    if (users.length) throw new AgentApiError(409, `${kind} "${row.name}" is used by ${users.join(', ')}`, null);
    await this.pool.query(`DELETE FROM "Weir_AgentDefinition" WHERE id = $1`, [row.id]);
    return { id: row.id, name: row.name };
  }
}
