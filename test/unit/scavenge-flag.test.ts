// Weir turns V8's parallel scavenge off unless Node was started with --parallel-scavenge
// (src/control/scavenge-flag.ts); what counts as asking for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parallelScavengeAsked, scavengeAlone } from '../../src/control/scavenge-flag';

test('--parallel-scavenge in either spelling asks for V8\'s default back; nothing else does', () => {
  assert.equal(parallelScavengeAsked(['--parallel-scavenge']), true);
  assert.equal(parallelScavengeAsked(['--max-old-space-size=512', '--parallel_scavenge']), true);
  assert.equal(parallelScavengeAsked([]), false);
  assert.equal(parallelScavengeAsked(['--no-parallel-scavenge']), false);
  assert.equal(parallelScavengeAsked(['--parallel-scavenge-tasks=2', '--trace-gc']), false);
});

test('asked for, the parallel scavenge is left on; otherwise it is turned off', () => {
  assert.equal(scavengeAlone(['--parallel-scavenge']), false);
  assert.equal(scavengeAlone([]), true);
});
