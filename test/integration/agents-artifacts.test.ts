// Run artifacts on a real PostgreSQL: bytes kept exactly, one cap per run shared by its artifacts
// (cut and marked truncated beyond it), replacement under the same name, concurrent saves that
// cannot overspend the cap, four round trips a save, and names the table cannot hold refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, test } from 'node:test';
import { getArtifact, listArtifacts, saveArtifact } from '../../src/agents/artifacts';
import { recordStatements } from '../support/pool-statements';
import { stopTestPostgres } from '../support/postgres';
import { agentDb } from './agents-events-helpers';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  await stopTestPostgres();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, fill = 7) => Buffer.alloc(n, fill);

test('bytes in, the same bytes out; the run cap is shared and what exceeds it is cut', async () => {
  const { pool } = await agentDb('artifacts_cap', cleanups);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  assert.deepEqual(await saveArtifact(pool, 'r1', 'transcript.jsonl', 'transcript', all, 1_000), { size: 256, sha256: sha(all), truncated: false });
  assert.deepEqual(await getArtifact(pool, 'r1', 'transcript.jsonl'), { kind: 'transcript', content: all });

  const b = bytes(800, 1);
  assert.deepEqual(await saveArtifact(pool, 'r1', 'diff.patch', 'file', b, 1_000), { size: 744, sha256: sha(b.subarray(0, 744)), truncated: true });
  assert.deepEqual(await saveArtifact(pool, 'r1', 'empty-room', 'file', bytes(5), 1_000), { size: 0, sha256: sha(Buffer.alloc(0)), truncated: true });
  // Another run has a cap of its own.
  assert.equal((await saveArtifact(pool, 'r2', 'diff.patch', 'file', b, 1_000)).truncated, false);

  assert.deepEqual(
    (await listArtifacts(pool, 'r1')).map((a) => [a.name, a.kind, a.size, a.truncated]),
    [
      ['transcript.jsonl', 'transcript', 256, false],
      ['diff.patch', 'file', 744, true],
      ['empty-room', 'file', 0, true],
    ],
  );
  const got = await getArtifact(pool, 'r1', 'diff.patch');
  assert.equal(sha(got!.content), (await listArtifacts(pool, 'r1')).find((a) => a.name === 'diff.patch')!.sha256);
  assert.equal(await getArtifact(pool, 'r1', 'missing'), null);
  assert.deepEqual(await listArtifacts(pool, 'nobody'), []);
});

test('saving under an existing name replaces it, and its old size does not count against it', async () => {
  const { pool } = await agentDb('artifacts_replace', cleanups);
  await saveArtifact(pool, 'r', 'a', 'file', bytes(60), 100);
  await saveArtifact(pool, 'r', 'b', 'file', bytes(30), 100);
  assert.deepEqual(await saveArtifact(pool, 'r', 'a', 'log', bytes(80, 2), 100), { size: 70, sha256: sha(bytes(70, 2)), truncated: true });
  assert.deepEqual(await getArtifact(pool, 'r', 'a'), { kind: 'log', content: bytes(70, 2) });
  assert.equal((await listArtifacts(pool, 'r')).length, 2);
});

test('concurrent saves of one run never store more than the cap together', async () => {
  const { pool } = await agentDb('artifacts_race', cleanups);
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => saveArtifact(pool, 'r', `f${i}`, 'file', bytes(30), 100)));
  assert.equal(results.reduce((s, r) => s + r.size, 0), 100);
  const listed = await listArtifacts(pool, 'r');
  assert.equal(listed.reduce((s, a) => s + a.size, 0), 100);
  assert.equal(listed.filter((a) => a.truncated).length, 8 - 3);
});

test('a save is four round trips (BEGIN with the lock, the room, the row, COMMIT); an unbounded cap stores everything', async () => {
  const { pool } = await agentDb('artifacts_trips', cleanups);
  const sent = await recordStatements(pool);
  const all = bytes(300, 3);
  assert.deepEqual(await saveArtifact(pool, 'r', 'a', 'file', all, Infinity), { size: 300, sha256: sha(all), truncated: false });
  assert.equal(sent.length, 4, sent.join('\n---\n'));
  assert.match(sent[0]!, /^BEGIN; SELECT pg_advisory_xact_lock/);
  assert.equal(sent[3], 'COMMIT');
});

test('names and kinds the table cannot hold are refused with a clear error', async () => {
  const { pool } = await agentDb('artifacts_names', cleanups);
  await assert.rejects(saveArtifact(pool, 'r', '', 'file', bytes(1), 10), /artifact name must be 1 to 255 characters/);
  await assert.rejects(saveArtifact(pool, 'r', 'a\u0000b', 'file', bytes(1), 10), /artifact name/);
  await assert.rejects(saveArtifact(pool, 'r', 'x'.repeat(256), 'file', bytes(1), 10), /artifact name/);
  await assert.rejects(saveArtifact(pool, 'r', 'ok', '', bytes(1), 10), /artifact kind/);
  assert.deepEqual(await listArtifacts(pool, 'r'), []);
});
