// Puts a profile's repository into a run's workspace by running git inside the sandbox (so the
// clone is the agent's, made with its limits, and a hostile repository meets only the sandbox).
// The ref is fetched alone, one commit deep, and checked out detached; `origin` is set to the URL
// without any credentials in it. The token, if any, reaches git as an HTTP header through
// GIT_CONFIG_* variables of this one command: nothing of it is written to .git/config or anywhere
// else in the workspace. URL and ref are passed as arguments, never spliced into a shell line.
import type { RepoSpec, Sandbox } from './types';

/** Bytes of git's output kept for the error message. */
const TAIL = 4000;

const SCRIPT = [
  'set -e',
  'git init -q',
  'git fetch -q --depth=1 --no-tags --end-of-options "$1" "$2"',
  'git -c advice.detachedHead=false checkout -q --detach FETCH_HEAD',
  'git remote add origin "$3"',
].join('\n');

/** The URL as it may be kept: user and password removed. */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
      return u.toString();
    }
  } catch {
    /* scp-like (git@host:path) or a local path: no credentials to remove */
  }
  return url;
}

export async function cloneRepo(sandbox: Sandbox, repo: RepoSpec, token?: string): Promise<void> {
  const env: Record<string, string> = {
    GIT_TERMINAL_PROMPT: '0',
    GIT_ALLOW_PROTOCOL: 'https:http:ssh:git:file',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  if (token) {
    // What GitHub, GitLab and Gitea all take from a token: basic auth with any user name.
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
  }
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString('utf8')).slice(-TAIL);
  };
  const h = sandbox.exec({
    argv: ['sh', '-c', SCRIPT, 'weir-clone', repo.url, repo.ref || 'HEAD', publicUrl(repo.url)],
    env,
    onStdout: keep,
    onStderr: keep,
    setup: true,
  });
  const code = await h.done;
  if (code !== 0) {
    const said = token ? out.split(token).join('***') : out;
    throw new Error(`git could not fetch ${publicUrl(repo.url)} at ${repo.ref || 'HEAD'} (exit ${code}): ${said.trim()}`);
  }
}
