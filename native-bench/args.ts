// Command line of `npm run bench -- …`. Pure: returns the options or throws a UsageError.

export const SCENARIO_KEYS = ['chat', 'claude', 'stream', 'governed', 'fanout', 'soak', 'translated', 'agents', 'bedrock', 'google', 'scaleout', 'history', 'tail'] as const;
export type ScenarioKey = (typeof SCENARIO_KEYS)[number];
/** The scenarios run when --scenario is not given (the soak only with --soak; agent runs only when named). */
export const DEFAULT_SCENARIOS: ScenarioKey[] = ['chat', 'claude', 'stream', 'governed', 'fanout', 'translated'];

export interface BenchArgs {
  scenarios: ScenarioKey[];
  quick: boolean;
  /** Seconds of each fixed-rate run and of each autocannon step; undefined: the mode's default. */
  durationS: number | undefined;
  json: string;
  pin: boolean;
  nginx: boolean;
  litellmUrl: string | null;
  litellmCmd: string | null;
  litellmKey: string;
  mockPort: number;
  soak: boolean;
  soakRequests: number;
  soakRate: number;
  profile: boolean;
  /** Scenario 8: Claude Code runs asked for, light-agent fan-outs, calls per light run and think time. */
  agentClaude: number;
  agentLight: number[];
  agentCalls: number | undefined;
  agentThinkMs: number | undefined;
  /** Scenario 8: only the warm-up and the sandbox starts per provider (no fan-outs, no Claude Code). */
  agentStartsOnly: boolean;
  /** Only write the LiteLLM config for the mock port and exit. */
  writeLitellmConfig: boolean;
  workers: number;
  repeats: number;
  /** Max-throughput load: the C generator (native-bench/loadgen.c, built with cc) or autocannon. */
  generator: 'c' | 'autocannon';
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [options]

  --quick               a run of under 2 minutes for day-to-day use
  --scenario LIST       comma-separated: 1|chat, 2|claude, 3|stream, 4|governed, 5|fanout, 6|soak,
                        7|translated, 8|agents, 9|bedrock, 10|google, 11|scaleout, 12|history,
                        13|tail (default: 1,2,3,4,5,7)
  --duration S          seconds of each fixed-rate run and each throughput step (default 5; quick 1)
  --repeats N           interleaved repeats whose median is reported (default 3, at least 3 advised)
  --workers N           worker threads of Weir and of the minimal proxy (default 2)
  --json PATH           results file (default bench-results/latest.json; a .md beside it)
  --pin                 taskset: load generator + mock on one CPU set, the proxies on another
  --nginx               add nginx as a plain keep-alive reverse proxy (when installed)
  --litellm URL         add a running Python LiteLLM proxy (same model list, same mock: see --mock-port)
  --litellm-cmd CMD     start LiteLLM with CMD; {config} and {port} are substituted, e.g.
                        "litellm --config {config} --host 127.0.0.1 --port {port} --num_workers 2"
  --litellm-key KEY     key sent to LiteLLM (default sk-bench-master)
  --mock-port N         port of the mock upstream (default: any free one; 4010 with --litellm URL)
  --write-litellm-config  write bench-results/litellm-config.yaml (the model list pointed at the
                        mock on --mock-port, default 4010) for a LiteLLM you start yourself, and exit
  --soak                add scenario 6: 1,000,000 requests at a moderate rate, RSS every 10 s
  --soak-requests N     requests in the soak (default 1000000)
  --soak-rate R         requests per second in the soak (default 2000)
  --profile             run Weir under node --cpu-prof and print its top 15 self-time functions
  --agent-claude N      scenario 8: concurrent Claude Code runs (default 16; fewer when memory is short; 0: none)
  --agent-light LIST    scenario 8: concurrent light-agent runs per fan-out (default 64,256)
  --agent-calls N       scenario 8: streaming calls per light run (default 10; quick 3)
  --agent-think-ms N    scenario 8: think time between a light run's calls (default 500; quick 200)
  --agent-starts-only   scenario 8: only the sandbox starts per provider, cold and warm (no fan-outs)
  --generator c|autocannon  max-throughput load: the C generator built with cc (default; it costs a
                        few µs per request) or autocannon (its JavaScript takes most of a core)
  --help`;

export class UsageError extends Error {}

const ALIASES: Record<string, ScenarioKey> = {
  '1': 'chat', '2': 'claude', '3': 'stream', '4': 'governed', '5': 'fanout', '6': 'soak', '7': 'translated', '8': 'agents', '9': 'bedrock', '10': 'google', '11': 'scaleout', '12': 'history', '13': 'tail',
};

export function parseScenarios(list: string): ScenarioKey[] {
  const out: ScenarioKey[] = [];
  for (const raw of list.split(',')) {
    const s = raw.trim().toLowerCase();
    if (!s) continue;
    const key = ALIASES[s] ?? (SCENARIO_KEYS as readonly string[]).find((k) => k === s);
    if (!key) throw new UsageError(`unknown scenario "${raw}" (use 1-13 or ${SCENARIO_KEYS.join(', ')})`);
    if (!out.includes(key as ScenarioKey)) out.push(key as ScenarioKey);
  }
  if (out.length === 0) throw new UsageError('--scenario needs at least one scenario');
  return out;
}

function num(flag: string, v: string | undefined, o: { min: number; integer?: boolean }): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isFinite(n) || n < o.min || (o.integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} needs ${o.integer ? 'an integer' : 'a number'} >= ${o.min}, got ${v ?? 'nothing'}`);
  }
  return n;
}

function intList(flag: string, v: string): number[] {
  const out = v.split(',').filter((x) => x.trim() !== '').map((x) => num(flag, x.trim(), { min: 1, integer: true }));
  if (out.length === 0) throw new UsageError(`${flag} needs a comma-separated list of run counts`);
  return out;
}

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = {
    scenarios: [...DEFAULT_SCENARIOS],
    quick: false,
    durationS: undefined,
    json: 'bench-results/latest.json',
    pin: false,
    nginx: false,
    litellmUrl: null,
    litellmCmd: null,
    litellmKey: 'sk-bench-master',
    mockPort: -1,
    soak: false,
    soakRequests: 1_000_000,
    soakRate: 2000,
    profile: false,
    agentClaude: 16,
    agentLight: [64, 256],
    agentCalls: undefined,
    agentThinkMs: undefined,
    agentStartsOnly: false,
    writeLitellmConfig: false,
    workers: 2,
    repeats: 3,
    generator: 'c',
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick': a.quick = true; break;
      case '--scenario': case '--scenarios': a.scenarios = parseScenarios(value()); break;
      case '--duration': a.durationS = num(flag, value(), { min: 0.2 }); break;
      case '--repeats': a.repeats = num(flag, value(), { min: 1, integer: true }); break;
      case '--workers': a.workers = num(flag, value(), { min: 1, integer: true }); break;
      case '--json': a.json = value(); break;
      case '--pin': a.pin = true; break;
      case '--nginx': a.nginx = true; break;
      case '--litellm': {
        const u = value();
        if (!/^https?:\/\/[^/]+/.test(u)) throw new UsageError(`--litellm needs an http(s) URL, got ${u}`);
        a.litellmUrl = u.replace(/\/+$/, '');
        break;
      }
      case '--litellm-cmd': a.litellmCmd = value(); break;
      case '--litellm-key': a.litellmKey = value(); break;
      case '--mock-port': a.mockPort = num(flag, value(), { min: 1, integer: true }); break;
      case '--soak': a.soak = true; break;
      case '--soak-requests': a.soakRequests = num(flag, value(), { min: 1, integer: true }); break;
      case '--soak-rate': a.soakRate = num(flag, value(), { min: 1 }); break;
      case '--profile': a.profile = true; break;
      case '--agent-claude': a.agentClaude = num(flag, value(), { min: 0, integer: true }); break;
      case '--agent-light': a.agentLight = intList(flag, value()); break;
      case '--agent-calls': a.agentCalls = num(flag, value(), { min: 1, integer: true }); break;
      case '--agent-think-ms': a.agentThinkMs = num(flag, value(), { min: 0, integer: true }); break;
      case '--agent-starts-only': a.agentStartsOnly = true; break;
      case '--generator': {
        const g = value();
        if (g !== 'c' && g !== 'autocannon') throw new UsageError(`--generator needs c or autocannon, got ${g}`);
        a.generator = g;
        break;
      }
      case '--write-litellm-config': a.writeLitellmConfig = true; break;
      case '--help': case '-h': a.help = true; break;
      default: throw new UsageError(`unknown argument ${arg}`);
    }
  }
  if (a.litellmUrl && a.litellmCmd) throw new UsageError('--litellm and --litellm-cmd are exclusive');
  if (a.soak && !a.scenarios.includes('soak')) a.scenarios = [...a.scenarios, 'soak'];
  if (a.scenarios.includes('soak')) a.soak = true;
  // LiteLLM started elsewhere must be pointed at the mock before the bench starts it.
  if (a.mockPort < 0) a.mockPort = a.litellmUrl || a.writeLitellmConfig ? 4010 : 0;
  return a;
}
