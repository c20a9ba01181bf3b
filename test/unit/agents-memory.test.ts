// The memory's parts without a gateway: note fields checked and bounded, search patterns that match
// `%` and `_` literally, and the pinned notes' Markdown bounded in size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentApiError } from '../../src/agents/api-error';
import { pinnedText } from '../../src/agents/memory/mcp-config';
import { checkEdit, checkNew, checkTags, likePattern, MAX_BODY_CHARS, type Note } from '../../src/agents/memory/notes';
import { scopeOf } from '../../src/agents/memory/owner';

const note = (title: string, body: string, tags: string[] = []): Note => ({ id: 'n', scope: 'global', team_id: null, title, body, tags, run_id: null, created_at: new Date(), updated_at: new Date() });

test('a new note needs a title and a body, within bounds; tags are deduplicated and checked', () => {
  assert.deepEqual(checkNew({ title: 't', body: 'b', tags: ['a', 'a', 'b:c'] }), { title: 't', body: 'b', tags: ['a', 'b:c'] });
  for (const bad of [{ body: 'b' }, { title: ' ', body: 'b' }, { title: 't', body: 'x'.repeat(MAX_BODY_CHARS + 1) }, { title: 't', body: 'b\u0000' }, { title: 't', body: 'b', tags: ['a b'] }, { title: 't', body: 'b', tags: 'a' }]) {
    assert.throws(() => checkNew(bad), AgentApiError, JSON.stringify(bad).slice(0, 60));
  }
  assert.throws(() => checkEdit({}), /give "title", "body" or "tags"/);
  assert.deepEqual(checkEdit({ tags: [] }), { title: undefined, body: undefined, tags: [] });
  assert.throws(() => checkTags(Array.from({ length: 21 }, (_, i) => `t${i}`)), /more than 20/);
});

test('search text is a literal substring', () => {
  assert.equal(likePattern('100%_done\\'), '%100\\%\\_done\\\\%');
});

test('a run’s memory: its job’s, else its team’s, else its user’s, else the installation’s', () => {
  assert.equal(scopeOf({ job_name: 'j', team_id: 't', user_id: 'u' }), 'job:j');
  assert.equal(scopeOf({ job_name: null, team_id: 't', user_id: 'u' }), 'team:t');
  assert.equal(scopeOf({ job_name: null, team_id: null, user_id: 'u' }), 'user:u');
  assert.equal(scopeOf({ job_name: null, team_id: null, user_id: null }), 'global');
});

test('pinned notes become Markdown, bounded, saying how many were left out', () => {
  assert.equal(pinnedText([]), null);
  const text = pinnedText([note('Build', 'make all', ['build'])])!;
  assert.match(text, /^# Notes from earlier runs/);
  assert.ok(text.includes('## Build\ntags: build\n\nmake all\n'));
  const many = pinnedText(Array.from({ length: 10 }, (_, i) => note(`n${i}`, 'x'.repeat(8 * 1024))))!;
  assert.ok(Buffer.byteLength(many) < 33 * 1024);
  assert.match(many, /\(7 more pinned note\(s\) left out/);
});
