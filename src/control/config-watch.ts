// Watches the config file and the files it includes (recursively, as `include:` lists them) and
// calls back when any of them changes. Each file's state is taken when the watcher is created,
// before the config is read, so a change made while the gateway starts is not missed. Polling
// (fs.watchFile) survives editors that save by renaming a new file over the old one.
//
// A change is acted on only once the files have settled: a poll can land between the truncate and
// the write of a plain `write(2)` save, and a half-written config is often valid YAML (an empty
// file is a config with no models). So a change arms a short settle wait, every further change
// re-arms it, and an empty main file is never taken from the watcher (SIGHUP and POST
// /config/reload still apply it, as the user asked for it then).
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const INTERVAL_MS = 500;
/** How long the files must stay unchanged before a change is acted on. */
const SETTLE_MS = 150;

export interface WatchOptions {
  /** Called instead of onChange when the settled main file is empty. */
  onEmpty?: () => void;
  /** How often fs.watchFile polls (tests make it never, and call check() themselves). */
  intervalMs?: number;
  /** The settle timer; tests pass their own to run it step by step. */
  schedule?: (fn: () => void, ms: number) => () => void;
}

const realSchedule = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

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
  private cancelSettle: (() => void) | null = null;
  private readonly schedule: NonNullable<WatchOptions['schedule']>;

  constructor(
    private readonly main: string,
    private readonly onChange: () => void,
    private readonly opts: WatchOptions = {},
  ) {
    this.schedule = opts.schedule ?? realSchedule;
    for (const f of configFiles(main)) this.seen.set(f, statOf(f));
  }

  start(): void {
    this.watching = true;
    for (const f of this.seen.keys()) fs.watchFile(f, { interval: this.opts.intervalMs ?? INTERVAL_MS }, () => this.check());
    this.check();
  }

  /** Polls the files (fs.watchFile calls it too); a change (re)arms the settle wait. */
  check(): void {
    if (!this.restat()) return;
    this.cancelSettle?.();
    this.cancelSettle = this.schedule(() => this.settled(), SETTLE_MS);
  }

  /** Records each file's state; true when any differs from what was recorded. */
  private restat(): boolean {
    let changed = false;
    for (const [f, before] of this.seen) {
      const now = statOf(f);
      if (!same(before, now)) {
        this.seen.set(f, now);
        changed = true;
      }
    }
    return changed;
  }

  private settled(): void {
    this.cancelSettle = null;
    if (!this.watching) return;
    // Still being written: wait for the next quiet spell.
    if (this.restat()) {
      this.cancelSettle = this.schedule(() => this.settled(), SETTLE_MS);
      return;
    }
    this.follow();
    if (this.seen.get(this.main)?.size === 0) this.opts.onEmpty?.();
    else this.onChange();
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
      if (this.watching) fs.watchFile(f, { interval: this.opts.intervalMs ?? INTERVAL_MS }, () => this.check());
    }
  }

  stop(): void {
    this.watching = false;
    this.cancelSettle?.();
    this.cancelSettle = null;
    for (const f of this.seen.keys()) fs.unwatchFile(f);
  }
}
