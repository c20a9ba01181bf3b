// The built page (dist/ui/), read and gzipped once when Weir starts: every file of the folder,
// known by its path relative to it. A request can only ever be answered with one of these files,
// so no path a client sends (`..`, `%2e%2e`, a NUL, a folder) can reach anything else. Workers get
// the bytes in their start data (a copy each; the set is small and bounded).
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

export interface StaticFile {
  type: string;
  body: Buffer;
  /** Null when gzip does not make it smaller (images, fonts). */
  gzip: Buffer | null;
  cacheControl: string;
}

/** What workers serve under /ui: the files by relative path, or why there are none. */
export interface StaticBundle {
  files: Map<string, StaticFile>;
  /** Set when the folder is missing or empty: the page was not built. */
  missing: string | null;
}

/** Bounds on what is read: the page is a few hundred KB; a wrong folder must not fill memory. */
export const MAX_FILES = 2000;
export const MAX_BYTES = 32 * 1024 * 1024;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export function contentType(name: string): string {
  return TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** Hashed build output never changes under its name; everything else must be revalidated. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Where the built page is: WEIR_UI_DIR, else dist/ui beside the compiled code (dist/src/ui → dist/ui). */
export function defaultUiDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.WEIR_UI_DIR ? path.resolve(env.WEIR_UI_DIR) : path.resolve(__dirname, '..', '..', 'ui');
}

export function loadStaticBundle(dir: string): StaticBundle {
  const files = new Map<string, StaticFile>();
  let bytes = 0;
  const walk = (abs: string, rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const childAbs = path.join(abs, e.name);
      // Regular files and folders only: a symlink could point outside the folder.
      if (e.isDirectory()) walk(childAbs, childRel);
      else if (e.isFile()) {
        if (files.size >= MAX_FILES) throw new Error(`${dir} holds more than ${MAX_FILES} files: not the built page?`);
        const body = fs.readFileSync(childAbs);
        bytes += body.length;
        if (bytes > MAX_BYTES) throw new Error(`${dir} holds more than ${MAX_BYTES / 1024 / 1024} MB: not the built page?`);
        const gz = gzipSync(body, { level: 9 });
        files.set(childRel, {
          type: contentType(e.name),
          body,
          gzip: gz.length < body.length ? gz : null,
          cacheControl: childRel.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
        });
      }
    }
  };
  if (!fs.existsSync(dir)) return { files, missing: `The admin page is not built (${dir} does not exist): run npm run build.` };
  walk(dir, '');
  if (!files.has('index.html')) return { files, missing: `The admin page is not built (${dir} has no index.html): run npm run build.` };
  return { files, missing: null };
}
