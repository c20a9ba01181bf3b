// The ends of single JSON tokens in a chunk's text, for the readers that take a chunk apart
// without parsing it (chunk-template.ts, chunk-shapes.ts). They find where a token ends and refuse
// what JSON refuses there; decoding is left to JSON.parse where a token needs it.

/** Set by stringEnd: the string it crossed holds a backslash. */
let escaped = false;

/** Whether the string token stringEnd last crossed holds an escape (it must then be decoded). */
export function lastStringEscaped(): boolean {
  return escaped;
}

/**
 * Index just past the JSON string token at data[i] (the opening quote), or -1 when there is none
 * there or it holds a raw control character. Escapes are stepped over, not checked (JSON.parse does).
 */
export function stringEnd(data: string, i: number): number {
  escaped = false;
  if (data.charCodeAt(i) !== 0x22) return -1;
  for (let j = i + 1; j < data.length; j++) {
    const c = data.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c === 0x5c) {
      escaped = true;
      j++;
    } else if (c < 0x20) return -1;
  }
  return -1;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * Index just past the JSON number token at data[i], or -1 when none starts there: JSON's grammar
 * (`-`, no leading zero, a fraction and an exponent each with digits), so Number() of the token
 * is what JSON.parse makes of it.
 */
export function numberEnd(data: string, i: number): number {
  let j = i;
  if (data.charCodeAt(j) === 0x2d) j++;
  const first = data.charCodeAt(j);
  if (first === 0x30) j++;
  else if (first > 0x30 && first <= 0x39) {
    j++;
    while (isDigit(data.charCodeAt(j))) j++;
  } else return -1;
  if (data.charCodeAt(j) === 0x2e) {
    j++;
    if (!isDigit(data.charCodeAt(j))) return -1;
    while (isDigit(data.charCodeAt(j))) j++;
  }
  const e = data.charCodeAt(j);
  if (e === 0x65 || e === 0x45) {
    j++;
    const s = data.charCodeAt(j);
    if (s === 0x2b || s === 0x2d) j++;
    if (!isDigit(data.charCodeAt(j))) return -1;
    while (isDigit(data.charCodeAt(j))) j++;
  }
  return j;
}
