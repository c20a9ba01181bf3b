// `npm run fixtures:record`: re-records the client-side conformance fixtures from the pinned agent
// CLIs. Each CLI runs its tool loop once straight against the recording mock upstream (no gateway
// in between: these are the requests the agent itself sends), the requests are scrubbed of
// everything machine- and run-specific (test/support/fixture-scrub.ts), and written over:
//   conformance/claude-code-first-turn.json  Claude Code's first POST /v1/messages body
//   conformance/claude-code-tool-loop.json   its second one, carrying the Bash call and result
//   conformance/claude-code-headers.json     its headers (no credential, no transport headers)
//   translate/codex-responses-request.json   Codex's second POST /v1/responses body
//   conformance/codex-headers.json           its headers (no credential, no transport headers)
// Nothing is written unless both loops ran to the scripted final answer in exactly two calls.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runClaudeCode } from './support/claude-code-cli';
import { runCodex } from './support/codex-cli';
import { scrubber } from './support/fixture-scrub';
import { startMockUpstream, type MockUpstream, type RecordedRequest } from './support/mock-upstream';
import { FINAL_PREFIX, toolLoop, type ToolLoop } from './support/tool-loop';
import type { AgentRun } from './support/agent-cli';

// Run from dist/test/; the fixtures live in the source tree.
const FIXTURES = path.resolve(__dirname, '../../test/fixtures');
const PROMPT = 'Run the command that prints the test marker, then tell me what it printed.';

/**
 * The models the recordings ask for: the ones the conformance configs serve. With its default
 * model Claude Code also sends a `system` message inside `messages`, and Codex runs in code mode
 * (its tools in an `additional_tools` input item); agents-*.test.ts drive those shapes live.
 * gpt-5-codex is a model Codex 0.171 has no metadata for, as for any model a gateway names.
 */
const CLAUDE_MODEL = 'claude-sonnet-4-5-20250929';
const CODEX_MODEL = 'gpt-5-codex';

/** Set by the HTTP client per connection, or the credential: not part of what the agent says. */
const DROPPED_HEADERS = new Set(['host', 'connection', 'content-length', 'accept-encoding', 'authorization', 'x-api-key']);

/** Placeholders, in the shape of what they replace. */
const PROJECT = '/home/user/project';
const HOME = '/home/user';
const NONCE = '0123456789ab';
const DATE = '2026-01-01';

function agentHeaders(r: RecordedRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (!DROPPED_HEADERS.has(k) && typeof v === 'string') out[k] = v;
  return out;
}

/** The literals a run leaves in its requests: its temp folders (and Claude Code's slug of the working directory), the kernel, the date, the marker. */
function runLiterals(run: AgentRun, loop: ToolLoop): [string, string][] {
  const slug = (p: string) => p.replace(/[^a-zA-Z0-9]/g, '-');
  return [
    [run.cwd, PROJECT],
    [slug(run.cwd), slug(PROJECT)],
    [run.home, HOME],
    [path.dirname(run.home), '/tmp/weir-agent'],
    [os.release(), '6.8.0'],
    [new Date().toISOString().slice(0, 10), DATE],
    [loop.nonce, NONCE],
  ];
}

/** The loop ran to the scripted answer in exactly two upstream calls; otherwise stop with what the agent said. */
function checkLoop(name: string, mock: MockUpstream, answer: string | undefined, loop: ToolLoop, run: AgentRun): void {
  const ok = answer?.startsWith(FINAL_PREFIX) && answer.includes(loop.marker) && mock.requests.length === 2 && run.outbound.length === 0;
  if (!ok) {
    const outbound = run.outbound.length > 0 ? `, calls past 127.0.0.1: ${run.outbound.join(', ')}` : '';
    throw new Error(`${name}: the tool loop did not run as scripted (${mock.requests.length} calls, answer ${JSON.stringify(answer)}${outbound})\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
  }
}

function write(name: string, value: unknown): void {
  fs.writeFileSync(path.join(FIXTURES, name), `${JSON.stringify(value, null, 2)}\n`);
  process.stdout.write(`wrote test/fixtures/${name}\n`);
}

/** Key order of an object made fixed (Codex serializes its client metadata from a hash map). */
function sorted(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

async function recordClaudeCode(mock: MockUpstream): Promise<() => void> {
  mock.reset();
  const loop = toolLoop({ name: 'Bash', input: (command) => ({ command, description: 'Print the test marker' }) });
  mock.setDefault({ reply: (r) => loop.reply(r) });
  const run = await runClaudeCode({ baseUrl: mock.url, apiKey: 'sk-recording', model: CLAUDE_MODEL, prompt: PROMPT });
  checkLoop('Claude Code', mock, run.json?.result, loop, run);
  const s = scrubber(runLiterals(run, loop));
  const [first, second] = mock.requests.map((r) => ({ headers: s.scrub(agentHeaders(r)), body: s.scrub(r.json) }));
  return () => {
    write('conformance/claude-code-first-turn.json', first!.body);
    write('conformance/claude-code-tool-loop.json', second!.body);
    write('conformance/claude-code-headers.json', first!.headers);
  };
}

async function recordCodex(mock: MockUpstream): Promise<() => void> {
  mock.reset();
  const loop = toolLoop({ name: 'exec_command', input: (cmd) => ({ cmd }) });
  mock.setDefault({ reply: (r) => loop.reply(r) });
  const run = await runCodex({ baseUrl: mock.url, apiKey: 'sk-recording', model: CODEX_MODEL, prompt: PROMPT });
  checkLoop('Codex', mock, run.lastMessage, loop, run);
  const s = scrubber(runLiterals(run, loop));
  const [first, second] = mock.requests.map((r) => ({ headers: s.scrub(agentHeaders(r)), body: s.scrub(r.json) }));
  second!.body.client_metadata = sorted(second!.body.client_metadata);
  // The user agent names this machine's OS release: `(Debian 12.0.0; x86_64)` → `(Linux; x86_64)`.
  first!.headers['user-agent'] = first!.headers['user-agent']!.replace(/\([^;()]+; /, '(Linux; ');
  return () => {
    write('translate/codex-responses-request.json', second!.body);
    write('conformance/codex-headers.json', first!.headers);
  };
}

async function main(): Promise<void> {
  const mock = await startMockUpstream({ idBase: '00000000' });
  try {
    // Both recorded before anything is written: a failed run leaves the fixtures as they were.
    const writes = [await recordClaudeCode(mock), await recordCodex(mock)];
    for (const w of writes) w();
  } finally {
    await mock.close();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`fixtures:record: ${e.message}\n`);
  process.exit(1);
});
