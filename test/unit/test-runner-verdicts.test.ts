// The test runner's report counts every test that ran (support/blocking-stdout.ts): node's own
// runner under --test-force-exit and --test-concurrency, as test/run.ts starts it, over many fast
// files. Without the preload the parent lost a few verdicts of some files' tails, with exit 0
// (nodejs/node#64833). Counted, not timed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const FILES = 20;
const TESTS = 50;
const PRELOAD = path.resolve(__dirname, '..', 'support', 'blocking-stdout.js');

function runner(dir: string): Promise<string> {
  const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
  // This file runs as a test runner child: the nested runner must not think it is one too.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--require', PRELOAD, '--test', '--test-reporter=spec', '--test-force-exit', '--test-concurrency=2', ...files], { env, maxBuffer: 16 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

test('every verdict of many fast files reaches the report under --test-force-exit', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-verdicts-'));
  try {
    for (let f = 0; f < FILES; f++) {
      const lines = ["const { test } = require('node:test');"];
      for (let t = 0; t < TESTS; t++) lines.push(`test('file ${f} test ${t}, a name long enough to fill the pipe a little faster', () => {});`);
      fs.writeFileSync(path.join(dir, `f${f}.test.js`), lines.join('\n'));
    }
    for (let run = 0; run < 3; run++) {
      const out = await runner(dir);
      assert.match(out, new RegExp(`ℹ tests ${FILES * TESTS}\\n`), `run ${run}: ${out.split('\n').filter((l) => l.startsWith('ℹ')).join('; ')}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
