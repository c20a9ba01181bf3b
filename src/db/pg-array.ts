// PostgreSQL array literals (`{"a","b",NULL}`) built from a column of values, so a batch of rows
// travels as one text parameter per column (`unnest($1::text[], …)`) instead of one bind
// parameter per value: pg serialises each parameter on its own, and its array serialiser runs two
// regex replaces and a string concatenation per element. Here an element is escaped only when it
// holds a quote or a backslash, and the literal is made by one join.

const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;

/** One text element, always quoted (so '', 'NULL', spaces and braces stay text). */
export function textElement(s: string | null): string {
  if (s === null) return 'NULL';
  return NEEDS_ESCAPE.test(s) ? `"${s.replace(ESCAPED, '\\$&')}"` : `"${s}"`;
}

/** One number element: digits, sign, point and exponent need no quotes. */
export function numberElement(n: number | null): string {
  return n === null || !Number.isFinite(n) ? 'NULL' : String(n);
}

/** The literal of elements already made by textElement / numberElement. */
export function arrayLiteral(elements: string[]): string {
  return `{${elements.join(',')}}`;
}
