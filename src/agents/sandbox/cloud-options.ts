// The settings of an `e2b` or `daytona` sandbox as config.yaml or the API wrote them
// (SandboxDef.options), checked when a sandbox is made: a wrong value is a sandbox_error naming the
// field, never a sandbox made without it. Unknown fields are ignored (a newer Weir's settings must
// not break an older one). Secrets are `os.environ/NAME` references, resolved here and never shown.
import { z } from 'zod';
import { durationMs } from '../../config/agent-settings';
import { resolveEnvRef } from '../catalog';

export interface CloudOptions {
  apiKey: string;
  /** Where the SDK sends its control-plane calls (tests and self-hosted installs point it elsewhere). */
  apiUrl?: string;
  /** E2B: the in-sandbox daemon's address, the same for every sandbox (tests: the fake). */
  sandboxUrl?: string;
  /** E2B: the domain of a self-hosted install. */
  domain?: string;
  /** Daytona: the region. */
  target?: string;
  /** E2B template / Daytona snapshot (either name is accepted for either provider). */
  template?: string;
  resources: { cpu?: number; memoryMb?: number; diskGb?: number };
  /** The sandbox's lifetime past the run's own timeout (E2B kills at 300 s unless told otherwise). */
  lifetimeSlackMs: number;
  /** Bound on each API call (a cloud API that hangs fails the run, it never holds it). */
  requestTimeoutMs: number;
  /** Bound on making a sandbox, from the create call to a shell answering in it. */
  createTimeoutMs: number;
  /** Outbound hosts or CIDRs the sandbox may reach (empty: the provider's default, open). */
  allowOut: string[];
  /** Sandboxes kept made ahead, and how long one may wait unclaimed before it is retired. */
  warmPool: number;
  poolIdleMs: number;
}

const nonEmpty = () => z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty string' });
const duration = () =>
  z.unknown().transform((v, ctx) => {
    const ms = durationMs(v);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: 'expected a duration such as 90s, 20m or 2h (or a number of seconds)' });
      return z.NEVER;
    }
    return ms;
  }).optional();

const schema = z.object({
  api_key: nonEmpty().optional(),
  api_url: z.url({ error: 'expected an http(s) URL' }).optional(),
  sandbox_url: z.url({ error: 'expected an http(s) URL' }).optional(),
  domain: nonEmpty().optional(),
  target: nonEmpty().optional(),
  template: nonEmpty().optional(),
  snapshot: nonEmpty().optional(),
  resources: z
    .object({
      cpu: z.number().int().min(1).max(256).optional(),
      memory_mb: z.number().int().min(128).max(1024 * 1024).optional(),
      disk_gb: z.number().int().min(1).max(65536).optional(),
    }, { error: 'expected {cpu, memory_mb, disk_gb}' })
    .optional(),
  lifetime_slack: duration(),
  request_timeout: duration(),
  create_timeout: duration(),
  network: z.object({ allow_out: z.array(nonEmpty(), { error: 'expected a list of hosts or CIDRs' }).optional() }, { error: 'expected {allow_out: [...]}' }).optional(),
  warm_pool: z.number({ error: 'expected an integer from 0 to 100' }).int().min(0).max(100).optional(),
  pool_idle: duration(),
});

/** The options, with the API key resolved from `fallbackEnv` (E2B_API_KEY / DAYTONA_API_KEY) when not given. */
export function cloudOptions(options: Record<string, unknown>, fallbackEnv: string, env: NodeJS.ProcessEnv = process.env): CloudOptions {
  const r = schema.safeParse(options ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`sandbox option ${i.path.join('.') || '(options)'}: ${i.message}`);
  }
  const o = r.data;
  const ref = o.api_key ?? `os.environ/${fallbackEnv}`;
  const apiKey = resolveEnvRef(ref, env);
  if (!apiKey) throw new Error(ref.startsWith('os.environ/') ? `sandbox option api_key: ${ref.slice('os.environ/'.length)} is not set` : 'sandbox option api_key: empty');
  return {
    apiKey,
    apiUrl: o.api_url,
    sandboxUrl: o.sandbox_url,
    domain: o.domain,
    target: o.target,
    template: o.template ?? o.snapshot,
    resources: { cpu: o.resources?.cpu, memoryMb: o.resources?.memory_mb, diskGb: o.resources?.disk_gb },
    lifetimeSlackMs: o.lifetime_slack ?? 10 * 60_000,
    requestTimeoutMs: o.request_timeout ?? 30_000,
    createTimeoutMs: o.create_timeout ?? 120_000,
    allowOut: o.network?.allow_out ?? [],
    warmPool: o.warm_pool ?? 0,
    poolIdleMs: o.pool_idle ?? 30 * 60_000,
  };
}
