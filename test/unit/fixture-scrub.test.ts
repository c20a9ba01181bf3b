// The scrubber that turns recorded agent requests into fixtures: literals replaced longest first,
// ids numbered by first appearance across everything one scrubber sees, run-specific texts fixed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scrubber } from '../support/fixture-scrub';

test('literals: a path is replaced before its parent folder, inside any string, keys kept', () => {
  const s = scrubber([
    ['/tmp/weir-x-AbC', '/tmp/weir-agent'],
    ['/tmp/weir-x-AbC/work', '/home/user/project'],
    ['-tmp-weir-x-AbC-work', '-home-user-project'],
  ]);
  assert.deepEqual(s.scrub({ cwd: '<cwd>/tmp/weir-x-AbC/work</cwd>', memory: '/tmp/weir-x-AbC/home/.claude/projects/-tmp-weir-x-AbC-work/', n: 3, ok: true }), {
    cwd: '<cwd>/home/user/project</cwd>',
    memory: '/tmp/weir-agent/home/.claude/projects/-home-user-project/',
    n: 3,
    ok: true,
  });
});

test('ids: one UUID is one placeholder wherever it appears, prefixed ids too; 64-digit hex ids likewise', () => {
  const s = scrubber([]);
  const session = '01a24247-860b-7b12-8f99-50485c0daa98';
  const headers = s.scrub({ 'session-id': session });
  const body = s.scrub({
    items: [`msg_${session}`, 'msg_2E5A8FA5-D81A-53D6-94BF-82FB48F881EE'],
    meta: JSON.stringify({ session_id: session, device_id: 'aa37f966568a42fbded24c68ec97c96749beaa1f672a58270a77fb668c826265' }),
  });
  assert.deepEqual(headers, { 'session-id': '00000000-0000-4000-8000-000000000001' });
  assert.deepEqual(body.items, ['msg_00000000-0000-4000-8000-000000000001', 'msg_00000000-0000-4000-8000-000000000002']);
  assert.deepEqual(JSON.parse(body.meta), { session_id: '00000000-0000-4000-8000-000000000001', device_id: `${'0'.repeat(63)}3` });
});

test('run-specific texts: Codex’s chunk id, wall time and turn start time', () => {
  const s = scrubber([]);
  assert.equal(
    s.scrub('Chunk ID: 51772b\nWall time: 0.0123 seconds\nProcess exited with code 0'),
    'Chunk ID: 000000\nWall time: 0.0000 seconds\nProcess exited with code 0',
  );
  assert.equal(s.scrub('{"turn_started_at_unix_ms":1796407201735,"model":"m"}'), '{"turn_started_at_unix_ms":1767225600000,"model":"m"}');
});
