// cloneRepo puts a repository into a sandbox's workspace with git run inside the sandbox, from a
// local smart-HTTP server over a bare repository (a local path would be hidden from a bwrap
// sandbox: its /tmp is its own): at its default branch, a branch, a tag and a commit, and from a
// server that wants a token, which git sends for the clone and which is left nowhere in the
// workspace. Never the network.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cloneRepo, publicUrl } from '../../src/agents/repo';
import type { Sandbox } from '../../src/agents/types';
import { startGitHttp, type GitHttp } from '../support/git-http';
import { sandboxDef, sandboxRig, type Rig } from '../support/sandbox-rig';

const TOKEN = 'ghp_testtoken_0123456789abcdef';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_CONFIG_NOSYSTEM: '1' } }).toString().trim();
}

/** Every file of the workspace, .git included, as one string. */
function everything(dir: string): string {
  let all = '';
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) all += fs.readFileSync(path.join(e.parentPath ?? (e as any).path, e.name)).toString('latin1');
  }
  return all;
}

describe('cloneRepo', () => {
  let rig: Rig;
  let repos: string;
  let bare: string;
  let first: string;
  let http: GitHttp;
  let open: GitHttp;
  let n = 0;
  const make = () => rig.provider.create(sandboxDef(), `clone-${++n}`, {});

  before(async () => {
    rig = sandboxRig();
    repos = path.join(path.dirname(rig.root), 'repos');
    const src = path.join(repos, 'src');
    fs.mkdirSync(src, { recursive: true });
    git(src, 'init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(src, 'README.md'), 'first\n');
    git(src, 'add', '.');
    git(src, 'commit', '-q', '-m', 'first');
    first = git(src, 'rev-parse', 'HEAD');
    git(src, 'tag', 'v1');
    git(src, 'checkout', '-q', '-b', 'feature');
    fs.writeFileSync(path.join(src, 'README.md'), 'feature\n');
    git(src, 'commit', '-q', '-am', 'feature');
    git(src, 'checkout', '-q', 'main');
    fs.writeFileSync(path.join(src, 'README.md'), 'second\n');
    git(src, 'commit', '-q', '-am', 'second');
    bare = path.join(repos, 'project.git');
    git(repos, 'clone', '-q', '--bare', src, bare);
    git(bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true');
    const auth = `Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`;
    http = await startGitHttp(repos, auth);
    open = await startGitHttp(repos);
  });
  after(async () => {
    await http.close();
    await open.close();
    rig.close();
  });

  const readme = async (sb: Sandbox) => (await sb.readFile('README.md', 100))?.toString();

  it('clones the default branch, a branch, a tag and a commit', async () => {
    const url = `${open.url}/project.git`;
    for (const [ref, want] of [[undefined, 'second\n'], ['feature', 'feature\n'], ['v1', 'first\n'], [first, 'first\n']] as const) {
      const sb = await make();
      try {
        await cloneRepo(sb, { url, ref });
        assert.equal(await readme(sb), want, `at ${ref ?? 'HEAD'}`);
        const config = (await sb.readFile('.git/config', 10_000))!.toString();
        assert.match(config, new RegExp(`url = ${url.replace(/[/.]/g, '\\$&')}`), 'origin is the repository');
      } finally {
        await sb.destroy();
      }
    }
  });

  it('sends the token to an HTTP forge for the clone only: nothing of it stays in the workspace', async () => {
    const sb = await make();
    try {
      await cloneRepo(sb, { url: `${http.url}/project.git`, ref: 'main' }, TOKEN);
      assert.equal(await readme(sb), 'second\n');
      assert.ok(http.authorizations.some((a) => a?.startsWith('Basic ')), 'git sent the token');
      const all = everything(sb.workdir);
      assert.ok(!all.includes(TOKEN), 'the token is nowhere in the workspace');
      assert.ok(!all.includes(Buffer.from(`x-access-token:${TOKEN}`).toString('base64')), 'nor its header');
      assert.ok(!(await sb.readFile('.git/config', 10_000))!.toString().includes('extraheader'));
      // The agent after it has no way to the token: a fetch of its own is refused.
      const r = await new Promise<number>((resolve) => sb.exec({ argv: ['git', 'fetch', '-q', 'origin'], env: { GIT_TERMINAL_PROMPT: '0' }, onStdout: () => {}, onStderr: () => {} }).done.then(resolve));
      assert.notEqual(r, 0);
    } finally {
      await sb.destroy();
    }
  });

  it('fails with git’s reason and no token when the clone cannot be made', async () => {
    const sb = await make();
    try {
      await assert.rejects(cloneRepo(sb, { url: `${http.url}/project.git` }, 'wrong-token-abc'), (e: Error) => {
        assert.match(e.message, /git could not fetch/);
        assert.ok(!e.message.includes('wrong-token-abc'));
        return true;
      });
      await assert.rejects(cloneRepo(sb, { url: `${open.url}/project.git`, ref: '--upload-pack=touch /tmp/weir-pwned' }), /git could not fetch/);
      assert.ok(!fs.existsSync('/tmp/weir-pwned'), 'a ref is never an option');
    } finally {
      await sb.destroy();
    }
  });

  it('keeps no credentials of the URL in origin', () => {
    assert.equal(publicUrl('https://user:secret@forge.example/o/r.git'), 'https://forge.example/o/r.git');
    assert.equal(publicUrl('git@forge.example:o/r.git'), 'git@forge.example:o/r.git');
  });
});
