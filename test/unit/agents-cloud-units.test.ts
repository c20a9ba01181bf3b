// The pieces of the cloud sandboxes that need no cloud: the command line a sandbox's shell runs
// (every argv and environment value reaches the program exactly, whatever it holds), the options'
// checks, cloud errors as clear sentences without keys, the template recipes, and what a warm start
// leaves until its start is over (the pool's refill).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { commandLine, terminalLine } from '../../src/agents/sandbox/command-line';
import { cloudOptions } from '../../src/agents/sandbox/cloud-options';
import { describeCloudError } from '../../src/agents/sandbox/cloud-errors';
import { CloudSandboxProvider } from '../../src/agents/sandbox/cloud-provider';
import type { Cloud, Machine } from '../../src/agents/sandbox/machine';
import type { WarmPools } from '../../src/agents/sandbox/warm-pool';
import type { SandboxDef } from '../../src/agents/types';
import { e2bTemplate } from '../../templates/e2b';
import { daytonaImage } from '../../templates/daytona';
import { Template } from 'e2b';

const NUL_FREE = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'));

describe('commandLine', () => {
  it('the program gets exactly its argv and environment, whatever they hold (quotes, $, newlines, globs)', () => {
    fc.assert(
      fc.property(fc.array(NUL_FREE, { minLength: 1, maxLength: 4 }), NUL_FREE, (args, value) => {
        const line = commandLine(['sh', '-c', 'printf "%s\\0" "$@"; printf "%s" "$V"', 'sh', ...args], '/', { V: value }, undefined);
        const out = execFileSync('/bin/bash', ['-c', line], { encoding: 'utf8' });
        const parts = out.split('\0');
        assert.deepEqual(parts.slice(0, -1), args);
        assert.equal(parts[parts.length - 1], value);
      }),
      { numRuns: 40 },
    );
  });

  it('stdin is the named file, or /dev/null (a session shell keeps its own stdin open)', () => {
    assert.match(commandLine(['cat'], '/w', {}, undefined), /< '\/dev\/null'$/);
    assert.match(commandLine(['cat'], '/w', {}, "/h/.weir/it's.txt"), /< '\/h\/.weir\/it'\\''s.txt'$/);
  });

  it('a variable name that is not one is refused', () => {
    assert.throws(() => commandLine(['true'], '/', { 'A B': 'x' }, undefined), /not a variable name/);
  });

  it("in a PTY the program's stdin is the terminal: typed input reaches it", () => {
    const line = terminalLine(['sh', '-c', 'read x; printf "%s|%s" "$x" "$V"'], '/', { V: "it's $HOME" });
    assert.doesNotMatch(line, /</);
    // As the cloud PTYs run it: `exec sh -c "$WEIR_PTY_CMD"`, the line in the environment.
    const out = execFileSync('/bin/sh', ['-c', 'exec sh -c "$WEIR_PTY_CMD"'], { encoding: 'utf8', input: 'typed\n', env: { PATH: process.env.PATH, WEIR_PTY_CMD: line } });
    assert.equal(out, "typed|it's $HOME");
  });
});

describe('cloudOptions', () => {
  it('defaults: the key from the provider’s variable, 10 min of slack, 30 s per call, no pool', () => {
    const o = cloudOptions({ template: 't' }, 'E2B_API_KEY', { E2B_API_KEY: 'e2b_x' });
    assert.equal(o.apiKey, 'e2b_x');
    assert.equal(o.lifetimeSlackMs, 600_000);
    assert.equal(o.requestTimeoutMs, 30_000);
    assert.equal(o.warmPool, 0);
    assert.equal(o.template, 't');
  });

  it('snapshot is the template’s other name; durations and the pool are read', () => {
    const o = cloudOptions({ snapshot: 's', api_key: 'k', pool_idle: '5m', warm_pool: 3, request_timeout: 2 }, 'DAYTONA_API_KEY', {});
    assert.deepEqual([o.template, o.poolIdleMs, o.warmPool, o.requestTimeoutMs], ['s', 300_000, 3, 2000]);
  });

  it('a bad value names its field; an unset key names its variable and nothing else', () => {
    assert.throws(() => cloudOptions({ api_key: 'k', warm_pool: -1 }, 'E2B_API_KEY', {}), /sandbox option warm_pool/);
    assert.throws(() => cloudOptions({ api_key: 'k', api_url: 'not a url' }, 'E2B_API_KEY', {}), /sandbox option api_url/);
    assert.throws(() => cloudOptions({ api_key: 'k', request_timeout: 'soon' }, 'E2B_API_KEY', {}), /sandbox option request_timeout/);
    assert.throws(() => cloudOptions({}, 'E2B_API_KEY', {}), /^Error: sandbox option api_key: E2B_API_KEY is not set$/);
  });
});

describe('describeCloudError', () => {
  const cases: Array<[unknown, RegExp]> = [
    [Object.assign(new Error('401: Invalid API key e2b_secretsecret123'), { name: 'AuthenticationError' }), /refused the API key \(401\)/],
    [Object.assign(new Error("404: template 'x' not found"), {}), /does not know the template "x" \(404\)/],
    [Object.assign(new Error('Rate limit exceeded'), { name: 'RateLimitError' }), /rate limiting \(429\)/],
    [Object.assign(new Error('Request failed with status code 502'), {}), /failed \(502\)/],
    [Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }), /did not answer in time/],
  ];
  for (const [e, re] of cases) {
    it(`${(e as Error).message} → ${re}`, () => {
      const out = describeCloudError('e2b', 'create', e, 'x');
      assert.match(out.message, re);
      assert.ok(!out.message.includes('secretsecret'), out.message);
    });
  }
});

describe('template recipes', () => {
  const pkg = require('../../../package.json') as { devDependencies: Record<string, string> };
  const pinned = [`@anthropic-ai/claude-code@${pkg.devDependencies['@anthropic-ai/claude-code']}`, `@openai/codex@${pkg.devDependencies['@openai/codex']}`];
  it('E2B and Daytona both install the CLIs at the versions Weir is tested with, and git', () => {
    for (const file of [Template.toDockerfile(e2bTemplate()), daytonaImage().dockerfile]) {
      for (const p of pinned) assert.ok(file.includes(p), `${p} in\n${file}`);
      assert.match(file, /apt-get install .*\bgit\b/);
    }
  });
});

describe('a warm start and its pool', () => {
  const def: SandboxDef = { id: 'sb_pooled', name: 'pooled', provider: 'e2b', options: { api_key: 'e2b_unit', warm_pool: 1 }, source: 'config' };
  const machine = (writes: string[][]): Machine => ({
    id: 'm1',
    run: () => ({ done: Promise.resolve(0), kill() {} }),
    pty: () => Promise.reject(new Error('no PTY here')),
    write: async (files) => void writes.push(files.map((f) => f.path)),
    read: async () => null,
    setLifetime: async () => {},
    kill: async () => {},
  });
  const setup = () => {
    const writes: string[][] = [];
    const calls = { maintain: 0, released: 0 };
    const pools = {
      claim: async () => ({ machine: machine(writes), home: '/home/user', slot: 's1' }),
      maintain: async () => void calls.maintain++,
      released: async () => void calls.released++,
    } as unknown as WarmPools;
    const cloud = { kind: 'e2b' } as Cloud;
    const provider = new CloudSandboxProvider({ kind: 'e2b', installation: 'i', pools, makeCloud: () => cloud });
    return { provider, calls, writes };
  };

  it('the pool is refilled once the start is over (started, or destroy), not while the run starts, and once', async () => {
    const { provider, calls } = setup();
    const sb = await provider.create(def, 'run_1', {});
    assert.equal(sb.start?.kind, 'warm');
    assert.equal(calls.maintain, 0, 'no refill during the start');
    sb.started?.();
    assert.equal(calls.maintain, 1);
    sb.started?.();
    await sb.destroy();
    assert.equal(calls.maintain, 1, 'once');
    assert.equal(calls.released, 1);

    const failed = await provider.create(def, 'run_2', {});
    await failed.destroy();
    assert.equal(calls.maintain, 2, 'a start that gave up refills too');
  });

  it('writeFiles is one write call to the machine, every path inside the home', async () => {
    const { provider, writes } = setup();
    const sb = await provider.create(def, 'run_3', {});
    await sb.writeFiles([{ path: '/home/user/.weir/prompt.txt', data: 'p' }, { path: '.weir/../../.weir/mcp.json', data: Buffer.from('{}') }]);
    assert.deepEqual(writes, [['/home/user/.weir/prompt.txt', '/home/user/.weir/mcp.json']]);
    await assert.rejects(sb.writeFiles([{ path: '/etc/passwd', data: 'x' }]), /outside the sandbox/);
    assert.equal(writes.length, 1);
  });
});
