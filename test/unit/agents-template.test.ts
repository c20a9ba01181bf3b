// Prompt templates: paths into the run's variables, own properties only, syntax errors found when a
// job is defined, and a bounded output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkTemplate, MAX_PROMPT_BYTES, renderPrompt } from '../../src/agents/template';

const payload = JSON.parse('{"issue":{"number":42,"title":"Crash on start","labels":[{"name":"bug"}],"body":null},"action":"opened","__proto__":{"x":1}}');

test('placeholders are replaced by the values at their paths, whitespace inside the braces allowed', () => {
  const r = renderPrompt('Fix #{{payload.issue.number}}: {{ payload.issue.title }} ({{payload.action}}, {{ input.x }})', { payload, input: { x: 'yes' } });
  assert.deepEqual(r, { ok: true, text: 'Fix #42: Crash on start (opened, yes)' });
});

test('objects and arrays render as JSON, array elements by index, null as nothing, booleans and numbers as written', () => {
  const vars = { payload, input: { flag: false, n: 1.5 } };
  assert.deepEqual(renderPrompt('{{payload.issue.labels}}', vars), { ok: true, text: '[{"name":"bug"}]' });
  assert.deepEqual(renderPrompt('{{payload.issue.labels.0.name}}', vars), { ok: true, text: 'bug' });
  assert.deepEqual(renderPrompt('[{{payload.issue.body}}]', vars), { ok: true, text: '[]' });
  assert.deepEqual(renderPrompt('{{input.flag}} {{input.n}}', vars), { ok: true, text: 'false 1.5' });
});

test('a template without placeholders, and stray braces, come out as they are', () => {
  assert.deepEqual(renderPrompt('plain text } }} {', {}), { ok: true, text: 'plain text } }} {' });
  assert.deepEqual(renderPrompt('', {}), { ok: true, text: '' });
});

test('a missing name, or a path through a non-object, names the placeholder', () => {
  const vars = { payload, input: {} };
  for (const [tpl, missing] of [
    ['{{input.x}}', 'input.x'],
    ['a {{ payload.issue.nope }} b', 'payload.issue.nope'],
    ['{{payload.issue.number.digits}}', 'payload.issue.number.digits'],
    ['{{payload.issue.title.length}}', 'payload.issue.title.length'],
    ['{{other}}', 'other'],
  ] as const) {
    const r = renderPrompt(tpl, vars);
    assert.equal(r.ok, false, tpl);
    assert.ok(!r.ok && 'missing' in r);
    assert.equal(r.missing, missing);
    assert.match(r.message, new RegExp(`\\{\\{${missing.replace(/\./g, '\\.')}\\}\\}`));
  }
});

test('prototype properties are never looked up, even when the payload has them as own keys', () => {
  const vars = { payload, input: {} };
  for (const tpl of ['{{payload.__proto__.x}}', '{{payload.__proto__}}', '{{payload.constructor}}', '{{payload.constructor.name}}', '{{input.toString}}', '{{payload.issue.hasOwnProperty}}', '{{payload.prototype}}']) {
    const r = renderPrompt(tpl, vars);
    assert.equal(r.ok, false, tpl);
  }
});

test('checkTemplate finds an unclosed "{{" and placeholders that are not paths; renderPrompt keeps those as text', () => {
  assert.equal(checkTemplate('Fix {{payload.issue.number}} now {{ input.x }}'), null);
  assert.equal(checkTemplate('no placeholders'), null);
  assert.match(checkTemplate('Fix {{payload.issue.number')!, /unclosed "\{\{" at offset 4/);
  assert.match(checkTemplate('ok {{a}} then {{')!, /unclosed "\{\{" at offset 14/);
  for (const bad of ['{{}}', '{{ }}', '{{a b}}', '{{a..b}}', '{{.a}}', '{{a.}}', '{{#each x}}', '{{a()}}'])
    assert.match(checkTemplate(bad)!, /is not a name/, bad);
  assert.deepEqual(renderPrompt('x {{a b}} {{ input.y }} {{unclosed', { input: { y: 1 } }), { ok: true, text: 'x {{a b}} 1 {{unclosed' });
});

test('the output is bounded: a large value repeated is refused, not built', () => {
  const big = 'x'.repeat(100 * 1024);
  assert.deepEqual(renderPrompt('{{input.big}}{{input.big}}', { input: { big } }), { ok: true, text: big + big });
  const r = renderPrompt('{{input.big}}{{input.big}}{{input.big}}', { input: { big } });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && 'tooLarge' in r);
  assert.match(r.message, new RegExp(`larger than ${MAX_PROMPT_BYTES} bytes`));
  // Multi-byte characters count as their UTF-8 bytes.
  assert.equal(renderPrompt('{{input.s}}', { input: { s: '€'.repeat(90_000) } }).ok, false);
});

test('rendering is linear in the template: many placeholders and many unclosed braces', () => {
  const n = 20_000;
  const many = '{{input.a}}'.repeat(n);
  const r = renderPrompt(many, { input: { a: 'y' } });
  assert.deepEqual(r, { ok: true, text: 'y'.repeat(n) });
  // Rescanning for "}}" from every "{{" would be 5e9 steps here (the test would not finish); one pass is 2e5.
  assert.match(checkTemplate('{{'.repeat(100_000))!, /unclosed/);
  assert.deepEqual(renderPrompt('{{ }}'.repeat(50_000), {}).ok, true);
});
