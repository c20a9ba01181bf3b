// The command line of `weir run` (and its environment defaults). Pure: returns the options or
// throws a RunUsageError, which the CLI turns into exit code 2 before anything is sent.

export const RUN_USAGE = `usage: weir run --profile NAME "prompt"      (or "-" to read the prompt from stdin)
       weir run --job NAME [--input JSON]

  --profile NAME     run a profile of agent_settings with this prompt
  --job NAME         run a job; --input is the object its prompt template reads as {{input.…}}
  --input JSON       a JSON object (jobs only)
  --max-budget USD   the run's budget, below the profile's
  --url URL          Weir's address (or WEIR_URL; default http://127.0.0.1:4000)
  --key KEY          a key that may start runs (or WEIR_API_KEY, else LITELLM_MASTER_KEY)
  --json             print the run's events as they arrive, one JSON object a line
  --help

Exit codes: 0 succeeded, 1 failed (or expired, skipped, unreachable), 2 bad usage or refused (4xx),
3 timed out, 4 canceled.`;

export class RunUsageError extends Error {}

export interface RunArgs {
  url: string;
  key: string | null;
  profile: string | null;
  job: string | null;
  /** The prompt, or "-" for standard input (profiles only). */
  prompt: string | null;
  input: Record<string, unknown> | null;
  maxBudget: number | null;
  json: boolean;
  help: boolean;
}

export function parseRunArgs(argv: string[], env: NodeJS.ProcessEnv): RunArgs {
  const a: RunArgs = {
    url: env.WEIR_URL || 'http://127.0.0.1:4000',
    key: env.WEIR_API_KEY || env.LITELLM_MASTER_KEY || null,
    profile: null,
    job: null,
    prompt: null,
    input: null,
    maxBudget: null,
    json: false,
    help: false,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    // "--" ends the options: a prompt may then start with a dash.
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      a.help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new RunUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--profile': a.profile = nonEmpty(flag, value()); break;
      case '--job': a.job = nonEmpty(flag, value()); break;
      case '--input': a.input = jsonObject(value()); break;
      case '--max-budget': a.maxBudget = usd(value()); break;
      case '--url': a.url = httpUrl(value()); break;
      case '--key': a.key = nonEmpty(flag, value()); break;
      case '--json': a.json = true; break;
      case '--help': a.help = true; break;
      default: throw new RunUsageError(`unknown option ${flag}`);
    }
  }
  if (a.help) return a;
  a.url = httpUrl(a.url);
  if ((a.profile === null) === (a.job === null)) throw new RunUsageError('give exactly one of --profile NAME and --job NAME');
  if (positional.length > 1) throw new RunUsageError(`one prompt only (quote it): got ${positional.length} arguments`);
  if (a.profile !== null) {
    if (positional.length === 0) throw new RunUsageError('--profile needs a prompt (or "-" to read it from stdin)');
    if (a.input !== null) throw new RunUsageError('--input is for jobs; a profile run takes a prompt');
    a.prompt = positional[0]!;
  } else if (positional.length) {
    throw new RunUsageError('a job builds its prompt from its template: pass --input JSON instead of a prompt');
  }
  if (a.key === null) throw new RunUsageError('no key: pass --key or set WEIR_API_KEY (or LITELLM_MASTER_KEY)');
  return a;
}

function nonEmpty(flag: string, v: string): string {
  if (!v.trim()) throw new RunUsageError(`${flag} needs a non-empty value`);
  return v;
}

function jsonObject(v: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new RunUsageError(`--input is not JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new RunUsageError('--input must be a JSON object, e.g. {"issue": 42}');
  return parsed as Record<string, unknown>;
}

function usd(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new RunUsageError(`--max-budget needs a number of USD > 0, got ${v}`);
  return n;
}

function httpUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new RunUsageError(`--url (or WEIR_URL) is not a URL: ${v}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RunUsageError(`--url (or WEIR_URL) needs http(s), got ${v}`);
  return v.replace(/\/+$/, '');
}
