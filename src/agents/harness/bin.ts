// Where an agent CLI's executable is: an operator's override (an env var naming a path) or the
// package installed with Weir, as its package.json `bin` field names it.
import fs from 'node:fs';
import path from 'node:path';

export function cliPath(envVar: string, pkg: string, bin: string): string {
  const override = process.env[envVar];
  if (override) return override;
  let manifest: string;
  try {
    manifest = require.resolve(`${pkg}/package.json`);
  } catch {
    throw new Error(`${pkg} is not installed: install it next to Weir or set ${envVar} to the CLI's path`);
  }
  const bins = JSON.parse(fs.readFileSync(manifest, 'utf8')).bin as Record<string, string> | string;
  const rel = typeof bins === 'string' ? bins : bins[bin];
  if (!rel) throw new Error(`${pkg} names no "${bin}" executable`);
  return path.join(path.dirname(manifest), rel);
}
