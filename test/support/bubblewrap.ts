// The local sandbox's first choice when Weir runs as root is bubblewrap. A clean machine may not
// have it: as root, the tests install it from the distribution's packages (once per machine), so
// the bwrap path is what they exercise; where that is not possible they say why and how.
import { findOnPath } from '../../src/agents/sandbox/isolation';
import { ensureDebianPackage } from './debian-package';

let tried: string | null | undefined;

/** null when bwrap is on PATH (now); else why it is not, with the command that would fix it. */
export function ensureBubblewrap(): string | null {
  if (tried !== undefined) return tried;
  const r = ensureDebianPackage('bubblewrap', 'by the local sandbox tests', () => findOnPath('bwrap') ?? null);
  return (tried = 'error' in r ? r.error : null);
}
