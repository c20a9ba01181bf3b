// Codex (`codex exec --json -`): the prompt comes on standard input, every event is a JSON line
// (thread.started, turn.started, item.*, turn.completed / turn.failed, error). Weir is its only
// model provider, speaking the Responses API at <baseUrl>/v1 with the run's key, set with `-c`
// overrides on the command line so nothing has to be written into the sandbox first. Switched
// off, as the gateway tests found each one reaching another host: plugins (github.com,
// chatgpt.com), analytics and the update check. No retries: a run fails fast.
//
// Codex runs with its own sandbox and approvals off: ours is the boundary (and bubblewrap inside
// bubblewrap is not a given), and nobody is there to approve. It has no max-turns switch, so
// profile.max_turns does not apply to it; the run's timeout and budget do.
import type { Harness, HarnessInput, HarnessOutcome, Sandbox } from '../types';
import { MCP_SERVER_NAME } from '../memory/mcp-config';
import { cliPath } from './bin';
import { parseAgentLine, record, str } from './parse';

/** A TOML string (JSON's escapes are TOML's). */
const toml = (s: string) => JSON.stringify(s);

export const codex: Harness = {
  kind: 'codex',

  command(input: HarnessInput) {
    const p = input.profile;
    const overrides = [
      'model_provider="weir"',
      'model_providers.weir.name="Weir"',
      `model_providers.weir.base_url=${toml(`${input.baseUrl}/v1`)}`,
      'model_providers.weir.env_key="WEIR_API_KEY"',
      'model_providers.weir.wire_api="responses"',
      'model_providers.weir.request_max_retries=0',
      'model_providers.weir.stream_max_retries=0',
      `model_providers.weir.http_headers={ "x-weir-run-id" = ${toml(input.runId)} }`,
      'check_for_update_on_startup=false',
      'features.plugins=false',
      'analytics.enabled=false',
    ];
    if (p.model) overrides.push(`model=${toml(p.model)}`);
    // The memory server, with the run's key read from the environment (never on the command line).
    if (input.mcp) {
      const at = `mcp_servers.${MCP_SERVER_NAME.replace(/-/g, '_')}`;
      overrides.push(`${at}.url=${toml(input.mcp.url)}`, `${at}.bearer_token_env_var="WEIR_API_KEY"`);
    }
    if (p.append_system_prompt) overrides.push(`developer_instructions=${toml(p.append_system_prompt)}`);
    const argv = [...(input.sandbox.agentsOnPath ? ['codex'] : [process.execPath, cliPath('WEIR_CODEX_BIN', '@openai/codex', 'codex')]), 'exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox'];
    for (const o of overrides) argv.push('-c', o);
    argv.push(...(p.extra_args ?? []));
    // A session's later message: `exec resume ID -` goes on with the thread restored under HOME.
    if (input.resume) argv.push('resume', input.resume);
    argv.push('-');
    // No CODEX_HOME: Codex refuses one that does not exist yet, and makes its default ($HOME/.codex) itself.
    const env = { ...p.env, WEIR_API_KEY: input.apiKey };
    return { argv, env };
  },

  /** The rollout files, one per thread, by date. */
  sessionState: ['.codex/sessions'],

  parseLine: (line) => parseAgentLine(line),

  outcome(events, exitCode): HarnessOutcome {
    let sessionId: string | undefined;
    let result: string | undefined;
    let failure: string | undefined;
    let turns = 0;
    for (const e of events) {
      const r = record(e.payload);
      if (!r) continue;
      if (e.type === 'thread.started') sessionId = str(r.thread_id) ?? sessionId;
      else if (e.type === 'turn.completed') turns++;
      else if (e.type === 'turn.failed') failure = str(record(r.error)?.message) ?? 'turn failed';
      else if (e.type === 'error') failure = str(r.message) ?? 'error';
      else if (e.type === 'item.completed') {
        const item = record(r.item);
        if (item?.type === 'agent_message' && typeof item.text === 'string') result = item.text;
      }
    }
    const common = { result, numTurns: turns, sessionId };
    if (failure !== undefined) return { ok: false, errorKind: 'agent_error', message: failure, ...common };
    if (turns === 0) return { ok: false, errorKind: 'agent_error', message: `Codex exited with ${exitCode} without a completed turn`, ...common };
    if (exitCode !== 0) return { ok: false, errorKind: 'agent_error', message: `Codex exited with ${exitCode}`, ...common };
    return { ok: true, ...common };
  },

  /** Codex names its session file after the time it started and the thread id. */
  transcriptPaths(sandbox: Sandbox, sessionId: string | undefined): string[] {
    return sessionId && /^[A-Za-z0-9_-]+$/.test(sessionId) ? [`${sandbox.home}/.codex/sessions/*/*/*/rollout-*${sessionId}.jsonl`] : [];
  },
};
