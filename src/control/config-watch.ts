// Watches the config file and the files it includes (recursively, as `include:` lists them) and
// calls back when any of them changes. Each file's state is taken when the watcher is created,
// before the config is read, so a change made while the gateway starts is not missed. Polling
// (fs.watchFile) survives editors that save by renaming a new file over the old one.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const INTERVAL_MS = 500;

function statOf(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch {
    return null;
  }
}

function same(a: fs.Stats | null, b: fs.Stats | null): boolean {
  if (!a || !b) return a === b;
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

/** The config file and every file its `include:` lists reach (unreadable ones are skipped). */
export function configFiles(main: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    let doc: unknown;
    try {
      doc = parse(fs.readFileSync(file, 'utf8'));
    } catch {
      return;
    }
    const inc = doc && typeof doc === 'object' ? (doc as { include?: unknown }).include : undefined;
    for (const p of Array.isArray(inc) ? inc : typeof inc === 'string' ? [inc] : []) {
      if (typeof p === 'string') visit(path.resolve(path.dirname(file), p));
    }
  };
  visit(path.resolve(main));
  return [...seen];
}

export class ConfigWatcher {
  private readonly seen = new Map<string, fs.Stats | null>();
  private watching = false;

  constructor(
    private readonly main: string,
    private readonly onChange: () => void,
  ) {
    for (const f of configFiles(main)) this.seen.set(f, statOf(f));
  }

  start(): void {
    this.watching = true;
    for (const f of this.seen.keys()) fs.watchFile(f, { interval: INTERVAL_MS }, () => this.check());
    this.check();
  }

  private check(): void {
    let changed = false;
    for (const [f, before] of this.seen) {
      const now = statOf(f);
      if (!same(before, now)) {
        this.seen.set(f, now);
        changed = true;
      }
    }
    if (!changed) return;
    this.follow();
    this.onChange();
  }

  /** The set of included files may have changed with the edit: watch what is listed now. */
  private follow(): void {
    const files = new Set(configFiles(this.main));
    for (const f of [...this.seen.keys()]) {
      if (!files.has(f)) {
        fs.unwatchFile(f);
        this.seen.delete(f);
      }
    }
    for (const f of files) {
      if (this.seen.has(f)) continue;
      this.seen.set(f, statOf(f));
      if (this.watching) fs.watchFile(f, { interval: INTERVAL_MS }, () => this.check());
    }
  }

  stop(): void {
    this.watching = false;
    for (const f of this.seen.keys()) fs.unwatchFile(f);
  }
}
