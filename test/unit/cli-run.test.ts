// `weir run`, the real CLI as a child process, against a test double of Weir's agent-run API
// (test/support/fake-agent-api.ts): what it sends, what it prints, how it resumes a dropped event
// stream, and its exit codes. Plus the pure parts (SSE framing, the event lines) on their own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { eventLines, liveStatus, oneLine } from '../../src/cli-run-format';
import { MAX_EVENT_BYTES, SseParser } from '../../src/cli-run-sse';
import { startFakeAgentApi, type FakeAgentApi, type RunScript } from '../support/fake-agent-api';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli.js');
const KEY = 'sk-run-test-key-0123456789';
let api: FakeAgentApi;

before(async () => {
  api = await startFakeAgentApi({ key: KEY, profiles: ['claude', 'shell'], jobs: ['triage'] });
});
after(() => api.close());

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', ...args], {
      env: { PATH: process.env.PATH ?? '', WEIR_URL: api.url, WEIR_API_KEY: KEY, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.end(stdin ?? '');
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const said = (r: CliRun) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Claude Code's stream-json lines of a run that reads a file and answers. */
const claudeEvents: RunScript['events'] = [
  { type: 'system', payload: { type: 'system', subtype: 'init', session_id: 'sess-1', model: 'claude-sonnet-4-5', tools: ['Bash', 'Read'] } },
  { type: 'assistant', payload: { type: 'assistant', message: { content: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', id: 't1', name: 'Read', input: { file_path: 'README.md' } }] } } },
  { type: 'user', payload: { type: 'user', message: { content: [{ type: 'tool_result', tool_use_id: 't1', content: '# Weir\nAn AI gateway' }] } } },
  { type: 'assistant', payload: { type: 'assistant', message: { content: [{ type: 'text', text: 'It is an AI gateway.' }] } } },
  { type: 'result', payload: { type: 'result', subtype: 'success', is_error: false, num_turns: 2, result: 'It is an AI gateway.', total_cost_usd: 0.0123 } },
];

test('a profile run: POSTs the prompt with the key, prints each event as a line, then the result and the cost; exit 0', async () => {
  api.nextRun({ events: claudeEvents, final: { status: 'succeeded', result: 'It is an AI gateway.', cost: 0.0125, num_turns: 2 } });
  const before = api.requests.length;
  const r = await runCli(['--profile', 'claude', 'What is this repository?']);
  assert.equal(r.code, 0, said(r));
  const post = api.requests.slice(before).find((q) => q.method === 'POST')!;
  assert.deepEqual(JSON.parse(post.body), { profile: 'claude', prompt: 'What is this repository?' });
  assert.equal(post.headers.authorization, `Bearer ${KEY}`);
  assert.match(String(post.headers['idempotency-key']), /^[0-9a-f-]{36}$/);
  const events = api.requests.slice(before).find((q) => q.path.endsWith('/events'))!;
  assert.equal(events.headers.accept, 'text/event-stream');
  assert.deepEqual(r.stdout.trimEnd().split('\n'), [
    '▶ run run_1 (profile claude) queued',
    '● running',
    '  session sess-1 (model claude-sonnet-4-5, 2 tools)',
    '◆ Let me look.',
    '→ Read {"file_path":"README.md"}',
    '← # Weir ⏎ An AI gateway',
    '◆ It is an AI gateway.',
    '■ success, 2 turns, agent says $0.0123',
    '● succeeded',
    '',
    'It is an AI gateway.',
    '',
    'run run_1 succeeded · cost $0.0125 · 2 turns',
  ]);
  assert.ok(!r.stdout.includes(KEY) && !r.stderr.includes(KEY), 'the key is never printed');
});

test('a job run sends its --input; a failed run prints why and exits 1', async () => {
  const error = { kind: 'agent_error', message: 'the agent exited with 1' };
  api.nextRun({ events: [{ type: 'stderr', payload: 'fatal: not a git repository' }], final: { status: 'failed', error, cost: 0.002 } });
  const before = api.requests.length;
  const r = await runCli(['--job', 'triage', '--input', '{"issue":42}', '--max-budget', '0.5']);
  assert.equal(r.code, 1, said(r));
  assert.deepEqual(JSON.parse(api.requests.slice(before).find((q) => q.method === 'POST')!.body), { job: 'triage', input: { issue: 42 }, max_budget: 0.5 });
  assert.match(r.stdout, /^! fatal: not a git repository$/m);
  assert.match(r.stdout, /^● failed \(agent_error\): the agent exited with 1$/m);
  assert.match(r.stdout, /^run run_\d+ failed \(agent_error: the agent exited with 1\) · cost \$0\.0020 of \$0\.5000$/m);
});

test('timed out exits 3, canceled exits 4', async () => {
  api.nextRun({ events: [], final: { status: 'timed_out', error: { kind: 'agent_error', message: 'past 20m' } } });
  const t = await runCli(['--profile', 'shell', 'sleep forever']);
  assert.equal(t.code, 3, said(t));
  api.nextRun({ events: [], final: { status: 'canceled' } });
  const c = await runCli(['--profile', 'shell', 'sleep forever']);
  assert.equal(c.code, 4, said(c));
});

test('a dropped event stream is resumed with Last-Event-ID: every event shown once, in order', async () => {
  // Cut after seq 3, then after seq 5.
  api.nextRun({ events: claudeEvents, final: { status: 'succeeded', result: 'done', cost: 0.01 }, cutAfter: [3, 5] });
  const before = api.requests.length;
  const r = await runCli(['--profile', 'claude', 'go', '--json']);
  assert.equal(r.code, 0, said(r));
  const seqs = r.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
  assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7]);
  const resumes = api.requests.slice(before).filter((q) => q.path.endsWith('/events')).map((q) => q.headers['last-event-id'] ?? null);
  assert.deepEqual(resumes, [null, '3', '5']);
  assert.match(r.stderr, /^run run_\d+ succeeded · cost \$0\.0100$/m, 'with --json the summary goes to stderr');
});

test('an events endpoint that answers 5xx is retried; --json prints the events exactly as they came', async () => {
  api.nextRun({ events: [{ type: 'stdout', payload: 'hello' }], final: { status: 'succeeded', cost: 0 }, failFirst: 2 });
  const r = await runCli(['--profile', 'shell', 'echo hello', '--json']);
  assert.equal(r.code, 0, said(r));
  const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; ts: string; type: string; payload: unknown });
  assert.deepEqual(events.map((e) => [e.seq, e.type, e.payload]), [[1, 'status', { status: 'running' }], [2, 'stdout', 'hello'], [3, 'status', { status: 'succeeded', cost: 0 }]]);
  assert.ok(events.every((e) => typeof e.ts === 'string'));
});

test('the row a moment behind the final event (as Weir writes them): the summary waits for the row’s result', async () => {
  api.nextRun({ events: [], final: { status: 'succeeded', result: 'the answer', cost: 0.02 }, rowLagReads: 3 });
  const r = await runCli(['--profile', 'shell', 'x']);
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /^the answer$/m);
  assert.match(r.stdout, /^run run_\d+ succeeded · cost \$0\.0200$/m);
});

test('a stream that ends without the final status event: the run as Weir reads it decides, no endless reconnecting', async () => {
  api.nextRun({ events: [{ type: 'stdout', payload: { text: 'partial' } }], final: { status: 'canceled', cost: 0 }, noFinalEvent: true });
  const before = api.requests.length;
  const r = await runCli(['--profile', 'shell', 'x']);
  assert.equal(r.code, 4, said(r));
  assert.match(r.stdout, /^ {2}partial$/m);
  assert.match(r.stdout, /^● canceled$/m);
  assert.equal(api.requests.slice(before).filter((q) => q.path.endsWith('/events')).length, 1);
});

test('the prompt may come from stdin ("-"); LITELLM_MASTER_KEY is the key when WEIR_API_KEY is unset; --url overrides WEIR_URL', async () => {
  api.nextRun({ events: [], final: { status: 'succeeded', cost: 0 } });
  const before = api.requests.length;
  const r = await runCli(['--profile', 'shell', '-', '--url', api.url], { WEIR_API_KEY: '', LITELLM_MASTER_KEY: KEY, WEIR_URL: 'http://127.0.0.1:9' }, 'a prompt\nof two lines\n');
  assert.equal(r.code, 0, said(r));
  assert.equal(JSON.parse(api.requests.slice(before).find((q) => q.method === 'POST')!.body).prompt, 'a prompt\nof two lines\n');
});

test('a 4xx from Weir is shown with its message and exits 2; so does a bad key, which is never echoed', async () => {
  const unknown = await runCli(['--profile', 'nope', 'hi']);
  assert.equal(unknown.code, 2, said(unknown));
  assert.match(unknown.stderr, /could not start the run: HTTP 404: unknown profile "nope"/);
  const badKey = await runCli(['--profile', 'claude', 'hi', '--key', 'sk-wrong-key-999']);
  assert.equal(badKey.code, 2, said(badKey));
  assert.match(badKey.stderr, /HTTP 401: Authentication Error/);
  assert.ok(!badKey.stderr.includes('sk-wrong-key-999'));
});

test('bad usage exits 2 before anything is sent', async () => {
  const before = api.requests.length;
  const cases: [string[], RegExp][] = [
    [['hi'], /exactly one of --profile NAME and --job NAME/],
    [['--profile', 'a', '--job', 'b', 'hi'], /exactly one of/],
    [['--profile', 'claude'], /--profile needs a prompt/],
    [['--profile', 'claude', 'a', 'b'], /one prompt only/],
    [['--job', 'triage', 'a prompt'], /pass --input JSON instead/],
    [['--job', 'triage', '--input', '{bad'], /--input is not JSON/],
    [['--job', 'triage', '--input', '[1]'], /--input must be a JSON object/],
    [['--profile', 'claude', 'hi', '--max-budget', '-1'], /--max-budget needs a number of USD > 0/],
    [['--profile', 'claude', 'hi', '--url', 'ftp://x'], /needs http\(s\)/],
    [['--profile', 'claude', 'hi', '--frobnicate'], /unknown option --frobnicate/],
  ];
  for (const [args, msg] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${said(r)}`);
    assert.match(r.stderr, msg, args.join(' '));
    assert.match(r.stderr, /usage: weir run/);
  }
  const noKey = await runCli(['--profile', 'claude', 'hi'], { WEIR_API_KEY: '', LITELLM_MASTER_KEY: '' });
  assert.equal(noKey.code, 2);
  assert.match(noKey.stderr, /no key: pass --key or set WEIR_API_KEY/);
  assert.equal(api.requests.length, before, 'nothing reached the API');
});

test('Weir unreachable: exit 1 with the reason', async () => {
  const r = await runCli(['--profile', 'claude', 'hi'], { WEIR_URL: 'http://127.0.0.1:9' });
  assert.equal(r.code, 1, said(r));
  assert.match(r.stderr, /could not start the run: cannot reach http:\/\/127\.0\.0\.1:9/);
});

test('on a terminal a live status line (status, elapsed, cost) is rewritten in place below the events', { skip: !hasScript() && 'no script(1) to give the CLI a terminal' }, async () => {
  api.nextRun({ events: [{ type: 'stdout', payload: 'working' }], final: { status: 'succeeded', cost: 0.5 } });
  const cmd = [process.execPath, CLI, 'run', '--profile', 'shell', 'work'].map((s) => `'${s}'`).join(' ');
  const r = await new Promise<CliRun>((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env: { PATH: process.env.PATH ?? '', WEIR_URL: api.url, WEIR_API_KEY: KEY, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr: '' }));
  });
  assert.equal(r.code, 0, said(r));
  assert.match(r.stdout, /\r\x1b\[2K\[run_\d+\] running · \d+\.\ds · \$\d+\.\d{4}/, 'the status line, redrawn after the running event');
  assert.match(r.stdout, /\r\x1b\[2K {2}working\r?\n\[run_\d+\] running/, 'an event line is written over the status line, which follows it');
  assert.match(r.stdout, /run run_\d+ succeeded · cost \$0\.5000/);
});

function hasScript(): boolean {
  try {
    return require('node:child_process').spawnSync('script', ['--version']).status === 0;
  } catch {
    return false;
  }
}

// ---- the pure parts ----------------------------------------------------------------------------

test('SSE framing: any chunking, CRLF / CR / LF, comments, multi-line data, ids', () => {
  const text = ': keep-alive\r\nid: 7\r\nevent: status\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 8\rdata: x\r\rdata: no id line\n\n';
  const whole = new SseParser().feed(text);
  assert.deepEqual(whole, [
    { id: '7', event: 'status', data: '{"a":\n1}' },
    { id: '8', event: 'message', data: 'x' },
    { id: '8', event: 'message', data: 'no id line' },
  ]);
  for (let size = 1; size <= 7; size++) {
    const p = new SseParser();
    const got = [];
    for (let i = 0; i < text.length; i += size) got.push(...p.feed(text.slice(i, i + size)));
    assert.deepEqual(got, whole, `chunks of ${size}`);
  }
});

test('SSE framing: an event past the bound is refused, not buffered', () => {
  const p = new SseParser();
  const piece = `data: ${'x'.repeat(2 ** 20)}\n`;
  assert.throws(() => {
    for (let i = 0; i <= MAX_EVENT_BYTES / 2 ** 20; i++) p.feed(piece);
  }, /passed 16777216 bytes/);
});

test('event lines: Codex items, status with error, unknown types kept, chatter hidden', () => {
  const e = (type: string, payload: unknown) => eventLines({ seq: 1, ts: '', type, payload });
  assert.deepEqual(e('item.started', { item: { type: 'command_execution', command: 'ls -la' } }), ['→ $ ls -la']);
  assert.deepEqual(e('item.completed', { item: { type: 'command_execution', command: 'ls', aggregated_output: 'a\nb\n', exit_code: 0 } }), ['← $ ls (exit 0): a ⏎ b']);
  assert.deepEqual(e('item.completed', { item: { type: 'agent_message', text: 'All done.' } }), ['◆ All done.']);
  assert.deepEqual(e('turn.completed', { usage: { input_tokens: 10, output_tokens: 3 } }), ['  turn done (10 in, 3 out tokens)']);
  assert.deepEqual(e('turn.started', {}), []);
  assert.deepEqual(e('status', { status: 'failed', error: { kind: 'budget_exceeded', message: 'over $1' } }), ['● failed (budget_exceeded): over $1']);
  assert.deepEqual(e('something.new', { x: 1 }), ['  something.new: {"x":1}']);
  assert.deepEqual(e('result', { type: 'result', result: 'all done' }), ['■ result: all done'], 'a command’s own result line');
  assert.deepEqual(e('sandbox', { id: 'run_1', provider: 'local', isolation: 'bwrap (user, pid namespaces)' }), ['  sandbox local: bwrap (user, pid namespaces)']);
  assert.deepEqual(e('user', { message: { content: [{ type: 'tool_result', content: [{ type: 'text', text: 'boom' }], is_error: true }] } }), ['✗ boom']);
  assert.equal(oneLine('x'.repeat(500)).length, 160);
  assert.equal(liveStatus({ id: 'run_1', status: 'running', elapsedMs: 185_000, cost: 0.25 }), '[run_1] running · 3m05s · $0.2500');
});
