// The list of what a translation left out (translate/dropped.ts) goes into response headers, and
// everything in it comes from the client: it must stay short and header-safe whatever is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dropped } from '../../src/translate';

/** What Node and uWS accept in a header value: visible ASCII, space and tab. */
const HEADER_SAFE = /^[\t\x20-\x7e]*$/;

test('client-supplied types become short header-safe labels', () => {
  const d = new Dropped();
  d.tool('web_search');
  d.tool('evil\r\nset-cookie: x=1');
  d.item('messages[0].content[1]', 'é😀"\'; ');
  d.item('messages[0].content[2]', 'x'.repeat(10_000));
  d.item('messages[0].content[3]', 42);
  d.item('messages[0].content[4]', '');
  assert.equal(d.tools, 'web_search, evil??set-cookie:?x?1');
  assert.match(d.items!, HEADER_SAFE);
  assert.equal(d.items, `messages[0].content[1] (type '???????'); messages[0].content[2] (type '${'x'.repeat(64)}'); messages[0].content[3] (type '42'); messages[0].content[4] (type '?')`);
});

test('each tool is listed once; past 16 entries the rest is counted', () => {
  const d = new Dropped();
  for (let i = 0; i < 3; i++) d.tool('web_search');
  for (let i = 0; i < 20; i++) d.tool(`t${i}`);
  for (let i = 0; i < 1000; i++) d.item(`input[${i}]`, 'compaction');
  assert.equal(d.tools!.split(', ').length, 17);
  assert.match(d.tools!, /, \.\.\. \(5 more\)$/);
  assert.match(d.items!, /^input\[0\] \(type 'compaction'\); .*input\[15\] \(type 'compaction'\); \.\.\. \(984 more\)$/);
  assert.ok(d.items!.length < 1024 && d.tools!.length < 1024);
  assert.match(d.tools!, HEADER_SAFE, 'ASCII only: node:http refuses other characters in a header value');
  assert.match(d.items!, HEADER_SAFE);
});

test('merge: the chain Responses → chat → Anthropic reports both translations once', () => {
  const a = new Dropped();
  a.tool('web_search');
  a.item('input[2]', 'compaction');
  const b = new Dropped();
  b.tool('web_search');
  b.item('messages[1].content[0]', 'input_audio');
  a.merge(b);
  a.merge(undefined);
  assert.equal(a.tools, 'web_search');
  assert.equal(a.items, "input[2] (type 'compaction'); messages[1].content[0] (type 'input_audio')");
  assert.equal(new Dropped().empty, true);
  assert.equal(new Dropped().tools, null);
});
