// Tables for the terminal (aligned columns) and for Markdown, from the same rows, plus the
// number formats the report uses.
import type { Spread } from './stats';

export interface Table {
  title: string;
  head: string[];
  /** 'l' or 'r' per column; right-aligned when absent. */
  align?: ('l' | 'r')[];
  rows: string[][];
  /** Lines printed under the table. */
  foot?: string[];
}

/** Display width (code points; the report's symbols are all single-width). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, a: 'l' | 'r'): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return a === 'l' ? s + fill : fill + s;
}

export function renderText(t: Table): string {
  const cols = t.head.length;
  const align = (i: number): 'l' | 'r' => t.align?.[i] ?? (i === 0 ? 'l' : 'r');
  const w = Array.from({ length: cols }, (_, i) => Math.max(width(t.head[i]!), ...t.rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => pad(c ?? '', w[i]!, align(i))).join('  ').trimEnd();
  const out = [t.title, line(t.head), w.map((x) => '─'.repeat(x)).join('  '), ...t.rows.map(line)];
  if (t.foot) out.push(...t.foot.map((f) => `  ${f}`));
  return out.join('\n');
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderMarkdown(t: Table): string {
  const align = (i: number): string => ((t.align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? ':---' : '---:');
  const out = [
    `**${t.title}**`,
    '',
    `| ${t.head.map(mdCell).join(' | ')} |`,
    `| ${t.head.map((_, i) => align(i)).join(' | ')} |`,
    ...t.rows.map((r) => `| ${t.head.map((_, i) => mdCell(r[i] ?? '')).join(' | ')} |`),
  ];
  if (t.foot?.length) out.push('', ...t.foot.map((f) => `_${f}_`));
  return out.join('\n');
}

// ---- number formats ------------------------------------------------------------------------

export function fixed(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '-∞';
  return v.toFixed(digits);
}

/** Milliseconds: 3 decimals below 10 ms, 1 below 1 s, none above. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  return fixed(v, a < 10 ? 3 : a < 1000 ? 1 : 0);
}

/** An added figure with its sign. */
export function plusMs(v: number | null | undefined): string {
  const s = ms(v);
  return s !== '–' && v !== null && v !== undefined && v >= 0 ? `+${s}` : s;
}

/** "median [min–max]" of a spread; just the median when all repeats agree or there is one. */
export function spreadText(s: Spread | null | undefined, f: (v: number) => string = ms): string {
  if (!s || Number.isNaN(s.median)) return '–';
  if (s.values.length < 2 || s.min === s.max) return f(s.median);
  return `${f(s.median)} [${f(s.min)}…${f(s.max)}]`;
}

export function ratioText(v: number): string {
  if (Number.isNaN(v) || !Number.isFinite(v)) return '–';
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×`;
}

export function intText(v: number): string {
  if (Number.isNaN(v)) return '–';
  return Math.round(v).toLocaleString('en-US');
}
