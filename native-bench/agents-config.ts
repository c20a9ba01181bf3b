// Scenario 8's config: the bench's model list (the mock upstream in both dialects, priced), a
// database, and agent_settings with one local sandbox and two profiles: the real Claude Code
// answered by the mock (one short text turn), and a light agent, the `command` harness running a
// shell script that makes a chain of streaming chat calls with curl, thinking (sleeping) between.

/** Profile names of the scenario. */
export const CLAUDE_PROFILE = 'bench-claude-code';
export const LIGHT_PROFILE = 'bench-light';
/** The light agent on a local sandbox with a warm pool (the fan-outs run on both). */
export const LIGHT_WARM_PROFILE = 'bench-light-warm';
/** The local sandbox with a warm pool. */
export const LOCAL_WARM_SANDBOX = 'bench-local-warm';
/** The light agent making one call: the runs started one at a time (a start with nothing else going on). */
export const SINGLE_PROFILE = 'bench-single';

/**
 * The light agent: CALLS streaming chat completions through the gateway with the run's key, each
 * checked to end with [DONE], SLEEP seconds apart; a JSON line per call (an event of type `call`)
 * and a result line at the end. Variables the command harness may name differently are looked up
 * in order (OPENAI_* first, as the brief of the harness has them).
 */
export const LIGHT_AGENT_SCRIPT = `set -u
base="\${OPENAI_BASE_URL:-\${WEIR_BASE_URL:-http://127.0.0.1:4000}/v1}"
key="\${OPENAI_API_KEY:-\${WEIR_API_KEY:-}}"
body='{"model":"'"\${BENCH_MODEL}"'","stream":true,"messages":[{"role":"user","content":"next step"}],"mock_behavior":{"deltas":'"\${BENCH_DELTAS}"'}}'
i=1
while [ "$i" -le "\${BENCH_CALLS}" ]; do
  out=$(curl -sS -N -w '\\n%{http_code}' -H "authorization: Bearer $key" -H 'content-type: application/json' -d "$body" "$base/chat/completions") || { echo "{\\"type\\":\\"error\\",\\"message\\":\\"call $i: curl failed\\"}"; exit 1; }
  code="\${out##*$'\\n'}"
  case "$out" in
    *'data: [DONE]'*) ;;
    *) echo "{\\"type\\":\\"error\\",\\"message\\":\\"call $i: HTTP $code without [DONE]\\"}"; exit 1 ;;
  esac
  echo "{\\"type\\":\\"call\\",\\"n\\":$i,\\"status\\":$code,\\"bytes\\":\${#out}}"
  if [ "$i" -lt "\${BENCH_CALLS}" ]; then sleep "\${BENCH_THINK_S}"; fi
  i=$((i + 1))
done
echo "{\\"type\\":\\"result\\",\\"subtype\\":\\"success\\",\\"result\\":\\"\${BENCH_CALLS} calls\\"}"
`;

export interface AgentsConfigOptions {
  mockUrl: string;
  masterKey: string;
  databaseUrl: string;
  /** Runs at once the runtime allows: at least the largest fan-out. */
  maxConcurrentRuns: number;
  light: { calls: number; thinkMs: number; deltas: number };
  /** warm_pool of the local sandbox LOCAL_WARM_SANDBOX (the largest light fan-out, at most 100). */
  localWarmPool: number;
  /** The sandbox-start phase's E2B and Daytona fakes (agents-starts.ts). */
  cloud?: { e2bUrl: string; e2bKey: string; daytonaApiUrl: string; daytonaKey: string; warmPool: number };
}

/** Sandboxes and `true` profiles of the sandbox-start phase: local, and each cloud cold and warm. */
function startDefs(o: AgentsConfigOptions): { sandboxes: string; profiles: string } {
  if (!o.cloud) return { sandboxes: '', profiles: '' };
  const c = o.cloud;
  const e2b = `provider: e2b, api_key: ${c.e2bKey}, api_url: "${c.e2bUrl}", sandbox_url: "${c.e2bUrl}"`;
  const dtn = `provider: daytona, api_key: ${c.daytonaKey}, api_url: "${c.daytonaApiUrl}"`;
  const sandboxes = [
    `    - { name: bench-e2b, ${e2b} }`,
    `    - { name: bench-e2b-warm, ${e2b}, warm_pool: ${c.warmPool} }`,
    `    - { name: bench-daytona, ${dtn} }`,
    `    - { name: bench-daytona-warm, ${dtn}, warm_pool: ${c.warmPool} }`,
  ].join('\n');
  const profile = (name: string, sandbox: string) => `    - { name: ${name}, agent: command, sandbox: ${sandbox}, model: bench-gpt, timeout: 5m, command: ["true"] }`;
  const profiles = [
    profile('bench-start-local', 'bench-local'),
    profile('bench-start-e2b', 'bench-e2b'),
    profile('bench-start-e2b-warm', 'bench-e2b-warm'),
    profile('bench-start-daytona', 'bench-daytona'),
    profile('bench-start-daytona-warm', 'bench-daytona-warm'),
  ].join('\n');
  return { sandboxes: '\n' + sandboxes, profiles: '\n' + profiles };
}

const PRICE = 'input_cost_per_token: 0.000001, output_cost_per_token: 0.000002';

export function agentsConfig(o: AgentsConfigOptions): string {
  const starts = startDefs(o);
  const env = `{ BENCH_MODEL: bench-gpt, BENCH_CALLS: "${o.light.calls}", BENCH_THINK_S: "${(o.light.thinkMs / 1000).toFixed(3)}", BENCH_DELTAS: "${o.light.deltas}" }`;
  return `# written by npm run bench: scenario 8 (agent runs), pointed at the bench's mock and PostgreSQL
model_list:
  - model_name: bench-gpt
    litellm_params: { model: openai/bench-gpt, api_base: ${o.mockUrl}/v1, api_key: sk-bench, ${PRICE} }
  - model_name: bench-claude
    litellm_params: { model: anthropic/bench-claude, api_base: ${o.mockUrl}, api_key: sk-bench, ${PRICE} }
  # Claude Code's side calls (a small model for titles and checks) reach the same mock.
  - model_name: "claude-*"
    litellm_params: { model: "anthropic/*", api_base: ${o.mockUrl}, api_key: sk-bench, ${PRICE} }
general_settings:
  master_key: ${o.masterKey}
  database_url: ${JSON.stringify(o.databaseUrl)}
  proxy_batch_write_at: 1
agent_settings:
  max_concurrent_runs: ${o.maxConcurrentRuns}
  sandboxes:
    - { name: bench-local, provider: local }
    - { name: ${LOCAL_WARM_SANDBOX}, provider: local, warm_pool: ${o.localWarmPool} }${starts.sandboxes}
  profiles:
    - name: ${CLAUDE_PROFILE}
      agent: claude-code
      sandbox: bench-local
      model: bench-claude
      max_turns: 3
      timeout: 5m
    - name: ${LIGHT_PROFILE}
      agent: command
      sandbox: bench-local
      model: bench-gpt
      timeout: 10m
      command: [bash, -c, ${JSON.stringify(LIGHT_AGENT_SCRIPT)}]
      env: ${env}
    - name: ${LIGHT_WARM_PROFILE}
      agent: command
      sandbox: ${LOCAL_WARM_SANDBOX}
      model: bench-gpt
      timeout: 10m
      command: [bash, -c, ${JSON.stringify(LIGHT_AGENT_SCRIPT)}]
      env: ${env}
    - name: ${SINGLE_PROFILE}
      agent: command
      sandbox: bench-local
      model: bench-gpt
      timeout: 10m
      command: [bash, -c, ${JSON.stringify(LIGHT_AGENT_SCRIPT)}]
      env: ${env.replace(`BENCH_CALLS: "${o.light.calls}"`, 'BENCH_CALLS: "1"')}${starts.profiles}
`;
}
