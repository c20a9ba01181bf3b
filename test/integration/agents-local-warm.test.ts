// Warm pools of the local sandbox (`warm_pool: N`, src/agents/sandbox/local-pool.ts), with real
// processes in every isolation this host can run: a pooled sandbox's first exec is a hand-over to
// a process chain started ahead, and must be indistinguishable from a cold start (environment,
// uid, niceness, limits, cwd, stdin, exit code, kill); a pool of N serves N runs and then starts
// cold; Weir's own set-up commands leave the pooled chain to the agent; it refills only once the
// starts are over; nothing pooled outlives its Weir (destroy,
// drain, kill -9); and a bad `warm_pool` is refused with its name. Then through the gateway: a
// warm run does what a cold run does (events, diff artifact, key blocked, no leak).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pool } from 'pg';
import { isPoolName } from '../../src/agents/sandbox/local-pool';
import { tiedPids } from '../../src/agents/sandbox/proc-tree';
import type { Sandbox, SandboxDef } from '../../src/agents/types';
import type { MockUpstream } from '../support/mock-upstream';
import { modes, run, sandboxDef, sandboxRig, sandboxUid, until, type Rig } from '../support/sandbox-rig';
import { MASTER_KEY, UPSTREAM_KEY, bearer, call, chat, closeAndCheckLedgers, dbPool, ledgerDatabase, one, startMock, startWeirOn, writeConfigFile, type Weir } from './governance-helpers';
import { CURL_CHAT, WAIT_FOREVER, agentConfig, events, localPoolReady, mustStart, printed, scriptProfile, statuses, waitRun } from './agent-runs-helpers';

const SECRETS = { WEIR_TEST_SECRET: 'weir-warm-secret-51c2', OPENAI_API_KEY: 'sk-warm-leak-0b7e' };

/** What a sandbox's process sees of itself, its folders' paths replaced so that two sandboxes compare. */
const PROBE = [
  'env | sort',
  'echo "uid=$(id -u) gid=$(id -g)"',
  'echo "nice=$(nice)"',
  'cat /proc/self/autogroup 2>/dev/null | sed "s/.*nice/autogroup nice/"',
  "grep -E '^Max (processes|address space|file size|core file size)' /proc/self/limits",
  'echo "pwd=$(pwd)"',
  'echo "stdin:"; cat',
  'echo "to stderr" >&2',
  'exit 7',
].join('; ');

const pooled = (root: string) => fs.readdirSync(root).filter(isPoolName);

describe('local warm pool', async () => {
  for (const { mode, skip } of await modes()) {
    describe(`isolation ${mode}`, { skip }, () => {
      let rig: Rig;
      let n = 0;
      const def = (options: Record<string, unknown> = {}): SandboxDef => ({ ...sandboxDef({ isolation: mode, ...options }), name: `pool-${mode}-${++n}` });
      const ready = (d: SandboxDef, count: number) => until(`${count} ready in ${d.name}`, async () => (rig.provider.pools.readyCount(d.name) >= count ? true : undefined));
      /** A sandbox taken warm from a pool of one made for it; afterwards destroyed and the pool emptied. */
      const withWarm = async (runId: string, fn: (sb: Sandbox) => Promise<void>) => {
        const d = def({ warm_pool: 1 });
        rig.provider.maintainPools([d]);
        await ready(d, 1);
        const sb = await rig.provider.create(d, runId, {});
        try {
          assert.equal(sb.start?.kind, 'warm');
          await fn(sb);
        } finally {
          await sb.destroy();
          rig.provider.maintainPools([]);
        }
      };
      before(() => {
        rig = sandboxRig();
        Object.assign(process.env, SECRETS);
      });
      after(() => {
        for (const k of Object.keys(SECRETS)) delete process.env[k];
        rig.provider.maintainPools([]);
        rig.close();
      });

      it('a warm sandbox runs its first exec exactly as a cold one does: environment, uid, niceness, limits, cwd, stdin, output and exit code', async () => {
        const warmDef = def({ warm_pool: 1, max_processes: 300, nice: 7 });
        const coldDef = { ...warmDef, name: `cold-${mode}`, options: { isolation: mode, max_processes: 300, nice: 7 } };
        rig.provider.maintainPools([warmDef]);
        await ready(warmDef, 1);
        const seen: Record<string, { code: number; stdout: string; stderr: string }> = {};
        for (const [kind, d] of [['warm', warmDef], ['cold', coldDef]] as const) {
          const sb = await rig.provider.create(d, `run-${kind}-${mode}`, {});
          try {
            assert.equal(sb.start?.kind, kind);
            await sb.writeFile('.weir/prompt.txt', 'the prompt $(touch pwned)\nline 2\n');
            const r = await run(sb, ['sh', '-c', PROBE], { env: { GIVEN: 'yes', OPENAI_API_KEY: 'sk-run-key' }, stdinFile: '.weir/prompt.txt' });
            const unpath = (t: string) => t.split(path.dirname(sb.workdir)).join('<sandbox>');
            seen[kind] = { code: r.code, stdout: unpath(r.stdout), stderr: r.stderr };
            assert.equal(await sb.readFile('pwned', 10), null);
          } finally {
            await sb.destroy();
          }
        }
        assert.deepEqual(seen.warm, seen.cold);
        const out = seen.warm!.stdout;
        assert.equal(seen.warm!.code, 7);
        assert.equal(seen.warm!.stderr, 'to stderr\n');
        assert.match(out, /^GIVEN=yes$/m);
        assert.match(out, /^OPENAI_API_KEY=sk-run-key$/m, 'the run key only as given to the agent');
        assert.ok(!out.includes(SECRETS.WEIR_TEST_SECRET) && !out.includes(SECRETS.OPENAI_API_KEY), 'nothing of Weir’s environment');
        assert.match(out, /^nice=\d+$/m);
        // Outside bwrap the limit also counts the pool's idle chain beside it (one process).
        const nproc = mode === 'bwrap' ? 300 : 301;
        assert.match(out, new RegExp(`^Max processes +${nproc} +${nproc}`, 'm'));
        assert.match(out, /^pwd=<sandbox>\/work$/m);
        assert.match(out, /stdin:\nthe prompt \$\(touch pwned\)\nline 2\n/);
        assert.doesNotMatch(out, /^uid=0 /m, 'never root');
      });

      it('a pool of 2 serves two runs warm, the third cold; it refills once the starts are over, to 2 again', async () => {
        const d = def({ warm_pool: 2 });
        rig.provider.maintainPools([d]);
        await ready(d, 2);
        const made = pooled(rig.root);
        const sbs: Sandbox[] = [];
        for (let i = 0; i < 3; i++) sbs.push(await rig.provider.create(d, `run-count-${mode}-${i}`, {}));
        try {
          assert.deepEqual(sbs.map((s) => s.start?.kind), ['warm', 'warm', 'cold']);
          assert.ok(made.includes(sbs[0]!.id) && made.includes(sbs[1]!.id), 'the warm ones are the pooled folders');
          assert.equal(sbs[2]!.id, `run-count-${mode}-2`, 'a cold one has its run’s folder');
          // No refill while a start is in flight: the pool stays empty, however often it is maintained.
          rig.provider.maintainPools([d]);
          assert.equal(rig.provider.pools.readyCount(d.name), 0);
          for (const sb of sbs) sb.started?.();
          await ready(d, 2);
          const fresh = pooled(rig.root).filter((x) => !made.includes(x));
          assert.equal(fresh.length, 2, 'two new pooled sandboxes');
          // Each serves its run: the exec is a hand-over (the chain runs in the pooled folder).
          const r = await run(sbs[0]!, ['sh', '-c', 'echo "$HOME"']);
          assert.equal(r.stdout, `${sbs[0]!.home}\n`);
        } finally {
          for (const sb of sbs) await sb.destroy();
        }
        for (const sb of sbs) assert.ok(!fs.existsSync(path.dirname(sb.workdir)), 'a used sandbox’s folder goes with it');
      });

      it('a pooled sandbox destroyed unused, a drained pool and a killed run leave no process and no folder', async () => {
        const d = def({ warm_pool: 2 });
        rig.provider.maintainPools([d]);
        await ready(d, 2);
        const unused = await rig.provider.create(d, `run-unused-${mode}`, {});
        const runDir = path.dirname(unused.workdir);
        assert.ok((await tiedPids(runDir, sandboxUid())).length > 0, 'its chain waits');
        await unused.destroy();
        assert.deepEqual(await tiedPids(runDir, sandboxUid()), []);
        assert.ok(!fs.existsSync(runDir));

        const killed = await rig.provider.create(d, `run-killed-${mode}`, {});
        const h = killed.exec({ argv: ['sh', '-c', 'setsid sleep 100000 & exec sleep 100001'], env: {}, onStdout: () => {}, onStderr: () => {} });
        await until('the sleeps', async () => ((await tiedPids(path.dirname(killed.workdir), sandboxUid())).length >= 2 ? true : undefined));
        h.kill();
        assert.equal(await h.done, 128 + 9);
        await killed.destroy();
        assert.deepEqual(await tiedPids(path.dirname(killed.workdir), sandboxUid()), []);

        for (const s of [unused, killed]) s.started?.();
        await ready(d, 2);
        const left = pooled(rig.root).map((x) => path.join(rig.root, x));
        rig.provider.maintainPools([]);
        await until('the drained folders gone', async () => (left.every((x) => !fs.existsSync(x)) ? true : undefined));
        for (const x of left) assert.deepEqual(await tiedPids(x, sandboxUid()), []);
      });

      // RLIMIT_NPROC counts every process of the host user outside a user namespace: under `user`
      // (and `none`) the idle chains of the pool beside a run are that user's processes too. A host
      // uid of this test's own keeps other sandboxes of the machine out of the count.
      it('a run beside a pool starts the max_processes it may, warm and cold: the pool’s idle chains do not count against it', { skip: mode === 'bwrap' && 'under bwrap each sandbox counts in its own user namespace' }, async () => {
        const uid = 60_000 + (process.pid % 5000);
        const max = 6;
        const d = def({ warm_pool: 3, max_processes: max, uid, gid: uid });
        // A bwrap pool of the same host user beside it, where this host has bwrap: its idle chains'
        // processes outside the namespaces are that user's too.
        const bwrapOk = (await modes()).some((m) => m.mode === 'bwrap' && !m.skip);
        const beside = bwrapOk ? [{ ...def({ isolation: 'bwrap', warm_pool: 2, uid, gid: uid }) }] : [];
        const fill = async () => {
          await ready(d, 3);
          for (const b of beside) await ready(b, 2);
        };
        rig.provider.maintainPools([d, ...beside]);
        await fill();
        const sb = await rig.provider.create(d, `run-nproc-${mode}`, {});
        try {
          assert.equal(sb.start?.kind, 'warm');
          sb.started?.();
          await fill();
          // The shell and max - 1 sleeps: max processes of the run's own.
          // No fork after the sleeps: a dash that cannot fork ends with "Cannot fork" before its echo. The
          // sleeps are reaped by the shell (an orphan zombie would count against the next exec).
          // Zombies of this user count too: an orphaned probe or chain whose parent died is PID 1's to
          // reap, and this VM's init does not reap; what Weir cannot know of is taken off the count.
          const zombies = zombiesOf(uid);
          const sleeps = max - 1 - zombies;
          const forks = `n=0; p=; for i in ${Array.from({ length: sleeps }, (_, i) => i).join(' ')}; do sleep 100000 & p="$p $!"; n=$((n + 1)); done; echo "started $n"; kill $p; wait`;
          for (const kind of ['warm', 'cold']) {
            const r = await run(sb, ['sh', '-c', forks]);
            assert.equal(r.stdout, `started ${sleeps}\n`, `${kind} (${zombies} zombie(s) of the user): ${r.stderr}`);
            assert.equal(r.code, 0, `${kind}: ${r.stderr}`);
          }
        } finally {
          await sb.destroy();
          rig.provider.maintainPools([]);
        }
      });

      it('a run’s sweep (its recovery) finds its pooled folder by the run: its processes killed, its folder gone', async () => {
        const runId = `run-swept-${mode}`;
        await withWarm(runId, async (sb) => {
          const runDir = path.dirname(sb.workdir);
          const h = sb.exec({ argv: ['sh', '-c', 'setsid sleep 100000 & exec sleep 100001'], env: {}, onStdout: () => {}, onStderr: () => {} });
          await until('the sleeps', async () => ((await tiedPids(runDir, sandboxUid())).length >= 2 ? true : undefined));
          // As after a crash: the sandbox object is gone, only the run's id is known.
          await rig.provider.sweep([runId]);
          assert.deepEqual(await tiedPids(runDir, sandboxUid()), []);
          assert.equal(await h.done, 128 + 9);
          assert.ok(!fs.existsSync(runDir), 'its pooled folder');
          assert.deepEqual(fs.readdirSync(rig.root).filter((x) => x === runId), [], 'nothing under its run’s name');
        });
      });

      it('a session terminal’s PTY on a warm sandbox is the hand-over of its pooled chain (nothing pooled is left idle)', async () => {
        await withWarm(`run-pty-${mode}`, async (sb) => {
          const runDir = path.dirname(sb.workdir);
          const argv0 = (pid: number) => path.basename(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
          const chain = await tiedPids(runDir, sandboxUid());
          assert.ok(chain.length > 0, 'its chain waits');
          let out = '';
          const pty = await sb.openPty({ argv: ['sh', '-c', 'echo pty-up; exec sleep 100000'], env: {}, cols: 80, rows: 24, onData: (c) => (out += c.toString('utf8')) });
          await until('the PTY’s program', async () => (out.includes('pty-up') ? true : undefined));
          const now = await tiedPids(runDir, sandboxUid());
          assert.ok(chain.some((pid) => now.includes(pid) && argv0(pid) === 'script'), `the launcher became the PTY's script: ${now.map((p) => `${p}:${argv0(p)}`).join(' ')}`);
          assert.ok(!now.some((pid) => argv0(pid) === 'bash' && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').endsWith('\0weir-launcher\0')), 'no launcher waits');
          pty.kill();
          await pty.done;
        });
      });

      it("Weir's set-up commands (a clone, a session's restore) start cold and leave the pooled chain to the agent's exec", async () => {
        await withWarm(`run-setup-${mode}`, async (sb) => {
          const runDir = path.dirname(sb.workdir);
          const launchers = async () => {
            const pids = await tiedPids(runDir, sandboxUid());
            return pids.filter((pid) => {
              try {
                const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
                // The launcher's bash itself, not the bwrap processes whose command lines end with it.
                return path.basename(argv.split('\0')[0]!) === 'bash' && argv.endsWith('\0weir-launcher\0');
              } catch {
                return false;
              }
            });
          };
          const waiting = await launchers();
          assert.equal(waiting.length, 1, 'its chain waits');
          for (let i = 0; i < 2; i++) {
            const set = await run(sb, ['sh', '-c', 'echo restored > restored.txt'], { setup: true });
            assert.equal(set.code, 0, set.stderr);
          }
          assert.deepEqual(await launchers(), waiting, 'two set-up commands ran and the same chain still waits');
          const agent = await run(sb, ['sh', '-c', 'cat restored.txt']);
          assert.equal(agent.stdout, 'restored\n');
          assert.deepEqual(await launchers(), [], "the agent's exec took the chain");
        });
      });

      it('a command the launcher cannot take ends as a cold start that did not start (127, the reason on stderr), its chain killed', async () => {
        await withWarm(`run-nul-${mode}`, async (sb) => {
          const runDir = path.dirname(sb.workdir);
          const r = await run(sb, ['echo', 'a\0b']);
          assert.equal(r.code, 127);
          assert.match(r.stderr, /weir: the process did not start: .*NUL/);
          await until('its chain gone', async () => ((await tiedPids(runDir, sandboxUid())).length === 0 ? true : undefined));
          // Its later execs start cold, as usual.
          assert.equal((await run(sb, ['echo', 'ok'])).stdout, 'ok\n');
        });
      });

            it('the leftover sweep skips the pooled folders of a live Weir and removes those of a dead one', async () => {
        const d = def({ warm_pool: 1 });
        rig.provider.maintainPools([d]);
        await ready(d, 1);
        const mine = pooled(rig.root);
        // A pooled folder whose Weir is gone: its labels name a process that does not exist.
        const dead = path.join(rig.root, 'warm-00000000000000aa');
        fs.mkdirSync(path.join(dead, 'work'), { recursive: true });
        fs.writeFileSync(path.join(dead, 'labels.json'), JSON.stringify({ run_id: 'warm-00000000000000aa', labels: {}, pid: 2 ** 22 + 1, owner_start: '1', uid: sandboxUid() }));
        const left = await rig.provider.leftovers();
        assert.ok(left.includes('warm-00000000000000aa'));
        for (const m of mine) assert.ok(!left.includes(m), `${m} is a live pool's`);
        await rig.provider.sweep(['warm-00000000000000aa']);
        assert.ok(!fs.existsSync(dead));
        rig.provider.maintainPools([]);
      });

      it('a Weir killed with -9 leaves no pooled process (its chains carry a parent-death signal)', async () => {
        const local = require.resolve('../../src/agents/sandbox/local');
        const script = `
          const { LocalSandboxProvider } = require(${JSON.stringify(local)});
          const p = new LocalSandboxProvider({ root: ${JSON.stringify(rig.root)} });
          const def = ${JSON.stringify(def({ warm_pool: 2 }))};
          p.maintainPools([def]);
          const t = setInterval(() => { if (p.pools.readyCount(def.name) === 2) { clearInterval(t); console.log('ready'); } }, 20);
          setInterval(() => {}, 1000);`;
        const before = new Set(pooled(rig.root));
        const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (c) => (out += c) === 'ready\n' && resolve());
          child.on('exit', (code) => reject(new Error(`the child ended (${code}) before its pool was ready: ${out}`)));
        });
        const dirs = pooled(rig.root).filter((x) => !before.has(x)).map((x) => path.join(rig.root, x));
        assert.equal(dirs.length, 2);
        for (const x of dirs) assert.ok((await tiedPids(x, sandboxUid())).length > 0, 'its chain runs');
        child.kill('SIGKILL');
        await until('the pooled chains to die with their Weir', async () => {
          for (const x of dirs) if ((await tiedPids(x, sandboxUid())).length) return undefined;
          return true;
        });
        // Their folders are the next Weir's to remove: their owner is gone.
        const left = await rig.provider.leftovers();
        for (const x of dirs) assert.ok(left.includes(path.basename(x)));
        await rig.provider.sweep(dirs.map((x) => path.basename(x)));
        for (const x of dirs) assert.ok(!fs.existsSync(x));
      });
    });
  }

  describe('settings', () => {
    let rig: Rig;
    before(() => (rig = sandboxRig()));
    after(() => rig.close());

    it('a bad warm_pool is refused with its name: by a run’s create and in the start line', async () => {
      for (const bad of [-1, 1.5, 101, 'two']) {
        const d = sandboxDef({ warm_pool: bad });
        await assert.rejects(rig.provider.create(d, 'bad-pool', {}), /sandbox option warm_pool: expected an integer from 0 to 100/);
        assert.match(await rig.provider.isolationOf(d), /^unusable: sandbox option warm_pool/);
        rig.provider.maintainPools([d]);
        assert.equal(rig.provider.pools.readyCount(d.name), 0, 'no pool made for it');
      }
    });
  });
});

describe('a warm run through the gateway', () => {
  let mock: MockUpstream;
  let weir: Weir;
  let pool: Pool;
  const HOST_SECRET = 'weir-host-secret-warm-9d1e';
  before(async () => {
    mock = await startMock();
    const db = await ledgerDatabase('agents_local_warm');
    pool = dbPool(db);
    const profiles = [
      scriptProfile('edit', `cat "$WEIR_PROMPT_FILE"; echo; ${CURL_CHAT}; echo hello > note.txt; echo bye`),
      scriptProfile('env', 'env; echo "uid=$(id -u)"'),
    ].join('');
    const config = agentConfig(mock.url, db, { profiles, sandboxes: '    - {name: dev, provider: local, warm_pool: 1}\n' });
    weir = await startWeirOn(writeConfigFile(config), { env: { WEIR_TEST_SECRET: HOST_SECRET, OPENAI_API_KEY: 'sk-host-openai-leak' } });
  });

  after(() => closeAndCheckLedgers(async () => weir.stop(), async () => pool.end(), () => mock.close()));

  it('starts warm and goes provisioning → running → succeeded, prompt from its file, its diff kept, its key blocked', async () => {
    await localPoolReady(weir.url, 'dev');
    const { id } = await mustStart(weir.url, { profile: 'edit', prompt: 'Please edit note.txt' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'succeeded', JSON.stringify(run));
    assert.equal(run.sandbox.start, 'warm');
    const evs = await events(weir.url, id);
    assert.deepEqual(statuses(evs), ['provisioning', 'running', 'succeeded']);
    assert.equal(evs.find((e) => e.type === 'sandbox').payload.start, 'warm');
    assert.ok(printed(evs).includes('Please edit note.txt'));
    const diff = await call(weir.url, `/v1/agent/runs/${id}/artifacts/diff.patch`, { headers: bearer(MASTER_KEY), method: 'GET' });
    assert.equal(diff.status, 200, diff.text);
    assert.match(diff.text, /^\+hello$/m);
    const key = await one(pool, `SELECT blocked, spend FROM "LiteLLM_VerificationToken" WHERE key_alias = $1`, [`weir-run-${id}`]);
    assert.equal(key.blocked, true);
    assert.ok(Number(key.spend) > 0, 'its call was charged to its key');
  });

  it('a warm run’s environment holds its key and nothing of Weir’s; the key is refused once the run ended', async () => {
    await localPoolReady(weir.url, 'dev');
    const { id } = await mustStart(weir.url, { profile: 'env', prompt: 'x' });
    const run = await waitRun(weir.url, id);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.sandbox.start, 'warm');
    const text = printed(await events(weir.url, id));
    for (const secret of [MASTER_KEY, UPSTREAM_KEY, HOST_SECRET, 'sk-host-openai-leak', 'DATABASE_URL', 'postgres://']) {
      assert.ok(!text.includes(secret), `${secret} leaked into the agent's environment`);
    }
    const runKey = /OPENAI_API_KEY=(sk-[A-Za-z0-9_-]+)/.exec(text)![1]!;
    assert.equal((await chat(weir.url, runKey)).status, 401);
  });
});

describe('a warm run whose Weir is killed with -9', () => {
  let mock: MockUpstream;
  const weirs: Weir[] = [];
  let pool: Pool;
  let db: string;
  const dir = fs.mkdtempSync('/var/tmp/weir-warm-kill-');
  before(async () => {
    mock = await startMock();
    fs.chmodSync(dir, 0o755);
    db = await ledgerDatabase('agents_local_warm_kill');
    pool = dbPool(db);
  });
  after(async () => {
    // The ledgers exist once a Weir made its schema (not when this test was filtered out).
    if (weirs.length) await closeAndCheckLedgers(...weirs.map((w) => () => w.stop('SIGKILL')), async () => pool.end(), () => mock.close());
    else await Promise.all([pool.end(), mock.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the restart ends it failed: internal, and its pooled folder is gone by then (found by its run)', async () => {
    const config = writeConfigFile(agentConfig(mock.url, db, { profiles: scriptProfile('wait', WAIT_FOREVER), sandboxes: '    - {name: dev, provider: local, warm_pool: 1}\n' }));
    const env = { WEIR_INSTANCE_ID: 'warm-crashy', WEIR_SANDBOX_DIR: dir };
    const first = await startWeirOn(config, { env });
    weirs.push(first);
    await localPoolReady(first.url, 'dev');
    const { id } = await mustStart(first.url, { profile: 'wait', prompt: 'x' });
    const running = await waitRun(first.url, id, 'running');
    assert.equal(running.sandbox.start, 'warm');
    assert.ok(isPoolName(running.sandbox.id));
    const [install] = fs.readdirSync(dir);
    const folder = path.join(dir, install!, running.sandbox.id);
    assert.ok(fs.existsSync(folder), 'the run works in its pooled folder');
    await first.stop('SIGKILL');
    const again = await startWeirOn(config, { env });
    weirs.push(again);
    const run = await waitRun(again.url, id, undefined, 30_000);
    assert.equal(run.status, 'failed');
    assert.equal(run.error.kind, 'internal');
    assert.ok(!fs.existsSync(folder), 'the recovery removed the run’s folder before it ended the run');
    assert.ok(!fs.existsSync(path.join(dir, install!, id)), 'and what led to it');
    // The recovery found it by its run (the leftover sweep after it would only by its dead Weir).
    assert.ok(again.output().includes(`agent sandbox ${id}: swept (`) && again.output().includes(`folder ${running.sandbox.id} removed`), again.output());
  });
});

/** Zombie processes of a host user (they count against its RLIMIT_NPROC until reaped). */
function zombiesOf(uid: number): number {
  const ps = spawnSync('ps', ['-o', 'stat=', '-u', String(uid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.trim().startsWith('Z')).length;
}
