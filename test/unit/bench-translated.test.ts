// Scenario 7 (translated streaming): the whole-answer checks that keep a broken path from posting a
// fast figure, the requests it sends, the figures it derives from its four latency rows, and its
// target in the report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateChecks } from '../../native-bench/checks';
import { renderMarkdownBlock } from '../../native-bench/report';
import type { BenchResults, LatencyRow } from '../../native-bench/results';
import { spread, type LatencySpread } from '../../native-bench/stats';
import { checkAnthropicStream, checkOpenAIStream, expectedText, parseSseText } from '../../native-bench/stream-check';
import { perRepeatDiff, translatedPerTarget, translatedRequests, translatedSummary } from '../../native-bench/translated';
import { makeTarget } from '../../native-bench/targets';
import { OpenAIToAnthropicStream } from '../../src/translate';
import { anthropicStream, openaiStream } from '../support/mock-responses';

const anthropic = (deltas: number) => anthropicStream({ id: 'msg_1', model: 'm', inputTokens: 3, deltas }).events;
const openai = (deltas: number) => openaiStream({ id: 'c1', model: 'm', created: 1, promptTokens: 3, deltas, includeUsage: true }).events;

test('SSE text splits into events with their event name and data, CRLF and comments included', () => {
  const ev = parseSseText(': ping\r\n\r\nevent: a\r\ndata: {"x":1}\r\n\r\ndata: [DONE]\n\n');
  assert.deepEqual(ev, [{ event: 'a', data: '{"x":1}' }, { event: '', data: '[DONE]' }]);
  assert.equal(expectedText(3), 'tok0 tok1 tok2 ');
});

test("the mock's Anthropic stream, and Weir's translation of its OpenAI stream, pass the Anthropic check", () => {
  assert.equal(checkAnthropicStream(anthropic(64).join(''), 64), null);
  const s = new OpenAIToAnthropicStream({ model: 'bench-gpt' });
  const out = openai(64).map((e) => s.push(Buffer.from(e))).join('') + s.end();
  assert.equal(checkAnthropicStream(out, 64), null);
  assert.equal(checkAnthropicStream(`event: ping\ndata: {"type":"ping"}\n\n${out}`, 64), null, 'pings are allowed');
});

test('a missing, merged, reordered or wrong delta, a missing end or an extra event fails the Anthropic check', () => {
  const ev = anthropic(8); // [message_start, block_start, d0..d7, block_stop, message_delta, message_stop]
  assert.match(checkAnthropicStream([...ev.slice(0, 5), ...ev.slice(6)].join(''), 8)!, /delta 3/);
  assert.match(checkAnthropicStream([...ev.slice(0, 2), ev[3], ev[2], ...ev.slice(4)].join(''), 8)!, /delta 0/);
  assert.match(checkAnthropicStream(ev.slice(0, -1).join(''), 8)!, /before message_stop/);
  assert.match(checkAnthropicStream([...ev, ev[ev.length - 1]].join(''), 8)!, /after message_stop/);
  assert.match(checkAnthropicStream(ev.join('').replace('end_turn', 'max_tokens'), 8)!, /stop_reason/);
  assert.match(checkAnthropicStream(ev.join('').replace('"tok5 "', '"tok5"'), 8)!, /delta 5/);
  assert.match(checkAnthropicStream(ev.join(''), 9)!, /content_block_stop where content_block_delta/);
  const merged = ev.join('').replace('"text":"tok0 "', '"text":"tok0 tok1 "');
  assert.notEqual(checkAnthropicStream(merged, 8), null);
});

test("the mock's OpenAI stream passes the OpenAI check; a lost delta, no finish or no [DONE] fails it", () => {
  const ev = openai(8); // [role, d0..d7, finish, usage, DONE]
  assert.equal(checkOpenAIStream(ev.join(''), 8), null);
  assert.match(checkOpenAIStream([...ev.slice(0, 3), ...ev.slice(4)].join(''), 8)!, /7 content deltas/);
  assert.match(checkOpenAIStream(ev.slice(0, -1).join(''), 8)!, /\[DONE\]/);
  assert.match(checkOpenAIStream([...ev.slice(0, 9), ...ev.slice(10)].join(''), 8)!, /finish_reason/);
  assert.match(checkOpenAIStream(ev.join('').replace('tok2 ', 'tok9 '), 8)!, /text differs/);
});

test('the scenario sends one streaming body to both models, and the mock the chat body Weir makes of it', () => {
  const r = translatedRequests();
  const pass = JSON.parse(r.passThrough.body!.toString());
  const tr = JSON.parse(r.translated.body!.toString());
  const chat = JSON.parse(r.upstreamChat.body!.toString());
  assert.equal(pass.model, 'bench-claude');
  assert.equal(tr.model, 'bench-gpt');
  assert.deepEqual({ ...tr, model: 'bench-claude' }, pass);
  assert.equal(pass.stream, true);
  assert.equal(pass.mock_behavior, undefined, 'the translator would drop it: the mock default is used on both paths');
  assert.ok(r.passThrough.body!.length > 140 * 1024);
  assert.equal(r.passThrough.path, '/v1/messages');
  assert.equal(r.upstreamChat.path, '/v1/chat/completions');
  assert.equal(chat.model, 'bench-gpt');
  assert.equal(chat.stream, true);
  assert.deepEqual(chat.stream_options, { include_usage: true });
  assert.equal(chat.tools.length, r.tools);
  const per = translatedPerTarget(r, 4);
  const mock = makeTarget('direct', 'http://m', 1);
  const weir = makeTarget('weir', 'http://w', 2);
  assert.equal(per(mock).spec, r.passThrough);
  assert.equal(per(weir).spec, r.passThrough);
  assert.equal(per({ ...weir, kind: 'translated' }).spec, r.translated);
  assert.equal(per({ ...mock, kind: 'direct-openai' }).spec, r.upstreamChat);
  assert.equal(per({ ...mock, kind: 'direct-openai' }).check!(openai(4).join('')), null);
  assert.equal(per({ ...weir, kind: 'translated' }).check!(anthropic(4).join('')), null);
});

const lat = (p50: number[], p99: number[]): LatencySpread => ({ n: 100, p50: spread(p50), p99: spread(p99), p999: spread(p99) });

function row(target: LatencyRow['target'], abs: LatencySpread, cpu: number, errors = 0): LatencyRow {
  return { target, label: target, repeats: 3, sent: 100, errors, firstError: errors ? 'bad' : null, abs, added: null, ttfb: null, ttft: null, cpuUsPerReq: cpu, cpuPerRepeat: [cpu], rssMB: 1, checked: 100 - errors };
}

function rows(errors = 0): LatencyRow[] {
  return [
    row('direct', lat([1.0, 1.1, 1.2], [3, 3, 3]), 1000),
    row('weir', lat([1.4, 1.5, 1.7], [4, 4.5, 5]), 1300),
    row('translated', lat([1.5, 1.65, 1.9], [4.2, 4.6, 5.5]), 1450, errors),
    row('direct-openai', lat([0.9, 1.0, 1.0], [2.9, 3, 3]), 950),
  ];
}

test('differences are taken repeat by repeat, then summarised as median [min…max]', () => {
  const d = perRepeatDiff(spread([3, 5, 9]), spread([1, 1, 2]));
  assert.deepEqual(d.values, [2, 4, 7]);
  assert.equal(d.median, 4);
  assert.ok(Number.isNaN(perRepeatDiff(undefined, spread([1])).median));
});

test("the summary: added over the client's direct call, Weir's own share per path, and translated − pass-through", () => {
  const t = translatedSummary(rows(), 64);
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≈ ${b}`);
  near(t.passThrough.addedP50.median, 0.4); // 0.4, 0.4, 0.5
  near(t.translated.addedP50.median, 0.55); // 0.5, 0.55, 0.7
  near(t.translated.ownAddedP50.median, 0.65); // 0.6, 0.65, 0.9
  near(t.passThrough.ownAddedP50.median, t.passThrough.addedP50.median);
  near(t.diffP50.median, 0.15); // 0.1, 0.15, 0.2
  near(t.netDiffP50.median, 0.25); // 0.2, 0.25, 0.4
  near(t.diffP99.median, 0.2); // 0.2, 0.1, 0.5
  near(t.cpuDiffUs, 150);
  near(t.translated.directP50.median, 1.0);
  assert.equal(t.translated.upstream, 'openai');
  assert.equal(t.passThrough.checked, 100);
});

function results(r: LatencyRow[]): BenchResults {
  return {
    meta: { date: '2026-01-02T03:04:05.000Z', node: '20', cpus: 2, cpuModel: 'T', memGB: 8, kernel: '6', workers: 2, mode: 'full', repeats: 3, pin: 'off', weirEngine: 'uWS', backgroundCpuPct: 0, elapsedS: 60 },
    targets: [],
    scenarios: [{ id: 7, key: 'translated', title: 'translated', notes: [], latency: r, translated: translatedSummary(r, 64) }],
    memory: [],
    checks: [],
    profile: null,
    notes: [],
  };
}

test('the target: ≤ 0.20 ms p50 over pass-through, and no wrong answer on either path', () => {
  const ok = evaluateChecks(results(rows())).find((c) => c.name.startsWith('Translated streaming'))!;
  assert.equal(ok.pass, true);
  assert.match(ok.measured, /^0\.150 ms \(0\.250 ms net/);
  const wrong = evaluateChecks(results(rows(2))).find((c) => c.name.startsWith('Translated streaming'))!;
  assert.equal(wrong.pass, false, 'fast but wrong fails');
  assert.match(wrong.measured, /2 wrong or failed answers/);
  const slow = rows();
  slow[2] = row('translated', lat([1.8, 1.9, 2.0], [5, 5, 5]), 2000);
  assert.equal(evaluateChecks(results(slow)).find((c) => c.name.startsWith('Translated streaming'))!.pass, false);
  const none = evaluateChecks({ ...results(rows()), scenarios: [] }).find((c) => c.name.startsWith('Translated streaming'))!;
  assert.equal(none.pass, null);
});

test('the report has a translated-streaming table with both paths and their difference', () => {
  const md = renderMarkdownBlock(results(rows()));
  assert.match(md, /\*\*Translated streaming \(scenario 7\)/);
  assert.match(md, /\| pass-through \(Anthropic-dialect deployment\) \| \/v1\/messages, as sent \| 1\.100 \[1\.000…1\.200\] \| \+0\.400 \[\+0\.400…\+0\.500\]/);
  assert.match(md, /\| translated − pass-through \|  \|  \| \+0\.150 \[\+0\.100…\+0\.200\]/);
  assert.match(md, /\+150\.0/);
});
