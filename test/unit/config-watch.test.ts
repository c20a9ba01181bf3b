// The config watcher acts on a change only once the files have settled, and never takes an empty
// main file: a poll that lands between the truncate and the write of a save must not reload a
// config with no models (seen in CI as a burst of 400s during reloads under traffic). The settle
// timer is driven by hand, so nothing here depends on timing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigWatcher } from '../../src/control/config-watch';

/** A settle timer run by hand: `fire()` runs the wait armed last unless it was cancelled. */
function manualTimer() {
  let pending: { fn: () => void; cancelled: boolean } | null = null;
  return {
    schedule: (fn: () => void) => {
      const entry = { fn, cancelled: false };
      pending = entry;
      return () => {
        entry.cancelled = true;
      };
    },
    armed: () => pending !== null && !pending.cancelled,
    fire: () => {
      const p = pending;
      pending = null;
      assert.ok(p && !p.cancelled, 'a settle wait is armed');
      p.fn();
    },
  };
}

function setup(t: { after: (fn: () => void) => void }, files: Record<string, string>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-watch-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const timer = manualTimer();
  const events: string[] = [];
  const main = path.join(dir, 'config.yaml');
  const watcher = new ConfigWatcher(main, () => events.push('change'), {
    onEmpty: () => events.push('empty'),
    schedule: timer.schedule,
    intervalMs: 2 ** 31 - 1, // no background poll: each test calls check() itself
  });
  watcher.start();
  t.after(() => {
    watcher.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // Every write below changes the size, so a poll always sees it whatever the mtime granularity.
  const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
  return { dir, main, timer, events, watcher, write };
}

const FULL = 'model_list:\n  - model_name: alpha\n    litellm_params:\n      model: openai/alpha\n';

test('a save seen half-way (truncated) is acted on once, after the file settled with its whole text', (t) => {
  const { timer, events, watcher, write } = setup(t, { 'config.yaml': FULL });
  assert.equal(timer.armed(), false);

  write('config.yaml', ''); // the truncate of a plain save
  watcher.check();
  assert.equal(timer.armed(), true);
  write('config.yaml', FULL + '  - model_name: beta\n    litellm_params:\n      model: openai/beta\n');
  timer.fire(); // the file moved during the wait: wait again, nothing reloaded
  assert.deepEqual(events, []);
  assert.equal(timer.armed(), true);
  timer.fire(); // quiet now
  assert.deepEqual(events, ['change']);
  assert.equal(timer.armed(), false);
});

test('changes inside one settle wait make one reload', (t) => {
  const { timer, events, watcher, write } = setup(t, { 'config.yaml': FULL });
  write('config.yaml', FULL + '# one\n');
  watcher.check();
  write('config.yaml', FULL + '# one two\n');
  watcher.check(); // re-arms: the first wait is cancelled
  timer.fire();
  assert.deepEqual(events, ['change']);
});

test('an empty main file that stays empty is reported, never reloaded; the next real save reloads', (t) => {
  const { timer, events, watcher, write } = setup(t, { 'config.yaml': FULL });
  write('config.yaml', '');
  watcher.check();
  timer.fire();
  assert.deepEqual(events, ['empty']);
  write('config.yaml', FULL);
  watcher.check();
  timer.fire();
  assert.deepEqual(events, ['empty', 'change']);
});

test('an included file settles the same way, and a newly included file is followed', (t) => {
  const { timer, events, watcher, write } = setup(t, { 'config.yaml': `include: [a.yaml]\n`, 'a.yaml': FULL, 'b.yaml': FULL });
  write('a.yaml', FULL + '# edited\n');
  watcher.check();
  timer.fire();
  assert.deepEqual(events, ['change']);

  write('config.yaml', `include: [a.yaml, b.yaml]\n`);
  watcher.check();
  timer.fire();
  assert.deepEqual(events, ['change', 'change']);
  write('b.yaml', FULL + '# b edited\n');
  watcher.check();
  timer.fire();
  assert.deepEqual(events, ['change', 'change', 'change']);
});

test('no change, no wait: a poll over unchanged files arms nothing', (t) => {
  const { timer, watcher } = setup(t, { 'config.yaml': FULL });
  watcher.check();
  watcher.check();
  assert.equal(timer.armed(), false);
});
