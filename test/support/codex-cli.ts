// Runs the pinned Codex CLI once (`codex exec --json`) against a gateway, with a fresh CODEX_HOME
// whose config.toml names the gateway as a Responses-API model provider, and returns its JSONL
// events. Codex streams every /v1/responses call and runs the tool loop until the model stops.
import fs from 'node:fs';
import path from 'node:path';
import { agentBinary, agentDirs, describeRun, runAgent, type AgentRun } from './agent-cli';

export const CODEX = agentBinary('@openai/codex', 'codex');

export interface CodexOptions {
  /** The gateway's base URL; Codex calls `<baseUrl>/v1/responses`. */
  baseUrl: string;
  /** A Weir master or virtual key (sent as `authorization: Bearer`). */
  apiKey: string;
  /** The model; the CLI's own default when absent. */
  model?: string;
  prompt: string;
  deadlineMs?: number;
}

export interface CodexRun extends AgentRun {
  /** The --json events, one per stdout line that parsed. */
  events: any[];
  /** The text of the last agent_message item: Codex's final answer. */
  lastMessage: string | undefined;
}

/**
 * The gateway as the only model provider, speaking the Responses API (the only wire API Codex
 * 0.171 has: `wire_api = "chat"` is refused at load). Switched off, as the proxy trap showed each
 * one: the plugins feature, whose start-up sync reaches github.com, api.github.com and
 * chatgpt.com; analytics, which reach ab.chatgpt.com after a turn; and the update check. Retries
 * are off, so a failing gateway answer fails the run at once instead of after five reconnects.
 */
function configToml(o: CodexOptions): string {
  return [
    ...(o.model ? [`model = ${JSON.stringify(o.model)}`] : []),
    'model_provider = "weir"',
    'check_for_update_on_startup = false',
    '',
    '[features]',
    'plugins = false',
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[model_providers.weir]',
    'name = "Weir"',
    `base_url = ${JSON.stringify(`${o.baseUrl}/v1`)}`,
    'env_key = "WEIR_API_KEY"',
    'wire_api = "responses"',
    'request_max_retries = 0',
    'stream_max_retries = 0',
    '',
  ].join('\n');
}

export async function runCodex(o: CodexOptions): Promise<CodexRun> {
  const dirs = agentDirs('codex');
  try {
    // Under the temp folder Codex makes no PATH aliases for its helper binaries (it warns); its
    // requests are the same as with a home elsewhere (compared once, byte for byte but the paths).
    const codexHome = path.join(dirs.home, '.codex');
    fs.mkdirSync(codexHome);
    fs.writeFileSync(path.join(codexHome, 'config.toml'), configToml(o));
    // No sandbox of Codex's own: bubblewrap cannot make namespaces in this container, and the
    // commands the scripted model runs only print. Approvals are never asked for in exec mode.
    const args = ['exec', '--json', '--skip-git-repo-check', '--ephemeral', '--dangerously-bypass-approvals-and-sandbox', o.prompt];
    const run = await runAgent({
      name: 'Codex',
      command: CODEX,
      args,
      env: { CODEX_HOME: codexHome, WEIR_API_KEY: o.apiKey },
      home: dirs.home,
      cwd: dirs.cwd,
      deadlineMs: o.deadlineMs ?? 60_000,
    });
    const events: any[] = [];
    for (const line of run.stdout.split('\n')) {
      try {
        events.push(JSON.parse(line));
      } catch {
        /* not an event line */
      }
    }
    const messages = events.filter((e) => e?.type === 'item.completed' && e.item?.type === 'agent_message');
    return { ...run, events, lastMessage: messages.at(-1)?.item.text };
  } finally {
    fs.rmSync(dirs.root, { recursive: true, force: true });
  }
}

/** The failure message for a run whose result is not what the test expected. */
export function codexSaid(run: CodexRun): string {
  return describeRun('Codex', run);
}
