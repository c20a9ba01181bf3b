// The settings of a `local` sandbox as config.yaml or the API wrote them (SandboxDef.options),
// checked once when a sandbox is created: a wrong value is a sandbox_error with the field's name,
// never a run that goes ahead without its limits. Unknown fields are ignored (a newer Weir's
// settings must not break an older one).
import { z } from 'zod';

export type Isolation = 'auto' | 'bwrap' | 'user' | 'none';

export interface LocalOptions {
  isolation: Isolation;
  /** RLIMIT_NPROC inside the sandbox. */
  maxProcesses: number;
  /** RLIMIT_AS of every process, in bytes. */
  maxMemoryBytes: number;
  /** The cap on workspace + home + tmp together (polled) and RLIMIT_FSIZE, in bytes. */
  maxWorkspaceBytes: number;
  /** The host user the sandbox runs as when Weir is root (bwrap maps it to uid 1000 inside). */
  uid: number;
  gid: number;
  /** How often the size of the sandbox's folders is measured. */
  sizeCheckMs: number;
  /**
   * The agent's CPU niceness (0–19), its process's and its session's (autogroup: the kernel weighs
   * sessions against each other first). Agents share the machine's cores with the gateway and its
   * database: at 10 the kernel weighs each agent at about a tenth of Weir's whole session, so a
   * fan-out of agents slows the agents more than the requests and events the gateway serves, and
   * an idle machine still runs them at full speed. Not 19: on a machine kept busy by other work,
   * agents at 19 all but stop. 0 runs them as Weir's equals. Several agents at once are niced
   * further, up to 19, so that together they weigh about what one weighs (spawn/fanout-nice.ts).
   */
  nice: number;
  /**
   * Sandboxes kept made ahead on this host (local-pool.ts): folders made and the isolation's
   * processes started, a launcher in them waiting for the agent's command. 0: every start is cold.
   */
  warmPool: number;
}

/** `nobody`: owns nothing on the host, so a process running as it reads only what is world-readable. */
const NOBODY = 65534;
const MB = 1024 * 1024;

const posInt = (max: number) => z.number().int().positive().max(max);

const schema = z.object({
  isolation: z.enum(['auto', 'bwrap', 'user', 'none']).optional(),
  max_processes: posInt(1_000_000).optional(),
  max_memory_mb: posInt(16 * 1024 * 1024).optional(),
  max_workspace_mb: posInt(16 * 1024 * 1024).optional(),
  uid: posInt(0xfffffffe).optional(),
  gid: posInt(0xfffffffe).optional(),
  size_check_ms: z.number().int().min(100).max(3_600_000).optional(),
  nice: z.number().int().min(0).max(19).optional(),
  warm_pool: z.number({ error: 'expected an integer from 0 to 100' }).int({ error: 'expected an integer from 0 to 100' }).min(0, { error: 'expected an integer from 0 to 100' }).max(100, { error: 'expected an integer from 0 to 100' }).optional(),
});

export function localOptions(options: Record<string, unknown>): LocalOptions {
  const r = schema.safeParse(options ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new Error(`sandbox option ${i.path.join('.') || '(options)'}: ${i.message}`);
  }
  const o = r.data;
  return {
    isolation: o.isolation ?? 'auto',
    maxProcesses: o.max_processes ?? 256,
    maxMemoryBytes: (o.max_memory_mb ?? 4096) * MB,
    maxWorkspaceBytes: (o.max_workspace_mb ?? 1024) * MB,
    uid: o.uid ?? NOBODY,
    gid: o.gid ?? o.uid ?? NOBODY,
    sizeCheckMs: o.size_check_ms ?? 2000,
    nice: o.nice ?? 10,
    warmPool: o.warm_pool ?? 0,
  };
}
