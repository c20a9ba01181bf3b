// The agent-CLI runner, on plain shell commands standing in for the CLIs: the environment it
// builds, the proxy trap, and the deadline that kills the whole process group.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, test } from 'node:test';
import { agentDirs, runAgent, type AgentOptions } from '../support/agent-cli';

const dirs = agentDirs('agent-cli-test');
after(() => fs.rmSync(dirs.root, { recursive: true, force: true }));

function sh(script: string, o: Partial<AgentOptions> = {}): Promise<Awaited<ReturnType<typeof runAgent>>> {
  return runAgent({ name: 'sh', command: 'bash', args: ['-c', script], env: {}, home: dirs.home, cwd: dirs.cwd, deadlineMs: 60_000, ...o });
}

test('the environment holds what the CLI needs and nothing of the machine’s', async () => {
  process.env.ANTHROPIC_API_KEY = 'sk-of-the-machine';
  try {
    const run = await sh('env; pwd', { env: { WEIR_API_KEY: 'sk-given' } });
    assert.equal(run.code, 0, run.stderr);
    const env = new Map(run.stdout.trim().split('\n').slice(0, -1).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(env.get('WEIR_API_KEY'), 'sk-given');
    assert.equal(env.get('ANTHROPIC_API_KEY'), undefined, 'no key of the machine leaks in');
    assert.equal(env.get('HOME'), dirs.home);
    assert.equal(env.get('NO_PROXY'), '127.0.0.1,localhost');
    assert.match(env.get('HTTPS_PROXY')!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(run.stdout.trim().split('\n').at(-1), dirs.cwd);
  } finally {
    delete process.env.ANTHROPIC_API_KEY;
  }
});

test('a call past 127.0.0.1 is refused by the trap at once and written down', async () => {
  const run = await sh('curl -sS https://example.com/; echo "curl exit $?"');
  assert.deepEqual(run.outbound, ['CONNECT example.com:443']);
  assert.match(run.stdout, /curl exit [1-9]/, 'refused, not waited on');
});

test('stopping a run (as its deadline does) kills the CLI and what it started, and fails with what it printed', async () => {
  const pidFile = `${dirs.root}/child.pid`;
  const stop = new AbortController();
  // A stand-in for a CLI that hangs, with a child of its own that would outlive it.
  const hung = sh(`echo started; sleep 1000 & echo $! > ${pidFile}.tmp; mv ${pidFile}.tmp ${pidFile}; wait`, { signal: stop.signal });
  await until(() => fs.existsSync(pidFile), 'the stand-in started its child');
  stop.abort();
  await assert.rejects(hung, (e: Error) => /^sh was stopped and was killed\./.test(e.message) && /--- stdout\nstarted/.test(e.message));
  const child = Number(fs.readFileSync(pidFile, 'utf8'));
  await until(() => !alive(child), 'the CLI’s own child was killed with it');
});

test('the deadline stops a run that does not end', async () => {
  await assert.rejects(sh('exec sleep 1000', { deadlineMs: 200 }), /^Error: sh did not finish within 200 ms and was killed\./);
});

/** Running, not a zombie (nothing here may reap the orphans of a killed group). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls for a state, with a deadline only to fail loudly. */
async function until(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not reached: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
