// Claude Code in print mode (`claude -p --output-format stream-json --verbose`): the prompt comes
// on standard input, every message is a JSON line, and the last one is `{"type":"result",…}`.
// It talks to Weir with the run's key as a bearer token (ANTHROPIC_AUTH_TOKEN), every model alias
// it might use set to the profile's model group, and everything that would reach another host off.
//
// Permissions: with no allowed_tools the agent may do anything inside its sandbox
// (bypassPermissions: the sandbox is the boundary, and nobody is there to answer a prompt); with
// allowed_tools those are the only tools it gets (permission mode `default`: in print mode
// anything not allowed is denied). profile.permission_mode overrides either.
import type { Harness, HarnessInput, HarnessOutcome, Sandbox } from '../types';
import { MCP_SERVER_NAME } from '../memory/mcp-config';
import { cliPath } from './bin';
import { num, parseAgentLine, record, str } from './parse';

export const claudeCode: Harness = {
  kind: 'claude-code',

  command(input: HarnessInput) {
    const p = input.profile;
    // A cloud sandbox's template installs the CLI on its PATH; locally it is the one Weir installed.
    const argv = [input.sandbox.agentsOnPath ? 'claude' : cliPath('WEIR_CLAUDE_CODE_BIN', '@anthropic-ai/claude-code', 'claude'), '-p', '--output-format', 'stream-json', '--verbose'];
    if (p.max_turns !== undefined) argv.push('--max-turns', String(p.max_turns));
    if (p.model) argv.push('--model', p.model);
    const mode = p.permission_mode ?? (p.allowed_tools?.length ? 'default' : 'bypassPermissions');
    argv.push('--permission-mode', mode);
    if (mode === 'bypassPermissions') argv.push('--dangerously-skip-permissions');
    // The memory server's tools come with it: a profile listing its tools need not name them.
    if (p.allowed_tools?.length) argv.push('--allowedTools', ...p.allowed_tools, ...(input.mcp ? [`mcp__${MCP_SERVER_NAME}`] : []));
    if (input.mcp) argv.push('--mcp-config', input.mcp.configFile);
    if (p.append_system_prompt) argv.push('--append-system-prompt', p.append_system_prompt);
    // A session's later message: the conversation goes on in the transcript restored under HOME.
    if (input.resume) argv.push('--resume', input.resume);
    argv.push(...(p.extra_args ?? []));
    const env: Record<string, string> = {
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      IS_SANDBOX: '1',
      // A run must fail fast rather than back off for minutes.
      CLAUDE_CODE_MAX_RETRIES: '2',
    };
    // The memory server's five tools are offered as they are, not behind a tool search (a
    // model that must first search for them seldom does; the profile may turn it back on).
    if (input.mcp) env.ENABLE_TOOL_SEARCH = 'false';
    if (p.model) {
      for (const k of ['ANTHROPIC_MODEL', 'ANTHROPIC_DEFAULT_HAIKU_MODEL', 'ANTHROPIC_DEFAULT_SONNET_MODEL', 'ANTHROPIC_DEFAULT_OPUS_MODEL', 'ANTHROPIC_SMALL_FAST_MODEL']) env[k] = p.model;
    }
    // The profile may change the settings above (a different small model, more retries); the
    // gateway, the run key and the run id are always ours.
    return {
      argv,
      env: { ...env, ...p.env, ANTHROPIC_BASE_URL: input.baseUrl, ANTHROPIC_AUTH_TOKEN: input.apiKey, ANTHROPIC_CUSTOM_HEADERS: `x-weir-run-id: ${input.runId}` },
    };
  },

  /** The transcripts, one folder per working directory. */
  sessionState: ['.claude/projects'],

  parseLine: (line) => parseAgentLine(line),

  outcome(events, exitCode): HarnessOutcome {
    let result: Record<string, unknown> | undefined;
    let sessionId: string | undefined;
    for (const e of events) {
      const r = record(e.payload);
      if (!r) continue;
      sessionId = str(r.session_id) ?? sessionId;
      if (e.type === 'result') result = r;
    }
    if (!result) return { ok: false, errorKind: 'agent_error', message: `Claude Code exited with ${exitCode} without a result line`, sessionId };
    const subtype = str(result.subtype);
    const common = {
      result: str(result.result),
      numTurns: num(result.num_turns),
      sessionId,
      agentCostUsd: num(result.total_cost_usd),
    };
    if (subtype === 'success' && result.is_error !== true) return { ok: true, ...common };
    const errors = Array.isArray(result.errors) ? result.errors.filter((x) => typeof x === 'string').join('; ') : '';
    const message = str(result.result) || errors || `Claude Code ended with ${subtype ?? 'an error'} (exit ${exitCode})`;
    const errorKind = subtype === 'error_max_turns' ? 'max_turns' : subtype === 'error_max_budget_usd' ? 'budget_exceeded' : 'agent_error';
    return { ok: false, errorKind, message, ...common };
  },

  /** `*`: Claude Code names the project folder after the working directory. */
  transcriptPaths(sandbox: Sandbox, sessionId: string | undefined): string[] {
    return sessionId && /^[A-Za-z0-9_-]+$/.test(sessionId) ? [`${sandbox.home}/.claude/projects/*/${sessionId}.jsonl`] : [];
  },
};
