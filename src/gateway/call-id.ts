// The id of each call (x-litellm-call-id, the spend log's request_id): a random UUID v4, as
// crypto.randomUUID makes it, written here into one scratch buffer and read out as one string.
// randomUUID joins 20 pieces (16 hex pairs and 4 dashes) into a string, about 550 bytes of
// intermediate strings per call on the pass-through path; this makes the one 36-character string.
// The random bytes come from a pool refilled with randomFillSync every 128 ids, as randomUUID's.
import { randomFillSync } from 'node:crypto';

const IDS_PER_FILL = 128;
const pool = Buffer.alloc(16 * IDS_PER_FILL);
let next = IDS_PER_FILL;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes goes in xxxxxxxx-xxxx-4xxx-Nxxx-xxxxxxxxxxxx. */
const AT = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
text[8] = text[13] = text[18] = text[23] = 0x2d; // '-'

export function newCallId(): string {
  if (next === IDS_PER_FILL) {
    randomFillSync(pool);
    next = 0;
  }
  const o = 16 * next++;
  for (let i = 0; i < 16; i++) {
    let b = pool[o + i]!;
    if (i === 6) b = (b & 0x0f) | 0x40; // version 4
    else if (i === 8) b = (b & 0x3f) | 0x80; // RFC 4122 variant
    text[AT[i]!] = HEX[b >> 4]!;
    text[AT[i]! + 1] = HEX[b & 0x0f]!;
  }
  return text.toString('latin1', 0, 36);
}
