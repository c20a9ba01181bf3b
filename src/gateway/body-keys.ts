// The top-level keys the body scan reads, each told from the others by one look at its bytes: a
// switch on the key's length, then a compare with the one name of that length.
//
// A key spelled with escapes ("mod\u0065l") is the same key to JSON.parse and to the upstream, so
// it is decoded, once. Only a key that could spell one of the names is: `\uXXXX` is the longest
// spelling of a character, so a key more than six bytes per character longer than the longest
// name cannot, and a hostile key costs no more to look at than a short one.
import { Byte } from '../json-bytes';
import { scanSteps } from '../scan-steps';

export const OTHER = 0;
export const MODEL = 1;
export const STREAM = 2;
export const USER = 3;
export const MAX_TOKENS = 4;
export const ROUTING = 5;
export const N = 6;
export const BEST_OF = 7;
export const STREAM_OPTIONS = 8;
export const MESSAGES = 9;

const NAMES: ReadonlyArray<readonly [string, number]> = [
  ['model', MODEL],
  ['stream', STREAM],
  ['user', USER],
  ['max_tokens', MAX_TOKENS],
  ['max_completion_tokens', MAX_TOKENS],
  ['fallbacks', ROUTING],
  ['disable_fallbacks', ROUTING],
  ['n', N],
  ['best_of', BEST_OF],
  ['stream_options', STREAM_OPTIONS],
  ['messages', MESSAGES],
];

/** By length (every name has its own): the name and its id. */
const BY_LENGTH: Array<readonly [string, number] | undefined> = [];
for (const entry of NAMES) BY_LENGTH[entry[0].length] = entry;

/**
 * Escaped spellings are decoded into these. `stream_options` is left out: the include_usage
 * splice edits the member spelled plainly (the one its search from the end would find) and
 * otherwise adds a plain one after any escaped one, which JSON.parse then keeps. `messages` is
 * left out: its walk records spans for byte compares, which an escaped key would mislead.
 */
const DECODED = new Map<string, number>(NAMES.filter(([, id]) => id !== STREAM_OPTIONS && id !== MESSAGES));

const LONGEST_ESCAPED = 6 * Math.max(...NAMES.map(([name]) => name.length));

/** Which of the names the key token b[start, end) (quotes included) is, or OTHER. */
export function topLevelKey(b: Buffer, start: number, end: number): number {
  const n = end - start - 2;
  const entry = BY_LENGTH[n];
  if (entry !== undefined) {
    const name = entry[0];
    let k = 0;
    while (k < n && b[start + 1 + k] === name.charCodeAt(k)) k++;
    scanSteps.n += k;
    if (k === n) return entry[1];
  }
  if (n > LONGEST_ESCAPED) return OTHER;
  let k = start + 1;
  while (k < end - 1 && b[k] !== Byte.BACKSLASH) k++;
  scanSteps.n += k - start;
  if (k === end - 1) return OTHER;
  scanSteps.n += 2 * (end - start);
  try {
    return DECODED.get(JSON.parse(b.toString('utf8', start, end)) as string) ?? OTHER;
  } catch {
    return OTHER;
  }
}
