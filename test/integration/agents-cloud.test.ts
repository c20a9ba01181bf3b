// Cloud sandboxes beyond the shared run suite (agents-runs-*.test.ts), through the real gateway
// process and the real E2B and Daytona SDKs talking to their fakes: what the SDKs send (labels,
// lifetimes), a clear sandbox_error and nothing left running for each kind of bad input (a wrong
// key, a missing template, 429s, 500s, an API that hangs, a sandbox that dies mid-run), warm pools
// (claimed by runs as warm starts, refilled, idle ones retired; a warm start writes what a cold one
// does), a PTY's first keystrokes (one line each, not glued by the provider's shell), a Daytona
// PTY's input back-pressure, the sweeper after a crash (runs' machines killed, pooled ones kept),
// and `weir sandbox check`.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import { cloudOptions } from '../../src/agents/sandbox/cloud-options';
import { CloudSandboxProvider } from '../../src/agents/sandbox/cloud-provider';
import { DaytonaCloud } from '../../src/agents/sandbox/daytona';
import type { SandboxDef } from '../../src/agents/types';
import { FakeDaytona } from '../support/fake-daytona';
import { FakeE2B } from '../support/fake-e2b';
import { CLI } from '../support/gateway-process';
import type { MockUpstream } from '../support/mock-upstream';
import { DAYTONA_TEST_KEY, E2B_TEST_KEY } from '../support/cloud-fakes';
import { MASTER_KEY, bearer, call, closeAndCheckLedgers, dbPool, ledgerDatabase, rows, startMock, startWeirOn, waitFor, writeConfigFile, type Weir } from './governance-helpers';
import { WAIT_FOREVER, agentConfig, events, mustStart, printed, scriptProfile, waitRun } from './agent-runs-helpers';

let mock: MockUpstream;
let weir: Weir;
let pool: Pool;
let e2b: FakeE2B;
let flaky: FakeE2B;
let daytona: FakeDaytona;
let configPath: string;
/** The same instance across the crash test's restart (its runs are found at once); short rounds fill pools fast. */
const WEIR_ENV = { WEIR_INSTANCE_ID: 'agents-cloud', WEIR_AGENT_LEASE_MS: '3000' };

const e2bAt = (f: FakeE2B, extra: Record<string, unknown> = {}) => JSON.stringify({ provider: 'e2b', api_key: E2B_TEST_KEY, api_url: f.url, sandbox_url: f.url, ...extra });
const dtnAt = (extra: Record<string, unknown> = {}) => JSON.stringify({ provider: 'daytona', api_key: DAYTONA_TEST_KEY, api_url: daytona.apiUrl, ...extra });
const sb = (name: string, spec: string) => `    - {"name": "${name}", ${spec.slice(1)}\n`;

before(async () => {
  mock = await startMock();
  e2b = await FakeE2B.start({ apiKey: E2B_TEST_KEY, templates: ['base', 'code-interpreter-v1', 'weir-agents'] });
  flaky = await FakeE2B.start({ apiKey: E2B_TEST_KEY });
  daytona = await FakeDaytona.start({ apiKey: DAYTONA_TEST_KEY, snapshots: ['daytona-default', 'weir-agents'] });
  const db = await ledgerDatabase('agents_cloud');
  pool = dbPool(db);
  const sandboxes = [
    sb('e2b', e2bAt(e2b, { template: 'weir-agents' })),
    sb('dtn', dtnAt({ snapshot: 'weir-agents' })),
    sb('e2b-badkey', e2bAt(e2b, { api_key: 'e2b_wrong_key_5d2e91' })),
    sb('dtn-badkey', dtnAt({ api_key: 'dtn_wrong_key_0a9c44' })),
    sb('e2b-notemplate', e2bAt(e2b, { template: 'no-such-template' })),
    sb('dtn-notemplate', dtnAt({ snapshot: 'no-such-snapshot' })),
    sb('e2b-flaky', e2bAt(flaky, { request_timeout: '1s', create_timeout: '3s' })),
    sb('e2b-pool', e2bAt(e2b, { warm_pool: 2 })),
    sb('dtn-pool', dtnAt({ warm_pool: 1, pool_idle: '1s' })),
  ].join('');
  const profiles = [
    ...['e2b', 'dtn', 'e2b-badkey', 'dtn-badkey', 'e2b-notemplate', 'dtn-notemplate', 'e2b-flaky', 'e2b-pool', 'dtn-pool'].map((s) => scriptProfile(`p-${s}`, 'echo "home=$HOME"; pwd', { sandbox: s })),
    ...['e2b', 'dtn', 'e2b-pool'].map((s) => scriptProfile(`files-${s}`, 'cat; echo; ls "$HOME/.weir"', { sandbox: s })),
    scriptProfile('wait-e2b', WAIT_FOREVER, { sandbox: 'e2b', timeout: '10m' }),
    scriptProfile('wait-dtn', WAIT_FOREVER, { sandbox: 'dtn', timeout: '10m' }),
  ].join('');
  configPath = writeConfigFile(agentConfig(mock.url, db, { profiles, sandboxes }));
  weir = await startWeirOn(configPath, { env: WEIR_ENV });
});

after(() => closeAndCheckLedgers(() => weir?.stop(), async () => pool.end(), () => mock.close(), () => e2b.close(), () => flaky.close(), () => daytona.close()));

const runMachines = (f: FakeE2B | FakeDaytona) => f.machines.live().filter((m) => !m.labels.weir_pool);

describe('a run in a cloud sandbox', () => {
  for (const [name, fake] of [['e2b', () => e2b], ['dtn', () => daytona]] as const) {
    it(`${name}: the machine is labelled with the installation and the run, lives for the run's timeout plus slack, starts cold, and is gone after`, async () => {
      const { id } = await mustStart(weir.url, { profile: `p-${name}`, prompt: 'x' });
      const run = await waitRun(weir.url, id);
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      assert.equal(run.sandbox.start, 'cold');
      assert.ok(Number.isInteger(run.sandbox.start_ms) && run.sandbox.start_ms >= 0, JSON.stringify(run.sandbox));
      const evs = await events(weir.url, id);
      const sbx = evs.find((e) => e.type === 'sandbox');
      assert.equal(sbx.payload.start, 'cold');
      assert.equal(sbx.payload.id, run.sandbox.id);
      assert.match(printed(evs), /home=\/.*\/home/);
      const m = fake().machines.all.get(run.sandbox.id)!;
      assert.equal(m.labels.weir_run_id, id);
      assert.match(m.labels.weir_install, /^[0-9a-f]{12}$/);
      assert.equal(m.template, 'weir-agents');
      // 120 s of run timeout + 10 min of slack (E2B rounds to seconds, Daytona to minutes).
      assert.equal(m.lifetimeMs, name === 'e2b' ? 720_000 : 12 * 60_000);
      assert.ok(m.gone, 'destroyed when the run ended');
    });
  }
});

describe('bad input: a clear sandbox_error, the key never shown, nothing left running', () => {
  const cases: Array<[string, string, RegExp, () => void]> = [
    ['a wrong E2B key', 'p-e2b-badkey', /e2b create: the e2b API refused the API key \(401\)/, () => {}],
    ['a wrong Daytona key', 'p-dtn-badkey', /daytona create: the daytona API refused the API key \(401\)/, () => {}],
    ['an E2B template that does not exist', 'p-e2b-notemplate', /does not know the template "no-such-template" \(404\)/, () => {}],
    ['a Daytona snapshot that does not exist', 'p-dtn-notemplate', /does not know the template "no-such-snapshot" \(404\)/, () => {}],
    ['an E2B API answering 429', 'p-e2b-flaky', /rate limiting \(429\)/, () => flaky.faults.failNext(1000, 429)],
    ['an E2B API answering 500', 'p-e2b-flaky', /the e2b API failed \(500\)/, () => flaky.faults.failNext(1000, 500)],
    ['an E2B API that never answers (request_timeout)', 'p-e2b-flaky', /did not answer in time|no answer within/, () => (flaky.faults.hang = true)],
  ];
  for (const [what, profile, re, arm] of cases) {
    it(what, async () => {
      arm();
      try {
        const { id } = await mustStart(weir.url, { profile, prompt: 'x' });
        const run = await waitRun(weir.url, id);
        assert.equal(run.status, 'failed');
        assert.equal(run.error.kind, 'sandbox_error');
        assert.match(run.error.message, re);
        assert.equal(run.attempt, 3, 'retried as every sandbox error is');
        const text = JSON.stringify(await events(weir.url, id)) + JSON.stringify(run);
        for (const key of ['e2b_wrong_key_5d2e91', 'dtn_wrong_key_0a9c44', E2B_TEST_KEY, DAYTONA_TEST_KEY]) assert.ok(!text.includes(key), `${key} shown`);
      } finally {
        flaky.faults.reset();
      }
      assert.equal(runMachines(e2b).length + runMachines(flaky).length + runMachines(daytona).length, 0);
    });
  }

  it('the sandbox API shows a cloud sandbox without its key', async () => {
    const r = await call(weir.url, '/v1/agent/sandboxes/e2b', { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.options.api_key, '********');
    assert.ok(!r.text.includes(E2B_TEST_KEY));
  });

  for (const [name, profile, fake] of [['e2b', 'wait-e2b', () => e2b], ['daytona', 'wait-dtn', () => daytona]] as const) {
    it(`${name}: a sandbox that dies mid-run is a sandbox_error, retried on a new sandbox`, async () => {
      const { id } = await mustStart(weir.url, { profile, prompt: 'x' });
      const first = await waitRun(weir.url, id, 'running');
      await waitFor('the agent to print', async () => printed(await events(weir.url, id)).includes('waiting'), 30_000);
      fake().killMachine(first.sandbox.id);
      const requeued = await waitFor('the retry', async () => (await events(weir.url, id)).find((e) => e.type === 'status' && e.payload.status === 'queued'), 30_000);
      assert.equal(requeued.payload.error.kind, 'sandbox_error');
      assert.match(requeued.payload.error.message, new RegExp(`${name === 'e2b' ? 'e2b' : 'daytona'}.*(stopped answering|exec)`));
      const second = await waitRun(weir.url, id, 'running');
      assert.notEqual(second.sandbox.id, first.sandbox.id);
      assert.equal(second.attempt, 2);
      await call(weir.url, `/v1/agent/runs/${id}/cancel`, { headers: bearer(MASTER_KEY), body: {} });
      assert.equal((await waitRun(weir.url, id)).status, 'canceled');
      assert.equal(runMachines(fake()).length, 0);
    });
  }
});

const ready = async (name: string) => rows(pool, `SELECT slot_id, machine_id FROM "Weir_AgentSandboxPool" WHERE sandbox_name = $1 AND state = 'ready' ORDER BY slot_id`, [name]);

describe('warm pools', () => {
  it('warm_pool: 2 keeps two machines ready; a run claims one (a warm start), the pool refills, and the claimed machine dies with its run', async () => {
    const first = await waitFor('two ready e2b machines', async () => ((await ready('e2b-pool')).length === 2 ? ready('e2b-pool') : null), 30_000, 100);
    for (const r of first) assert.equal(e2b.machines.get(r.machine_id)?.labels.weir_pool, 'e2b-pool', 'labelled with its pool, not a run');
    const { id } = await mustStart(weir.url, { profile: 'p-e2b-pool', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.sandbox.start, 'warm');
    assert.ok(first.some((r: any) => r.machine_id === run.sandbox.id), 'one of the ready machines');
    assert.equal((await events(weir.url, id)).find((e) => e.type === 'sandbox').payload.start, 'warm');
    assert.ok(e2b.machines.all.get(run.sandbox.id)!.gone, 'a pooled machine serves one run');
    const again = await waitFor('the pool refilled', async () => {
      const r = await ready('e2b-pool');
      return r.length === 2 && !r.some((x: any) => x.machine_id === run.sandbox.id) ? r : null;
    }, 30_000, 100);
    assert.equal(again.length, 2);
    assert.equal((await rows(pool, `SELECT * FROM "Weir_AgentSandboxPool" WHERE run_id = $1`, [id])).length, 0, 'the slot went with its run');
  });

  it('a warm start writes what a cold one writes (the prompt, the memory config), in one upload as a cold one does', async () => {
    // File uploads to one machine, whichever API the provider has for them.
    const uploads = (sandbox: string) =>
      e2b.envdRequests.filter((r) => r.sandbox === sandbox && r.method === 'POST' && r.path === '/files').length +
      daytona.requests.filter((r) => r.method === 'POST' && r.path === `/toolbox/${sandbox}/files/bulk-upload`).length;
    const seen: Record<string, string> = {};
    for (const name of ['e2b', 'dtn', 'e2b-pool']) {
      if (name === 'e2b-pool') await waitFor('a ready e2b machine', async () => (await ready('e2b-pool')).length > 0, 30_000, 100);
      const { id } = await mustStart(weir.url, { profile: `files-${name}`, prompt: `the prompt of ${name}` });
      const run = await waitRun(weir.url, id);
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      assert.equal(run.sandbox.start, name === 'e2b-pool' ? 'warm' : 'cold');
      // What the agent printed (not the sandbox event, which names the machine and how it started).
      const out = (await events(weir.url, id)).filter((e) => typeof e.payload?.text === 'string').map((e) => e.payload.text).join('\n');
      assert.match(out, new RegExp(`the prompt of ${name}`));
      seen[name] = out.replace(`the prompt of ${name}`, 'PROMPT');
      assert.equal(uploads(run.sandbox.id), 1, `${name}: one upload for every file`);
    }
    assert.match(seen['e2b']!, /mcp\.json[^]*prompt\.txt/);
    assert.equal(seen['e2b-pool'], seen['e2b']);
    assert.equal(seen['dtn'], seen['e2b']);
  });

  it('pool_idle: a ready machine unclaimed for that long is retired and replaced', async () => {
    const before = await waitFor('a ready daytona machine', async () => ((await ready('dtn-pool')).length === 1 ? ready('dtn-pool') : null), 30_000, 100);
    const old = before[0].machine_id;
    await waitFor('the idle machine retired and replaced', async () => {
      const r = await ready('dtn-pool');
      return r.length === 1 && r[0].machine_id !== old && daytona.machines.all.get(old)!.gone;
    }, 60_000, 100);
  });
});

describe('a PTY whose input backs up', () => {
  it("daytona: pendingBytes counts keystrokes its socket has not sent yet, and falls to 0 once they go", async () => {
    const cloud = new DaytonaCloud(cloudOptions({ api_key: DAYTONA_TEST_KEY, api_url: daytona.apiUrl, snapshot: 'weir-agents' }, 'DAYTONA_API_KEY', {}));
    const m = await cloud.create({ weir_test: 'pty-backpressure' }, 60_000);
    try {
      const pty = await m.pty({ cmd: 'cat > /dev/null', mark: 'mark', cols: 80, rows: 24, onData: () => {} });
      daytona.holdPtyInput(true);
      // Well past what loopback's socket buffers hold, so that some of it waits in the client.
      pty.write(Buffer.from(`${'x'.repeat(1023)}\n`.repeat(32 * 1024)));
      await waitFor('keystrokes backed up', async () => pty.pendingBytes > 0, 10_000, 20);
      daytona.holdPtyInput(false);
      await waitFor('keystrokes delivered', async () => pty.pendingBytes === 0, 30_000, 20);
      pty.kill();
      await pty.done;
    } finally {
      daytona.holdPtyInput(false);
      await m.kill();
    }
  });
});

describe("a PTY's first keystrokes", () => {
  // The providers' PTYs start a login shell and Weir types the line that execs the agent into it;
  // keystrokes that reached the PTY while that shell's line editor held it (raw mode) came to the
  // agent glued into one line. Written the moment the PTY opens, each line must arrive as its own.
  for (const kind of ['e2b', 'daytona'] as const) {
    it(`${kind}: lines typed the moment the PTY opens reach the agent one by one, in order; the shell's own echo is not shown`, async () => {
      const provider = new CloudSandboxProvider({ kind, installation: 'agents-cloud-pty' });
      const options = kind === 'e2b' ? { api_key: E2B_TEST_KEY, api_url: e2b.url, sandbox_url: e2b.url, template: 'weir-agents' } : { api_key: DAYTONA_TEST_KEY, api_url: daytona.apiUrl, snapshot: 'weir-agents' };
      const def: SandboxDef = { id: kind, name: kind, provider: kind, options, source: 'config' };
      const sb = await provider.create(def, `pty-first-${kind}`, { weir_run_id: `pty-first-${kind}` }, { timeoutMs: 60_000 });
      try {
        let out = '';
        const pty = await sb.openPty({ argv: ['sh', '-c', 'while IFS= read -r l; do echo "got:$l"; done'], env: {}, cols: 80, rows: 24, onData: (c) => (out += c.toString('utf8')) });
        // A line every turn of the event loop until the agent answers the first: some reach the
        // machine before its shell reads, some while it reads and runs Weir's line, some after.
        // At most 300 (under 2 KB): a terminal keeps 4 KB its program has not read.
        const lines: string[] = [];
        while (!out.includes('got:k0') && lines.length < 300) {
          lines.push(`k${lines.length}`);
          pty.write(Buffer.from(`${lines.at(-1)}\r`));
          await new Promise((r) => setImmediate(r));
        }
        await waitFor('the last line echoed by the agent', async () => out.includes(`got:${lines.at(-1)}\r`) || null, 30_000, 20);
        assert.deepEqual([...out.matchAll(/got:([^\r\n]*)/g)].map((m) => m[1]), lines, out);
        assert.doesNotMatch(out, /WEIR_PTY/, 'the line Weir typed into the shell is not shown');
        pty.kill();
        await pty.done;
      } finally {
        await sb.destroy();
      }
    });
  }
});

describe('the sweeper', () => {
  it('after a crash, the machines of ended runs are killed and stray ones of this installation too; pooled machines are kept', async () => {
    const { id } = await mustStart(weir.url, { profile: 'wait-e2b', prompt: 'x' });
    const run = await waitRun(weir.url, id, 'running');
    const install = (await rows(pool, `SELECT spec->>'value' AS v FROM "Weir_AgentDefinition" WHERE id = 'secret_installation'`))[0].v;
    const stray = e2b.machines.make('stray', 'base', { weir_install: install, weir_run_id: 'run_000000000000000000000000' }, {}, 60_000);
    const foreign = e2b.machines.make('foreign', 'base', { weir_install: 'another-install', weir_run_id: 'run_x' }, {}, 60_000);
    const pooled = (await ready('e2b-pool')).map((r: any) => r.machine_id);
    assert.equal(pooled.length, 2);
    await weir.stop('SIGKILL');
    assert.ok(e2b.machines.get(run.sandbox.id), 'the crash left the run’s machine running');
    weir = await startWeirOn(configPath, { env: WEIR_ENV });
    const ended = await waitRun(weir.url, id);
    assert.equal(ended.status, 'failed');
    await waitFor('the run’s and the stray machine killed', async () => !e2b.machines.get(run.sandbox.id) && !e2b.machines.get(stray.id), 30_000);
    assert.ok(e2b.machines.get(foreign.id), 'another installation’s machine is not ours to kill');
    for (const m of pooled) assert.ok(e2b.machines.get(m), `pooled machine ${m} kept`);
    e2b.machines.kill(foreign);
  });
});

describe('weir sandbox check', () => {
  const check = (name: string, config: string): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const p = spawn(process.execPath, [CLI, 'sandbox', 'check', name, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      p.stderr.on('data', (d: Buffer) => (out += d));
      p.on('exit', (code) => resolve({ code, out }));
    });
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weir-check-'));
    fs.writeFileSync(path.join(dir, 'c.yaml'), `model_list: []\nagent_settings:\n  sandboxes:\n${sb('e2b', e2bAt(e2b))}${sb('dtn', dtnAt())}${sb('bad', e2bAt(e2b, { api_key: 'e2b_wrong_key_5d2e91' }))}  profiles:\n    - {name: c, agent: codex, sandbox: dtn}\n`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, agent, fake] of [['e2b', 'claude-code', () => e2b], ['dtn', 'codex', () => daytona]] as const) {
    it(`${name}: create, echo ok, ${agent} --version, destroy, each step timed; nothing left`, async () => {
      // The check's own machines (its installation label): other describes' gateways may still be
      // refilling their pools on the same fake meanwhile.
      const checks = () => fake().machines.live().filter((m) => m.labels.weir_install === 'weir-sandbox-check').length;
      const before = checks();
      const r = await check(name, path.join(dir, 'c.yaml'));
      assert.equal(r.code, 0, r.out);
      for (const step of ['create', 'echo ok', `${agent} --version`, 'destroy']) assert.match(r.out, new RegExp(`ok\\s+${step.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\s+\\d+ ms`), r.out);
      assert.match(r.out, /all steps passed/);
      assert.equal(checks(), before);
    });
  }

  it('a wrong key: the create step fails with the reason, exit 1, the key not printed', async () => {
    const r = await check('bad', path.join(dir, 'c.yaml'));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /FAIL\s+create\s+\d+ ms\s+.*refused the API key/);
    assert.ok(!r.out.includes('e2b_wrong_key_5d2e91'));
  });

  it('an unknown sandbox name: exit 1 naming it', async () => {
    const r = await check('nope', path.join(dir, 'c.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.out, /no sandbox "nope"/);
  });
});
