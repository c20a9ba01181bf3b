// The per-build rigs' child processes (native-bench/build-child.ts): each runs pinned to one CPU
// when taskset is there, and hands back the JSON it printed; the rigs' arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { childCpu, pinNote, rigArgs, runBuildChild } from '../../native-bench/build-child';

test('a child runs pinned to the last CPU when taskset is there, and its JSON comes back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-build-child-'));
  try {
    // Prints its arguments and the CPUs it may run on, as a rig's child prints its figures.
    const script = path.join(dir, 'child.js');
    fs.writeFileSync(script, "const m = require('fs').readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\\s*(\\S+)/);\nprocess.stdout.write(JSON.stringify({ args: process.argv.slice(2), cpus: m ? m[1] : null }));\n");
    const got = await runBuildChild<{ args: string[]; cpus: string | null }>(script, ['dist-dir', '12']);
    assert.deepEqual(got.args, ['--child', 'dist-dir', '12']);
    const hasTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
    if (hasTaskset) {
      assert.equal(childCpu(), String(os.cpus().length - 1));
      assert.equal(got.cpus, childCpu(), 'the child may run on that one CPU only');
      assert.equal(pinNote(), `each child pinned to CPU ${childCpu()}`);
    } else {
      assert.equal(childCpu(), null);
      assert.equal(pinNote(), 'children not pinned (no taskset)');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a child that fails is a rejection naming its build', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-build-child-'));
  try {
    const script = path.join(dir, 'fail.js');
    fs.writeFileSync(script, 'process.exit(3);\n');
    await assert.rejects(runBuildChild(script, ['old-dist']), /child for old-dist exited with 3/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a rig's arguments: numeric options and NAME=DIST builds; a value that is no count is refused with the usage", () => {
  const usage = 'rig.js [--calls N] [--evict MB] [NAME=DIST …]';
  const r = rigArgs(['--calls', '200', '--evict', '8', 'old=/tmp/a'], { calls: 3000, evict: 0 }, '/here', usage);
  assert.deepEqual(r.opts, { calls: 200, evict: 8 });
  assert.deepEqual(r.builds, [['old', path.resolve('/tmp/a')]]);
  assert.deepEqual(rigArgs([], { calls: 3000 }, '/here', usage).builds, [['this', '/here']]);
  for (const bad of [['--evict', 'abc'], ['--calls', '-5'], ['--calls']]) {
    assert.throws(() => rigArgs(bad, { calls: 3000, evict: 0 }, '/here', usage), (e: Error) => e.message.startsWith(`usage: ${usage} (${bad[0]} needs a number ≥ 0`), bad.join(' '));
  }
  assert.throws(() => rigArgs(['--nope', '1'], { calls: 3000 }, '/here', usage), /usage: .*\(got --nope\)/);
});
