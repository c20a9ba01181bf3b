// What the harnesses make of the lines the CLIs print and of how they end: the event type is the
// line's own, unknown types and fields are kept, garbage never throws, and the outcome follows the
// result line (Claude Code), the turn events (Codex) or the exit code (command).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { harnessFor } from '../../src/agents/harness';
import { LineSplitter } from '../../src/agents/lines';
import type { AgentKind, ProfileDef, Sandbox } from '../../src/agents/types';

const KINDS: AgentKind[] = ['claude-code', 'codex', 'command'];
const ev = (kind: AgentKind, lines: string[]) => lines.map((l) => harnessFor(kind).parseLine(l));

describe('agent harnesses: lines', () => {
  it('keeps a JSON line’s own type and every field, known or not', () => {
    for (const kind of KINDS) {
      const line = '{"type":"brand.new.event","x":{"deep":[1,2]},"future_field":true}';
      assert.deepEqual(harnessFor(kind).parseLine(line), { type: 'brand.new.event', payload: { type: 'brand.new.event', x: { deep: [1, 2] }, future_field: true } });
      assert.deepEqual(harnessFor(kind).parseLine('{"no_type":1}'), { type: 'stdout', payload: { no_type: 1 } });
      assert.deepEqual(harnessFor(kind).parseLine('plain words'), { type: 'stdout', payload: { text: 'plain words' } });
      assert.deepEqual(harnessFor(kind).parseLine('[1,2]'), { type: 'stdout', payload: { text: '[1,2]' } });
      assert.deepEqual(harnessFor(kind).parseLine('{"type":'), { type: 'stdout', payload: { text: '{"type":' } });
    }
  });

  it('a cut line is text that says it was cut, even when it began as JSON', () => {
    const s = new LineSplitter(16);
    let line = '';
    const json = '{"type":"assistant","message":"' + 'z'.repeat(100) + '"}';
    s.push(Buffer.from(json + '\n'), (l) => (line = l));
    assert.deepEqual(harnessFor('claude-code').parseLine(line), { type: 'stdout', payload: { text: line, truncated: true, dropped_bytes: json.length - 16 } });
  });

  it('never throws on garbage', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('utf8'))), (line) => {
        for (const kind of KINDS) {
          const p = harnessFor(kind).parseLine(line);
          assert.equal(typeof p.type, 'string');
          harnessFor(kind).outcome([p], 1);
        }
      }),
    );
  });
});

describe('agent harnesses: outcomes', () => {
  it('Claude Code: success, max turns, an error, and no result line at all', () => {
    const cc = harnessFor('claude-code');
    const init = '{"type":"system","subtype":"init","session_id":"s-1"}';
    assert.deepEqual(cc.outcome(ev('claude-code', [init, '{"type":"result","subtype":"success","is_error":false,"result":"done","num_turns":3,"session_id":"s-1","total_cost_usd":0.25}']), 0), {
      ok: true, result: 'done', numTurns: 3, sessionId: 's-1', agentCostUsd: 0.25,
    });
    const maxTurns = cc.outcome(ev('claude-code', [init, '{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":5,"session_id":"s-1"}']), 1);
    assert.equal(maxTurns.ok, false);
    assert.equal(maxTurns.errorKind, 'max_turns');
    const failed = cc.outcome(ev('claude-code', [init, '{"type":"result","subtype":"success","is_error":true,"result":"API Error: 401 bad key","session_id":"s-1"}']), 1);
    assert.deepEqual([failed.ok, failed.errorKind, failed.message], [false, 'agent_error', 'API Error: 401 bad key']);
    const none = cc.outcome(ev('claude-code', [init, 'Segmentation fault']), 139);
    assert.deepEqual([none.ok, none.errorKind, none.sessionId], [false, 'agent_error', 's-1']);
    assert.match(none.message!, /139/);
  });

  it('Codex: a completed turn, a failed turn, an error line, nothing', () => {
    const cx = harnessFor('codex');
    const start = '{"type":"thread.started","thread_id":"t-9"}';
    const msg = '{"type":"item.completed","item":{"id":"i1","type":"agent_message","text":"all done"}}';
    assert.deepEqual(cx.outcome(ev('codex', [start, '{"type":"turn.started"}', msg, '{"type":"turn.completed","usage":{}}']), 0), { ok: true, result: 'all done', numTurns: 1, sessionId: 't-9' });
    const failed = cx.outcome(ev('codex', [start, '{"type":"turn.failed","error":{"message":"stream disconnected"}}']), 1);
    assert.deepEqual([failed.ok, failed.errorKind, failed.message], [false, 'agent_error', 'stream disconnected']);
    const err = cx.outcome(ev('codex', [start, '{"type":"error","message":"unexpected status 429"}', '{"type":"turn.completed"}']), 1);
    assert.deepEqual([err.ok, err.message], [false, 'unexpected status 429']);
    assert.equal(cx.outcome([], 2).ok, false);
  });

  it('transcript paths only for a session id that is a plain name', () => {
    const sb = { home: '/h', workdir: '/w' } as Sandbox;
    assert.deepEqual(harnessFor('claude-code').transcriptPaths(sb, 'abc-123'), ['/h/.claude/projects/*/abc-123.jsonl']);
    assert.deepEqual(harnessFor('claude-code').transcriptPaths(sb, '../../etc/passwd'), []);
    assert.deepEqual(harnessFor('codex').transcriptPaths(sb, undefined), []);
  });
});

describe('agent harnesses: command lines', () => {
  const sandbox = { home: '/sbx/home', workdir: '/sbx/work' } as Sandbox;
  const input = (p: Partial<ProfileDef>, agent: AgentKind) => ({
    profile: { id: 'p', name: 'p', agent, sandbox: 's', timeout_ms: 1000, source: 'config' as const, ...p },
    baseUrl: 'http://gw:4000', apiKey: 'sk-run', runId: 'run-1', jobName: null, promptFile: '.weir/prompt.md', sandbox,
  });

  it('Claude Code: bypasses permissions without allowed_tools, allows only those with them', () => {
    const open = harnessFor('claude-code').command(input({ model: 'm1', max_turns: 7, extra_args: ['--x'], env: { ANTHROPIC_AUTH_TOKEN: 'sk-other', ANTHROPIC_BASE_URL: 'http://elsewhere' } }, 'claude-code'));
    assert.equal(open.env.ANTHROPIC_BASE_URL, 'http://gw:4000', 'the gateway wins over the profile’s env');
    assert.deepEqual(open.argv.slice(1), ['-p', '--output-format', 'stream-json', '--verbose', '--max-turns', '7', '--model', 'm1', '--permission-mode', 'bypassPermissions', '--dangerously-skip-permissions', '--x']);
    assert.equal(open.env.ANTHROPIC_AUTH_TOKEN, 'sk-run');
    assert.equal(open.env.ANTHROPIC_DEFAULT_HAIKU_MODEL, 'm1');
    assert.equal(open.env.ANTHROPIC_CUSTOM_HEADERS, 'x-weir-run-id: run-1');
    const strict = harnessFor('claude-code').command(input({ allowed_tools: ['Read', 'Bash(git diff:*)'] }, 'claude-code'));
    assert.deepEqual(strict.argv.slice(5), ['--permission-mode', 'default', '--allowedTools', 'Read', 'Bash(git diff:*)']);
  });

  it('Codex: the prompt from standard input, Weir as the model provider', () => {
    const { argv, env } = harnessFor('codex').command(input({ model: 'gpt-x' }, 'codex'));
    assert.equal(argv.at(-1), '-');
    assert.ok(argv.includes('model_providers.weir.base_url="http://gw:4000/v1"'));
    assert.ok(argv.includes('model="gpt-x"'));
    assert.equal(env.WEIR_API_KEY, 'sk-run');
  });

  it('command: needs its argv; the prompt file as an absolute path', () => {
    assert.throws(() => harnessFor('command').command(input({}, 'command')), /needs a command/);
    const { env } = harnessFor('command').command(input({ command: ['./agent'], env: { OPENAI_API_KEY: 'sk-other', EXTRA: '1' } }, 'command'));
    assert.equal(env.OPENAI_API_KEY, 'sk-run', 'the run key wins over the profile’s env');
    assert.equal(env.EXTRA, '1');
    assert.equal(env.WEIR_PROMPT_FILE, '/sbx/work/.weir/prompt.md');
    assert.equal(env.OPENAI_BASE_URL, 'http://gw:4000/v1');
  });
});
