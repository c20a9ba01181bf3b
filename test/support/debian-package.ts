// The servers and tools some tests need (redis-server, bubblewrap, chromium) are Debian packages a
// new machine may lack. Tests install them as root (apt-get, with one `apt-get update` retry when
// the package lists are stale) and otherwise fail saying the command to run: never a silent skip.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { isRoot } from '../../src/agents/sandbox/isolation';

const APT_LOCK = path.join(os.tmpdir(), 'weir-tests-apt.lock');

/**
 * Runs `locate`; when it finds nothing, installs `pkg` (as root) and locates again.
 * Returns what was found, or an error message that names the command to run.
 */
export function ensureDebianPackage(pkg: string, why: string, locate: () => string | null): { found: string } | { error: string } {
  const before = locate();
  if (before) return { found: before };
  const command = `apt-get install -y ${pkg}`;
  if (!isRoot()) return { error: `${pkg} is needed ${why} and is not installed, and the tests do not run as root: run \`${command}\`` };
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Test files run two at a time, and on a new machine two of them may install at once (the
  // browser tests both want chromium): apt-get runs under one lock file of the tests' own, and
  // waits for dpkg's lock besides (another apt on the machine), instead of failing on it.
  const apt = (...args: string[]) => spawnSync('flock', [APT_LOCK, 'apt-get', '-o', 'DPkg::Lock::Timeout=600', ...args], { encoding: 'utf8', env });
  const install = () => apt('install', '-y', '--no-install-recommends', pkg);
  let r = install();
  if (r.status !== 0) {
    apt('update');
    r = install();
  }
  const after = locate();
  if (after) return { found: after };
  return { error: `${pkg} could not be installed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}): run \`${command}\`` };
}
