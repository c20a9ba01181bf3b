// `weir sandbox check NAME [--config FILE] [--agent claude-code|codex]`: the first thing to run
// after writing a sandbox into config.yaml. Makes one sandbox of that definition (no database, no
// gateway: the definition as the config gives it), runs `echo ok` and the agent CLI's `--version`
// in it, destroys it, and prints each step and its time. Exit 0 when every step worked.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile, describeConfigError } from './config/load';
import { CloudSandboxProvider } from './agents/sandbox/cloud-provider';
import { LocalSandboxProvider } from './agents/sandbox/local';
import { cliPath } from './agents/harness/bin';
import type { AgentKind, Sandbox, SandboxDef, SandboxProvider } from './agents/types';

const USAGE = 'usage: weir sandbox check NAME [--config FILE] [--agent claude-code|codex]';
/** Machines made by a check carry this installation label: no Weir's sweeper ever takes them. */
const CHECK_INSTALLATION = 'weir-sandbox-check';
const STEP_TIMEOUT_MS = 5 * 60_000;

interface Out {
  write(s: string): unknown;
}

export async function sandboxCommand(argv: string[], env: NodeJS.ProcessEnv, out: Out, err: Out): Promise<number> {
  if (argv[0] !== 'check' || !argv[1] || argv[1].startsWith('-')) {
    err.write(`${USAGE}\n`);
    return 2;
  }
  const name = argv[1];
  let configPath = env.CONFIG_FILE_PATH ?? 'config.yaml';
  let agent: AgentKind | undefined;
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--config' || a === '-c') && argv[i + 1]) configPath = argv[++i]!;
    else if (a === '--agent' && (argv[i + 1] === 'claude-code' || argv[i + 1] === 'codex')) agent = argv[++i] as AgentKind;
    else {
      err.write(`weir sandbox: unknown argument ${a}\n${USAGE}\n`);
      return 2;
    }
  }
  let def: SandboxDef | undefined;
  let agents: AgentKind[];
  try {
    const cfg = loadConfigFile(configPath, env);
    const settings = cfg.agent_settings;
    def = settings.sandboxes.find((s) => s.name === name);
    // The agents of the profiles that use this sandbox (Claude Code when none says).
    agents = agent ? [agent] : [...new Set(settings.profiles.filter((p) => p.sandbox === name && p.agent !== 'command').map((p) => p.agent))];
    if (!agents.length) agents = ['claude-code'];
  } catch (e) {
    err.write(`weir sandbox: ${describeConfigError(e)}\n`);
    return 1;
  }
  if (!def) {
    err.write(`weir sandbox: no sandbox "${name}" in ${configPath}\n`);
    return 1;
  }
  const tmp = def.provider === 'local' ? fs.mkdtempSync(path.join(os.tmpdir(), 'weir-check-')) : null;
  if (tmp) fs.chmodSync(tmp, 0o755);
  const provider: SandboxProvider =
    def.provider === 'local' ? new LocalSandboxProvider({ root: path.join(tmp!, 'runs') }) : new CloudSandboxProvider({ kind: def.provider, installation: CHECK_INSTALLATION });
  const runId = `check-${randomBytes(6).toString('hex')}`;
  out.write(`sandbox "${def.name}" (${def.provider})\n`);
  let ok = true;
  const step = async <T>(what: string, fn: () => Promise<T>, show: (v: T) => string): Promise<T | undefined> => {
    const t0 = performance.now();
    try {
      const v = await withTimeout(fn(), STEP_TIMEOUT_MS, what);
      out.write(`  ok    ${what.padEnd(24)} ${ms(t0).padStart(8)}  ${show(v)}\n`);
      return v;
    } catch (e) {
      ok = false;
      out.write(`  FAIL  ${what.padEnd(24)} ${ms(t0).padStart(8)}  ${(e as Error).message}\n`);
      return undefined;
    }
  };
  const sandbox = await step('create', () => provider.create(def, runId, { weir_run_id: runId, weir_check: 'true' }, { timeoutMs: STEP_TIMEOUT_MS }), (s) => s.isolation);
  if (sandbox) {
    await step('echo ok', () => capture(sandbox, ['echo', 'ok']).then((o) => (o === 'ok' ? o : Promise.reject(new Error(`printed ${JSON.stringify(o)}`)))), (o) => o);
    for (const a of agents) {
      const argv = a === 'claude-code' ? [sandbox.agentsOnPath ? 'claude' : cliPath('WEIR_CLAUDE_CODE_BIN', '@anthropic-ai/claude-code', 'claude'), '--version'] : sandbox.agentsOnPath ? ['codex', '--version'] : [process.execPath, cliPath('WEIR_CODEX_BIN', '@openai/codex', 'codex'), '--version'];
      await step(`${a} --version`, () => capture(sandbox, argv), (o) => o.split('\n').filter(Boolean).pop() ?? '');
    }
    await step('destroy', () => sandbox.destroy(), () => '');
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  out.write(ok ? 'all steps passed\n' : 'some steps failed\n');
  return ok ? 0 : 1;
}

/** Runs argv to its end; its stdout (trimmed), or an error with its exit code and output. */
async function capture(sb: Sandbox, argv: string[]): Promise<string> {
  let text = '';
  const h = sb.exec({ argv, env: {}, onStdout: (c) => (text += c), onStderr: (c) => (text += c) });
  const code = await h.done;
  if (code !== 0) throw new Error(`exit ${code}: ${text.trim().slice(0, 300)}`);
  return text.trim();
}

function withTimeout<T>(p: Promise<T>, msMax: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no answer in ${msMax / 1000} s`)), msMax)))]).finally(() => clearTimeout(t));
}

const ms = (t0: number) => `${Math.round(performance.now() - t0)} ms`;
