// Makes recorded requests fixtures: every machine- and run-specific value in them is replaced by
// a fixed placeholder (temp paths, the kernel version, today's date, session / device /
// installation ids, timestamps, the tool loop's random marker), so a fixture says nothing about
// the machine it was recorded on and a re-recording differs from the last one only where the
// agent changed. Pure: the recorder (test/record-fixtures.ts) says which literals are specific.

// Not \b: ids are glued to prefixes like `msg_`, and `_` is a word character.
const UUID = /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/gi;
const HEX64 = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/gi;

/** Values that vary run by run inside the agents' own texts, with what replaces them. */
const RUN_SPECIFIC: [RegExp, string][] = [
  // Codex's exec_command output header: a random chunk id and the measured wall time.
  [/Chunk ID: [0-9a-f]+/g, 'Chunk ID: 000000'],
  [/Wall time: [0-9.]+ seconds/g, 'Wall time: 0.0000 seconds'],
  // Codex's turn metadata (a JSON text inside a header and a body field).
  [/"turn_started_at_unix_ms":\d+/g, '"turn_started_at_unix_ms":1767225600000'],
];

export interface Scrubber {
  /** The value with every string in it scrubbed (object keys are kept). */
  scrub<T>(v: T): T;
}

/**
 * A scrubber for one recording. `literals` are exact strings and their placeholders (a path is
 * replaced before its parent folder whatever the order given). UUIDs and 64-digit hex ids are
 * numbered by first appearance across everything this scrubber sees, so one session id stays one
 * placeholder in the headers and in the body.
 */
export function scrubber(literals: [string, string][]): Scrubber {
  const ordered = [...literals].filter(([from]) => from.length > 0).sort((a, b) => b[0].length - a[0].length);
  const ids = new Map<string, string>();
  const placeholder = (kind: 'uuid' | 'hex', v: string): string => {
    const key = v.toLowerCase();
    let p = ids.get(key);
    if (p === undefined) {
      const n = String(ids.size + 1);
      p = kind === 'uuid' ? `00000000-0000-4000-8000-${n.padStart(12, '0')}` : n.padStart(64, '0');
      ids.set(key, p);
    }
    return p;
  };
  const text = (s: string): string => {
    for (const [from, to] of ordered) s = s.split(from).join(to);
    s = s.replace(UUID, (m) => placeholder('uuid', m)).replace(HEX64, (m) => placeholder('hex', m));
    for (const [re, to] of RUN_SPECIFIC) s = s.replace(re, to);
    return s;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return { scrub: <T>(v: T) => walk(v) as T };
}
