// Any program as the agent: profile.command is its argv, the gateway and the run's key come in
// the environment under the names OpenAI and Anthropic SDKs read, the prompt as a file
// ($WEIR_PROMPT_FILE). Every stdout line is an event (a JSON object keeps its own `type`); the
// exit code decides the outcome, and a last `{"type":"result","result":…}` line, if it prints one,
// is the run's result.
import path from 'node:path';
import type { Harness, HarnessInput, HarnessOutcome } from '../types';
import { parseAgentLine, record, str } from './parse';

export const command: Harness = {
  kind: 'command',

  command(input: HarnessInput) {
    const p = input.profile;
    if (!p.command?.length) throw new Error(`profile ${p.name}: agent command needs a command (argv)`);
    const env: Record<string, string> = {
      WEIR_BASE_URL: input.baseUrl,
      WEIR_API_KEY: input.apiKey,
      OPENAI_BASE_URL: `${input.baseUrl}/v1`,
      OPENAI_API_KEY: input.apiKey,
      ANTHROPIC_BASE_URL: input.baseUrl,
      ANTHROPIC_API_KEY: input.apiKey,
      WEIR_RUN_ID: input.runId,
      WEIR_PROMPT_FILE: path.resolve(input.sandbox.workdir, input.promptFile),
    };
    if (p.model) env.WEIR_MODEL = p.model;
    if (input.mcp) env.WEIR_MCP_URL = input.mcp.url;
    if (input.jobName) env.WEIR_JOB = input.jobName;
    // The profile's variables first: the gateway, the run key and the run id are always ours.
    return { argv: [...p.command, ...(p.extra_args ?? [])], env: { ...p.env, ...env } };
  },

  parseLine: (line) => parseAgentLine(line),

  outcome(events, exitCode): HarnessOutcome {
    let result: string | undefined;
    for (const e of events) if (e.type === 'result') result = str(record(e.payload)?.result) ?? result;
    if (exitCode === 0) return { ok: true, result };
    return { ok: false, errorKind: 'agent_error', message: `the command exited with ${exitCode}`, result };
  },

  transcriptPaths: () => [],
};
