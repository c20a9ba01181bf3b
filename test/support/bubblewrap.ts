// The local sandbox's first choice when Weir runs as root is bubblewrap. A clean machine may not
// have it: as root, the tests install it from the distribution's packages (once per machine), so
// the bwrap path is what they exercise; where that is not possible they say why and how.
import { spawnSync } from 'node:child_process';
import { findOnPath, isRoot } from '../../src/agents/sandbox/isolation';

let tried: string | null | undefined;

/** null when bwrap is on PATH (now); else why it is not, with the command that would fix it. */
export function ensureBubblewrap(): string | null {
  if (tried !== undefined) return tried;
  if (findOnPath('bwrap')) return (tried = null);
  if (!isRoot()) return (tried = 'bubblewrap is not installed and the tests do not run as root: install it with `apt-get install bubblewrap`');
  const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'bubblewrap'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  let r = install();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8' });
    r = install();
  }
  if (findOnPath('bwrap')) return (tried = null);
  return (tried = `bubblewrap could not be installed (apt-get install bubblewrap: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`);
}
