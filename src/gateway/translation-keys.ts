// How the translation cache (translation-cache.ts) names the parts it keeps: a hash of a sample of
// a part's bytes, the ids of the options' roots, and the small integer a bucket is found by. Names
// only: the cache takes a part only when its fields and all its bytes match.
import type { AnthropicToOpenAIOptions } from '../translate/request-anthropic-to-openai';

/**
 * Bytes of a part sampled at its start, middle and end for its key (all of them are compared).
 * Few: the hash is a chain of multiplies, one a byte, for the head and each of some 25 units a
 * call; 48 a span cost a cached Claude Code call 3–7 µs more than 16 (PERF.md, 2026-12-07).
 */
const SAMPLE = 16;

/** FNV-1a over a few spans of raw[start..end): a key's hash, constant work whatever the length. */
export function sampleHash(raw: Buffer, start: number, end: number): number {
  let h = 0x811c9dc5;
  const n = end - start;
  const spans = n <= 3 * SAMPLE ? [start, end] : [start, start + SAMPLE, start + (n >> 1), start + (n >> 1) + SAMPLE, end - SAMPLE, end];
  for (let s = 0; s < spans.length; s += 2) {
    for (let i = spans[s]!; i < spans[s + 1]!; i++) h = Math.imul(h ^ raw[i]!, 0x01000193);
  }
  return h >>> 0;
}

/** The options that change a unit's translation, and the head's, as the names their roots are kept under. */
export function fingerprints(opts: AnthropicToOpenAIOptions): { head: string; units: string } {
  const units = JSON.stringify(['units', opts.thinkingHistory ?? 'drop', opts.keepCacheControl === true]);
  const head = JSON.stringify(['head', opts.model, opts.maxTokensField ?? null, opts.maxTokensCap ?? null, opts.thinkingHistory ?? 'drop', opts.serverTools ?? 'drop', opts.keepCacheControl === true]);
  return { head, units };
}

/** Options seen lately with their roots' ids: each call passes its deployment's, so few, and equal field by field. */
export interface KnownOptions {
  opts: AnthropicToOpenAIOptions;
  head: number;
  units: number;
}
export const KNOWN_OPTIONS = 8;

/** Whether a and b name the same roots: the fields `fingerprints` reads, and no others. */
export function sameOptions(a: AnthropicToOpenAIOptions, b: AnthropicToOpenAIOptions): boolean {
  return a.model === b.model && a.maxTokensField === b.maxTokensField && a.maxTokensCap === b.maxTokensCap && a.thinkingHistory === b.thinkingHistory && a.serverTools === b.serverTools && a.keepCacheControl === b.keepCacheControl;
}

/**
 * A bucket's key from the numbers that name a part. Only a name: the parts under it are checked
 * field by field and byte by byte, so two parts whose numbers mix alike merely share a bucket. Kept
 * under 2^30, a small integer, which a Map hashes without building or hashing a string (string keys
 * cost a number-to-string conversion per field and a flattened string per lookup).
 */
export function keyOf(a: number, b: number, c: number, d = 0, e = 0): number {
  let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ b, 0x85ebca77);
  h = Math.imul(h ^ c, 0xc2b2ae3d);
  h = Math.imul(h ^ d, 0x27d4eb2f);
  h = Math.imul(h ^ e, 0x165667b1);
  return (h ^ (h >>> 15)) & 0x3fffffff;
}
