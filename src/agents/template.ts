// A job's prompt template: `{{payload.issue.number}}`, `{{ input.x }}` replaced by the value at that
// path of the variables. Deliberately tiny: no helpers, no sections, no code — a webhook sender
// controls the values, so the only thing a template can do is read own properties of plain data.
//
// One left-to-right pass (indexOf from the last position): linear in the template, and the output
// is bounded, because `{{payload}}` repeated can otherwise turn a 1 MB body into gigabytes.

/** The most a rendered prompt may be (UTF-8 bytes). */
export const MAX_PROMPT_BYTES = 256 * 1024;

/** A path segment: a property name or an array index, as webhook payloads have them. */
const SEGMENT = /^[A-Za-z0-9_$-]+$/;
/** Never looked up, even when JSON.parse made them own properties. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

export type RenderResult =
  | { ok: true; text: string }
  /** `missing` is the placeholder's path as written (`payload.issue.number`). */
  | { ok: false; missing: string; message: string }
  | { ok: false; tooLarge: true; message: string };

interface Placeholder {
  start: number;
  end: number;
  /** null when the text between the braces is not a path (checkTemplate reports it). */
  path: string[] | null;
  raw: string;
}

/** The next `{{ … }}` at or after `from`; null when there is none; `end` -1 when it is unclosed. */
function nextPlaceholder(template: string, from: number): Placeholder | null {
  const start = template.indexOf('{{', from);
  if (start < 0) return null;
  const close = template.indexOf('}}', start + 2);
  if (close < 0) return { start, end: -1, path: null, raw: '' };
  const raw = template.slice(start + 2, close).trim();
  const parts = raw.split('.');
  const path = parts.every((p) => SEGMENT.test(p)) ? parts : null;
  return { start, end: close + 2, path, raw };
}

/** A syntax error of the template (unclosed `{{`, a placeholder that is not a path), or null. */
export function checkTemplate(template: string): string | null {
  let pos = 0;
  for (;;) {
    const p = nextPlaceholder(template, pos);
    if (!p) return null;
    if (p.end < 0) return `unclosed "{{" at offset ${p.start}`;
    if (!p.path) return `"{{${p.raw}}}" at offset ${p.start} is not a name such as payload.issue.number or input.x`;
    pos = p.end;
  }
}

function lookup(vars: unknown, path: string[]): { found: true; value: unknown } | { found: false } {
  let cur: unknown = vars;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || FORBIDDEN.has(seg) || !Object.hasOwn(cur, seg)) return { found: false };
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur === undefined ? { found: false } : { found: true, value: cur };
}

function stringify(v: unknown): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v) ?? '';
  return String(v);
}

/**
 * The template with every placeholder replaced. A value that is null renders empty; objects and
 * arrays render as JSON. Text that checkTemplate would refuse (an unclosed `{{`) is kept as it is,
 * so a template stored before that check existed still renders.
 */
export function renderPrompt(template: string, vars: Record<string, unknown>): RenderResult {
  const out: string[] = [];
  let bytes = 0;
  const push = (s: string): boolean => {
    bytes += Buffer.byteLength(s);
    out.push(s);
    return bytes <= MAX_PROMPT_BYTES;
  };
  const tooLarge = (): RenderResult => ({ ok: false, tooLarge: true, message: `the rendered prompt is larger than ${MAX_PROMPT_BYTES} bytes` });
  let pos = 0;
  for (;;) {
    const p = nextPlaceholder(template, pos);
    if (!p || p.end < 0) {
      if (!push(template.slice(pos))) return tooLarge();
      return { ok: true, text: out.join('') };
    }
    if (!push(template.slice(pos, p.path ? p.start : p.end))) return tooLarge();
    if (p.path) {
      const v = lookup(vars, p.path);
      if (!v.found) return { ok: false, missing: p.raw, message: `the prompt template uses {{${p.raw}}}, which this run has no value for` };
      if (!push(stringify(v.value))) return tooLarge();
    }
    pos = p.end;
  }
}
