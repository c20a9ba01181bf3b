// Numbers that change on every answer as header text, without V8's number-string cache. String(n)
// (and `${n}`, n.toString()) keeps each string it makes in a cache that lives in the old
// generation, so a value new on every answer — a key's spend, what is left of its rpm this minute —
// leaves one promoted string per answer: 40-75 of the ~170 bytes a governed worker's scavenges
// promoted per request. toFixed makes a string of its own, which dies young.
import { NANOS_PER_USD } from './accounting/spend-record';

const ZERO = 48;
const DOT = 46;

/** An integer count as String() writes it (below 1e21). */
export function countText(n: number): string {
  return n.toFixed(0);
}

/**
 * An amount in integer nano-dollars as decimal USD ("0.000123"): String(nanos / 1e9)'s text from
 * 1e-6 USD to 1e6 USD (15 digits, where the double's shortest decimal is the amount's own); below
 * 1e-6, 0.000000123 where String() writes 1.23e-7.
 */
export function usdText(nanos: number): string {
  if (nanos === 0) return '0';
  const s = (nanos / NANOS_PER_USD).toFixed(9);
  let end = s.length;
  while (s.charCodeAt(end - 1) === ZERO) end--;
  if (s.charCodeAt(end - 1) === DOT) end--;
  return end === s.length ? s : s.slice(0, end);
}
