// `weir run` against the real gateway process, its database and the `command` agent in a local
// sandbox: the CLI as a child process starts a profile run and a job run, follows their events to
// the end and exits by how they ended; a refusal of the real API is shown and exits 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MockUpstream } from '../support/mock-upstream';
import { CURL_CHAT, agentConfig, scriptProfile } from './agent-runs-helpers';
import { MASTER_KEY, closeAndCheckLedgers, ledgerDatabase, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli.js');

let mock: MockUpstream;
let weir: Weir;

const profiles = [
  scriptProfile('hello', `cat "$WEIR_PROMPT_FILE"; echo; ${CURL_CHAT}; echo '{"type":"result","result":"all done"}'`),
  scriptProfile('fails', 'echo "about to fail"; exit 3'),
].join('');
const jobs = `    - {name: greet, profile: hello, prompt: "Greet {{input.who}}"}\n`;

before(async () => {
  mock = await startMock();
  const db = await ledgerDatabase('agents_cli_run');
  weir = await startWeirOn(writeConfigFile(agentConfig(mock.url, db, { profiles, jobs })));
});

after(() => closeAndCheckLedgers(() => weir.stop(), () => mock.close()));

function weirRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', ...args], {
      env: { PATH: process.env.PATH ?? '', WEIR_URL: weir.url, WEIR_API_KEY: MASTER_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const said = (r: { code: number | null; stdout: string; stderr: string }) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

describe('weir run against Weir', () => {
  it('a profile run: its status changes and the agent’s lines, then the result and the cost it was charged; exit 0', async () => {
    const r = await weirRun(['--profile', 'hello', 'Say hello to the bench']);
    assert.equal(r.code, 0, said(r));
    const lines = r.stdout.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    assert.match(lines[0]!, /^▶ run run_[0-9a-f]{24} \(profile hello\) queued$/);
    assert.ok(at(/^● provisioning$/) > 0 && at(/^● running$/) > at(/^● provisioning$/), said(r));
    assert.ok(at(/^ {2}Say hello to the bench$/) > at(/^● running$/), `the prompt file, printed by the agent\n${said(r)}`);
    assert.ok(at(/^● succeeded$/) > at(/^ {2}Say hello to the bench$/), said(r));
    assert.match(r.stdout, /^all done$/m, 'the run’s result');
    assert.match(r.stdout, /^run run_[0-9a-f]{24} succeeded · cost \$0\.\d{4}$/m);
    assert.doesNotMatch(r.stdout, /cost \$0\.0000/, 'the chat call it made was charged');
  });

  it('a job run renders its prompt from --input; a failing agent exits 1 with why', async () => {
    const ok = await weirRun(['--job', 'greet', '--input', '{"who":"the CLI"}', '--json']);
    assert.equal(ok.code, 0, said(ok));
    const events = ok.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string; payload: any });
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'every event once, in order');
    assert.ok(events.some((e) => e.type === 'stdout' && JSON.stringify(e.payload).includes('Greet the CLI')), said(ok));
    const failed = await weirRun(['--profile', 'fails', 'go']);
    assert.equal(failed.code, 1, said(failed));
    assert.match(failed.stdout, /^● failed \(agent_error\): the command exited with 3$/m);
  });

  it('the API’s own refusal is shown and exits 2', async () => {
    const r = await weirRun(['--profile', 'nope', 'hi']);
    assert.equal(r.code, 2, said(r));
    assert.match(r.stderr, /could not start the run: HTTP 4\d\d: .*nope/);
  });
});
