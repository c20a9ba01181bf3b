// Runs the pinned Claude Code CLI once in print mode (`claude -p --output-format json`) against a
// gateway, in a fresh home and working directory, and returns its JSON result. Claude Code always
// streams its /v1/messages calls; in print mode it runs the tool loop until the model stops.
import fs from 'node:fs';
import { agentBinary, agentDirs, describeRun, runAgent, type AgentRun } from './agent-cli';

export const CLAUDE_CODE = agentBinary('@anthropic-ai/claude-code', 'claude');

export interface ClaudeCodeOptions {
  /** The gateway's base URL (ANTHROPIC_BASE_URL). */
  baseUrl: string;
  /** A Weir master or virtual key (ANTHROPIC_API_KEY: sent as x-api-key). */
  apiKey: string;
  /** --model; the CLI's own default when absent. */
  model?: string;
  prompt: string;
  deadlineMs?: number;
  /** More environment (Claude Code's Vertex or Bedrock mode), over the defaults. */
  env?: Record<string, string>;
}

export interface ClaudeCodeRun extends AgentRun {
  /** The parsed `--output-format json` result, when stdout held one. */
  json: any;
}

/**
 * The environment that points Claude Code at the gateway and switches off everything that would
 * reach another host: telemetry, error reporting, the auto-updater and the other "nonessential"
 * calls (feature flags, release notes, the preconnect to api.anthropic.com, which the proxy trap
 * catches without CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC). IS_SANDBOX lets
 * --dangerously-skip-permissions run as root, as it does in this container. Retries are off: a
 * failing gateway answer fails the run at once instead of after minutes of back-off.
 */
function claudeEnv(o: ClaudeCodeOptions): Record<string, string> {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: o.baseUrl,
    ANTHROPIC_API_KEY: o.apiKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
  };
  if (process.getuid?.() === 0) env.IS_SANDBOX = '1';
  return { ...env, ...o.env };
}

export async function runClaudeCode(o: ClaudeCodeOptions): Promise<ClaudeCodeRun> {
  const dirs = agentDirs('claude-code');
  try {
    const args = ['-p', '--output-format', 'json', '--dangerously-skip-permissions', '--no-session-persistence'];
    if (o.model) args.push('--model', o.model);
    args.push(o.prompt);
    const run = await runAgent({ name: 'Claude Code', command: CLAUDE_CODE, args, env: claudeEnv(o), home: dirs.home, cwd: dirs.cwd, deadlineMs: o.deadlineMs ?? 60_000 });
    let json: any;
    try {
      json = JSON.parse(run.stdout);
    } catch {
      json = undefined;
    }
    return { ...run, json };
  } finally {
    fs.rmSync(dirs.root, { recursive: true, force: true });
  }
}

/** The failure message for a run whose result is not what the test expected. */
export function claudeCodeSaid(run: ClaudeCodeRun): string {
  return describeRun('Claude Code', run);
}
