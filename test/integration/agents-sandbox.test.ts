// The local sandbox with real processes, in every isolation this host can run (bwrap and a plain
// unprivileged user when the tests run as root, Weir's own user otherwise): what the agent sees
// of Weir (no secrets in its environment, not root, not the host's private files, not the other
// runs), that its limits hold (a capped fork bomb, a disk filler, one huge file), that `kill`,
// `destroy` and `sweep` leave no process behind, and that Weir's own reads and writes stay in the
// sandbox's folders whatever links the agent planted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalSandboxProvider } from '../../src/agents/sandbox/local';
import { isRoot } from '../../src/agents/sandbox/isolation';
import { tiedPids } from '../../src/agents/sandbox/proc-tree';
import type { Sandbox } from '../../src/agents/types';
import { modes, run, sandboxDef, sandboxRig, sandboxUid, until, type Rig } from '../support/sandbox-rig';

const SECRETS = { WEIR_TEST_SECRET: 'weir-secret-7f3a', OPENAI_API_KEY: 'sk-test-leak-9c1d', DATABASE_URL: 'postgres://u:pw-leak@h/db', LITELLM_MASTER_KEY: 'sk-master-leak' };
const MB = 1024 * 1024;

/** Whether a pid is a live process (a killed one may linger as a zombie until it is reaped). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

let spawnFlags = 0;

/**
 * What `script` prints, run in the sandbox once the spawner has set the niceness of its session
 * (autogroup). The spawner sets it right after the spawn, before it reads any of the child's
 * output, so the script starts only after the child's first line was read: a child that read its
 * autogroup at once raced the spawner's write.
 */
async function afterSpawn(sb: Sandbox, script: string): Promise<string> {
  const flag = `spawn-seen-${++spawnFlags}`;
  let out = '';
  const h = sb.exec({
    argv: ['sh', '-c', `echo ready; while [ ! -e ${flag} ]; do :; done; ${script}`],
    env: {},
    onStdout: (c) => {
      out += c;
      const file = path.join(sb.workdir, flag);
      if (out.startsWith('ready\n') && !fs.existsSync(file)) fs.writeFileSync(file, '');
    },
    onStderr: () => {},
  });
  assert.equal(await h.done, 0, out);
  return out.slice('ready\n'.length);
}

/** The run folder of a sandbox (its workspace's parent). */
const runDirOf = (sb: Sandbox) => path.dirname(sb.workdir);

describe('local sandbox', async () => {
  for (const { mode, skip } of await modes()) {
    describe(`isolation ${mode}`, { skip }, () => {
      let rig: Rig;
      let n = 0;
      const make = (options: Record<string, unknown> = {}) => rig.provider.create(sandboxDef({ isolation: mode, ...options }), `run-${mode}-${++n}`, { job: 'test' });
      before(() => {
        rig = sandboxRig();
        Object.assign(process.env, SECRETS);
      });
      after(() => {
        for (const k of Object.keys(SECRETS)) delete process.env[k];
        rig.close();
      });

      it('runs with a clean environment, unprivileged, in its workspace; its isolation line says which', async () => {
        const sb = await make();
        try {
          assert.match(sb.isolation, new RegExp(`^${mode} `));
          assert.ok(rig.log.some((l) => l.includes(sb.isolation)), 'the start line is logged');
          const r = await run(sb, ['sh', '-c', 'env; echo "uid=$(id -u)"; pwd'], { env: { GIVEN: 'yes' } });
          assert.equal(r.code, 0, r.stderr);
          for (const [k, v] of Object.entries(SECRETS)) {
            assert.ok(!r.stdout.includes(k) && !r.stdout.includes(v), `${k} does not reach the agent`);
          }
          const names = r.stdout.split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.slice(0, l.indexOf('=')));
          const allowed = new Set(['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'TMPDIR', 'IS_SANDBOX', 'GIVEN', 'PWD', 'SHLVL', 'OLDPWD']);
          assert.deepEqual(names.filter((k) => !allowed.has(k)), [], 'nothing else in the environment');
          assert.ok(r.stdout.includes(`HOME=${sb.home}\n`));
          assert.ok(r.stdout.includes('IS_SANDBOX=1\n'));
          assert.ok(r.stdout.includes('GIVEN=yes\n'));
          assert.doesNotMatch(r.stdout, /^uid=0$/m, 'never root');
          assert.ok(r.stdout.endsWith(`${sb.workdir}\n`), 'starts in the workspace');
        } finally {
          await sb.destroy();
        }
      });

      it('runs the agent below Weir’s CPU priority (nice 10 unless the sandbox says otherwise), its autogroup too', async () => {
        const base = os.getPriority();
        const autogroups = fs.existsSync('/proc/self/autogroup') && fs.readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
        for (const [options, expected] of [[{}, Math.min(19, base + 10)], [{ nice: 0 }, base], [{ nice: 19 }, 19]] as const) {
          const sb = await make(options);
          try {
            assert.match(sb.isolation, new RegExp(`; nice ${'nice' in options ? options.nice : 10}$`));
            // `nice` with no argument prints the niceness it runs at.
            const r = await run(sb, ['nice']);
            assert.equal(r.code, 0, r.stderr);
            assert.equal(r.stdout.trim(), String(expected));
            // The agent leads a session of its own, hence an autogroup of its own where the kernel
            // has them: that group's niceness is what weighs it against Weir.
            if (autogroups) {
              const g = await afterSpawn(sb, 'cat /proc/self/autogroup');
              assert.match(g, new RegExp(`nice ${'nice' in options ? options.nice : 10}\\n$`), g);
            }
          } finally {
            await sb.destroy();
          }
        }
      });

      it('niced further while other agents run on the host (seven at 10: all at 19), back to its own niceness once alone', async () => {
        const autogroups = fs.existsSync('/proc/self/autogroup') && fs.readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
        const sandboxes = await Promise.all(Array.from({ length: 7 }, () => make()));
        const sleepers: { kill(): void; done: Promise<number> }[] = [];
        try {
          // Six agents running (each has printed its line), then a seventh reads its own group.
          for (const sb of sandboxes.slice(0, 6)) {
            let up!: () => void;
            const printed = new Promise<void>((resolve) => (up = resolve));
            sleepers.push(sb.exec({ argv: ['sh', '-c', 'echo up; exec sleep 600'], env: {}, onStdout: () => up(), onStderr: () => {} }));
            await printed;
          }
          const crowded = await afterSpawn(sandboxes[6]!, 'nice; cat /proc/self/autogroup 2>/dev/null');
          assert.equal(crowded.split('\n')[0], String(Math.min(19, os.getPriority() + 10)), 'its process keeps the sandbox\'s niceness');
          if (autogroups) assert.match(crowded, /nice 19\n$/, crowded);
          for (const s of sleepers) s.kill();
          await Promise.all(sleepers.map((s) => s.done));
          const alone = await afterSpawn(sandboxes[6]!, 'cat /proc/self/autogroup');
          if (autogroups) assert.match(alone, /nice 10\n$/, alone);
        } finally {
          for (const s of sleepers) s.kill();
          await Promise.all(sandboxes.map((sb) => sb.destroy()));
        }
      });

      it('cannot read what only root may read, nor (bwrap) another run’s workspace, nor write outside its folders', { skip: !isRoot() && 'needs root' }, async () => {
        const a = await make();
        const b = await make();
        try {
          await b.writeFile('private.txt', 'of run b');
          const r = await run(a, ['sh', '-c', `cat /etc/shadow; cat ${b.workdir}/private.txt; touch /etc/weir-sandbox-probe; touch ${path.dirname(rig.root)}/probe; echo end`]);
          assert.ok(r.stdout.endsWith('end\n'));
          assert.ok(!r.stdout.includes('root:'), '/etc/shadow stays unreadable');
          // Under `user` every run is the same host user: only bwrap hides one run from another.
          if (mode === 'bwrap') assert.ok(!r.stdout.includes('of run b'), 'the other run stays out of reach');
          assert.ok(!fs.existsSync('/etc/weir-sandbox-probe'));
          assert.ok(!fs.existsSync(path.join(path.dirname(rig.root), 'probe')));
        } finally {
          await a.destroy();
          await b.destroy();
        }
      });

      it('feeds stdinFile as standard input, never through a shell', async () => {
        const sb = await make();
        try {
          const prompt = `Fix it: $(touch pwned) \`touch pwned2\` "quoted" 'single' ; rm -rf / \n second line ünïcode\n`;
          await sb.writeFile('.weir/prompt.md', prompt);
          const r = await run(sb, ['cat'], { stdinFile: '.weir/prompt.md' });
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, prompt);
          assert.equal(await sb.readFile('pwned', 10), null);
          assert.equal(await sb.readFile('pwned2', 10), null);
          assert.equal((await run(sb, ['cat'])).stdout, '', 'no stdinFile: empty input');
          // A folder the agent linked to one only root may read is not followed to feed it.
          await run(sb, ['ln', '-s', '/root', 'planted']);
          assert.throws(() => sb.exec({ argv: ['cat'], env: {}, stdinFile: 'planted/.bashrc', onStdout: () => {}, onStderr: () => {} }), /outside the sandbox|ENOENT|EACCES/);
          assert.throws(() => sb.exec({ argv: ['cat'], env: {}, stdinFile: '../labels.json', onStdout: () => {}, onStderr: () => {} }), /outside the sandbox/);
        } finally {
          await sb.destroy();
        }
      });

      it('kill() ends the process and every child, the ones that left its group too', async () => {
        const sb = await make();
        try {
          let out = '';
          let started!: () => void;
          const seen = new Promise<void>((r) => (started = r));
          const h = sb.exec({
            argv: ['sh', '-c', 'sleep 100000 & setsid sleep 100001 & (sleep 100002 &) ; echo started; wait'],
            env: {},
            onStdout: (c) => {
              out += c;
              if (out.includes('started')) started();
            },
            onStderr: () => {},
          });
          await seen;
          const uid = sandboxUid();
          const before = await until('the children to show', async () => {
            const pids = await tiedPids(runDirOf(sb), uid);
            return pids.length >= 4 ? pids : undefined;
          });
          assert.ok(before.length >= 4, 'the shell and its three sleeps run');
          h.kill();
          h.kill(); // idempotent
          assert.equal(await h.done, 128 + 9, 'killed by SIGKILL');
          assert.deepEqual(await tiedPids(runDirOf(sb), uid), [], 'no process left');
          // The pipes close as the processes exit, a moment before the kernel has them all as zombies.
          await until('every pid of the tree to be gone', async () => (before.every((pid) => !running(pid)) ? true : undefined));
        } finally {
          await sb.destroy();
        }
      });

      it('kill() of one run leaves alone a run whose id starts with the same text', async () => {
        const a = await rig.provider.create(sandboxDef({ isolation: mode }), `prefix-${mode}-1`, {});
        const b = await rig.provider.create(sandboxDef({ isolation: mode }), `prefix-${mode}-10`, {});
        try {
          const hb = b.exec({ argv: ['sh', '-c', 'exec sleep 100000'], env: {}, onStdout: () => {}, onStderr: () => {} });
          const ha = a.exec({ argv: ['sh', '-c', 'exec sleep 100000'], env: {}, onStdout: () => {}, onStderr: () => {} });
          const bPids = await until('run b to start', async () => {
            const pids = await tiedPids(runDirOf(b), sandboxUid());
            return pids.length > 0 ? pids : undefined;
          });
          await until('run a to start', async () => ((await tiedPids(runDirOf(a), sandboxUid())).length > 0 ? true : undefined));
          ha.kill();
          await ha.done;
          await a.destroy();
          assert.ok(bPids.every(running), 'the other run still runs');
          hb.kill();
          await hb.done;
        } finally {
          await a.destroy();
          await b.destroy();
        }
      });

      it('a capped fork bomb runs into the process limit; the sandbox and the host stay fine', async () => {
        const maxProcesses = 48;
        const sb = await make({ max_processes: maxProcesses });
        try {
          // Bounded even if the limit failed: 2000 sleeps at most. The inner shell stops at the
          // first fork it is refused ("Cannot fork"); the outer one then records how it ended,
          // with a builtin (no fork needed), and waits to be killed.
          await sb.writeFile('bomb.sh', 'i=0\nwhile [ $i -lt 2000 ]; do\n  sleep 100000 &\n  i=$((i+1))\ndone\necho finished\n');
          let stderr = '';
          const h = sb.exec({ argv: ['sh', '-c', 'sh bomb.sh; echo "ended $?" > bomb-done; exec sleep 100000'], env: {}, onStdout: () => {}, onStderr: (c) => (stderr += c) });
          // Taken once its line is whole: a read can land between the shell's truncate and its write.
          const ended = await until('the bomb to end', async () => {
            const text = (await sb.readFile('bomb-done', 100))?.toString();
            return text?.endsWith('\n') ? text : undefined;
          });
          assert.match(ended, /^ended [1-9]/, 'the bomb failed before its 2000 forks');
          assert.match(stderr, /fork/i, 'it was refused a fork');
          const pids = await tiedPids(runDirOf(sb), sandboxUid());
          assert.ok(pids.length <= maxProcesses, `${pids.length} processes, at most ${maxProcesses}`);
          h.kill();
          await h.done;
          assert.deepEqual(await tiedPids(runDirOf(sb), sandboxUid()), [], 'killed whole');
          const again = await run(sb, ['sh', '-c', 'echo alive']);
          assert.equal(again.stdout, 'alive\n', 'the sandbox still runs processes');
          assert.equal(execFileSync('sh', ['-c', 'echo host fine']).toString(), 'host fine\n');
        } finally {
          await sb.destroy();
        }
      });

      it('stops one file at the size cap, and kills a process whose files pass the cap', async () => {
        const capMb = 20;
        const sb = await make({ max_workspace_mb: capMb, size_check_ms: 100 });
        try {
          const big = await run(sb, ['sh', '-c', `head -c ${3 * capMb * MB} /dev/zero > big; echo "head $?"`]);
          assert.match(big.stdout, /^head [1-9]/, 'writing past RLIMIT_FSIZE fails');
          assert.equal(fs.statSync(path.join(sb.workdir, 'big')).size, capMb * MB, 'the file stops at the cap');
          fs.rmSync(path.join(sb.workdir, 'big'));
          // Files of 1 MB, up to 3× the cap, then it waits: only the size check can end it.
          const fill = `i=0; while [ $i -lt ${3 * capMb} ]; do head -c ${MB} /dev/zero > f$i || break; i=$((i+1)); done; echo filled; exec sleep 100000`;
          const r = await run(sb, ['sh', '-c', fill]);
          assert.equal(r.code, 128 + 9, 'killed');
          assert.match(r.stderr, new RegExp(`over its ${capMb} MB cap \\(max_workspace_mb\\): killed`));
          assert.ok(rig.log.some((l) => l.includes('max_workspace_mb')), 'logged');
          assert.deepEqual(await tiedPids(runDirOf(sb), sandboxUid()), []);
        } finally {
          await sb.destroy();
        }
      });

      it('keeps readFile and writeFile inside its folders, whatever the agent linked', async () => {
        const sb = await make();
        const outside = path.join(path.dirname(rig.root), `outside-${mode}.txt`);
        fs.writeFileSync(outside, 'host file');
        try {
          await assert.rejects(sb.writeFile('../escape.txt', 'x'), /outside the sandbox/);
          await assert.rejects(sb.writeFile('/etc/weir-escape', 'x'), /outside the sandbox/);
          await assert.rejects(sb.readFile('../labels.json', 100), /outside the sandbox/);
          await assert.rejects(sb.readFile('/etc/passwd', 100), /outside the sandbox/);
          const r = await run(sb, ['sh', '-c', `ln -s ${outside} link; ln -s /etc link-dir; mkdir -p d/e; echo inside > d/e/f.txt`]);
          assert.equal(r.code, 0, r.stderr);
          await assert.rejects(sb.readFile('link', 100), /outside the sandbox/);
          await assert.rejects(sb.writeFile('link', 'overwritten'), /.+/);
          await assert.rejects(sb.writeFile('link-dir/weir-escape', 'x'), /outside the sandbox/);
          assert.equal(fs.readFileSync(outside, 'utf8'), 'host file', 'the host file is untouched');
          assert.ok(!fs.existsSync('/etc/weir-escape'));
          assert.equal(await sb.readFile('missing.txt', 100), null);
          assert.equal((await sb.readFile('d/*/f.txt', 100))?.toString(), 'inside\n', '`*` stands for a path part');
          assert.equal((await sb.readFile(`${sb.workdir}/d/e/f.txt`, 3))?.toString(), 'ins', 'at most maxBytes');
          await sb.writeFile(`${sb.home}/.config/x.toml`, 'a = 1\n');
          const own = await run(sb, ['sh', '-c', 'cat "$HOME/.config/x.toml" && echo more >> "$HOME/.config/x.toml" && echo ok']);
          assert.equal(own.stdout, 'a = 1\nok\n', 'files Weir writes are the agent’s to change');
        } finally {
          await sb.destroy();
        }
      });

      it('destroy() kills what runs and removes the folders; sweep() does the same for a run a dead instance left', async () => {
        const sb = await make();
        const h = sb.exec({ argv: ['sh', '-c', 'setsid sleep 100000 & exec sleep 100001'], env: {}, onStdout: () => {}, onStderr: () => {} });
        await until('the sleeps', async () => ((await tiedPids(runDirOf(sb), sandboxUid())).length >= 2 ? true : undefined));
        await sb.destroy();
        await sb.destroy(); // idempotent
        assert.equal(await h.done, 128 + 9);
        assert.ok(!fs.existsSync(runDirOf(sb)), 'the folder is gone');
        assert.deepEqual(await tiedPids(runDirOf(sb), sandboxUid()), []);

        // A run whose instance is gone: a fresh provider over the same root finds it by its labels file.
        const left = await make();
        left.exec({ argv: ['sh', '-c', 'setsid sleep 100000 & exec sleep 100001'], env: {}, onStdout: () => {}, onStderr: () => {} });
        await until('the sleeps', async () => ((await tiedPids(runDirOf(left), sandboxUid())).length >= 2 ? true : undefined));
        const next = new LocalSandboxProvider({ root: rig.root });
        await next.sweep([left.id, 'never-existed', '../etc']);
        assert.deepEqual(await tiedPids(runDirOf(left), sandboxUid()), [], 'its processes are killed');
        assert.ok(!fs.existsSync(runDirOf(left)), 'its folder is removed');
      });
    });
  }

  describe('settings', () => {
    let rig: Rig;
    before(() => (rig = sandboxRig()));
    after(() => rig.close());

    it('a wrong option is refused with its name, before anything runs', async () => {
      await assert.rejects(rig.provider.create(sandboxDef({ max_processes: -1 }), 'bad-1', {}), /max_processes/);
      await assert.rejects(rig.provider.create(sandboxDef({ isolation: 'chroot' }), 'bad-2', {}), /isolation/);
      await assert.rejects(rig.provider.create(sandboxDef(), '../escape', {}), /run id/);
      await assert.rejects(rig.provider.create(sandboxDef({ nice: 20 }), 'bad-3', {}), /nice/);
    });

    it('isolation none is refused when Weir is root (the agent would be root)', { skip: !isRoot() && 'needs root' }, async () => {
      await assert.rejects(rig.provider.create(sandboxDef({ isolation: 'none' }), 'none-1', {}), /root/);
    });
  });
});
