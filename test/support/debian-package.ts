// The servers and tools some tests need (redis-server, bubblewrap, chromium) are Debian packages a
// new machine may lack. Tests install them as root (apt-get, with one `apt-get update` retry when
// the package lists are stale) and otherwise fail saying the command to run: never a silent skip.
import { spawnSync } from 'node:child_process';
import { isRoot } from '../../src/agents/sandbox/isolation';

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
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { encoding: 'utf8', env });
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
    r = install();
  }
  const after = locate();
  if (after) return { found: after };
  return { error: `${pkg} could not be installed (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}): run \`${command}\`` };
}
